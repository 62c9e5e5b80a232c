import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError } from "../errors.ts";

/** How long a refused client may go on sending after its answer before the connection is closed. */
const LINGER_MS = 1000;

/** The 413 of a body over `maxBytes`. */
export const bodyTooLarge = (maxBytes: number): AppError =>
  new AppError("PAYLOAD_TOO_LARGE", 413, `the body exceeds ${maxBytes} bytes`, { maxBytes });

/**
 * Closes the connection of a request refused before its body was read, once answered. What the
 * client still sends meanwhile is dropped unread for a moment first: closing on unread bytes would
 * reset the connection, and the client would lose the answer.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.once("finish", () => {
    req.resume();
    setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
  });
}

/** Throws 413 before a byte of the body is read when its Content-Length exceeds `maxBytes`. */
export function refuseDeclaredSize(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared <= maxBytes) return;
  closeAfterAnswer(req, res);
  throw bodyTooLarge(maxBytes);
}
