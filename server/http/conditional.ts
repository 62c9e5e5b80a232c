import type { IncomingMessage } from "node:http";

/** Whether `If-None-Match` names `etag`, by weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`. */
export function matchesIfNoneMatch(req: IncomingMessage, etag: string): boolean {
  const header = req.headers["if-none-match"];
  if (header === undefined) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}

/** Whether a `Range` may be honoured: no `If-Range`, or one naming the current `etag` (RFC 9110 §13.1.5). */
export function matchesIfRange(req: IncomingMessage, etag: string): boolean {
  const header = req.headers["if-range"];
  return header === undefined || String(header).trim() === etag;
}
