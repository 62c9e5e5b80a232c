import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { PassThrough, type Readable } from "node:stream";
import Busboy from "busboy";
import type { Pool } from "pg";
import { AppError } from "../errors.ts";
import type { IpfsStore } from "../ipfs/store.ts";

export interface StoredUpload {
  contentHash: string;
  cid: string;
  size: number;
  filename: string | null;
  contentType: string | null;
  metadataUri: string;
  title: string;
  description: string;
  fields: Record<string, string>;
}

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

/**
 * Streams a multipart upload (one `file` part plus text fields) into IPFS while hashing it with
 * SHA-256; nothing is buffered whole and nothing is recorded when the upload fails or exceeds
 * `maxBytes`.
 */
export function receiveUpload(
  req: IncomingMessage,
  ipfs: IpfsStore,
  maxBytes: number,
): Promise<Omit<StoredUpload, "metadataUri" | "title" | "description">> {
  return new Promise((resolve, reject) => {
    let busboy: Busboy.Busboy;
    try {
      busboy = Busboy({
        headers: req.headers,
        limits: {
          files: 1,
          fileSize: maxBytes,
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
    type Received = Omit<StoredUpload, "metadataUri" | "title" | "description" | "fields">;
    let stored: Promise<Received> | null = null;
    let failure: AppError | null = null;
    const fail = (err: AppError) => {
      failure ??= err;
    };

    busboy.on("field", (name, value, info) => {
      if (info.valueTruncated)
        fail(new AppError("FIELD_TOO_LARGE", 400, `field '${name}' exceeds ${MAX_FIELD_BYTES} bytes`));
      fields[name] = value;
    });
    busboy.on("file", (name, file: Readable, info) => {
      if (name !== "file" || stored) {
        file.resume();
        fail(new AppError("INVALID_UPLOAD", 400, "send exactly one file, in a part named 'file'"));
        return;
      }
      const hash = createHash("sha256");
      let size = 0;
      const tee = new PassThrough();
      // The failure is reported through `stored`; the store may not be reading yet when it happens.
      tee.on("error", () => {});
      file.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      file.on("limit", () => {
        fail(
          new AppError("PAYLOAD_TOO_LARGE", 413, `file exceeds the upload limit of ${maxBytes} bytes`, {
            maxBytes,
          }),
        );
        tee.destroy(new Error("upload too large"));
      });
      file.pipe(tee);
      stored = ipfs.add(tee).then(({ cid }): Received => ({
        contentHash: `0x${hash.digest("hex")}`,
        cid,
        size,
        filename: safeFilename(info.filename),
        contentType: info.mimeType && info.mimeType.length <= 255 ? info.mimeType : null,
      }));
      stored.catch(() => {});
    });
    busboy.on("filesLimit", () => fail(new AppError("INVALID_UPLOAD", 400, "send exactly one file")));
    busboy.on("fieldsLimit", () => fail(new AppError("INVALID_UPLOAD", 400, `at most ${MAX_FIELDS} fields`)));
    busboy.on("partsLimit", () => fail(new AppError("INVALID_UPLOAD", 400, "too many parts")));
    busboy.on("error", (err: Error) => {
      reject(failure ?? new AppError("INVALID_UPLOAD", 400, `malformed multipart body: ${err.message}`));
    });
    busboy.on("close", () => {
      const pending = stored as Promise<Received> | null;
      if (failure) return reject(failure);
      if (!pending) return reject(new AppError("INVALID_UPLOAD", 400, "the body has no 'file' part"));
      pending.then(
        (file) => (failure ? reject(failure) : resolve({ ...file, fields })),
        (err: unknown) => reject(failure ?? err),
      );
    });
    req.on("aborted", () => fail(new AppError("UPLOAD_ABORTED", 400, "the client aborted the upload")));
    req.pipe(busboy);
  });
}

/** Records an upload (once per content hash; a second upload of the same bytes keeps the first record). */
export async function recordUpload(
  db: Pool,
  upload: Omit<StoredUpload, "fields">,
): Promise<StoredUpload["metadataUri"]> {
  const { rows } = await db.query<{ metadata_uri: string }>(
    `INSERT INTO uploads (content_hash, cid, size, filename, content_type, title, description, metadata_uri)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (content_hash) DO UPDATE SET content_hash = EXCLUDED.content_hash
     RETURNING metadata_uri`,
    [
      upload.contentHash,
      upload.cid,
      upload.size,
      upload.filename,
      upload.contentType,
      upload.title,
      upload.description,
      upload.metadataUri,
    ],
  );
  return rows[0]!.metadata_uri;
}
