import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseQuery } from "node:querystring";
import type { Express } from "express";
import type { Logger } from "pino";
import type { Histogram } from "prom-client";
import proxyaddr from "proxy-addr";
import type { z } from "zod";
import { errorAnswer } from "../errors.ts";
import { clientKey } from "./client-address.ts";
import type { RateLimit } from "./rate-limit.ts";
import { logCompleted, requestIdOf } from "./request-log.ts";

/** A GET route whose whole input is its query string, answered as JSON. */
export interface HotRoute<Q extends z.ZodType> {
  path: string;
  query: Q;
  /** The answer's value (the route may set headers on `res`). */
  answer(query: z.output<Q>, res: ServerResponse): Promise<unknown>;
  /** Whether each request gets the request log's line (the verify path does not; see HotPath). */
  logged?: boolean;
}

/** What a hot path's request brings besides Node's own request. */
export interface HotRequest {
  body: Buffer;
  log(): Logger;
}

/** Any route answered ahead of Express: which requests it takes, and how it answers them. */
export interface HotPath<I> {
  /** The route's path as Express declares it, the label of its duration samples. */
  route: string;
  /**
   * The input of a request this path answers exactly as Express would, or undefined to leave the
   * request to Express. Requests with credentials never get here, nor requests with a body unless
   * the path reads bodies (`bodyLimit`).
   */
  take(method: string, url: string): I | undefined;
  /**
   * Writes the whole answer; a throw before the headers are sent is answered as the error
   * middleware does. `body` is the request's body as sent (empty without one); `log` the logger
   * bound to the request id, as Express's `req.log`.
   */
  serve(input: I, req: IncomingMessage, res: ServerResponse, request: HotRequest): Promise<void>;
  /** Whether each request gets the request log's line, as on the Express path (the verify path does not). */
  logged: boolean;
  /**
   * The largest body the path reads itself, as the Express route's raw body parser would. Bodies
   * sent in chunks, compressed or larger go to Express, which answers them as before; without a
   * limit, every request with a body does.
   */
  bodyLimit?: number;
  /**
   * Whether its requests count against the per-client limit (default true). The Express route of a
   * path mounted ahead of the limit (the payment provider's webhooks) is not counted there either.
   */
  rateLimited?: boolean;
}

export interface HotRouteDeps {
  logger: Logger;
  /** The request duration histogram the Express path observes. */
  duration: Histogram<"method" | "route" | "status">;
  /** The security headers middleware the Express path runs (helmet's). */
  securityHeaders(req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void;
  /** The per-client limit the Express path counts every request against. */
  limit: RateLimit;
}

type Dispatch = (req: IncomingMessage, res: ServerResponse, next?: unknown) => void;

/** Writes `value` as the JSON answer with `status`, as Express's `res.json` does. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}

const ignore = () => undefined;

/** The length of the body `path` may read itself: 0 without one, null when Express must take the request. */
function readableLength(headers: IncomingMessage["headers"], limit: number | undefined): number | null {
  const length = headers["content-length"];
  if (headers["transfer-encoding"] !== undefined) return null;
  if (length === undefined) return 0;
  const encoding = headers["content-encoding"];
  if (limit === undefined || (encoding !== undefined && encoding.toLowerCase() !== "identity")) return null;
  // Node's parser refused a malformed length before the request got here.
  return Number(length) <= limit ? Number(length) : null;
}

/** The whole body of `req`, whose length Node's parser holds to its Content-Length. */
function readBody(req: IncomingMessage, length: number): Promise<Buffer> {
  if (length === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const left = () => reject(new Error("the client left before sending its whole body"));
    // It may have left while the request waited for its client's count.
    if (req.destroyed && !req.complete) return left();
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
    req.once("close", () => {
      if (!req.complete) left();
    });
  });
}

/**
 * Answers `path` before Express sees the request. Express's own set-up of each request (the
 * prototypes of the request and response swapped, the router's walk past every middleware) costs
 * several times what node:http spends on the request, on paths called on every content access.
 * The request gets what the Express path would give it: the same request id, duration sample and
 * log line (where the Express path writes one), the same security headers (the same helmet
 * middleware), the same per-client limit counter with its headers and 429, the same handler and
 * the same error answers. Whatever it is not sure to answer as Express would — another method, the
 * path spelled otherwise, a request body, credentials to check, input the route refuses — goes to
 * Express untouched.
 */
export function answerAheadOfExpress<I>(app: Express, deps: HotRouteDeps, path: HotPath<I>): void {
  // Express's app function hands every request to app.handle, whatever serves it (listen, supertest).
  const target = app as unknown as { handle: Dispatch };
  const express = target.handle.bind(app) as Dispatch;

  const serve = async (req: IncomingMessage, res: ServerResponse, input: I, length: number) => {
    const started = performance.now();
    const id = requestIdOf(req.headers["x-request-id"]);
    let requestLog: Logger | undefined;
    const log = () => (requestLog ??= deps.logger.child({ reqId: id }));
    let client: string | undefined;
    res.setHeader("X-Request-Id", id);
    res.once("finish", () => {
      const seconds = (performance.now() - started) / 1000;
      const method = req.method!;
      deps.duration.observe({ method, route: path.route, status: String(res.statusCode) }, seconds);
      if (!path.logged) return;
      logCompleted(deps.logger, log, { method, url: req.url!, client }, res.statusCode, seconds);
    });
    try {
      deps.securityHeaders(req, res, ignore);
      const trust = app.get("trust proxy fn") as (address: string, hop: number) => boolean;
      client = proxyaddr(req, trust);
      if (path.rateLimited !== false) {
        await deps.limit.admit(clientKey(client), res, log);
      }
      let body: Buffer;
      try {
        body = await readBody(req, length);
      } catch {
        // No one is left to answer.
        res.destroy();
        return;
      }
      await path.serve(input, req, res, { body, log });
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const { status, body } = errorAnswer(err, id, deps.logger);
      sendJson(res, status, body);
    }
  };

  target.handle = (req, res, next) => {
    const { method = "", url = "", headers } = req;
    const length =
      headers.authorization === undefined && headers["x-api-key"] === undefined
        ? readableLength(headers, path.bodyLimit)
        : null;
    if (length !== null) {
      const input = path.take(method, url);
      if (input !== undefined) {
        void serve(req, res, input, length);
        return;
      }
    }
    express(req, res, next);
  };
}

/** Answers the JSON `route` ahead of Express (see answerAheadOfExpress). */
export function serveAheadOfExpress<Q extends z.ZodType>(
  app: Express,
  deps: HotRouteDeps,
  route: HotRoute<Q>,
): void {
  const prefix = `${route.path}?`;
  answerAheadOfExpress(app, deps, {
    route: route.path,
    logged: route.logged ?? false,
    take(method, url) {
      if (method !== "GET" || !url.startsWith(prefix)) return undefined;
      const query = route.query.safeParse(parseQuery(url.slice(prefix.length)));
      return query.success ? { query: query.data as z.output<Q> } : undefined;
    },
    async serve({ query }, _req, res) {
      sendJson(res, 200, await route.answer(query, res));
    },
  });
}
