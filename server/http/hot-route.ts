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

/** Any route answered ahead of Express: which requests it takes, and how it answers them. */
export interface HotPath<I> {
  /** The route's path as Express declares it, the label of its duration samples. */
  route: string;
  /**
   * The input of a request this path answers exactly as Express would, or undefined to leave the
   * request to Express. Requests with credentials or a body never get here.
   */
  take(method: string, url: string): I | undefined;
  /** Writes the whole answer; a throw before the headers are sent is answered as the error middleware does. */
  serve(input: I, req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Whether each request gets the request log's line, as on the Express path (the verify path does not). */
  logged: boolean;
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

  const serve = async (req: IncomingMessage, res: ServerResponse, input: I) => {
    const started = performance.now();
    const id = requestIdOf(req.headers["x-request-id"]);
    let client: string | undefined;
    res.setHeader("X-Request-Id", id);
    res.once("finish", () => {
      const seconds = (performance.now() - started) / 1000;
      const method = req.method!;
      deps.duration.observe({ method, route: path.route, status: String(res.statusCode) }, seconds);
      if (!path.logged) return;
      const log = () => deps.logger.child({ reqId: id });
      logCompleted(deps.logger, log, { method, url: req.url!, client }, res.statusCode, seconds);
    });
    try {
      deps.securityHeaders(req, res, ignore);
      const trust = app.get("trust proxy fn") as (address: string, hop: number) => boolean;
      client = proxyaddr(req, trust);
      await deps.limit.admit(clientKey(client), res, () => deps.logger.child({ reqId: id }));
      await path.serve(input, req, res);
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
    if (
      headers.authorization === undefined &&
      headers["x-api-key"] === undefined &&
      headers["content-length"] === undefined &&
      headers["transfer-encoding"] === undefined
    ) {
      const input = path.take(method, url);
      if (input !== undefined) {
        void serve(req, res, input);
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
