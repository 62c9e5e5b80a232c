import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import request from "supertest";
import { offerTerms, publishOffer, registerWork, soleSplit } from "../helpers/commerce.ts";
import { startFakeStripe, type FakeStripe } from "../helpers/fake-stripe.ts";
import { signIn } from "../helpers/sign-in.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

describe("orders are read by their buyer only", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let buyer: JsonRpcSigner;
  let stranger: JsonRpcSigner;
  let order: { orderId: string; orderSecret: string };

  before(async () => {
    stripe = await startFakeStripe();
    stack = await startTestStack("order_access", { env: { ...stripe.env } });
    const creator = await stack.signer(5);
    buyer = await stack.signer(7);
    stranger = await stack.signer(8);
    const workId = await registerWork(stack, creator);
    const offerId = await publishOffer(stack, creator, workId, offerTerms(await soleSplit(stack, creator)));
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
        await get(path).set("X-Order-Secret", order.orderSecret.slice(0, 42) + "A"),
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
});
