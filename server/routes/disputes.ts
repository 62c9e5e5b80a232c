import { pipeline } from "node:stream/promises";
import { Router, type Request } from "express";
import { z } from "zod";
import { hasScope, requireAdmin, requireSession } from "../auth/middleware.ts";
import { closeAfterAnswer } from "../http/body-limit.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { idSchema } from "../../lib/api/primitives.ts";
import { transactionRequestSchema } from "../../lib/api/transactions.ts";
import {
  assignArbiterBody,
  decisionSchema,
  disputeQueueQuery,
  disputeQueueSchema,
  disputeSchema,
  evidenceParams,
  evidenceSchema,
  resolveTradeBody,
  statementBody,
} from "../../lib/api/disputes.ts";
import type { DisputesService, DisputeViewer } from "../market/disputes.ts";

const idParams = z.object({ id: idSchema });
const decidedSchema = z.object({ transactions: z.array(transactionRequestSchema), decision: decisionSchema });

function viewerOf(req: Request): DisputeViewer {
  if (req.auth?.kind === "session") {
    const { address, isAdmin } = req.auth.session;
    return { wallet: address, admin: isAdmin, actor: `wallet:${address}` };
  }
  if (req.auth?.kind === "apiKey")
    return { wallet: null, admin: hasScope(req, "admin"), actor: `key:${req.auth.apiKey.id}` };
  return { wallet: null, admin: false, actor: null };
}

/** The admin making a decision, as decisions record it. */
function deciderOf(req: Request): string {
  requireAdmin(req);
  return viewerOf(req).actor!;
}

/** `attachment; filename=…` with a plain fallback and the exact name in RFC 5987 form. */
function attachment(filename: string | null, fallback: string): string {
  const name = filename ?? fallback;
  const plain = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${plain}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Disputes: both parties' evidence, the arbiters' queue, and their decisions with reasons. */
export function disputesRouter(service: DisputesService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/trades/:id/dispute",
      summary:
        "A trade's dispute, for its buyer, its seller and admins: the reason, both parties' evidence with their SHA-256, decisions and what the escrow allows now",
      tags: ["disputes"],
      security: ["session", "apiKey"],
      params: idParams,
      responses: { 200: { description: "Dispute", schema: disputeSchema } },
    },
    async ({ params, req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      return service.get(params.id, viewerOf(req));
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/trades/:id/dispute/statements",
      summary:
        "A party's written evidence, hashed (SHA-256) and kept; the buyer's first evidence opens the dispute with its reason",
      tags: ["disputes"],
      security: ["session"],
      params: idParams,
      body: statementBody,
      responses: { 201: { description: "Evidence recorded", schema: evidenceSchema } },
    },
    async ({ params, body, req }) => service.addStatement(params.id, requireSession(req).address, body),
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/trades/:id/dispute/files",
      summary:
        "A party's file as evidence (multipart `file`, and `reason` with the buyer's first evidence): hashed while streamed (SHA-256) and kept by its hash",
      tags: ["disputes"],
      security: ["session"],
      params: idParams,
      bodyContentType: "multipart/form-data",
      responses: {
        201: { description: "Evidence recorded", schema: evidenceSchema },
        413: { description: "Larger than a file may be, or past the party's quota" },
      },
    },
    async ({ params, req, res }) => {
      if (req.auth?.kind !== "session") closeAfterAnswer(req, res);
      return service.addFile(params.id, requireSession(req).address, req, res);
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/trades/:id/dispute/files/:evidenceId",
      summary: "An evidence file, for the trade's parties and admins, as a download with its SHA-256",
      tags: ["disputes"],
      security: ["session", "apiKey"],
      params: evidenceParams,
      responses: { 200: { description: "The file as given", contentType: "application/octet-stream" } },
    },
    async ({ params, req, res }) => {
      const download = await service.file(params.id, params.evidenceId, viewerOf(req));
      const { evidence } = download;
      res.status(200).set({
        "Content-Type": "application/octet-stream",
        "Content-Length": String(evidence.size),
        "Content-Disposition": attachment(evidence.filename, `evidence-${evidence.id}`),
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Repr-Digest": `sha-256=:${Buffer.from(evidence.sha256.slice(2), "hex").toString("base64")}:`,
      });
      await pipeline(download.open(), res);
      return undefined;
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/admin/disputes",
      summary: "The arbiters' queue: disputed trades open (soonest deadline first), lapsed or resolved",
      tags: ["admin"],
      security: ["session", "apiKey"],
      query: disputeQueueQuery,
      responses: { 200: { description: "A page of disputes", schema: disputeQueueSchema } },
    },
    async ({ query, req }) => {
      requireAdmin(req);
      return service.queue(query);
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/admin/trades/:id/resolve",
      summary:
        "Records the resolution of a dispute with its reason, and answers its transaction for the listing's arbiter to sign before the deadline",
      tags: ["admin"],
      security: ["session", "apiKey"],
      params: idParams,
      body: resolveTradeBody,
      responses: { 200: { description: "The decision and the transaction to sign", schema: decidedSchema } },
    },
    async ({ params, body, req }) => service.resolve(params.id, deciderOf(req), body),
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/admin/trades/:id/arbiter",
      summary:
        "Records the handing of a dispute to another arbiter with its reason, and answers the transaction for the admin's wallet",
      tags: ["admin"],
      security: ["session", "apiKey"],
      params: idParams,
      body: assignArbiterBody,
      responses: { 200: { description: "The decision and the transaction to sign", schema: decidedSchema } },
    },
    async ({ params, body, req }) => service.reassign(params.id, deciderOf(req), body),
  );

  return router;
}
