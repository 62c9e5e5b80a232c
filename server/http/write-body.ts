import type { ServerResponse } from "node:http";

/** Bytes written to the socket in one go: the pieces of a batch leave in one writev. */
export const BATCH_BYTES = 1024 * 1024;

/** Resolves once `res` has drained or closed. */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Writes `source` as the body of `res` and ends it. Pieces are corked into batches of about
 * BATCH_BYTES, so a batch costs one system call however small the pieces are, with no copy to join
 * them; after a batch that filled the socket's buffer it reads the next piece while the buffer
 * drains and waits for it to drain, so about two batches at most are held per response. Stops reading, and
 * leaves `res` unended, when the client goes away.
 */
export async function writeBody(
  res: ServerResponse,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<void> {
  const pieces = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let batched = 0;
  try {
    let next = await pieces.next();
    while (!next.done) {
      if (res.destroyed) return;
      if (batched === 0) res.cork();
      res.write(next.value);
      batched += next.value.byteLength;
      if (batched >= BATCH_BYTES) {
        res.uncork();
        batched = 0;
      }
      next = await pieces.next();
      if (batched === 0 && !next.done && res.writableNeedDrain) await drainedOrClosed(res);
    }
  } finally {
    if (batched > 0) res.uncork();
    await pieces.return?.();
  }
  res.end();
}
