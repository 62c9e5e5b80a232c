/**
 * Large and slow request bodies sent as a hostile client would: a multipart head followed by zeros
 * written as fast as the server reads them, with or without a Content-Length, stopping as soon as
 * the server answers. Nothing of the body is held by the sender.
 */
import { request } from "node:http";
import { readFile, writeFile } from "node:fs/promises";

export interface BigBodyAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: { code: string; message: string; details: unknown } } & Record<string, unknown>;
  /** Milliseconds from sending the request to its answer's headers. */
  ms: number;
  /** Bytes of the body written before the answer came. */
  sent: number;
}

export const BOUNDARY = "rl-hostile-boundary";

/** The start of a multipart body whose file part `name` follows. */
export const multipartHead = (name: string, filename = "file.bin") =>
  Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );

/** The end of a multipart body. */
export const multipartTail = () => Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

export interface BigBodyOptions {
  /** Bytes of zeros after `head` (default 0). */
  zeros?: number;
  head?: Buffer;
  tail?: Buffer;
  /** Send a Content-Length (default true); otherwise the body is chunked. */
  declareLength?: boolean;
  headers?: Record<string, string>;
  /** Milliseconds to wait before writing the body, with only the headers sent. */
  holdMs?: number;
}

const ZEROS = Buffer.alloc(64 * 1024);

/** POSTs a large body to `url` and resolves with the answer, stopping the upload once it arrives. */
export function postBigBody(url: string, options: BigBodyOptions = {}): Promise<BigBodyAnswer> {
  const head = options.head ?? Buffer.alloc(0);
  const tail = options.tail ?? Buffer.alloc(0);
  const zeros = options.zeros ?? 0;
  const length = head.length + zeros + tail.length;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let answered = false;
    let sent = 0;
    const req = request(url, {
      method: "POST",
      headers: {
        "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
        ...(options.declareLength === false ? {} : { "content-length": String(length) }),
        ...options.headers,
      },
    });
    req.on("response", (res) => {
      answered = true;
      const ms = Date.now() - started;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        req.destroy();
        const text = Buffer.concat(chunks).toString();
        let body: BigBodyAnswer["body"];
        try {
          body = JSON.parse(text) as BigBodyAnswer["body"];
        } catch {
          body = { text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms, sent });
      });
    });
    // Once answered, the server may close while the rest is still being written.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const write = async () => {
      if (options.holdMs) {
        req.flushHeaders();
        await new Promise((r) => setTimeout(r, options.holdMs));
      }
      const pieces = function* () {
        yield head;
        for (let left = zeros; left > 0; left -= ZEROS.length)
          yield left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left);
        yield tail;
      };
      for (const piece of pieces()) {
        if (answered || req.destroyed) return;
        sent += piece.length;
        if (!req.write(piece)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              req.off("drain", done);
              req.off("close", done);
              resolve();
            };
            req.on("drain", done);
            req.on("close", done);
          });
        }
      }
      if (!answered && !req.destroyed) req.end();
    };
    write().catch(reject);
  });
}

/** A process's resident memory, from /proc, in bytes: now (VmRSS) and its peak (VmHWM). */
export async function residentMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

/** Resets a process's peak resident memory (VmHWM) to its current value. */
export async function resetPeakMemory(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, "5");
}
