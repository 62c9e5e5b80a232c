import type { Server, ServerResponse } from "node:http";

export interface GracefulServer {
  /**
   * Stops taking connections, ends server-sent event streams (their clients reconnect elsewhere
   * with Last-Event-ID), closes idle keep-alive connections, and waits for requests in flight up
   * to `graceMs` before cutting what is left.
   */
  close(graceMs?: number): Promise<void>;
}

/** Tracks the responses `server` is writing so that it can be stopped without dropping requests. */
export function gracefulServer(server: Server): GracefulServer {
  const inFlight = new Set<ServerResponse>();
  server.on("request", (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
  });
  return {
    async close(graceMs = 5_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of inFlight) {
        if (String(res.getHeader("content-type") ?? "").startsWith("text/event-stream")) res.end();
      }
      const deadline = Date.now() + graceMs;
      while (inFlight.size > 0 && Date.now() < deadline) {
        server.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 50));
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
