import { timingSafeEqual } from "node:crypto";
import { Router, type RequestHandler } from "express";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Provider } from "ethers";
import type { Registry } from "prom-client";
import type { Logger } from "pino";
import type { IpfsStore } from "../ipfs/store.ts";
import { AppError } from "../errors.ts";
import { isLoopback } from "../http/client-address.ts";

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS).unref()),
  ]);
}

export interface HealthDeps {
  db: Pool;
  redis: Redis;
  provider: Provider;
  ipfs: IpfsStore;
  metrics: Registry;
  logger: Logger;
  /** Bearer token of /metrics and /readyz; without it they answer only this machine. */
  operatorToken: string | undefined;
}

/** Operators only: the configured bearer token, or a caller on this machine when none is set. */
function operatorOnly(token: string | undefined): RequestHandler {
  const expected = token === undefined ? null : Buffer.from(`Bearer ${token}`);
  return (req, _res, next) => {
    const given = Buffer.from(req.get("authorization") ?? "");
    const allowed =
      expected === null
        ? // A request a local proxy forwarded comes from this machine too, but carries X-Forwarded-For.
          isLoopback(req.socket.remoteAddress ?? "") && req.get("x-forwarded-for") === undefined
        : given.length === expected.length && timingSafeEqual(given, expected);
    if (!allowed) {
      throw new AppError(
        "OPERATOR_TOKEN_REQUIRED",
        401,
        "operator endpoint: send Authorization: Bearer <OPERATOR_TOKEN>",
      );
    }
    next();
  };
}

/**
 * Liveness (`/healthz`, public and cheap), and for operators only readiness of every dependency
 * (`/readyz`) and Prometheus metrics (`/metrics`).
 */
export function healthRouter(deps: HealthDeps): Router {
  const router = Router();

  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  const operator = operatorOnly(deps.operatorToken);
  router.get("/readyz", operator, async (_req, res) => {
    const checks: Record<string, () => Promise<unknown>> = {
      database: () => deps.db.query("SELECT 1"),
      redis: () => deps.redis.ping(),
      chain: () => deps.provider.getBlockNumber(),
      ipfs: () => deps.ipfs.ready(),
    };
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check());
          return [name, { ok: true }] as const;
        } catch (err) {
          // Details stay in the log: error texts can carry hosts and credentials of the dependency.
          deps.logger.warn({ err, check: name }, "readiness check failed");
          return [name, { ok: false }] as const;
        }
      }),
    );
    const ready = results.every(([, r]) => r.ok);
    // Quarantined logs do not make the API unready; operators see them here and in `npm run quarantine`.
    const quarantinedEvents = await withTimeout(
      deps.db.query<{ n: number }>("SELECT count(*)::int AS n FROM quarantined_events"),
    ).then(
      ({ rows }) => rows[0]!.n,
      () => null,
    );
    res.status(ready ? 200 : 503).json({
      status: ready ? "ready" : "unavailable",
      checks: Object.fromEntries(results),
      quarantinedEvents,
    });
  });

  router.get("/metrics", operator, async (_req, res) => {
    res.setHeader("Content-Type", deps.metrics.contentType);
    res.send(await deps.metrics.metrics());
  });

  return router;
}
