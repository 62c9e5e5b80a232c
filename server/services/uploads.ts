import { createHash, randomUUID } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import type { Readable } from "node:stream";
import Busboy from "busboy";
import type { Pool } from "pg";
import { AppError } from "../errors.ts";

const MAX_FIELDS = 10;
const MAX_FIELD_BYTES = 4096;

/** A file name as given, reduced to its last path segment and safe characters; null when nothing is left. */
export function safeFilename(name: string | undefined): string | null {
  if (!name) return null;
  const base = name.split(/[\\/]/).pop() ?? "";
  const cleaned = base
    .normalize("NFC")
    .replace(/\p{Cc}/gu, "")
    .replace(/^\.+/, "")
    .slice(0, 255)
    .trim();
  return cleaned === "" ? null : cleaned;
}

/** A file received whole into the staging directory, not yet in the store. */
export interface StagedUpload {
  /** The staged copy; the caller removes it (`discardStaged`). */
  path: string;
  contentHash: string;
  size: number;
  filename: string | null;
  contentType: string | null;
  fields: Record<string, string>;
}

export interface ReceiveLimits {
  /** Where files are staged until they are checked. */
  stagingDir: string;
  /** The most the file may hold. */
  limitBytes: number;
  /** The answer when the file passes `limitBytes`. */
  tooLarge: () => AppError;
}

/** Removes a staged file; a file already gone is fine. */
export async function discardStaged(path: string): Promise<void> {
  await rm(path, { force: true });
}

/**
 * Streams a multipart upload (one `file` part plus text fields) into a staging file while hashing
 * it with SHA-256; nothing is buffered whole, nothing reaches the store, and the staging file is
 * removed when the upload fails or passes `limits.limitBytes` (reading stops there).
 */
export async function receiveUpload(req: IncomingMessage, limits: ReceiveLimits): Promise<StagedUpload> {
  await mkdir(limits.stagingDir, { recursive: true });
  const stagedPath = path.join(limits.stagingDir, `upload-${randomUUID()}`);
  try {
    return await receiveInto(req, stagedPath, limits);
  } catch (err) {
    await discardStaged(stagedPath);
    throw err;
  }
}

function receiveInto(req: IncomingMessage, stagedPath: string, limits: ReceiveLimits): Promise<StagedUpload> {
  type Received = Omit<StagedUpload, "fields">;
  return new Promise((resolve, reject) => {
    let busboy: Busboy.Busboy;
    try {
      busboy = Busboy({
        headers: req.headers,
        // Browsers send file names in UTF-8.
        defParamCharset: "utf8",
        limits: {
          files: 1,
          fileSize: limits.limitBytes,
          fields: MAX_FIELDS,
          fieldSize: MAX_FIELD_BYTES,
          parts: MAX_FIELDS + 1,
        },
      });
    } catch {
      reject(new AppError("INVALID_UPLOAD", 400, "expected a multipart/form-data body with a 'file' part"));
      return;
    }
    const fields: Record<string, string> = {};
    let stored: Promise<Received> | null = null;
    let sink: WriteStream | null = null;
    let failure: AppError | null = null;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    // A failed upload stops everything it started: the body, the parser and the staging write.
    const abort = (err: AppError) => {
      failure ??= err;
      req.unpipe(busboy);
      req.resume();
      busboy.destroy();
      sink?.destroy();
      settle(() => reject(failure));
    };
    // Limits keep the rest of the body flowing, so the parser can still answer cleanly.
    const refuse = (err: AppError) => {
      failure ??= err;
      sink?.destroy();
    };

    busboy.on("field", (name, value, info) => {
      if (info.valueTruncated)
        refuse(new AppError("FIELD_TOO_LARGE", 400, `field '${name}' exceeds ${MAX_FIELD_BYTES} bytes`));
      else if (value.includes("\0"))
        refuse(new AppError("VALIDATION_FAILED", 400, `field '${name}' contains a NUL character`));
      fields[name] = value;
    });
    busboy.on("file", (name, file: Readable, info) => {
      if (name !== "file" || stored) {
        file.resume();
        refuse(new AppError("INVALID_UPLOAD", 400, "send exactly one file, in a part named 'file'"));
        return;
      }
      const hash = createHash("sha256");
      let size = 0;
      const out = createWriteStream(stagedPath, { flags: "wx" });
      sink = out;
      file.on("error", (err: Error) =>
        abort(new AppError("INVALID_UPLOAD", 400, `malformed multipart body: ${err.message}`)),
      );
      file.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      // Past the limit nothing more is read; busboy must leave its callback before it is destroyed.
      file.on("limit", () => {
        refuse(limits.tooLarge());
        setImmediate(() => abort(failure!));
      });
      file.pipe(out);
      stored = new Promise<Received>((done, fail) => {
        out.on("finish", () =>
          done({
            path: stagedPath,
            contentHash: `0x${hash.digest("hex")}`,
            size,
            filename: safeFilename(info.filename),
            contentType: info.mimeType && info.mimeType.length <= 255 ? info.mimeType : null,
          }),
        );
        out.on("error", fail);
        out.on("close", () => {
          if (!out.writableFinished) fail(new Error("staging stopped"));
        });
      });
      stored.catch(() => {});
    });
    busboy.on("filesLimit", () => refuse(new AppError("INVALID_UPLOAD", 400, "send exactly one file")));
    busboy.on("fieldsLimit", () =>
      refuse(new AppError("INVALID_UPLOAD", 400, `at most ${MAX_FIELDS} fields`)),
    );
    busboy.on("partsLimit", () => refuse(new AppError("INVALID_UPLOAD", 400, "too many parts")));
    busboy.on("error", (err: Error) =>
      abort(new AppError("INVALID_UPLOAD", 400, `malformed multipart body: ${err.message}`)),
    );
    busboy.on("close", () => {
      const pending = stored as Promise<Received> | null;
      if (failure) return settle(() => reject(failure));
      if (!pending)
        return settle(() => reject(new AppError("INVALID_UPLOAD", 400, "the body has no 'file' part")));
      pending.then(
        (file) => settle(() => (failure ? reject(failure) : resolve({ ...file, fields }))),
        (err: unknown) => settle(() => reject(failure ?? err)),
      );
    });
    req.on("aborted", () => abort(new AppError("UPLOAD_ABORTED", 400, "the client aborted the upload")));
    req.on("close", () => {
      if (!req.complete)
        abort(new AppError("UPLOAD_ABORTED", 400, "the client closed the connection mid-upload"));
    });
    req.pipe(busboy);
  });
}

/** Records the metadata document of an upload request; the original is recorded before it (content/store.ts). */
export async function recordMetadata(
  db: Pool,
  metadata: { metadataUri: string; contentHash: string; title: string; description: string },
): Promise<void> {
  await db.query(
    `INSERT INTO work_metadata (metadata_uri, content_hash, title, description) VALUES ($1, $2, $3, $4)
     ON CONFLICT (metadata_uri) DO NOTHING`,
    [metadata.metadataUri, metadata.contentHash, metadata.title, metadata.description],
  );
}

/**
 * Whether `/ipfs` withholds `cid`: a private original (sealed: only licence holders get its bytes,
 * through delivery), or an upload or the metadata document of one whose registration is not anchored
 * yet, since its bytes (or the hash its metadata names) stay private until a commitment or batch has
 * reserved the creator's work id, so nobody who fetches them can claim the file first.
 */
export async function isWithheld(db: Pool, cid: string): Promise<boolean> {
  // Unnamed: the embedded database shares one session among its connections, so a named
  // statement prepared on one would collide with the same name prepared on another.
  const { rows } = await db.query<{ withheld: boolean }>({
    text: `WITH hashes AS (
             SELECT content_hash FROM uploads WHERE cid = $1
             UNION SELECT content_hash FROM work_metadata WHERE metadata_uri = 'ipfs://' || $1
           )
           SELECT EXISTS (SELECT 1 FROM uploads WHERE cid = $1 AND visibility = 'private')
               OR EXISTS (
             SELECT 1 FROM hashes h
              WHERE NOT EXISTS (SELECT 1 FROM works w WHERE w.content_hash = h.content_hash)
                AND NOT EXISTS (SELECT 1 FROM registration_requests r
                                 WHERE r.content_hash = h.content_hash AND r.work_id IS NOT NULL)
                AND NOT EXISTS (SELECT 1 FROM registration_requests r
                                  JOIN notarization_batches nb ON nb.id = r.batch_id
                                  JOIN batches b ON b.merkle_root = nb.merkle_root
                                 WHERE r.content_hash = h.content_hash)
           ) AS withheld`,
    values: [cid],
  });
  return rows[0]!.withheld;
}
