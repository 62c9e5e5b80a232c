import type { IncomingMessage } from "node:http";
import Busboy from "busboy";
import { Router } from "express";
import { bundleVerificationSchema } from "../../lib/api/evidence.ts";
import type { RpcSender } from "../../lib/evidence/rpc.ts";
import { verifyBundle } from "../../lib/evidence/verify.ts";
import { ZipLimitError, type ZipLimits } from "../../lib/evidence/zip.ts";
import { AppError } from "../errors.ts";
import { bodyTooLarge, closeAfterAnswer, refuseDeclaredSize } from "../http/body-limit.ts";
import { guardedRpc } from "../http/dependency-errors.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";

const PARTS = new Set(["bundle", "file"]);

export interface EvidenceVerifyDeps {
  /** The chain the bundles claim, for the online checks (canonical block, confirmations, registry state). */
  provider: RpcSender;
  /** The platform's evidence signing address; bundles signed by anyone else fail the signature check. */
  expectedSigner?: string;
  minConfirmations?: number;
  /** Largest request body, read into memory: the bundle and the original together. */
  maxBytes: number;
  /** What inflating the bundle may cost. */
  zipLimits: ZipLimits;
  /** Verifications one process runs at once; more are answered 429 before their body is read. */
  concurrency: number;
}

/**
 * Reads the multipart parts `bundle` (required) and `file` (optional) into memory, `maxBytes` of
 * body at most: past it the body stops being read and the request fails with 413. A client that
 * goes away mid-body ends the read too, so nothing waits on it.
 */
function receiveParts(req: IncomingMessage, maxBytes: number): Promise<Map<string, Uint8Array>> {
  return new Promise((resolve, reject) => {
    let busboy: Busboy.Busboy;
    try {
      // Busboy reports a limit once it is reached, so allow one more than the parts expected.
      busboy = Busboy({
        headers: req.headers,
        limits: { files: PARTS.size + 1, fields: 1, fileSize: maxBytes, parts: PARTS.size + 1 },
      });
    } catch {
      reject(new AppError("VALIDATION_FAILED", 400, "send multipart/form-data with a 'bundle' part"));
      return;
    }
    const parts = new Map<string, Uint8Array>();
    const receiving = new Set<Buffer[]>();
    let failure: AppError | null = null;
    let received = 0;
    // Stops reading at once and lets go of what was received.
    const stop = (err: AppError) => {
      req.off("data", countBody);
      req.unpipe(busboy);
      busboy.destroy();
      for (const chunks of receiving) chunks.length = 0;
      parts.clear();
      reject(err);
    };
    const countBody = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) stop(bodyTooLarge(maxBytes));
    };
    const tooMany = () => {
      failure ??= new AppError(
        "VALIDATION_FAILED",
        400,
        "send only the file parts 'bundle' and optionally 'file'",
      );
    };
    busboy.on("field", tooMany);
    busboy.on("file", (name, stream) => {
      // A stream cut short by `stop` reports it; the request has already failed.
      stream.on("error", () => {});
      if (!PARTS.has(name) || parts.has(name)) {
        failure ??= new AppError(
          "VALIDATION_FAILED",
          400,
          `unexpected part '${name}'; send 'bundle' and optionally 'file'`,
        );
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      receiving.add(chunks);
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      // Busboy must leave its callback before it is destroyed.
      stream.on("limit", () => setImmediate(() => stop(bodyTooLarge(maxBytes))));
      stream.on("end", () => {
        receiving.delete(chunks);
        parts.set(name, Buffer.concat(chunks));
      });
    });
    busboy.on("partsLimit", tooMany);
    busboy.on("filesLimit", tooMany);
    busboy.on("fieldsLimit", tooMany);
    busboy.on("error", () => stop(new AppError("VALIDATION_FAILED", 400, "malformed multipart body")));
    busboy.on("close", () => {
      if (failure) reject(failure);
      else if (!parts.has("bundle"))
        reject(new AppError("VALIDATION_FAILED", 400, "part 'bundle' is required"));
      else resolve(parts);
    });
    req.on("close", () => {
      if (!req.complete)
        stop(new AppError("UPLOAD_ABORTED", 400, "the client closed the connection mid-body"));
    });
    req.on("data", countBody);
    req.pipe(busboy);
  });
}

/** Runs the evidence verifier on an uploaded bundle, for people without the command-line tool. */
export function evidenceVerifyRouter(deps: EvidenceVerifyDeps, registry: OpenApiRegistry): Router {
  const router = Router();
  let running = 0;
  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/evidence/verify",
      summary:
        "Verify an evidence bundle (multipart: `bundle` zip, optional original `file`) offline and against the chain",
      tags: ["evidence"],
      bodyContentType: "multipart/form-data",
      responses: {
        413: { description: "The body or the bundle's inflated files exceed their limits" },
        429: { description: "Too many bundles are being verified at once; retry after `Retry-After`" },
        200: {
          description: "The verifier's checks; `ok` when none failed",
          schema: bundleVerificationSchema,
        },
      },
    },
    async ({ req, res }) => {
      refuseDeclaredSize(req, res, deps.maxBytes);
      if (running >= deps.concurrency) {
        res.setHeader("Retry-After", "1");
        closeAfterAnswer(req, res);
        throw new AppError("VERIFY_BUSY", 429, "too many bundles are being verified; retry in a second", {
          concurrency: deps.concurrency,
        });
      }
      running++;
      try {
        const parts = await receiveParts(req, deps.maxBytes);
        const result = await verifyBundle(parts.get("bundle")!, {
          file: parts.get("file"),
          provider: guardedRpc(deps.provider, { requestId: req.id, logger: req.log }),
          expectedSigner: deps.expectedSigner,
          minConfirmations: deps.minConfirmations,
          zipLimits: deps.zipLimits,
        });
        return { ok: result.ok, checks: result.checks };
      } catch (err) {
        if (err instanceof AppError && err.code === "PAYLOAD_TOO_LARGE") closeAfterAnswer(req, res);
        if (!(err instanceof ZipLimitError)) throw err;
        throw new AppError("BUNDLE_TOO_LARGE", 413, `the bundle is refused: ${err.message}`, {
          limit: err.limit,
          value: err.value,
        });
      } finally {
        running--;
      }
    },
  );
  return router;
}
