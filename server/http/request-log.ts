import { randomUUID } from "node:crypto";
import type { Express, Request } from "express";
import type { Logger } from "pino";
import type { Histogram } from "prom-client";

declare module "express-serve-static-core" {
  interface Request {
    /** The request id: a well-formed incoming X-Request-Id, or a fresh UUID. */
    id: string;
    /** A logger bound to the request id, made on first use. */
    log: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The id of a request: its X-Request-Id when well-formed, else a fresh UUID. */
export function requestIdOf(incoming: string | string[] | undefined): string {
  return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export interface RequestLogOptions {
  logger: Logger;
  /** Request duration by method, route and status. */
  duration: Histogram<"method" | "route" | "status">;
  /** Requests measured by the histogram but not logged line by line (the hot paths). */
  quiet(req: Request): boolean;
}

const LOGGER = Symbol("request logger");

/** A download link's token, which grants its file to whoever holds it, however the router spells its path. */
const DOWNLOAD_TOKEN = /^(\/v1\/downloads\/)[^?]*/i;

/** The URL as logged: credentials in it (an order secret in the query, a download link's token) are kept out of logs. */
function redacted(url: string): string {
  return url.replace(DOWNLOAD_TOKEN, "$1…").replace(/([?&]secret=)[^&]*/g, "$1…");
}

/** Writes the line a request gets when it ends, through `log` (the request's logger), made only if it is written. */
export function logCompleted(
  logger: Logger,
  log: () => Logger,
  request: { method: string; url: string; client: string | undefined },
  statusCode: number,
  seconds: number,
): void {
  const level = statusCode >= 500 ? "error" : "info";
  if (!logger.isLevelEnabled(level)) return;
  log()[level](
    {
      req: { method: request.method, url: redacted(request.url), remoteAddress: request.client },
      res: { statusCode },
      responseTime: Math.round(seconds * 1000),
    },
    "request completed",
  );
}

/**
 * Gives each request of `app` an id (echoed as X-Request-Id), a logger bound to it, one log line
 * when it ends and a sample in the duration histogram — with one listener and nothing the request
 * does not use, since it runs on every call of the verify hot path.
 */
export function useRequestLog(app: Express, { logger, duration, quiet }: RequestLogOptions): void {
  Object.defineProperty(app.request, "log", {
    configurable: true,
    get(this: Request & { [LOGGER]?: Logger }) {
      return (this[LOGGER] ??= logger.child({ reqId: this.id }));
    },
  });
  app.use((req, res, next) => {
    const started = performance.now();
    const id = requestIdOf(req.headers["x-request-id"]);
    req.id = id;
    res.setHeader("X-Request-Id", id);
    res.once("finish", () => {
      const seconds = (performance.now() - started) / 1000;
      const route = req.route?.path ?? "unmatched";
      duration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      if (quiet(req)) return;
      const request = { method: req.method, url: req.originalUrl, client: req.ip };
      logCompleted(logger, () => req.log, request, res.statusCode, seconds);
    });
    next();
  });
}
