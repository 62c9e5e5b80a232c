import { expect } from "chai";
import { ethers, type JsonRpcSigner } from "ethers";
import { SiweMessage } from "siwe";
import request from "supertest";
import {
  LicenseToken__factory,
  SplitFactory__factory,
  type LicenseToken,
  type SplitFactory,
} from "../../types/typechain/index.ts";
import { offerTerms, publishOffer, registerWork, signedOfferBody, soleSplit } from "../helpers/commerce.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

describe("offers and splits API", function () {
  let stack: TestStack;
  let creator: JsonRpcSigner;
  let other: JsonRpcSigner;
  let licenses: LicenseToken;
  let factory: SplitFactory;
  let workId: string;
  let split: string;

  const publications = async () =>
    Number((await stack.db.pool.query(`SELECT count(*) AS n FROM offer_publications`)).rows[0].n);

  async function sessionOf(signer: JsonRpcSigner): Promise<string> {
    const { body } = await request(stack.app).post("/v1/auth/nonce").expect(201);
    const message = new SiweMessage({
      domain: "rights-ledger.test",
      address: signer.address,
      uri: "https://rights-ledger.test",
      version: "1",
      chainId: stack.chainId,
      nonce: body.nonce,
      issuedAt: new Date().toISOString(),
    }).prepareMessage();
    const signature = await signer.signMessage(message);
    const res = await request(stack.app).post("/v1/auth/verify").send({ message, signature }).expect(200);
    return res.body.token as string;
  }

  before(async () => {
    stack = await startTestStack("offers");
    creator = await stack.signer(5);
    other = await stack.signer(6);
    licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, stack.provider);
    factory = SplitFactory__factory.connect(stack.deployment.contracts.SplitFactory.address, stack.provider);
    workId = await registerWork(stack, creator);
    split = await soleSplit(stack, creator);
  });
  after(async () => stack.stop());

  it("publishes a creator-signed offer through the relayer and lists it with supply and card price", async () => {
    const balance = await stack.provider.getBalance(creator.address);
    const offerId = await publishOffer(stack, creator, workId, offerTerms(split, { maxSupply: 5 }), {
      amount: 4900,
      currency: "usd",
    });
    expect(await stack.provider.getBalance(creator.address)).to.equal(balance);
    const onChain = await licenses.getOffer(offerId);
    expect(onChain.creator).to.equal(creator.address);
    expect(onChain.maxSupply).to.equal(5n);
    const list = await request(stack.app).get(`/v1/offers?workId=${workId}`);
    expect(list.status).to.equal(200);
    const listed = list.body.items.find((o: { offerId: string }) => o.offerId === offerId);
    expect(listed).to.deep.include({
      workId,
      creator: creator.address,
      maxSupply: 5,
      sold: 0,
      reserved: 0,
      remaining: 5,
      active: true,
      split,
      fiatPrice: { amount: 4900, currency: "usd" },
    });
  });

  it("answers 202 with the same publication when the same signed offer is sent twice, and 409 for a reused nonce", async () => {
    const body = await signedOfferBody(stack, creator, creator.address, workId, offerTerms(split));
    const first = await request(stack.app).post(`/v1/works/${workId}/offers`).send(body);
    const second = await request(stack.app).post(`/v1/works/${workId}/offers`).send(body);
    expect(first.status).to.equal(202);
    expect(second.status).to.equal(202);
    expect(second.body.id).to.equal(first.body.id);
    const changed = await signedOfferBody(
      stack,
      creator,
      creator.address,
      workId,
      offerTerms(split, { price: "1" }),
      {},
      body.nonce,
    );
    const reused = await request(stack.app).post(`/v1/works/${workId}/offers`).send(changed);
    expect(reused.status).to.equal(409);
    expect(reused.body.error.code).to.equal("NONCE_USED");
  });

  it("refuses an offer signed by another wallet with 403 and records nothing", async () => {
    const before = await publications();
    const body = await signedOfferBody(stack, other, creator.address, workId, offerTerms(split));
    const res = await request(stack.app).post(`/v1/works/${workId}/offers`).send(body);
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal("SIGNATURE_MISMATCH");
    expect(await publications()).to.equal(before);
  });

  it("refuses an offer on a work registered by someone else with 403", async () => {
    const body = await signedOfferBody(stack, other, other.address, workId, offerTerms(split));
    const res = await request(stack.app).post(`/v1/works/${workId}/offers`).send(body);
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal("NOT_WORK_CREATOR");
  });

  it("links a publication the creator sent on chain themselves to its offer", async () => {
    const terms = offerTerms(split, { territory: "FR BE", price: "777" });
    const body = await signedOfferBody(stack, creator, creator.address, workId, terms, {
      fiatPrice: { amount: 500, currency: "eur" },
    });
    const own = LicenseToken__factory.connect(await licenses.getAddress(), creator);
    await (
      await own.createOfferFor(
        { ...terms, workId },
        creator.address,
        body.nonce,
        body.deadline,
        body.signature,
      )
    ).wait();
    const res = await request(stack.app)
      .post(`/v1/works/${workId}/offers`)
      .set("Authorization", `Bearer ${await sessionOf(creator)}`)
      .send(body);
    expect(res.status).to.equal(202);
    const published = await stack.waitFor(async () => {
      const p = await request(stack.app).get(`/v1/offers/publications/${res.body.id}`);
      return p.body.status === "published" ? p.body : null;
    });
    const offer = await request(stack.app).get(`/v1/offers/${published.offerId}`);
    expect(offer.body).to.deep.include({
      territory: "FR BE",
      price: "777",
      fiatPrice: { amount: 500, currency: "eur" },
    });
    const sent = await stack.db.pool.query(
      `SELECT 1 FROM relayer_transactions WHERE purpose = 'createOfferFor' AND ref = $1`,
      [res.body.id],
    );
    expect(sent.rowCount).to.equal(0);
  });

  it("lets the offer's creator, signed in, set its card price, and nobody else", async () => {
    const offerId = await publishOffer(stack, creator, workId, offerTerms(split), null);
    const anonymous = await request(stack.app)
      .put(`/v1/offers/${offerId}/fiat-price`)
      .send({ amount: 300, currency: "gbp" });
    expect(anonymous.status).to.equal(401);
    const stranger = await request(stack.app)
      .put(`/v1/offers/${offerId}/fiat-price`)
      .set("Authorization", `Bearer ${await sessionOf(other)}`)
      .send({ amount: 300, currency: "gbp" });
    expect(stranger.status).to.equal(403);
    const res = await request(stack.app)
      .put(`/v1/offers/${offerId}/fiat-price`)
      .set("Authorization", `Bearer ${await sessionOf(creator)}`)
      .send({ amount: 300, currency: "GBP" });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.fiatPrice).to.deep.equal({ amount: 300, currency: "gbp" });
  });

  describe("the card price is the creator's", () => {
    const publishedOffer = async (publicationId: string) =>
      (
        await stack.waitFor(async () => {
          const p = await request(stack.app).get(`/v1/offers/publications/${publicationId}`);
          return p.body.status === "published" ? (p.body as { offerId: string }) : null;
        })
      ).offerId;

    it("refuses a card price in a publication without the creator's session: 401 anonymous, 403 from another wallet; nothing recorded", async () => {
      const before = await publications();
      const body = await signedOfferBody(stack, creator, creator.address, workId, offerTerms(split), {
        fiatPrice: { amount: 100, currency: "usd" },
      });
      const anonymous = await request(stack.app).post(`/v1/works/${workId}/offers`).send(body);
      expect(anonymous.status).to.equal(401);
      expect(anonymous.body.error.code).to.equal("AUTH_REQUIRED");
      const stranger = await request(stack.app)
        .post(`/v1/works/${workId}/offers`)
        .set("Authorization", `Bearer ${await sessionOf(other)}`)
        .send(body);
      expect(stranger.status).to.equal(403);
      expect(stranger.body.error.code).to.equal("NOT_OFFER_CREATOR");
      expect(await publications()).to.equal(before);
    });

    it("a replayed offer signature never changes the price of the offer it created", async () => {
      // The creator sends the signed offer on chain and prices it in their session: the signature is public now.
      const terms = offerTerms(split, { territory: "replayed", price: "4242" });
      const signed = await signedOfferBody(stack, creator, creator.address, workId, terms);
      const own = LicenseToken__factory.connect(await licenses.getAddress(), creator);
      await (
        await own.createOfferFor(
          { ...terms, workId },
          creator.address,
          signed.nonce,
          signed.deadline,
          signed.signature,
        )
      ).wait();
      const offerId = await stack.waitFor(async () => {
        const list = await request(stack.app).get(`/v1/offers?workId=${workId}&limit=100`);
        return list.body.items.find((o: { territory: string }) => o.territory === "replayed")?.offerId as
          string | undefined;
      });
      const creatorSession = await sessionOf(creator);
      await request(stack.app)
        .put(`/v1/offers/${offerId}/fiat-price`)
        .set("Authorization", `Bearer ${creatorSession}`)
        .send({ amount: 2500, currency: "eur" })
        .expect(200);

      const cheap = { ...signed, fiatPrice: { amount: 100, currency: "usd" } };
      const strangers = await request(stack.app)
        .post(`/v1/works/${workId}/offers`)
        .set("Authorization", `Bearer ${await sessionOf(other)}`)
        .send(cheap);
      expect(strangers.status).to.equal(403);
      const replayed = await request(stack.app).post(`/v1/works/${workId}/offers`).send(signed);
      expect(replayed.status, JSON.stringify(replayed.body)).to.equal(202);
      expect(await publishedOffer(replayed.body.id as string)).to.equal(offerId);
      const withPrice = await request(stack.app)
        .post(`/v1/works/${workId}/offers`)
        .set("Authorization", `Bearer ${creatorSession}`)
        .send(cheap);
      expect(withPrice.status).to.equal(409);
      expect(withPrice.body.error.code).to.equal("PUBLICATION_EXISTS");

      const offer = await request(stack.app).get(`/v1/offers/${offerId}`);
      expect(offer.body.fiatPrice).to.deep.equal({ amount: 2500, currency: "eur" });
    });

    it("a publication linked to an offer priced meanwhile keeps the offer's price, even from the creator's session", async () => {
      const terms = offerTerms(split, { territory: "priced-meanwhile", price: "4343" });
      const body = await signedOfferBody(stack, creator, creator.address, workId, terms, {
        fiatPrice: { amount: 9900, currency: "usd" },
      });
      const own = LicenseToken__factory.connect(await licenses.getAddress(), creator);
      await (
        await own.createOfferFor(
          { ...terms, workId },
          creator.address,
          body.nonce,
          body.deadline,
          body.signature,
        )
      ).wait();
      const offerId = await stack.waitFor(async () => {
        const list = await request(stack.app).get(`/v1/offers?workId=${workId}&limit=100`);
        return list.body.items.find((o: { territory: string }) => o.territory === "priced-meanwhile")
          ?.offerId as string | undefined;
      });
      const creatorSession = await sessionOf(creator);
      await request(stack.app)
        .put(`/v1/offers/${offerId}/fiat-price`)
        .set("Authorization", `Bearer ${creatorSession}`)
        .send({ amount: 700, currency: "gbp" })
        .expect(200);
      const res = await request(stack.app)
        .post(`/v1/works/${workId}/offers`)
        .set("Authorization", `Bearer ${creatorSession}`)
        .send(body);
      expect(res.status).to.equal(202);
      expect(await publishedOffer(res.body.id as string)).to.equal(offerId);
      const offer = await request(stack.app).get(`/v1/offers/${offerId}`);
      expect(offer.body.fiatPrice).to.deep.equal({ amount: 700, currency: "gbp" });
    });
  });

  it("rejects malformed offers and unknown works with clear 4xx", async () => {
    const body = await signedOfferBody(stack, creator, creator.address, workId, offerTerms(split));
    const cases: [Record<string, unknown>, string, number][] = [
      [{ ...body, referrerBps: 20_000 }, workId, 400],
      [{ ...body, fiatPrice: { amount: -1, currency: "usd" } }, workId, 400],
      [{ ...body, fiatPrice: { amount: 100, currency: "dollars" } }, workId, 400],
      [{ ...body, signature: "0x12" }, workId, 400],
      [body, "999999", 404],
    ];
    for (const [payload, work, status] of cases) {
      const res = await request(stack.app).post(`/v1/works/${work}/offers`).send(payload);
      expect(res.status, JSON.stringify(res.body)).to.equal(status);
    }
    expect((await request(stack.app).get("/v1/offers/999999")).status).to.equal(404);
    expect((await request(stack.app).get("/v1/offers?workId=abc")).status).to.equal(400);
  });

  it("predicts a split's address and returns the createSplit transaction until it exists", async () => {
    const recipients = [creator.address, other.address];
    const res = await request(stack.app)
      .post("/v1/splits")
      .send({ recipients, sharesBps: [6000, 4000] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.split).to.equal(await factory.predictSplit(recipients, [6000, 4000]));
    expect(res.body.exists).to.equal(false);
    expect(res.body.transaction).to.include({ from: creator.address, value: "0", chainId: stack.chainId });
    await (
      await creator.sendTransaction({ to: res.body.transaction.to, data: res.body.transaction.data })
    ).wait();
    expect(await factory.isSplit(res.body.split)).to.equal(true);
    const again = await request(stack.app)
      .post("/v1/splits")
      .send({ recipients, sharesBps: [6000, 4000] });
    expect(again.body).to.deep.include({ exists: true, transaction: null });
    const bad = await request(stack.app)
      .post("/v1/splits")
      .send({ recipients, sharesBps: [6000, 3000] });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal("INVALID_SPLIT");
    const duplicate = await request(stack.app)
      .post("/v1/splits")
      .send({ recipients: [creator.address, creator.address], sharesBps: [5000, 5000] });
    expect(duplicate.status).to.equal(400);
    expect(ethers.isAddress(res.body.split)).to.equal(true);
  });
});
