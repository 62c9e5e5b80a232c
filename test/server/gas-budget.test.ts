import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import request from "supertest";
import { GasBudget } from "../../server/services/gas-budget.ts";
import { offerTerms, registerWork, signedOfferBody, soleSplit } from "../helpers/commerce.ts";
import { sessionToken, startTestStack, type TestStack } from "../helpers/stack.ts";

/** Two uses per wallet and five a day, every use counted as 100,000 gas. */
const BUDGET = {
  RELAYER_GAS_PER_WALLET_PER_DAY: "250000",
  RELAYER_GAS_PER_DAY: "500000",
  GAS_PER_REGISTRATION: "100000",
  GAS_PER_OFFER: "100000",
  GAS_PER_CARD_MINT: "100000",
};

describe("the relayer's gas budget and card price floors", function () {
  this.timeout(120_000);
  let stack: TestStack;
  let creators: JsonRpcSigner[];
  let works: string[];
  let splits: string[];

  const publications = async () =>
    Number((await stack.db.pool.query("SELECT count(*) AS n FROM offer_publications")).rows[0].n);
  const offer = async (i: number, extra: Record<string, unknown> = {}) =>
    request(stack.app)
      .post(`/v1/works/${works[i]}/offers`)
      .send(
        await signedOfferBody(
          stack,
          creators[i]!,
          creators[i]!.address,
          works[i]!,
          offerTerms(splits[i]!),
          extra,
        ),
      );
  const metric = async (name: string) => {
    const text = (await request(stack.app).get("/metrics")).text;
    return text.split("\n").filter((line) => line.startsWith(name));
  };

  before(async function () {
    stack = await startTestStack("gas_budget", { workers: false, env: BUDGET });
    creators = await Promise.all([5, 6, 7, 8].map((i) => stack.signer(i)));
    works = [];
    splits = [];
    for (const creator of creators) {
      works.push(await registerWork(stack, creator));
      splits.push(await soleSplit(stack, creator));
    }
  });
  after(async () => stack?.stop());

  it("refuses a card price below the floor that covers the mint's gas, at publication and when set later", async function () {
    const before = await publications();
    const low = await offer(0, { fiatPrice: { amount: 99, currency: "usd" } });
    expect(low.status).to.equal(400);
    expect(low.body.error.code).to.equal("PRICE_BELOW_FLOOR");
    expect(low.body.error.details).to.include({ minAmount: 100, amount: 99 });
    expect(await publications()).to.equal(before);
    const put = await request(stack.app)
      .put("/v1/offers/1/fiat-price")
      .set("Authorization", `Bearer ${await sessionToken(creators[0]!.address)}`)
      .send({ amount: 1, currency: "usd" });
    expect(put.status).to.equal(400);
    expect(put.body.error.code).to.equal("PRICE_BELOW_FLOOR");
  });

  it("refuses a wallet's third paid use of the day with 429 GAS_BUDGET_EXCEEDED, recording nothing", async function () {
    expect((await offer(0)).status).to.equal(202);
    const first = await offer(0);
    expect(first.status).to.equal(202);
    const before = await publications();
    const third = await offer(0);
    expect(third.status).to.equal(429);
    expect(third.body.error.code).to.equal("GAS_BUDGET_EXCEEDED");
    expect(third.body.error.details).to.include({ scope: "wallet", use: "offer", limitGas: 250_000 });
    expect(third.body.error.details.retryAfterSeconds).to.be.within(1, 86_400);
    expect(await publications()).to.equal(before);
    expect(await metric('rl_relayer_gas_budget_exhausted_total{scope="wallet"}')).to.deep.equal([
      'rl_relayer_gas_budget_exhausted_total{scope="wallet"} 1',
    ]);
  });

  it("spends nothing on a repeated submission of an accepted offer", async function () {
    const body = await signedOfferBody(
      stack,
      creators[1]!,
      creators[1]!.address,
      works[1]!,
      offerTerms(splits[1]!),
    );
    const sent = () => request(stack.app).post(`/v1/works/${works[1]}/offers`).send(body);
    const first = await sent();
    expect(first.status).to.equal(202);
    expect((await sent()).body.id).to.equal(first.body.id);
    expect((await offer(1)).status, "the wallet's second use").to.equal(202);
  });

  it("refuses everyone once the day's budget is spent, registrations included, and reports it as an alarm metric", async function () {
    // Spent so far: 2 offers of creator 0 and 2 of creator 1; one use is left for the day.
    expect(await metric("rl_relayer_gas_budget_remaining")).to.include(
      "rl_relayer_gas_budget_remaining 100000",
    );
    expect((await offer(2)).status).to.equal(202);
    const refused = await offer(3);
    expect(refused.status).to.equal(429);
    expect(refused.body.error.details).to.include({ scope: "daily", limitGas: 500_000 });

    // A registration through the API is refused the same way, before anything is recorded.
    const creator = creators[3]!;
    const upload = await request(stack.app)
      .post("/v1/works")
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
      .field("creator", creator.address)
      .attach("file", randomBytes(64), "work.bin");
    expect(upload.status).to.equal(201);
    const typed = upload.body.typedData;
    const signature = await creator.signTypedData(
      typed.domain,
      { Register: typed.types.Register },
      typed.message,
    );
    const register = await request(stack.app)
      .post(`/v1/works/${upload.body.sha256}/register`)
      .send({ ...typed.message, signature });
    expect(register.status).to.equal(429);
    expect(register.body.error.details).to.include({ scope: "daily", use: "registration" });
    const { rows } = await stack.db.pool.query("SELECT count(*)::int AS n FROM registration_requests");
    expect(rows[0].n).to.equal(0);
    expect(await metric("rl_relayer_gas_budget_remaining")).to.include("rl_relayer_gas_budget_remaining 0");
    expect(await metric('rl_relayer_gas_budget_exhausted_total{scope="daily"}')).to.deep.equal([
      'rl_relayer_gas_budget_exhausted_total{scope="daily"} 2',
    ]);
  });

  it("counts card mints per buyer wallet and starts a new budget each UTC day", async function () {
    const budget = new GasBudget(stack.cache.redis, `${stack.cache.prefix}:unit`, {
      perWalletPerDay: 250_000,
      perDay: 10_000_000,
      gasPerUse: { registration: 1, offer: 1, cardMint: 100_000, referrer: 1, split: 1 },
    });
    const day = new Date("2030-01-01T12:00:00Z");
    const buyer = "0x00000000000000000000000000000000000000b1";
    await budget.reserve("cardMint", buyer, { now: day });
    const refund = await budget.reserve("cardMint", buyer, { now: day });
    await budget.reserve("cardMint", buyer, { now: day }).then(
      () => expect.fail("a third card mint was counted"),
      (err: { status: number; details: { scope: string; resetsAt: string } }) => {
        expect(err.status).to.equal(429);
        expect(err.details.scope).to.equal("wallet");
        expect(err.details.resetsAt).to.equal("2030-01-02T00:00:00.000Z");
      },
    );
    await refund();
    await budget.reserve("cardMint", buyer, { now: day });
    await budget.reserve("cardMint", buyer, { now: new Date("2030-01-02T00:00:01Z") });
  });
});
