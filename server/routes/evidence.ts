import { pipeline } from "node:stream/promises";
import { Router } from "express";
import { z } from "zod";
import { evidenceIdParams, evidenceRequestSchema, requestEvidenceBody } from "../../lib/api/evidence.ts";
import { AppError } from "../errors.ts";
import { parseByteRange } from "../http/byte-range.ts";
import { matchesIfNoneMatch, matchesIfRange } from "../http/conditional.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import type { EvidenceService } from "../services/evidence.ts";

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
      body: requestEvidenceBody,
      responses: {
        202: { description: "Queued; poll GET /v1/evidence/:id", schema: evidenceRequestSchema },
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
      params: evidenceIdParams,
      responses: { 200: { description: "Evidence request", schema: evidenceRequestSchema } },
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
      params: evidenceIdParams,
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
