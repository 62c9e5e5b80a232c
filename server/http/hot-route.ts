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
import { requestIdOf } from "./request-log.ts";

/** A GET route whose whole input is its query string, answered as JSON. */
export interface HotRoute<Q extends z.ZodType> {
  path: string;
  query: Q;
  /** The answer's value (the route may set headers on `res`). */
  answer(query: z.output<Q>, res: ServerResponse): Promise<unknown>;
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

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}

const ignore = () => undefined;

/**
 * Answers `route` before Express sees the request. Express's own set-up of each request (the
 * prototypes of the request and response swapped, the router's walk past every middleware) costs
 * several times what node:http spends on the request, on a path integrators call on every content
 * access. The request gets what the Express path would give it: the same request id and duration
 * sample, the same security headers (the same helmet middleware), the same per-client limit
 * counter with its headers and 429, the same zod schema, the same handler, the same error answers.
 * Whatever it is not sure to answer as Express would — another method, the path spelled otherwise,
 * a request body, credentials to check, a query the schema refuses — goes to Express untouched.
 * Like the verify path in the request log, it writes no log line per request.
 */
export function serveAheadOfExpress<Q extends z.ZodType>(
  app: Express,
  deps: HotRouteDeps,
  route: HotRoute<Q>,
): void {
  // Express's app function hands every request to app.handle, whatever serves it (listen, supertest).
  const target = app as unknown as { handle: Dispatch };
  const express = target.handle.bind(app) as Dispatch;
  const prefix = `${route.path}?`;

  const serve = async (req: IncomingMessage, res: ServerResponse, query: z.output<Q>) => {
    const started = performance.now();
    const id = requestIdOf(req.headers["x-request-id"]);
    res.setHeader("X-Request-Id", id);
    res.once("finish", () => {
      const labels = { method: "GET", route: route.path, status: String(res.statusCode) };
      deps.duration.observe(labels, (performance.now() - started) / 1000);
    });
    try {
      deps.securityHeaders(req, res, ignore);
      const trust = app.get("trust proxy fn") as (address: string, hop: number) => boolean;
      await deps.limit.admit(clientKey(proxyaddr(req, trust)), res, () => deps.logger.child({ reqId: id }));
      sendJson(res, 200, await route.answer(query, res));
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
    const { method, url = "", headers } = req;
    if (
      method === "GET" &&
      url.startsWith(prefix) &&
      headers.authorization === undefined &&
      headers["x-api-key"] === undefined &&
      headers["content-length"] === undefined &&
      headers["transfer-encoding"] === undefined
    ) {
      const query = route.query.safeParse(parseQuery(url.slice(prefix.length)));
      if (query.success) {
        void serve(req, res, query.data);
        return;
      }
    }
    express(req, res, next);
  };
}
