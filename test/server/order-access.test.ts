import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import request from "supertest";
import { mine, offerTerms, publishOffer, registerWork, soleSplit } from "../helpers/commerce.ts";
import { type FakeStripe, payOrder, startFakeStripe } from "../helpers/fake-stripe.ts";
import { signIn } from "../helpers/sign-in.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

describe("orders are read by their buyer only", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let buyer: JsonRpcSigner;
  let stranger: JsonRpcSigner;
  let order: { orderId: string; orderSecret: string };
  let offerId: string;

  before(async () => {
    stripe = await startFakeStripe();
    stack = await startTestStack("order_access", {
      env: { ...stripe.env, SSE_MAX_PER_ORDER: "3", SSE_MAX_PER_IP: "4" },
    });
    const creator = await stack.signer(5);
    buyer = await stack.signer(7);
    stranger = await stack.signer(8);
    const workId = await registerWork(stack, creator);
    await stack.waitFor(async () => (await request(stack.app).get(`/v1/works/${workId}`)).status === 200);
    offerId = await publishOffer(stack, creator, workId, offerTerms(await soleSplit(stack, creator)));
    const res = await request(stack.app).post("/v1/checkout").send({ offerId, wallet: buyer.address });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    order = res.body;
  });
  after(async () => {
    await stack.stop();
    await stripe.close();
  });

  const get = (path: string) => request(stack.app).get(path);

  it("gives the buyer an unguessable order secret, also carried in the checkout's return URL", () => {
    expect(order.orderSecret).to.match(/^[A-Za-z0-9_-]{43}$/);
    const session = [...stripe.sessions.values()].find(
      (s) => s.params["metadata[orderId]"] === order.orderId,
    )!;
    const back = new URL(session.params["success_url"]!.replace("{CHECKOUT_SESSION_ID}", "cs"));
    expect(back.searchParams.get("orderId")).to.equal(order.orderId);
    expect(back.searchParams.get("secret")).to.equal(order.orderSecret);
  });

  it("answers 404 to anyone without the secret or the buyer's session, on the order and its events", async () => {
    const token = await signIn(stack, stranger);
    for (const path of [`/v1/orders/${order.orderId}`, `/v1/orders/${order.orderId}/events`]) {
      for (const res of [
        await get(path),
        await get(`${path}?secret=${"A".repeat(43)}`),
        await get(path).set(
          "X-Order-Secret",
          order.orderSecret.slice(0, 42) + (order.orderSecret.endsWith("A") ? "B" : "A"),
        ),
        await get(path).set("Authorization", `Bearer ${token}`),
      ]) {
        expect(res.status, `${path} ${res.text}`).to.equal(404);
        expect(res.body.error.code).to.equal("NOT_FOUND");
        expect(res.text).to.not.include("pi_");
      }
    }
  });

  it("lets the buyer read it with the secret (query or header) or a session of the buyer's wallet", async () => {
    const path = `/v1/orders/${order.orderId}`;
    expect((await get(`${path}?secret=${order.orderSecret}`)).status).to.equal(200);
    expect((await get(path).set("X-Order-Secret", order.orderSecret)).status).to.equal(200);
    const token = await signIn(stack, buyer);
    const own = await get(path).set("Authorization", `Bearer ${token}`);
    expect(own.status).to.equal(200);
    expect(own.body.orderId).to.equal(order.orderId);
  });

  it("streams the order's events to the holder of its secret", async () => {
    const server = stack.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as { port: number };
    const controller = new AbortController();
    try {
      const res = await fetch(
        `http://127.0.0.1:${port}/v1/orders/${order.orderId}/events?secret=${order.orderSecret}`,
        { signal: controller.signal },
      );
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.match(/^text\/event-stream/);
    } finally {
      controller.abort();
      server.close();
    }
  });

  describe("event streams", () => {
    let server: import("node:http").Server;
    let base: string;
    const open: AbortController[] = [];

    before(async () => {
      server = stack.app.listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterEach(() => {
      for (const c of open.splice(0)) c.abort();
    });
    after(() => server.close());

    /** Opens a stream and resolves once its first status event arrived. */
    async function follow(o: { orderId: string; orderSecret: string }) {
      const controller = new AbortController();
      open.push(controller);
      const res = await fetch(`${base}/v1/orders/${o.orderId}/events?secret=${o.orderSecret}`, {
        signal: controller.signal,
      });
      if (res.status !== 200)
        return {
          status: res.status,
          body: (await res.json()) as { error: { code: string; details: { rule: string } } },
        };
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes("event: status")) text += new TextDecoder().decode((await reader.read()).value);
      void (async () => {
        for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return;
      })();
      return { status: 200, body: null };
    }

    it("caps streams per order and per client with 429 naming the rule", async () => {
      const second = (await request(stack.app).post("/v1/checkout").send({ offerId, wallet: buyer.address }))
        .body;
      for (let i = 0; i < 3; i++) expect((await follow(order)).status).to.equal(200);
      const perOrder = await follow(order);
      expect(perOrder.status).to.equal(429);
      expect(perOrder.body!.error.code).to.equal("TOO_MANY_STREAMS");
      expect(perOrder.body!.error.details.rule).to.equal("streams-per-order");
      expect((await follow(second)).status).to.equal(200);
      const perClient = await follow(second);
      expect(perClient.status).to.equal(429);
      expect(perClient.body!.error.details.rule).to.equal("streams-per-ip");
      for (const c of open.splice(0)) c.abort();
      await stack.waitFor(async () => (await follow(order)).status === 200, 5_000);
    });

    it("reads a minted order once per chain change, however many streams follow it", async () => {
      await payOrder(stack.app, stripe, order.orderId);
      await stack.waitFor(async () => {
        await mine(stack);
        const o = await get(`/v1/orders/${order.orderId}?secret=${order.orderSecret}`);
        return o.body.status === "fulfilled";
      }, 60_000);
      for (let i = 0; i < 3; i++) await follow(order);

      const pool = stack.db.pool;
      const query = pool.query.bind(pool);
      let reads = 0;
      pool.query = ((...args: Parameters<typeof query>) => {
        if (typeof args[0] === "string" && /FROM orders/.test(args[0])) reads += 1;
        return query(...args);
      }) as typeof pool.query;
      try {
        const changes = 5;
        for (let i = 0; i < changes; i++) {
          stack.feed.emit("change", {
            kind: "heads",
            chainId: stack.chainId,
            heads: { head: 1000 + i, safe: 999, finalized: 998 },
          });
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(reads).to.be.within(1, changes + 2);
      } finally {
        pool.query = query;
      }
    });
  });
});
