import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { ethers, type JsonRpcSigner } from "ethers";
import pino from "pino";
import request from "supertest";
import { ChainClock } from "../../server/chain/chain-clock.ts";
import { noCrashes } from "../../server/crash-points.ts";
import { csvCell, toCsv } from "../../server/http/csv.ts";
import { modelledCardFee } from "../../server/payments/card-fees.ts";
import { salePostings } from "../../server/payouts/postings.ts";
import { settlePayouts } from "../../server/payouts/settlement.ts";
import {
  LicenseToken__factory,
  RevenueSplit__factory,
  SplitFactory__factory,
} from "../../types/typechain/index.ts";
import { onCheckout, payByCard, waitBooked } from "../helpers/card-sales.ts";
import {
  offerTerms,
  publishOffer,
  registerWork,
  soleSplit,
  submitRegistration,
} from "../helpers/commerce.ts";
import { startServedStack, type ServedStack } from "../helpers/served-stack.ts";
import { sessionToken, UNLIMITED_RATES } from "../helpers/stack.ts";

const PRICE = 1000;
const PLATFORM_FEE_BPS = 250;
const REFERRER_BPS = 500;
/** A work title that a spreadsheet would run as a formula, with a comma, a quote and a line break besides. */
const HOSTILE_TITLE = '=HYPERLINK("http://evil.example/?q=1","click, me")\nnext';

describe("earnings API", function () {
  this.timeout(300_000);
  let served: ServedStack;
  let creator: JsonRpcSigner;
  let coAuthor: JsonRpcSigner;
  let other: JsonRpcSigner;
  let referrer: JsonRpcSigner;
  let buyer: JsonRpcSigner;
  let offerId: string;
  let othersOfferId: string;
  let workId: string;
  let split: string;
  let othersSplit: string;
  let sessions: Record<"creator" | "coAuthor" | "other", string>;

  const get = (path: string, session: string | null) => {
    const req = request(served.stack.app).get(path);
    return session ? req.set("Authorization", `Bearer ${session}`) : req;
  };
  const settle = () =>
    settlePayouts({
      db: served.stack.db.pool,
      relayer: served.stack.relayer,
      contract: served.stack.chain.payoutSettlement,
      token: { address: served.stack.deployment.settlementToken, decimals: 6, currency: "usd" },
      clock: new ChainClock(served.stack.provider),
      holdbackSeconds: 0,
      maxPayees: 100,
      maxPaymentRefs: 2000,
      logger: pino({ level: "silent" }),
      checkpoint: noCrashes,
    });

  before(async () => {
    served = await startServedStack("earnings", { env: UNLIMITED_RATES });
    const { stack } = served;
    creator = await stack.signer(5);
    other = await stack.signer(6);
    buyer = await stack.signer(7);
    referrer = await stack.signer(8);
    coAuthor = await stack.signer(9);
    sessions = {
      creator: await sessionToken(creator.address),
      coAuthor: await sessionToken(coAuthor.address),
      other: await sessionToken(other.address),
    };
    // The creator's work has a title a spreadsheet would run; its offer pays a 70/30 split with the co-author.
    const sha = await submitRegistration(stack, creator, randomBytes(256), { title: HOSTILE_TITLE });
    workId = await stack.waitFor(async () => {
      const found = await request(stack.app).get(`/v1/works/by-hash/${sha}`);
      return found.status === 200 ? (found.body.workId as string) : null;
    });
    const factory = SplitFactory__factory.connect(stack.deployment.contracts.SplitFactory.address, creator);
    await (await factory.createSplit([creator.address, coAuthor.address], [7000, 3000])).wait();
    split = await factory.predictSplit([creator.address, coAuthor.address], [7000, 3000]);
    offerId = await publishOffer(stack, creator, workId, offerTerms(split, { referrerBps: REFERRER_BPS }), {
      amount: PRICE,
      currency: "usd",
    });
    const asCreator = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, creator);
    await (await asCreator.setReferrer(offerId, referrer.address, true)).wait();
    const othersWork = await registerWork(stack, other);
    othersSplit = await soleSplit(stack, other);
    othersOfferId = await publishOffer(stack, other, othersWork, offerTerms(othersSplit), {
      amount: 2 * PRICE,
      currency: "usd",
    });

    // Two card sales (one referred) settled on chain, then the second refunded and a third charged back.
    const first = await payByCard(served, offerId, buyer.address, referrer.address);
    const second = await payByCard(served, offerId, buyer.address);
    await waitBooked(served, first, "sale");
    await waitBooked(served, second, "sale");
    const run = await settle();
    expect(run.paid).to.have.length(1);
    await onCheckout(second, "refund");
    await waitBooked(served, second, "refund");
    const third = await payByCard(served, offerId, buyer.address);
    await waitBooked(served, third, "sale");
    await onCheckout(third, "dispute");
    await onCheckout(third, "dispute/lost");
    await waitBooked(served, third, "chargeback");
    // On chain, a referred purchase of the creator's offer, and the other creator's sales.
    const asBuyer = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, buyer);
    const price = (await asBuyer.getOffer(offerId)).price;
    await (await asBuyer.purchase(offerId, buyer.address, referrer.address, { value: price })).wait();
    await (await asBuyer.purchase(othersOfferId, buyer.address, ethers.ZeroAddress, { value: price })).wait();
    await waitBooked(served, await payByCard(served, othersOfferId, buyer.address), "sale");
    await stack.waitFor(async () => {
      const { rows } = await stack.db.pool.query(`SELECT count(*)::int AS n FROM revenue_payments`);
      return rows[0].n === 2;
    });
  });
  after(async () => served?.stop());

  it("answers 401 without a session on every earnings route", async () => {
    for (const path of ["/v1/earnings", "/v1/earnings/daily", "/v1/earnings/ledger.csv"]) {
      const res = await get(path, null);
      expect(res.status, path).to.equal(401);
      expect(res.body.error.code).to.equal("AUTH_REQUIRED");
    }
  });

  it("gives the creator each offer's card sales from the ledger, to the minor unit, and where the split's money stands", async () => {
    const res = await get("/v1/earnings", sessions.creator);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.works).to.have.length(1);
    expect(res.body.works[0]).to.deep.include({ workId, title: HOSTILE_TITLE });
    const [offer] = res.body.works[0].offers;
    expect(offer).to.deep.include({ offerId, split });
    const fee = modelledCardFee(PRICE);
    const referred = salePostings({
      amount: PRICE,
      providerFee: fee,
      platformFeeBps: PLATFORM_FEE_BPS,
      referrerBps: REFERRER_BPS,
      split,
      referrer: referrer.address,
    });
    const plain = salePostings({
      amount: PRICE,
      providerFee: fee,
      platformFeeBps: PLATFORM_FEE_BPS,
      referrerBps: REFERRER_BPS,
      split,
      referrer: null,
    });
    const toSplit = (lines: { account: string; amount: number }[]) =>
      -lines.find((l) => l.account === `payee:${split.toLowerCase()}`)!.amount;
    const commission = (PRICE * REFERRER_BPS) / 10_000;
    const platformFee = (PRICE * PLATFORM_FEE_BPS) / 10_000;
    expect(offer.card).to.deep.equal([
      {
        currency: "usd",
        decimals: 2,
        sales: 3,
        gross: String(3 * PRICE),
        providerFees: String(3 * fee + 1500),
        platformFees: String(3 * platformFee),
        referrerCommissions: String(commission),
        netToSplit: String(toSplit(referred) + 2 * toSplit(plain)),
        refunded: String(PRICE),
        chargedBack: String(PRICE),
        // The two first sales were settled; the refund after it is carried forward against later sales.
        settled: String(toSplit(referred) + toSplit(plain)),
        inSettlement: "0",
        pending: String(-toSplit(plain)),
      },
    ]);
    const card = offer.card[0];
    expect(BigInt(card.gross)).to.equal(
      BigInt(3 * fee) +
        BigInt(card.platformFees) +
        BigInt(card.referrerCommissions) +
        BigInt(card.netToSplit),
    );
    const licenses = LicenseToken__factory.connect(
      served.stack.deployment.contracts.LicenseToken.address,
      served.stack.provider,
    );
    const { price } = await licenses.getOffer(offerId);
    expect(offer.crypto).to.deep.equal([
      {
        currency: ethers.ZeroAddress,
        decimals: 18,
        sales: 1,
        gross: price.toString(),
        platformFees: ((price * 250n) / 10_000n).toString(),
        referrerCommissions: ((price * 500n) / 10_000n).toString(),
        netToSplit: (price - (price * 250n) / 10_000n - (price * 500n) / 10_000n).toString(),
      },
    ]);
  });

  it("lists every recipient of the creator's split with what release() would pay now, per currency", async () => {
    const res = await get("/v1/earnings", sessions.creator);
    expect(res.body.splits).to.have.length(1);
    const [s] = res.body.splits;
    expect(s.split).to.equal(split);
    const contract = RevenueSplit__factory.connect(split, served.stack.provider);
    const token = served.stack.deployment.settlementToken;
    expect(res.body.settlementToken).to.deep.equal({ address: ethers.getAddress(token), decimals: 6 });
    expect(
      s.recipients.map((r: { account: string; shareBps: number }) => [r.account, r.shareBps]),
    ).to.deep.equal([
      [creator.address, 7000],
      [coAuthor.address, 3000],
    ]);
    for (const recipient of s.recipients) {
      const byCurrency = Object.fromEntries(
        recipient.withdrawable.map((b: { currency: string; amount: string }) => [b.currency, b.amount]),
      );
      expect(byCurrency[ethers.ZeroAddress]).to.equal(
        (await contract.releasable(ethers.ZeroAddress, recipient.account)).toString(),
      );
      expect(byCurrency[ethers.getAddress(token)]).to.equal(
        (await contract.releasable(token, recipient.account)).toString(),
      );
      expect(BigInt(byCurrency[ethers.getAddress(token)])).to.be.greaterThan(0n);
    }
    const received = Object.fromEntries(
      s.received.map((b: { currency: string; amount: string }) => [b.currency, b]),
    );
    expect(received[ethers.getAddress(token)]).to.deep.include({ decimals: 6 });
    expect(received[ethers.getAddress(token)].amount).to.equal(
      (await contract.totalReceived(token)).toString(),
    );
    expect(s.card).to.have.length(1);
    expect(s.card[0]).to.include({ currency: "usd", inSettlement: "0" });
  });

  it("never shows a creator another creator's offers, works, splits or sales", async () => {
    const mine = JSON.stringify((await get("/v1/earnings", sessions.creator)).body);
    expect(mine).to.not.include(othersSplit);
    expect(mine).to.not.include(`"offerId":"${othersOfferId}"`);
    const theirs = (await get("/v1/earnings", sessions.other)).body;
    expect(
      theirs.works.flatMap((w: { offers: { offerId: string }[] }) => w.offers.map((o) => o.offerId)),
    ).to.deep.equal([othersOfferId]);
    const text = JSON.stringify(theirs);
    for (const secret of [split, `"offerId":"${offerId}"`, "HYPERLINK", referrer.address]) {
      expect(text).to.not.include(secret);
    }
    expect(theirs.sharedSplits).to.deep.equal([]);
  });

  it("shows a co-author their share of the split, what it received and holds for them, and none of the offers", async () => {
    const res = await get("/v1/earnings", sessions.coAuthor);
    expect(res.status).to.equal(200);
    expect(res.body.works).to.deep.equal([]);
    expect(res.body.splits).to.deep.equal([]);
    expect(res.body.sharedSplits).to.have.length(1);
    const [shared] = res.body.sharedSplits;
    expect(shared).to.deep.include({ split, shareBps: 3000 });
    const contract = RevenueSplit__factory.connect(split, served.stack.provider);
    const token = served.stack.deployment.settlementToken;
    const mine = shared.withdrawable.find(
      (b: { currency: string }) => b.currency === ethers.getAddress(token),
    );
    expect(mine.amount).to.equal((await contract.releasable(token, coAuthor.address)).toString());
    const text = JSON.stringify(res.body);
    expect(text).to.not.include(creator.address);
    expect(text).to.not.include("HYPERLINK");
    expect(text).to.not.include(`"offerId"`);
  });

  it("counts sales per UTC day, card and on chain, every day of the range listed", async () => {
    const res = await get("/v1/earnings/daily", sessions.creator);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.days).to.have.length(30);
    const today = res.body.days.at(-1);
    expect(today.date).to.equal(res.body.to);
    expect(today.card).to.deep.equal([{ currency: "usd", decimals: 2, sales: 3, gross: String(3 * PRICE) }]);
    expect(today.crypto).to.have.length(1);
    expect(today.crypto[0]).to.include({ currency: ethers.ZeroAddress, decimals: 18, sales: 1 });
    const range = await get(`/v1/earnings/daily?from=2024-02-27&to=2024-03-01`, sessions.creator);
    expect(range.body.days.map((d: { date: string }) => d.date)).to.deep.equal([
      "2024-02-27",
      "2024-02-28",
      "2024-02-29",
      "2024-03-01",
    ]);
    expect(range.body.days.every((d: { card: unknown[] }) => d.card.length === 0)).to.equal(true);
    const others = await get("/v1/earnings/daily", sessions.other);
    expect(others.body.days.at(-1).card).to.deep.equal([
      { currency: "usd", decimals: 2, sales: 1, gross: String(2 * PRICE) },
    ]);
  });

  it("refuses malformed days and ranges with 400", async () => {
    for (const query of [
      "from=2024-13-01",
      "from=2024-02-30",
      "to=yesterday",
      "from=2024-03-02&to=2024-03-01",
      "from=2020-01-01&to=2024-01-01",
      "from=2024-01-01T00:00:00Z",
      "from='%3B--",
    ]) {
      const res = await get(`/v1/earnings/daily?${query}`, sessions.creator);
      expect(res.status, query).to.equal(400);
      expect(res.body.error.code).to.equal("VALIDATION_FAILED");
    }
  });

  it("exports the creator's ledger lines as RFC 4180 CSV, formulas defused, no one else's lines", async () => {
    const res = await get("/v1/earnings/ledger.csv", sessions.creator);
    expect(res.status).to.equal(200);
    expect(res.headers["content-type"]).to.match(/^text\/csv/);
    expect(res.headers["content-disposition"]).to.match(
      /^attachment; filename="ledger-0x[0-9a-f]{40}\.csv"$/,
    );
    const text = res.text;
    expect(text.endsWith("\r\n")).to.equal(true);
    const [header] = text.split("\r\n");
    expect(header).to.equal(
      "transaction_id,booked_at,kind,currency,offer_id,work_id,work_title,order_id,payment_ref,settlement_id,account,debit,credit",
    );
    // The title is quoted (it holds a comma, quotes and a line break) and starts with an apostrophe.
    expect(text).to.include(`"'=HYPERLINK(""http://evil.example/?q=1"",""click, me"")\nnext"`);
    expect(text).to.not.match(/(^|,)=HYPERLINK/m);
    expect(text).to.include(`payee:${referrer.address.toLowerCase()}`);
    expect(text).to.include(`payee:${split.toLowerCase()}`);
    expect(text).to.include(",settlement,");
    expect(text).to.not.include(othersSplit.toLowerCase());
    expect(text).to.not.include(`,${othersOfferId},`);
    // Every booking of the creator's offer: 3 sales, a refund, a chargeback, and the split's settlement line.
    const kinds = text
      .split("\r\n")
      .slice(1)
      .filter((l) => l.length > 0)
      .map((l) => l.split(",")[2]);
    expect(new Set(kinds)).to.deep.equal(new Set(["sale", "refund", "chargeback", "settlement"]));

    const theirs = await get("/v1/earnings/ledger.csv", sessions.other);
    expect(theirs.text).to.not.include("HYPERLINK");
    expect(theirs.text).to.not.include(split.toLowerCase());
  });

  it("quotes and defuses CSV cells as RFC 4180 and the OWASP rule say", () => {
    expect(["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"].map(csvCell)).to.deep.equal([
      "'=1+1",
      "'+1",
      "'-2+3",
      "'@SUM(A1)",
      "'\tx",
      '"\'\rx"',
    ]);
    expect(csvCell('say "hi", then')).to.equal('"say ""hi"", then"');
    expect(csvCell(null)).to.equal("");
    expect(csvCell(1200)).to.equal("1200");
    expect(toCsv(["a", "b"], [["1", null]])).to.equal("a,b\r\n1,\r\n");
  });
});
