import { pipeline } from "node:stream/promises";
import { Router } from "express";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { parseByteRange } from "../http/byte-range.ts";
import { matchesIfNoneMatch, matchesIfRange } from "../http/conditional.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { idSchema, sha256Schema } from "../../lib/api/primitives.ts";
import type { EvidenceService } from "../services/evidence.ts";

/** Clocks differ; an observation a few minutes "ahead" of ours is still plausible. */
const CLOCK_SKEW_MS = 5 * 60_000;

const infringementSchema = z.object({
  url: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .max(2048)
    .optional()
    .describe("where the suspect copy was found"),
  observedAt: z.iso
    .datetime({ offset: true, error: "must be an ISO 8601 date-time with a time zone" })
    .refine((v) => Date.parse(v) <= Date.now() + CLOCK_SKEW_MS, "must not be in the future")
    .transform((v) => new Date(v).toISOString())
    .describe("when the infringement was observed"),
  notes: z.string().max(4000).optional(),
  suspectSha256: sha256Schema
    .optional()
    .describe("SHA-256 of the suspect copy; the bundle states whether it matches the work"),
});

const requestBodySchema = z
  .object({
    workId: idSchema.optional().describe("a directly registered work"),
    contentHash: sha256Schema.optional().describe("the work's SHA-256; also finds works anchored in a batch"),
    infringement: infringementSchema,
    includeOriginal: z.boolean().default(false).describe("put the registered file into the bundle"),
  })
  .refine((b) => (b.workId === undefined) !== (b.contentHash === undefined), {
    message: "give exactly one of workId and contentHash",
    path: ["workId"],
  });

const evidenceSchema = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "building", "ready", "failed"]),
    workId: z.string().nullable().describe("null for a work anchored only in a Merkle batch"),
    contentHash: z.string(),
    creator: z.string(),
    requestedBy: z.object({ kind: z.enum(["apiKey", "address"]), id: z.string() }),
    infringement: z.object({
      url: z.string().optional(),
      observedAt: z.string(),
      notes: z.string().optional(),
      suspectSha256: z.string().optional(),
    }),
    includeOriginal: z.boolean(),
    error: z.string().nullable(),
    bundle: z
      .object({
        sha256: z.string().describe("hex SHA-256 of the zip, also its ETag"),
        size: z.number(),
        url: z.string(),
      })
      .nullable(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: "EvidenceRequest" });

const idParams = z.object({ id: z.uuid("must be a UUID") });

/** Evidence bundles: request (legal API key or the work's creator), follow, download. */
export function evidenceRouter(service: EvidenceService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/evidence",
      summary: "Request an evidence bundle of a registered work and an infringement of it",
      tags: ["evidence"],
      security: ["apiKey", "session"],
      body: requestBodySchema,
      responses: {
        202: { description: "Queued; poll GET /v1/evidence/:id", schema: evidenceSchema },
      },
    },
    async ({ req, body }) =>
      service.request(req.auth, {
        work: body.workId !== undefined ? { workId: body.workId } : { contentHash: body.contentHash! },
        infringement: body.infringement,
        includeOriginal: body.includeOriginal,
      }),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/evidence/:id",
      summary: "Progress of an evidence request: queued → building → ready (or failed)",
      tags: ["evidence"],
      security: ["apiKey", "session"],
      params: idParams,
      responses: { 200: { description: "Evidence request", schema: evidenceSchema } },
    },
    async ({ req, params }) => service.status(req.auth, params.id),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/evidence/:id/bundle.zip",
      summary: "The evidence bundle; check it with `npx rights-ledger verify <bundle.zip> --rpc <url>`",
      tags: ["evidence"],
      security: ["apiKey", "session"],
      params: idParams,
      responses: {
        200: {
          description: "Zip of manifest.json, signature.json, chain facts, report.pdf and more",
          contentType: "application/zip",
          schema: z.string().meta({ contentMediaType: "application/zip" }),
        },
        206: { description: "The byte range asked for (Range: bytes=…)", contentType: "application/zip" },
        304: { description: "Not modified (If-None-Match)" },
        416: { description: "The range lies beyond the bundle" },
      },
    },
    async ({ req, res, params }) => {
      const bundle = await service.download(req.auth, params.id);
      const etag = `"${bundle.sha256}"`;
      // A ready bundle never changes, but only its requesters may see it.
      res.setHeader("ETag", etag);
      res.setHeader("Cache-Control", "private, max-age=31536000, immutable");
      res.setHeader("Accept-Ranges", "bytes");
      if (matchesIfNoneMatch(req, etag)) {
        res.status(304).end();
        return;
      }
      const range = matchesIfRange(req, etag) ? parseByteRange(req.get("Range"), bundle.size) : null;
      if (range?.kind === "unsatisfiable") {
        res.setHeader("Content-Range", `bytes */${bundle.size}`);
        throw new AppError("RANGE_NOT_SATISFIABLE", 416, `the bundle has ${bundle.size} bytes`, {
          size: bundle.size,
        });
      }
      let [start, end] = [0, bundle.size - 1];
      if (range?.kind === "partial") {
        [start, end] = [range.start, range.end];
        res.status(206).setHeader("Content-Range", `bytes ${start}-${end}/${bundle.size}`);
      }
      res.setHeader("Content-Type", "application/zip");
      res.setHeader("Content-Disposition", `attachment; filename="${bundle.filename}"`);
      res.setHeader("Content-Length", String(end - start + 1));
      res.setHeader("X-Content-Type-Options", "nosniff");
      if (req.method === "HEAD") {
        res.end();
        return;
      }
      await pipeline(await bundle.read(start, end), res);
    },
  );

  return router;
}
