import { expect } from "chai";
import { ethers, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { GasBudget } from "../../server/services/gas-budget.ts";
import { LicenseToken__factory, type LicenseToken } from "../../types/typechain/index.ts";
import {
  offerTerms,
  publishOffer,
  registerWork,
  signedOfferBody,
  signedReferrerBody,
  soleSplit,
} from "../helpers/commerce.ts";
import { sessionToken, startTestStack, type TestStack } from "../helpers/stack.ts";

describe("referrer approvals API", function () {
  let stack: TestStack;
  let creator: JsonRpcSigner;
  let other: JsonRpcSigner;
  let referrer: JsonRpcSigner;
  let buyer: JsonRpcSigner;
  let licenses: LicenseToken;
  let offerId: string;
  let othersOfferId: string;
  let creatorSession: string;
  let otherSession: string;

  const requests = async () =>
    Number((await stack.db.pool.query(`SELECT count(*) AS n FROM referrer_requests`)).rows[0].n);
  const put = (offer: string, address: string, body: object, session: string | null = creatorSession) => {
    const req = request(stack.app).put(`/v1/offers/${offer}/referrers/${address}`);
    if (session) req.set("Authorization", `Bearer ${session}`);
    return req.send(body);
  };
  const list = (offer: string, session: string | null = creatorSession) => {
    const req = request(stack.app).get(`/v1/offers/${offer}/referrers`);
    if (session) req.set("Authorization", `Bearer ${session}`);
    return req;
  };
  /** The request once the relayer is done with it. */
  const settled = (offer: string, requestId: string) =>
    stack.waitFor(async () => {
      const res = await list(offer);
      const open = (res.body.requests as { id: string; status: string; error: string | null }[]).find(
        (r) => r.id === requestId,
      );
      if (open && open.status === "failed") return open;
      const row = await stack.db.pool.query(`SELECT status FROM referrer_requests WHERE id = $1`, [
        requestId,
      ]);
      return row.rows[0]?.status === "confirmed" ? { id: requestId, status: "confirmed", error: null } : null;
    });
  /** The offer's approvals once the indexer shows `address` as `approved`. */
  const indexed = (offer: string, address: string, approved: boolean) =>
    stack.waitFor(async () => {
      const res = await list(offer);
      const found = (res.body.referrers as { referrer: string; approved: boolean }[]).find(
        (r) => r.referrer === address && r.approved === approved,
      );
      return found ? res.body : null;
    });

  before(async () => {
    stack = await startTestStack("referrers");
    creator = await stack.signer(5);
    other = await stack.signer(6);
    referrer = await stack.signer(7);
    buyer = await stack.signer(8);
    licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, stack.provider);
    const work = await registerWork(stack, creator);
    offerId = await publishOffer(stack, creator, work, offerTerms(await soleSplit(stack, creator)));
    const othersWork = await registerWork(stack, other);
    othersOfferId = await publishOffer(stack, other, othersWork, offerTerms(await soleSplit(stack, other)));
    creatorSession = await sessionToken(creator.address);
    otherSession = await sessionToken(other.address);
  });
  after(async () => stack.stop());

  it("approves a referrer the creator signed for, the relayer paying gas, and lists it once indexed", async () => {
    const balance = await stack.provider.getBalance(creator.address);
    const body = await signedReferrerBody(stack, creator, offerId, referrer.address);
    const res = await put(offerId, referrer.address, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body).to.deep.include({
      offerId,
      referrer: referrer.address,
      approved: true,
      nonce: body.nonce,
      status: "pending",
    });
    expect((await settled(offerId, res.body.id)).status).to.equal("confirmed");
    expect(await licenses.isReferrer(offerId, referrer.address)).to.equal(true);
    const listed = await indexed(offerId, referrer.address, true);
    expect(listed).to.deep.include({ offerId, referrerBps: 500, requests: [] });
    expect(listed.referrers[0]).to.include({ referrer: referrer.address, approved: true });
    expect(await licenses.nonceUsed(creator.address, body.nonce)).to.equal(true);
    expect(await stack.provider.getBalance(creator.address)).to.equal(balance);
  });

  it("withdraws an approval: the referrer then earns nothing on chain", async () => {
    const res = await put(
      offerId,
      referrer.address,
      await signedReferrerBody(stack, creator, offerId, referrer.address, false),
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect((await settled(offerId, res.body.id)).status).to.equal("confirmed");
    await indexed(offerId, referrer.address, false);
    expect(await licenses.isReferrer(offerId, referrer.address)).to.equal(false);
    const price = (await licenses.getOffer(offerId)).price;
    const asBuyer = LicenseToken__factory.connect(await licenses.getAddress(), buyer);
    await (await asBuyer.purchase(offerId, buyer.address, referrer.address, { value: price })).wait();
    expect(await licenses.owed(referrer.address, ethers.ZeroAddress)).to.equal(0n);
  });

  it("answers 401 without a session and records nothing", async () => {
    const before = await requests();
    const body = await signedReferrerBody(stack, creator, offerId, referrer.address);
    const res = await put(offerId, referrer.address, body, null);
    expect(res.status).to.equal(401);
    expect(res.body.error.code).to.equal("AUTH_REQUIRED");
    expect((await list(offerId, null)).status).to.equal(401);
    expect(await requests()).to.equal(before);
  });

  it("refuses another creator's offer with 403 and an unknown offer with 404, to write and to read", async () => {
    const before = await requests();
    // The other creator signs for the offer they do not own, in their own session.
    const theirs = await signedReferrerBody(stack, other, offerId, other.address);
    const forged = await put(offerId, other.address, theirs, otherSession);
    expect(forged.status).to.equal(403);
    expect(forged.body.error.code).to.equal("NOT_OFFER_CREATOR");
    const read = await list(offerId, otherSession);
    expect(read.status).to.equal(403);
    expect(JSON.stringify(read.body)).to.not.include(referrer.address);
    expect((await list(othersOfferId)).status).to.equal(403);
    const unknown = await put(
      "999999",
      referrer.address,
      await signedReferrerBody(stack, creator, "999999", referrer.address),
    );
    expect(unknown.status).to.equal(404);
    expect((await list("999999")).status).to.equal(404);
    expect(await requests()).to.equal(before);
  });

  it("refuses a signature by anyone but the creator with 403 SIGNATURE_MISMATCH, even in the creator's session", async () => {
    const before = await requests();
    for (const signer of [other, referrer]) {
      const res = await put(
        offerId,
        referrer.address,
        await signedReferrerBody(stack, signer, offerId, referrer.address),
      );
      expect(res.status).to.equal(403);
      expect(res.body.error.code).to.equal("SIGNATURE_MISMATCH");
    }
    // A valid signature of the creator for another referrer or offer does not transfer to this one.
    const elsewhere = await signedReferrerBody(stack, creator, othersOfferId, referrer.address);
    expect((await put(offerId, referrer.address, elsewhere)).status).to.equal(403);
    const forOther = await signedReferrerBody(stack, creator, offerId, other.address);
    expect((await put(offerId, referrer.address, forOther)).status).to.equal(403);
    expect(await requests()).to.equal(before);
  });

  it("answers a replayed approval with its request, and a reused nonce with 409, sending one transaction", async () => {
    const body = await signedReferrerBody(stack, creator, offerId, other.address);
    const first = await put(offerId, other.address, body);
    const second = await put(offerId, other.address, body);
    expect(first.status).to.equal(202);
    expect(second.status).to.equal(202);
    expect(second.body.id).to.equal(first.body.id);
    const reused = await put(
      offerId,
      other.address,
      await signedReferrerBody(stack, creator, offerId, other.address, false, { nonce: body.nonce }),
    );
    expect(reused.status).to.equal(409);
    expect(reused.body.error.code).to.equal("NONCE_USED");
    expect((await settled(offerId, first.body.id)).status).to.equal("confirmed");
    const sent = await stack.db.pool.query(
      `SELECT count(*)::int AS n FROM relayer_transactions WHERE purpose = 'setReferrerFor' AND ref = $1`,
      [first.body.id],
    );
    expect(sent.rows[0].n).to.equal(1);
    // Replayed after it was mined, it is still the same request, and nothing more is sent.
    expect((await put(offerId, other.address, body)).body).to.include({
      id: first.body.id,
      status: "confirmed",
    });
  });

  it("refuses a nonce the creator spent on an offer publication with 409", async () => {
    const work = await registerWork(stack, creator);
    const offer = await signedOfferBody(
      stack,
      creator,
      creator.address,
      work,
      offerTerms(await soleSplit(stack, creator)),
    );
    expect((await request(stack.app).post(`/v1/works/${work}/offers`).send(offer)).status).to.equal(202);
    const res = await put(
      offerId,
      referrer.address,
      await signedReferrerBody(stack, creator, offerId, referrer.address, true, { nonce: offer.nonce }),
    );
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal("NONCE_USED");
  });

  it("refuses an expired signature, the zero address, the settlement accounts and malformed input with 400", async () => {
    const before = await requests();
    const past = String((await stack.provider.getBlock("latest"))!.timestamp - 1);
    const expired = await put(
      offerId,
      referrer.address,
      await signedReferrerBody(stack, creator, offerId, referrer.address, true, { deadline: past }),
    );
    expect(expired.status).to.equal(400);
    expect(expired.body.error.code).to.equal("SIGNATURE_EXPIRED");
    const zero = await put(
      offerId,
      ethers.ZeroAddress,
      await signedReferrerBody(stack, creator, offerId, ethers.ZeroAddress),
    );
    expect(zero.status).to.equal(400);
    expect(zero.body.error.code).to.equal("INVALID_REFERRER");
    // Commissions to these could never be settled, and would stall the settlements of everyone else.
    for (const unpayable of [
      stack.deployment.contracts.PayoutSettlement.address,
      stack.deployment.roles.settlementTreasury,
    ]) {
      const refused = await put(
        offerId,
        unpayable,
        await signedReferrerBody(stack, creator, offerId, unpayable),
      );
      expect(refused.status, unpayable).to.equal(400);
      expect(refused.body.error.code).to.equal("INVALID_REFERRER");
    }
    const body = await signedReferrerBody(stack, creator, offerId, referrer.address);
    const malformed: [string, string, object][] = [
      [offerId, "0x1234", body],
      [offerId, referrer.address.toLowerCase().replace("0x", "0X"), body],
      ["0", referrer.address, body],
      ["abc", referrer.address, body],
      [offerId, referrer.address, { ...body, approved: "yes" }],
      [offerId, referrer.address, { ...body, nonce: "-1" }],
      [offerId, referrer.address, { ...body, signature: "0x12" }],
      [offerId, referrer.address, { approved: true }],
    ];
    for (const [offer, address, payload] of malformed) {
      const res = await put(offer, address, payload);
      expect(res.status, `${offer} ${address} ${JSON.stringify(payload)}`).to.equal(400);
      expect(res.body.error.code).to.equal("VALIDATION_FAILED");
    }
    expect(await requests()).to.equal(before);
  });

  it("fails a request whose nonce the creator cancelled on chain, and confirms one someone else sent first", async () => {
    const own = LicenseToken__factory.connect(await licenses.getAddress(), creator);
    const cancelled = await signedReferrerBody(stack, creator, offerId, buyer.address);
    await (await own.cancelNonce(cancelled.nonce)).wait();
    const refused = await put(offerId, buyer.address, cancelled);
    expect(refused.status).to.equal(202);
    const failed = await settled(offerId, refused.body.id);
    expect(failed).to.deep.include({ status: "failed" });
    expect(failed.error).to.match(/nonce/);

    const front = await signedReferrerBody(stack, creator, offerId, buyer.address);
    const asStranger = LicenseToken__factory.connect(await licenses.getAddress(), other);
    await (
      await asStranger.setReferrerFor(
        offerId,
        buyer.address,
        true,
        front.nonce,
        front.deadline,
        front.signature,
      )
    ).wait();
    const res = await put(offerId, buyer.address, front);
    expect((await settled(offerId, res.body.id)).status).to.equal("confirmed");
    const sent = await stack.db.pool.query(
      `SELECT count(*)::int AS n FROM relayer_transactions WHERE purpose = 'setReferrerFor' AND ref = $1`,
      [res.body.id],
    );
    expect(sent.rows[0].n).to.equal(0);
  });

  it("refuses approvals past the creator's gas budget with 429, recording nothing", async () => {
    const budget = new GasBudget(stack.cache.redis, stack.cache.prefix, stack.config.gasBudget);
    for (;;) {
      try {
        await budget.reserve("referrer", other.address);
      } catch {
        break;
      }
    }
    const before = await requests();
    const res = await put(
      othersOfferId,
      referrer.address,
      await signedReferrerBody(stack, other, othersOfferId, referrer.address),
      otherSession,
    );
    expect(res.status).to.equal(429);
    expect(res.body.error.code).to.equal("GAS_BUDGET_EXCEEDED");
    expect(res.body.error.details).to.include({ scope: "wallet", use: "referrer" });
    expect(await requests()).to.equal(before);
  });

  it("records a card checkout's referrer and refuses a buyer naming themselves", async () => {
    const self = await request(stack.app)
      .post("/v1/checkout")
      .send({ offerId, wallet: buyer.address, referrer: buyer.address });
    expect(self.status).to.equal(400);
    expect(self.body.error.code).to.equal("SELF_REFERRAL");
    const referred = await request(stack.app)
      .post("/v1/checkout")
      .send({ offerId, wallet: buyer.address, referrer: referrer.address });
    expect(referred.status, JSON.stringify(referred.body)).to.equal(201);
    const { rows } = await stack.db.pool.query(`SELECT referrer FROM orders WHERE id = $1`, [
      referred.body.orderId,
    ]);
    expect(rows[0].referrer).to.equal(referrer.address.toLowerCase());
  });
});
