import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Router, type Request } from "express";
import { z } from "zod";
import {
  deliverySchema,
  deliveryTermsSchema,
  downloadLinkSchema,
  downloadRequestBody,
  entitlementSchema,
  identifiedSchema,
  listDeliveriesQuery,
} from "../../lib/api/deliveries.ts";
import { orderSecretQuery } from "../../lib/api/orders.ts";
import { idSchema, pageOf } from "../../lib/api/primitives.ts";
import { hasScope, requireSession } from "../auth/middleware.ts";
import type { Originals } from "../content/originals.ts";
import type { DeliveryService, Requester } from "../delivery/deliveries.ts";
import { AppError } from "../errors.ts";
import { closeAfterAnswer } from "../http/body-limit.ts";
import { discardStaged, receiveUpload, type StagedUpload } from "../services/uploads.ts";
import { parseByteRange, type ByteRange } from "../http/byte-range.ts";
import { matchesIfRange } from "../http/conditional.ts";
import type { HotPath } from "../http/hot-route.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { writeBody } from "../http/write-body.ts";

const idParams = z.object({ id: idSchema });
const DOWNLOAD_PATH = "/v1/downloads/:token";
const DOWNLOAD_PREFIX = "/v1/downloads/";
/** A link's token as links.ts writes it; anything else is left to the router, which refuses it. */
const LINK_TOKEN = /^[A-Za-z0-9_.-]{1,1024}$/;
const orderParams = z.object({ id: z.uuid() });
const FULL: ByteRange = { kind: "full" };

/** Refusals every delivery route may answer. */
const REFUSALS = {
  403: {
    description:
      "No file for this caller: NOT_LICENSE_HOLDER, LICENSE_EXPIRED, LICENSE_REVOKED, DOWNLOAD_LIMIT_REACHED, DEVICE_LIMIT_REACHED or DOWNLOAD_WINDOW_CLOSED (error.code)",
  },
  409: { description: "The license is not final enough yet, or not issued yet" },
} as const;

/** A card order's buyer: the order secret (header or query) or a session of the order's wallet. */
function orderRequester(req: Request, orderId: string, secret: string | undefined): Requester {
  const session = req.auth?.kind === "session" ? req.auth.session : null;
  return {
    kind: "order",
    orderId,
    reader: {
      wallet: session?.address ?? null,
      admin: false,
      secret: req.get("x-order-secret") ?? secret,
    },
  };
}

/** `Content-Disposition` naming the file, with an ASCII fallback and the UTF-8 name (RFC 6266). */
function attachment(filename: string | null): string {
  const name = filename ?? "download";
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Delivery: offers' delivery terms, holders' entitlements and download links, the links themselves, and creators' delivery log. */
export function deliveriesRouter(
  service: DeliveryService,
  download: HotPath<string>,
  suspects: { stagingDir: string; maxBytes: number },
  registry: OpenApiRegistry,
): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/offers/:id/delivery-terms",
      summary: "How licenses of an offer are delivered: downloads, devices, window, watermark",
      tags: ["delivery"],
      params: idParams,
      responses: { 200: { description: "Delivery terms", schema: deliveryTermsSchema } },
    },
    async ({ params }) => service.terms(params.id),
  );

  route(
    router,
    registry,
    {
      method: "put",
      path: "/v1/offers/:id/delivery-terms",
      summary:
        "Set an offer's delivery terms (its creator, signed in); they apply to its licenses from now on",
      tags: ["delivery"],
      security: ["session"],
      params: idParams,
      body: deliveryTermsSchema,
      responses: {
        200: { description: "The terms set", schema: deliveryTermsSchema },
        403: { description: "Another creator's offer" },
      },
    },
    async ({ params, body, req }) => service.setTerms(params.id, requireSession(req).address, body),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/works/:id/delivery",
      summary: "What the signed-in wallet's license to the work allows and has used",
      tags: ["delivery"],
      security: ["session"],
      params: idParams,
      responses: { 200: { description: "Entitlement", schema: entitlementSchema }, ...REFUSALS },
    },
    async ({ params, req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      return service.entitlement({ kind: "wallet", address: requireSession(req).address }, params.id);
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/works/:id/downloads",
      summary:
        "A short-lived download link for the signed-in wallet's license to the work, counted against its limits",
      tags: ["delivery"],
      security: ["session"],
      params: idParams,
      body: downloadRequestBody,
      responses: { 201: { description: "Download link", schema: downloadLinkSchema }, ...REFUSALS },
    },
    async ({ params, body, req }) =>
      service.link({ kind: "wallet", address: requireSession(req).address }, body, params.id),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/orders/:id/delivery",
      summary: "What a card order's license allows and has used, for its buyer (order secret or session)",
      tags: ["delivery"],
      security: ["orderSecret", "session"],
      params: orderParams,
      query: orderSecretQuery,
      responses: { 200: { description: "Entitlement", schema: entitlementSchema }, ...REFUSALS },
    },
    async ({ params, query, req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      return service.entitlement(orderRequester(req, params.id, query.secret));
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/orders/:id/downloads",
      summary:
        "A short-lived download link for a card order's license, for its buyer (order secret or session)",
      tags: ["delivery"],
      security: ["orderSecret", "session"],
      params: orderParams,
      query: orderSecretQuery,
      body: downloadRequestBody,
      responses: { 201: { description: "Download link", schema: downloadLinkSchema }, ...REFUSALS },
    },
    async ({ params, query, body, req }) => service.link(orderRequester(req, params.id, query.secret), body),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/works/:id/deliveries",
      summary:
        "Every delivery of the work's file, newest first: who, when, which license (its creator, signed in)",
      tags: ["delivery"],
      security: ["session"],
      params: idParams,
      query: listDeliveriesQuery,
      responses: { 200: { description: "A page of deliveries", schema: pageOf(deliverySchema) } },
    },
    async ({ params, query, req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      return service.log(params.id, requireSession(req).address, query);
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: download.route,
      summary: "The file a download link grants, with Range and If-Range; the license is checked again",
      tags: ["delivery"],
      params: z.object({ token: z.string().max(1024) }),
      responses: {
        200: { description: "The file", contentType: "application/octet-stream" },
        206: { description: "The requested range", contentType: "application/octet-stream" },
        403: {
          description:
            "LINK_INVALID, LINK_EXPIRED, or the link's license is no longer valid: LICENSE_REVOKED, LICENSE_EXPIRED, NOT_LICENSE_HOLDER",
        },
        409: {
          description:
            "LICENSE_NOT_FINAL: the link's license changed since and is not yet as final as delivery asks",
        },
      },
    },
    async ({ params, req, res }) => {
      await download.serve(params.token, req, res, { body: Buffer.alloc(0), log: () => req.log });
      return undefined;
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/evidence/watermarks",
      summary:
        "Read the mark of a suspect copy (a delivered image or PDF) and name the license it was delivered to: legal API keys, or the work's creator",
      tags: ["evidence"],
      security: ["apiKey", "session"],
      bodyContentType: "multipart/form-data",
      responses: {
        200: { description: "What the mark names", schema: identifiedSchema },
        403: { description: "The copy is marked for another creator's work" },
        413: { description: "Larger than WATERMARK_MAX_BYTES" },
      },
    },
    async ({ req, res }) => {
      const legal = hasScope(req, "legal");
      const session = req.auth?.kind === "session" ? req.auth.session : null;
      if (!legal && !session) {
        closeAfterAnswer(req, res);
        throw new AppError(
          "AUTH_REQUIRED",
          401,
          "send an API key with the legal scope or sign in as the creator",
        );
      }
      const tooLarge = () =>
        new AppError("PAYLOAD_TOO_LARGE", 413, `a suspect copy may have at most ${suspects.maxBytes} bytes`);
      let staged: StagedUpload;
      try {
        staged = await receiveUpload(req, {
          stagingDir: suspects.stagingDir,
          limitBytes: suspects.maxBytes,
          tooLarge,
        });
      } catch (err) {
        if (err instanceof AppError && err.status === 413) closeAfterAnswer(req, res);
        throw err;
      }
      try {
        const bytes = await readFile(staged.path);
        return await service.identify(
          bytes,
          legal ? { legal: true } : { legal: false, address: session!.address },
        );
      } finally {
        await discardStaged(staged.path);
      }
    },
  );

  return router;
}

/**
 * GET and HEAD /v1/downloads/:token: the file a signed link grants, whole or one byte range of it,
 * streamed; the link and the license are checked on every request. Served ahead of Express (see
 * hot-route.ts) and by the router for the requests the hot path leaves to it.
 */
export function downloadPath(service: DeliveryService, originals: Originals): HotPath<string> {
  return {
    route: DOWNLOAD_PATH,
    logged: true,
    take(method, url) {
      if ((method !== "GET" && method !== "HEAD") || !url.startsWith(DOWNLOAD_PREFIX)) return undefined;
      const token = url.slice(DOWNLOAD_PREFIX.length);
      return LINK_TOKEN.test(token) ? token : undefined;
    },
    async serve(token, req, res) {
      const { grant, original } = await service.open(token);
      const marked = await service.body(grant, original, () => originals.read(original));
      if (marked) {
        const etag = `"${createHash("sha256").update(marked).digest("hex")}"`;
        const file = {
          size: marked.length,
          etag,
          contentType: original.contentType,
          filename: original.filename,
        };
        await sendFile(req, res, file, (offset, length) => [marked.subarray(offset, offset + length)]);
        return;
      }
      const file = {
        size: original.size,
        etag: `"${original.contentHash}"`,
        contentType: original.contentType,
        filename: original.filename,
      };
      await sendFile(req, res, file, (offset, length) => originals.read(original, { offset, length }));
    },
  };
}

/** Answers GET or HEAD with the whole file or one byte range of it, streamed. */
async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: { size: number; etag: string; contentType: string | null; filename: string | null },
  read: (offset: number, length: number) => AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<void> {
  const { size, etag } = file;
  res.setHeader("Accept-Ranges", "bytes");
  res.setHeader("ETag", etag);
  res.setHeader("Cache-Control", "private, no-store");
  const range = matchesIfRange(req, etag) ? parseByteRange(req.headers.range, size) : FULL;
  if (range.kind === "unsatisfiable") {
    res.setHeader("Content-Range", `bytes */${size}`);
    throw new AppError("RANGE_NOT_SATISFIABLE", 416, `the file has ${size} bytes`, { size });
  }
  res.setHeader("Content-Type", file.contentType ?? "application/octet-stream");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Content-Disposition", attachment(file.filename));
  res.setHeader("Content-Security-Policy", "sandbox; default-src 'none'");
  let offset = 0;
  let length = size;
  if (range.kind === "partial") {
    offset = range.start;
    length = range.end - range.start + 1;
    res.statusCode = 206;
    res.setHeader("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
  }
  res.setHeader("Content-Length", String(length));
  if (req.method === "HEAD" || length === 0) {
    res.end();
    return;
  }
  await writeBody(res, read(offset, length));
}
