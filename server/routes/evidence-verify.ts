import type { IncomingMessage } from "node:http";
import Busboy from "busboy";
import { Router } from "express";
import { z } from "zod";
import type { RpcSender } from "../../lib/evidence/rpc.ts";
import { verifyBundle } from "../../lib/evidence/verify.ts";
import { AppError } from "../errors.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";

const PARTS = new Set(["bundle", "file"]);

export interface EvidenceVerifyDeps {
  /** The chain the bundles claim, for the online checks (canonical block, confirmations, registry state). */
  provider: RpcSender;
  /** The platform's evidence signing address; bundles signed by anyone else fail the signature check. */
  expectedSigner?: string;
  minConfirmations?: number;
  maxBytes: number;
}

const checkSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  skipped: z.boolean().optional(),
  detail: z.string(),
});

/** Reads the multipart parts `bundle` (required) and `file` (optional) into memory, each up to `maxBytes`. */
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
    let failure: AppError | null = null;
    const tooMany = () => {
      failure ??= new AppError(
        "VALIDATION_FAILED",
        400,
        "send only the file parts 'bundle' and optionally 'file'",
      );
    };
    busboy.on("field", tooMany);
    busboy.on("file", (name, stream) => {
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
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("limit", () => {
        failure ??= new AppError("PAYLOAD_TOO_LARGE", 413, `part '${name}' exceeds ${maxBytes} bytes`);
      });
      stream.on("end", () => parts.set(name, Buffer.concat(chunks)));
    });
    busboy.on("partsLimit", tooMany);
    busboy.on("filesLimit", tooMany);
    busboy.on("fieldsLimit", tooMany);
    busboy.on("error", () => reject(new AppError("VALIDATION_FAILED", 400, "malformed multipart body")));
    busboy.on("close", () => {
      if (failure) reject(failure);
      else if (!parts.has("bundle"))
        reject(new AppError("VALIDATION_FAILED", 400, "part 'bundle' is required"));
      else resolve(parts);
    });
    req.pipe(busboy);
  });
}

/** Runs the evidence verifier on an uploaded bundle, for people without the command-line tool. */
export function evidenceVerifyRouter(deps: EvidenceVerifyDeps, registry: OpenApiRegistry): Router {
  const router = Router();
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
        200: {
          description: "The verifier's checks; `ok` when none failed",
          schema: z
            .object({ ok: z.boolean(), checks: z.array(checkSchema) })
            .meta({ id: "BundleVerification" }),
        },
      },
    },
    async ({ req }) => {
      const parts = await receiveParts(req, deps.maxBytes);
      const result = await verifyBundle(parts.get("bundle")!, {
        file: parts.get("file"),
        provider: deps.provider,
        expectedSigner: deps.expectedSigner,
        minConfirmations: deps.minConfirmations,
      });
      return { ok: result.ok, checks: result.checks };
    },
  );
  return router;
}
