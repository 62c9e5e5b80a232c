import { expect } from "chai";
import express, { type Express } from "express";
import helmet from "helmet";
import pino from "pino";
import { Histogram, Registry } from "prom-client";
import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import request from "supertest";
import { z } from "zod";
import { AppError, errorHandler } from "../../server/errors.ts";
import { clientOf } from "../../server/http/client-address.ts";
import {
  answerAheadOfExpress,
  sendJson,
  serveAheadOfExpress,
  type HotPath,
  type HotRoute,
} from "../../server/http/hot-route.ts";
import { RateLimit } from "../../server/http/rate-limit.ts";
import { useRequestLog } from "../../server/http/request-log.ts";
import { BATCH_BYTES, writeBody } from "../../server/http/write-body.ts";
import { addressSchema, idSchema } from "../../lib/api/primitives.ts";
import { createTestRedis, type TestRedis } from "../helpers/redis.ts";

const HOLDER = "0x00000000000000000000000000000000000000aa";

describe("hot route: a request answered ahead of Express", function () {
  let cache: TestRedis;
  const limits: RateLimit[] = [];

  /** A per-client limit of `limit` requests a minute, on keys of its own; closed after the tests. */
  function perClientLimit(limit: number): RateLimit {
    const perClient = new RateLimit({
      redis: cache.redis,
      prefix: `${cache.prefix}:${limits.length}`,
      rule: "per-ip",
      limit,
      windowSeconds: 60,
      key: clientOf,
    });
    limits.push(perClient);
    return perClient;
  }

  /** The request duration histogram as createApp registers it. */
  function durationHistogram(registry: Registry) {
    return new Histogram({
      name: "http_request_duration_seconds",
      help: "duration",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    });
  }

  /** An app as createApp builds one: request log, helmet, the per-client limit, a router with the route. */
  function appWith(
    answer: HotRoute<z.ZodType>["answer"],
    {
      limit = 1000,
      trustProxy = false as false | number,
      path = null as HotPath<string> | null,
      lines = [] as string[],
    } = {},
  ) {
    const app: Express = express();
    app.disable("x-powered-by");
    app.set("trust proxy", trustProxy);
    app.set("query parser", "simple");
    app.set("etag", false);
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const metrics = new Registry();
    const duration = durationHistogram(metrics);
    useRequestLog(app, { logger, duration, quiet: (req) => req.path === "/v1/check" });
    const securityHeaders = helmet();
    app.use(securityHeaders);
    const perClient = perClientLimit(limit);
    app.use(perClient.middleware());
    app.use(express.json());
    const seen = { byExpress: 0 };
    app.use((_req, _res, next) => {
      seen.byExpress += 1;
      next();
    });
    const route: HotRoute<z.ZodType> = {
      path: "/v1/check",
      query: z.object({ workId: idSchema, holder: addressSchema }),
      answer,
    };
    serveAheadOfExpress(app, { logger, duration, securityHeaders, limit: perClient }, route);
    if (path) {
      answerAheadOfExpress(app, { logger, duration, securityHeaders, limit: perClient }, path);
      app.get(path.route, async (req, res) => {
        await path.serve(req.params.name as string, req, res, { body: Buffer.alloc(0), log: () => req.log });
      });
    }
    app.get(route.path, async (req, res) => {
      const query = route.query.safeParse(req.query);
      if (!query.success) throw new AppError("VALIDATION_FAILED", 400, "invalid query");
      res.json(await route.answer(query.data, res));
    });
    app.get("/other", (_req, res) => {
      res.json({ other: true });
    });
    app.use(errorHandler(logger));
    return { app, seen, metrics };
  }

  const echo: HotRoute<z.ZodType>["answer"] = async (query, res) => {
    res.setHeader("Cache-Control", "no-store");
    return { query };
  };

  before(async () => {
    cache = await createTestRedis("hot_route");
  });
  after(async () => {
    for (const limit of limits) await limit.close();
    await cache.cleanup();
  });

  it("answers without Express what the Express path answers: status, body and every header", async () => {
    const { app, seen } = appWith(echo);
    const hot = await request(app).get(`/v1/check?workId=7&holder=${HOLDER}`).set("X-Request-Id", "r-1");
    expect(seen.byExpress).to.equal(0);
    // A trailing slash is the same route to Express's router, but not to the hot path.
    const routed = await request(app).get(`/v1/check/?workId=7&holder=${HOLDER}`).set("X-Request-Id", "r-1");
    expect(seen.byExpress).to.equal(1);
    expect(hot.status).to.equal(200);
    expect(hot.body).to.deep.equal({ query: { workId: "7", holder: HOLDER } });
    expect(hot.body).to.deep.equal(routed.body);
    const comparable = (headers: Record<string, string>) => {
      const { date: _date, "ratelimit-remaining": _remaining, ...rest } = headers;
      return rest;
    };
    expect(comparable(hot.headers)).to.deep.equal(comparable(routed.headers));
    expect(hot.headers).to.include({
      "x-request-id": "r-1",
      "cache-control": "no-store",
      "content-type": "application/json; charset=utf-8",
      "x-content-type-options": "nosniff",
      "ratelimit-limit": "1000",
    });
    expect(hot.headers["content-security-policy"]).to.include("default-src 'self'");
  });

  it("passes to Express what it cannot be sure of: a refused query, credentials, a body, another method", async () => {
    const { app, seen } = appWith(echo);
    const bad = await request(app).get("/v1/check?workId=0&holder=0x12");
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal("VALIDATION_FAILED");
    const repeated = await request(app).get(`/v1/check?workId=1&workId=2&holder=${HOLDER}`);
    expect(repeated.status).to.equal(400);
    await request(app)
      .get(`/v1/check?workId=1&holder=${HOLDER}`)
      .set("Authorization", "Bearer x")
      .expect(200);
    await request(app).get(`/v1/check?workId=1&holder=${HOLDER}`).set("X-Api-Key", "k").expect(200);
    await request(app)
      .get(`/v1/check?workId=1&holder=${HOLDER}`)
      .set("Content-Type", "application/json")
      .send("{}")
      .expect(200);
    await request(app).head(`/v1/check?workId=1&holder=${HOLDER}`).expect(200);
    await request(app).post(`/v1/check?workId=1&holder=${HOLDER}`).expect(404);
    expect(seen.byExpress).to.equal(7);
  });

  it("counts its requests on the same per-client limit as every other route, and answers 429 past it", async () => {
    const { app, seen } = appWith(echo, { limit: 3 });
    await request(app).get(`/v1/check?workId=1&holder=${HOLDER}`).expect(200);
    await request(app).get("/other").expect(200);
    const third = await request(app).get(`/v1/check?workId=1&holder=${HOLDER}`).expect(200);
    expect(third.headers["ratelimit-remaining"]).to.equal("0");
    const refused = await request(app).get(`/v1/check?workId=1&holder=${HOLDER}`);
    expect(refused.status).to.equal(429);
    expect(refused.body.error).to.include({ code: "RATE_LIMITED" });
    expect(refused.body.error.details.rule).to.equal("per-ip");
    expect(Number(refused.headers["retry-after"])).to.be.within(1, 60);
    expect(refused.headers["x-content-type-options"]).to.equal("nosniff");
    await request(app).get("/other").expect(429);
    // Only the first /other got past the limit into Express; the hot requests never went there.
    expect(seen.byExpress).to.equal(1);
  });

  it("counts a client behind a trusted proxy by its forwarded address, not by the left-most entry it wrote", async () => {
    const { app } = appWith(echo, { limit: 2, trustProxy: 1 });
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(app)
        .get(`/v1/check?workId=1&holder=${HOLDER}`)
        .set("X-Forwarded-For", `10.${i}.0.1, 198.51.100.7`);
      statuses.push(res.status);
    }
    expect(statuses).to.deep.equal([200, 200, 429]);
    const neighbour = await request(app)
      .get(`/v1/check?workId=1&holder=${HOLDER}`)
      .set("X-Forwarded-For", "198.51.100.8");
    expect(neighbour.status).to.equal(200);
  });

  it("answers a failing handler as the error middleware does: its AppError, or 500 naming the request id only", async () => {
    const { app } = appWith(async (query) => {
      if ((query as { workId: string }).workId === "1") throw new AppError("NOT_FOUND", 404, "no such work");
      throw new Error("connect ECONNREFUSED postgres://user:secret@db");
    });
    const known = await request(app).get(`/v1/check?workId=1&holder=${HOLDER}`);
    expect(known.status).to.equal(404);
    expect(known.body).to.deep.equal({
      error: { code: "NOT_FOUND", message: "no such work", details: null },
    });
    const failed = await request(app).get(`/v1/check?workId=2&holder=${HOLDER}`).set("X-Request-Id", "r-500");
    expect(failed.status).to.equal(500);
    expect(failed.body).to.deep.equal({
      error: { code: "INTERNAL", message: "internal error", details: { requestId: "r-500" } },
    });
    expect(JSON.stringify(failed.body)).to.not.include("secret");
  });

  it("samples its requests in the duration histogram under the route's path and status", async () => {
    const { app, metrics } = appWith(echo);
    await request(app).get(`/v1/check?workId=1&holder=${HOLDER}`).expect(200);
    await request(app).get(`/v1/check?workId=1&holder=${HOLDER}`).expect(200);
    const text = await metrics.metrics();
    expect(text).to.include(
      'http_request_duration_seconds_count{method="GET",route="/v1/check",status="200"} 2',
    );
  });

  /** A path streaming `/files/<name>` in 64 KiB pieces (3 MiB, or 64 MiB for `slow`), counting the pieces read. */
  function files() {
    const read = { pieces: 0, finished: false };
    const body = (piece: number) => Buffer.alloc(65_536, piece % 251);
    const path: HotPath<string> = {
      route: "/files/:name",
      logged: true,
      take: (method, url) =>
        (method === "GET" || method === "HEAD") && /^\/files\/[a-z]+$/.test(url) ? url.slice(7) : undefined,
      async serve(name, req, res) {
        if (name === "missing") throw new AppError("NOT_FOUND", 404, "no such file");
        const pieces = name === "slow" ? 1024 : 48;
        res.setHeader("Content-Length", String(pieces * 65_536));
        res.setHeader("Content-Type", "application/octet-stream");
        if (req.method === "HEAD") return void res.end();
        await writeBody(
          res,
          (async function* () {
            try {
              for (let i = 0; i < pieces; i++) {
                if (name === "broken" && i === 20) throw new Error("segment 20 fails authentication");
                read.pieces += 1;
                yield body(i);
              }
            } finally {
              read.finished = true;
            }
          })(),
        );
      },
    };
    return { path, read, whole: Buffer.concat(Array.from({ length: 48 }, (_, i) => body(i))) };
  }

  it("streams a path's body ahead of Express, logs it as Express does, and answers HEAD and errors the same way", async () => {
    const { path, whole } = files();
    const lines: string[] = [];
    const { app, seen } = appWith(echo, { path, lines });
    const binary = (res: unknown, done: (err: Error | null, body: Buffer) => void) => {
      const parts: Buffer[] = [];
      (res as NodeJS.ReadableStream).on("data", (p: Buffer) => parts.push(p));
      (res as NodeJS.ReadableStream).on("end", () => done(null, Buffer.concat(parts)));
    };
    const hot = await request(app).get("/files/score").buffer(true).parse(binary);
    expect(seen.byExpress).to.equal(0);
    expect(hot.status).to.equal(200);
    expect((hot.body as Buffer).equals(whole)).to.equal(true);
    const routed = await request(app).get("/files/score/").buffer(true).parse(binary);
    expect(seen.byExpress).to.equal(1);
    expect((routed.body as Buffer).equals(whole)).to.equal(true);
    const head = await request(app).head("/files/score");
    expect([head.status, head.headers["content-length"]]).to.deep.equal([200, String(whole.length)]);
    const missing = await request(app).get("/files/missing");
    expect(missing.status).to.equal(404);
    expect(missing.body).to.deep.equal({
      error: { code: "NOT_FOUND", message: "no such file", details: null },
    });
    expect(missing.headers["x-content-type-options"]).to.equal("nosniff");
    expect(seen.byExpress).to.equal(1);
    const logged = lines.map(
      (l) => JSON.parse(l) as { msg: string; req: { url: string }; res: { statusCode: number } },
    );
    const completed = logged.filter((l) => l.msg === "request completed");
    expect(completed.map((l) => [l.req.url, l.res.statusCode])).to.deep.equal([
      ["/files/score", 200],
      ["/files/score/", 200],
      ["/files/score", 200],
      ["/files/missing", 404],
    ]);
  });

  it("keeps download link tokens and order secrets out of its log lines, however the URL is spelled", async () => {
    const token = "eyJncmFudCI6InNlY3JldCJ9.c2lnbmF0dXJlLW9mLXRoZS1saW5r";
    const lines: string[] = [];
    const path: HotPath<string> = {
      route: "/v1/downloads/:name",
      logged: true,
      take: (method, url) =>
        method === "GET" && /^\/v1\/downloads\/[\w.-]+$/.test(url) ? url.slice(14) : undefined,
      async serve(_token, _req, res) {
        res.setHeader("Content-Length", "2");
        res.end("ok");
      },
    };
    const { app, seen } = appWith(echo, { path, lines });
    await request(app).get(`/v1/downloads/${token}`).expect(200);
    expect(seen.byExpress).to.equal(0);
    // Spelled otherwise, the router answers (its path match ignores case and a trailing slash).
    await request(app).get(`/V1/Downloads/${token}/`).expect(200);
    await request(app)
      .get(`/v1/downloads/${token.replace(".", "%2E")}?x=1`)
      .expect(200);
    expect(seen.byExpress).to.equal(2);
    await request(app).get(`/other?a=1&secret=${token}`).expect(200);
    const completed = lines
      .map((l) => JSON.parse(l) as { msg: string; req: { url: string } })
      .filter((l) => l.msg === "request completed");
    expect(completed.map((l) => l.req.url)).to.deep.equal([
      "/v1/downloads/…",
      "/V1/Downloads/…",
      "/v1/downloads/…?x=1",
      "/other?a=1&secret=…",
    ]);
    for (const part of token.split(".")) expect(lines.join("\n")).to.not.include(part);
  });

  it("cuts the connection when the body fails after its headers, instead of answering a short file as whole", async () => {
    const { path } = files();
    const { app } = appWith(echo, { path });
    const server = app.listen(0);
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/files/broken`);
      expect(res.status).to.equal(200);
      let failed: unknown = null;
      try {
        await res.arrayBuffer();
      } catch (err) {
        failed = err;
      }
      expect(failed).to.be.instanceOf(Error);
    } finally {
      server.close();
    }
  });

  it("reads no further than about two batches ahead of a client that stops reading, and stops when it leaves", async () => {
    const { path, read } = files();
    const { app } = appWith(echo, { path });
    const server = app.listen(0);
    try {
      const { port } = server.address() as { port: number };
      const socket = connect(port, "127.0.0.1");
      socket.pause();
      socket.write("GET /files/slow HTTP/1.1\r\nHost: x\r\n\r\n");
      await new Promise((resolve) => setTimeout(resolve, 1000));
      // The sockets' kernel buffers take a few MiB of the 64 MiB; the server holds two batches at most.
      const pulled = read.pieces;
      expect(pulled * 65_536).to.be.below(8 * 1024 * 1024 + 2 * BATCH_BYTES);
      socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(read.finished).to.equal(true);
      expect(read.pieces - pulled).to.be.at.most(BATCH_BYTES / 65_536 + 1);
    } finally {
      server.close();
    }
  });

  /**
   * An app with a path reading bodies of at most 1 KiB ahead of Express, mounted as the webhooks
   * are: after the request log and helmet, before the per-client limit; the same handler serves
   * the Express route behind it (with its raw body parser), which is reached with `/hooks?via=express`.
   */
  function bodyApp(limit = 1000) {
    const app: Express = express();
    app.disable("x-powered-by");
    app.set("etag", false);
    const logger = pino({ level: "silent" });
    const duration = durationHistogram(new Registry());
    useRequestLog(app, { logger, duration, quiet: () => false });
    const securityHeaders = helmet();
    app.use(securityHeaders);
    const seen = { byExpress: 0, bodies: [] as string[] };
    const answer = async (body: Buffer, signature: string | undefined) => {
      if (signature !== "good") throw new AppError("INVALID_SIGNATURE", 400, "bad signature");
      seen.bodies.push(body.toString());
      return { received: true, bytes: body.length };
    };
    app.post("/hooks", express.raw({ type: () => true, limit: 1024 }), async (req, res) => {
      seen.byExpress += 1;
      res.json(await answer(req.body as Buffer, req.get("x-signature")));
    });
    const perClient = perClientLimit(limit);
    app.use(perClient.middleware());
    app.use(errorHandler(logger));
    const path: HotPath<true> = {
      route: "/hooks",
      logged: true,
      bodyLimit: 1024,
      rateLimited: false,
      take: (method, url) => (method === "POST" && url === "/hooks" ? true : undefined),
      async serve(_input, req, res, { body }) {
        const signature = req.headers["x-signature"];
        sendJson(res, 200, await answer(body, typeof signature === "string" ? signature : undefined));
      },
    };
    answerAheadOfExpress(app, { logger, duration, securityHeaders, limit: perClient }, path);
    return { app, seen };
  }

  /** Sends `head` and `body` on a raw connection; resolves with what the server wrote until it closed. */
  async function rawExchange(app: Express, head: string, body: Buffer, leave = false): Promise<string> {
    const server = app.listen(0);
    try {
      const { port } = server.address() as { port: number };
      const socket = connect(port, "127.0.0.1");
      const answer: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => answer.push(chunk));
      socket.write(head);
      socket.write(body);
      if (leave) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        socket.destroy();
        await new Promise((resolve) => setTimeout(resolve, 200));
      } else {
        await new Promise((resolve) => socket.once("end", resolve));
      }
      return Buffer.concat(answer).toString();
    } finally {
      server.close();
    }
  }

  it("reads a path's body ahead of Express and answers it as the Express route does, off the per-client limit", async () => {
    const { app, seen } = bodyApp(1);
    const event = JSON.stringify({ id: "evt_1", type: "checkout.session.completed" });
    const hot = await request(app)
      .post("/hooks")
      .set("Content-Type", "application/json")
      .set("X-Signature", "good")
      .send(event);
    const again = await request(app).post("/hooks").set("X-Signature", "good").send(event);
    expect(seen.byExpress).to.equal(0);
    const routed = await request(app)
      .post("/hooks?via=express")
      .set("Content-Type", "application/json")
      .set("X-Signature", "good")
      .send(event);
    expect(seen.byExpress).to.equal(1);
    expect([hot.status, again.status, routed.status]).to.deep.equal([200, 200, 200]);
    expect(hot.body).to.deep.equal({ received: true, bytes: Buffer.byteLength(event) });
    expect(hot.body).to.deep.equal(routed.body);
    expect(seen.bodies).to.deep.equal([event, event, event]);
    const comparable = (headers: Record<string, string>) => {
      const { date: _date, "x-request-id": _id, ...rest } = headers;
      return rest;
    };
    expect(comparable(hot.headers)).to.deep.equal(comparable(routed.headers));
    // A limit of one request per client, and neither path counted against it.
    expect(hot.headers["ratelimit-limit"]).to.equal(undefined);
    const refused = await request(app).post("/hooks").set("X-Signature", "bad").send(event);
    expect(refused.status).to.equal(400);
    expect(refused.body).to.deep.equal({
      error: { code: "INVALID_SIGNATURE", message: "bad signature", details: null },
    });
    const empty = await request(app).post("/hooks").set("X-Signature", "good");
    expect([empty.status, empty.body.bytes]).to.deep.equal([200, 0]);
    expect(seen.byExpress).to.equal(1);
  });

  it("leaves to Express the bodies it should not read itself: chunked, compressed, too large, with credentials", async () => {
    const { app, seen } = bodyApp();
    const event = '{"id":"evt_2"}';
    const chunked = await rawExchange(
      app,
      "POST /hooks HTTP/1.1\r\nHost: x\r\nX-Signature: good\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
      Buffer.from(`${event.length.toString(16)}\r\n${event}\r\n0\r\n\r\n`),
    );
    expect(chunked).to.match(/^HTTP\/1\.1 200/);
    expect(seen.byExpress).to.equal(1);
    const compressed = await request(app)
      .post("/hooks")
      .set("X-Signature", "good")
      .set("Content-Encoding", "gzip")
      .send(gzipSync(event));
    expect([compressed.status, compressed.body.bytes]).to.deep.equal([200, event.length]);
    expect(seen.byExpress).to.equal(2);
    const large = await request(app).post("/hooks").set("X-Signature", "good").send("x".repeat(1025));
    expect(large.status).to.equal(413);
    await request(app).post("/hooks").set("X-Signature", "good").set("Authorization", "Bearer t").send(event);
    expect(seen.byExpress).to.equal(3);
    expect(seen.bodies).to.deep.equal([event, event, event]);
  });

  it("drops a client that leaves before sending its whole body, without calling the path", async () => {
    const { app, seen } = bodyApp();
    const answer = await rawExchange(
      app,
      "POST /hooks HTTP/1.1\r\nHost: x\r\nX-Signature: good\r\nContent-Length: 500\r\n\r\n",
      Buffer.from('{"id":"evt_3", "half'),
      true,
    );
    expect(answer).to.equal("");
    expect(seen.bodies).to.deep.equal([]);
    expect(seen.byExpress).to.equal(0);
  });
});
