import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { ethers, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { startMailCatcher, type MailCatcher } from "../../scripts/stack/mail-catcher.ts";
import { claimToken } from "../../server/orders/claim-tokens.ts";
import { LicenseToken__factory } from "../../types/typechain/index.ts";
import { mine, soleCreatorOffer } from "../helpers/commerce.ts";
import {
  type FakeStripe,
  payOrder,
  postStripeEvent,
  signedEvent,
  startFakeStripe,
} from "../helpers/fake-stripe.ts";
import { signIn } from "../helpers/sign-in.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

describe("card buyers without a wallet: held licenses, claims, order history and lookup", function () {
  let stack: TestStack;
  let stripe: FakeStripe;
  let catcher: MailCatcher;
  let creator: JsonRpcSigner;
  let buyer: JsonRpcSigner;
  let other: JsonRpcSigner;
  let offerId: string;
  let buyerToken: string;
  let otherToken: string;

  before(async () => {
    stripe = await startFakeStripe();
    catcher = await startMailCatcher();
    stack = await startTestStack("buyer_orders", {
      env: {
        ...stripe.env,
        SMTP_URL: catcher.url,
        ORDER_LOOKUP_PER_MINUTE: "60",
        CHECKOUT_VELOCITY_PER_MINUTE: "1000",
      },
    });
    creator = await stack.signer(5);
    buyer = await stack.signer(7);
    other = await stack.signer(8);
    offerId = await soleCreatorOffer(stack, creator);
    buyerToken = await signIn(stack, buyer);
    otherToken = await signIn(stack, other);
  });
  after(async () => {
    await stack?.stop();
    await stripe?.close();
    await catcher?.stop();
  });

  const api = () => request(stack.app);

  async function checkout(body: Record<string, unknown>) {
    const res = await api()
      .post("/v1/checkout")
      .send({ offerId, ...body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { orderId: string; orderSecret: string; wallet: string | null; email: string | null };
  }

  async function order(orderId: string, secret: string) {
    return (await api().get(`/v1/orders/${orderId}?secret=${secret}`)).body as {
      status: string;
      wallet: string | null;
      tokenId: string | null;
      payment: string;
    };
  }

  /** The token of the `nth` claim link mailed for `orderId`, as the SMTP server received it. */
  async function mailedToken(orderId: string, email: string, nth = 1): Promise<string> {
    const links = () =>
      catcher.all().filter((m) => m.subject.includes(`claim your license (order ${orderId})`));
    await stack.waitFor(async () => links().length >= nth, 30_000);
    const mail = links()[nth - 1]!;
    expect(mail.to).to.deep.equal([email]);
    return /\/claim#token=([A-Za-z0-9_-]{43})\b/.exec(mail.text)![1]!;
  }

  /** An email-only order, paid and held; answers it with its claim link's token from the mail sent. */
  async function heldOrder(email: string) {
    const created = await checkout({ email });
    await payOrder(stack.app, stripe, created.orderId);
    await stack.waitFor(
      async () => (await order(created.orderId, created.orderSecret)).status === "held",
      30_000,
    );
    return { ...created, token: await mailedToken(created.orderId, email) };
  }

  /** Rows of every table that hold `needle` in their text form. */
  async function rowsHolding(needle: string): Promise<string[]> {
    const { rows: tables } = await stack.db.pool.query<{ name: string }>(
      `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const found: string[] = [];
    for (const { name } of tables) {
      const { rows } = await stack.db.pool.query<{ row: string }>(
        `SELECT t::text AS row FROM ${name} t WHERE strpos(t::text, $1) > 0`,
        [needle],
      );
      found.push(...rows.map((r) => `${name}: ${r.row}`));
    }
    return found;
  }

  const claim = (token: string, session?: string) => {
    const req = api().post("/v1/claims").send({ token });
    return session ? req.set("Authorization", `Bearer ${session}`) : req;
  };

  describe("pasted addresses and emails", () => {
    const refused: [string, Record<string, unknown>][] = [
      ["no wallet and no email", {}],
      ["a short address", { wallet: "0x1234" }],
      ["words", { wallet: "my wallet please" }],
      ["an address with a space in it", { wallet: " 0x70997970C51812dc3A010C7d01b50e0d17dc79C8" }],
      ["a wrong EIP-55 checksum", { wallet: "0x70997970c51812dc3A010C7d01b50e0d17dc79C8" }],
      ["a 21-byte address", { wallet: `0x${"ab".repeat(21)}` }],
      ["the zero address", { wallet: ethers.ZeroAddress }],
      ["an email without a domain", { email: "buyer@" }],
      ["an email with a line break", { email: "buyer@example.com\r\nBcc: x@example.com" }],
      ["a number as the wallet", { wallet: 42 }],
    ];
    for (const [what, body] of refused) {
      it(`refuses ${what} with 400`, async () => {
        const res = await api()
          .post("/v1/checkout")
          .send({ offerId, ...body });
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect(res.body.error.code).to.equal("VALIDATION_FAILED");
      });
    }

    it("refuses the platform's own contracts as the license's recipient", async () => {
      for (const contract of [
        stack.deployment.contracts.LicenseToken.address,
        stack.deployment.settlementToken,
      ]) {
        const res = await api().post("/v1/checkout").send({ offerId, wallet: contract });
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect(res.body.error.code).to.equal("INVALID_RECIPIENT");
      }
    });

    it("takes a pasted address in any case, stored as one, and an email beside it", async () => {
      const created = await checkout({ wallet: buyer.address.toLowerCase(), email: "Paste@Example.com" });
      expect(created.wallet).to.equal(buyer.address);
      expect(created.email).to.equal("Paste@example.com");
    });
  });

  describe("a license held for an email address", () => {
    let held: Awaited<ReturnType<typeof heldOrder>>;

    before(async () => {
      held = await heldOrder("held@example.com");
    });

    it("captures the card, books the sale and holds the license without minting it", async () => {
      const o = await order(held.orderId, held.orderSecret);
      expect(o).to.include({ status: "held", wallet: null, tokenId: null, payment: "captured" });
      await stack.waitFor(async () => {
        const { rows } = await stack.db.pool.query(
          `SELECT 1 FROM ledger_transactions WHERE order_id = $1 AND kind = 'sale'`,
          [held.orderId],
        );
        return rows.length === 1;
      });
      const { rows } = await stack.db.pool.query(`SELECT token_hash FROM order_claims WHERE order_id = $1`, [
        held.orderId,
      ]);
      expect(Buffer.from(rows[0].token_hash).toString("base64url")).to.not.equal(held.token);
      expect(JSON.stringify(rows)).to.not.include(held.token);
    });

    it("refuses a claim without a session, with a malformed token, or with an unknown one", async () => {
      expect((await claim(held.token)).status).to.equal(401);
      const malformed = await claim("not-a-token", buyerToken);
      expect(malformed.status).to.equal(400);
      const unknown = await claim("A".repeat(43), buyerToken);
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error.code).to.equal("CLAIM_NOT_FOUND");
    });

    it("keeps the mailed token in no table, yet the mailed link claims once; a forged token is unknown", async () => {
      const atRest = await heldOrder("at-rest@example.com");
      const needles = [atRest.token, Buffer.from(atRest.token, "base64url").toString("hex")];
      for (const needle of needles) expect(await rowsHolding(needle), needle).to.deep.equal([]);
      const { rows } = await stack.db.pool.query<{ data: { claimId: string } }>(
        `SELECT data FROM mails WHERE key = $1`,
        [`claim:${atRest.orderId}`],
      );
      expect(rows[0]!.data).to.not.have.property("claimUrl");

      // What a reader of the database can make: the right shape, from the recorded claim id, without the key.
      const unknown = await claim("A".repeat(43), buyerToken);
      for (const forged of [
        claimToken(randomBytes(32), rows[0]!.data.claimId),
        claimToken(Buffer.alloc(32), rows[0]!.data.claimId),
      ]) {
        const res = await claim(forged, buyerToken);
        expect(res.status).to.equal(404);
        expect(res.body).to.deep.equal(unknown.body);
      }
      expect((await order(atRest.orderId, atRest.orderSecret)).status).to.equal("held");

      const first = await claim(atRest.token, otherToken);
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      expect(first.body.wallet).to.equal(other.address);
      const second = await claim(atRest.token, otherToken);
      expect(second.status).to.equal(410);
      expect(second.body.error.code).to.equal("CLAIM_USED");
      for (const needle of needles) expect(await rowsHolding(needle), needle).to.deep.equal([]);
    });

    it("mints once when the link is replayed 10 times at once, to the first claimer", async () => {
      const answers = await Promise.all(Array.from({ length: 10 }, () => claim(held.token, buyerToken)));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).to.deep.equal([200, ...Array<number>(9).fill(410)]);
      for (const a of answers.filter((x) => x.status === 410))
        expect(a.body.error.code).to.equal("CLAIM_USED");
      expect(answers.find((a) => a.status === 200)!.body.wallet).to.equal(buyer.address);

      const fulfilled = await stack.waitFor(async () => {
        await mine(stack);
        const o = await order(held.orderId, held.orderSecret);
        return o.status === "fulfilled" ? o : null;
      }, 60_000);
      const licenses = LicenseToken__factory.connect(
        stack.deployment.contracts.LicenseToken.address,
        stack.provider,
      );
      expect(await licenses.ownerOf(fulfilled.tokenId!)).to.equal(buyer.address);
      // Every license the indexer saw minted for the order's payment reference: exactly one.
      const minted = await stack.waitFor(async () => {
        await mine(stack);
        const { rows } = await stack.db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM licenses l JOIN orders o ON o.payment_ref = l.payment_ref WHERE o.id = $1`,
          [held.orderId],
        );
        return rows[0]!.n > 0 ? rows[0]!.n : null;
      });
      expect(minted).to.equal(1);
      const { rows } = await stack.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM relayer_transactions WHERE purpose = 'mintForFiat' AND ref = (SELECT payment_ref FROM orders WHERE id = $1)`,
        [held.orderId],
      );
      expect(rows[0]!.n, "mint transactions sent").to.equal(1);
    });

    it("refuses the used link to a second wallet and to the same one again, with 410 CLAIM_USED", async () => {
      const second = await claim(held.token, otherToken);
      expect(second.status).to.equal(410);
      expect(second.body.error).to.deep.include({ code: "CLAIM_USED" });
      expect(second.body.error.details).to.deep.equal({ claimedByYou: false });
      const again = await claim(held.token, buyerToken);
      expect(again.status).to.equal(410);
      expect(again.body.error.details).to.deep.equal({ claimedByYou: true });
      expect((await order(held.orderId, held.orderSecret)).wallet).to.equal(buyer.address);
    });

    it("answers 410 CLAIM_EXPIRED for a link past its expiry; the order secret has a new link mailed", async () => {
      const late = await heldOrder("late@example.com");
      await stack.db.pool.query(
        `UPDATE order_claims SET expires_at = now() - interval '1 second' WHERE order_id = $1`,
        [late.orderId],
      );
      const res = await claim(late.token, buyerToken);
      expect(res.status).to.equal(410);
      expect(res.body.error.code).to.equal("CLAIM_EXPIRED");
      expect((await order(late.orderId, late.orderSecret)).status).to.equal("held");

      const reissued = await api().post(`/v1/orders/${late.orderId}/claim-link?secret=${late.orderSecret}`);
      expect(reissued.status, JSON.stringify(reissued.body)).to.equal(202);
      const fresh = await mailedToken(late.orderId, "late@example.com", 2);
      expect(fresh).to.not.equal(late.token);
      expect((await claim(late.token, buyerToken)).status, "the old link stays dead").to.equal(404);
      const live = await api().post(`/v1/orders/${late.orderId}/claim-link?secret=${late.orderSecret}`);
      expect(live.status).to.equal(409);
      expect(live.body.error.code).to.equal("CLAIM_LINK_LIVE");
      expect((await api().post(`/v1/orders/${late.orderId}/claim-link`)).status).to.equal(404);
      const claimed = await claim(fresh, otherToken);
      expect(claimed.status, JSON.stringify(claimed.body)).to.equal(200);
      expect(claimed.body.wallet).to.equal(other.address);
    });

    it("refunds a held order without a revocation, and its link then claims nothing (409)", async () => {
      const refunded = await heldOrder("refund@example.com");
      const { rows } = await stack.db.pool.query<{ payment_intent: string }>(
        `SELECT payment_intent FROM orders WHERE id = $1`,
        [refunded.orderId],
      );
      const event = signedEvent(stripe.webhookSecret, "charge.refunded", {
        id: `ch_${refunded.orderId}`,
        object: "charge",
        amount: 1200,
        amount_refunded: 1200,
        currency: "usd",
        payment_intent: rows[0]!.payment_intent,
        refunded: true,
      });
      await postStripeEvent(stack.app, event).expect(200);
      const o = await order(refunded.orderId, refunded.orderSecret);
      expect(o.status).to.equal("refunded");
      const res = await claim(refunded.token, buyerToken);
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal("CLAIM_UNAVAILABLE");
      const revoke = await stack.db.pool.query(`SELECT revoke_reason FROM orders WHERE id = $1`, [
        refunded.orderId,
      ]);
      expect(revoke.rows[0].revoke_reason).to.equal(null);
    });
  });

  describe("lookup by email and order secret", () => {
    let found: { orderId: string; orderSecret: string };

    before(async () => {
      found = await checkout({ email: "lookup@example.com" });
    });

    const lookup = (email: string, secret: string) => api().post("/v1/orders/lookup").send({ email, secret });

    it("finds the order with its email (in any case) and secret", async () => {
      const res = await lookup("Lookup@Example.com", found.orderSecret);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.orderId).to.equal(found.orderId);
      expect(res.body.orderSecret).to.equal(found.orderSecret);
      expect(res.body.history.length).to.be.greaterThan(0);
    });

    it("answers a wrong secret and a wrong email with the same 404 body", async () => {
      const wrongSecret = await lookup("lookup@example.com", "B".repeat(43));
      const wrongEmail = await lookup("nobody@example.com", found.orderSecret);
      expect(wrongSecret.status).to.equal(404);
      expect(wrongEmail.status).to.equal(404);
      expect(wrongEmail.text).to.equal(wrongSecret.text);
      expect(wrongEmail.body.error.code).to.equal("NOT_FOUND");
    });

    it("takes about as long for a wrong email as for a wrong secret", async () => {
      // Interleaved, so the machine's load weighs on both alike.
      const times = { secret: [] as number[], email: [] as number[] };
      const time = async (kind: "secret" | "email", email: string, secret: string) => {
        const start = process.hrtime.bigint();
        expect((await lookup(email, secret)).status).to.equal(404);
        times[kind].push(Number(process.hrtime.bigint() - start) / 1e6);
      };
      for (let i = 0; i < 21; i++) {
        await time("secret", "lookup@example.com", `${i}`.padStart(43, "C"));
        await time("email", `other${i}@example.com`, found.orderSecret);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[10]!;
      const [wrongSecret, wrongEmail] = [median(times.secret), median(times.email)];
      expect(Math.abs(wrongSecret - wrongEmail), `${wrongSecret} ms against ${wrongEmail} ms`).to.be.below(
        Math.max(wrongSecret, wrongEmail) * 0.5 + 5,
      );
    });

    it("refuses a malformed lookup with 400", async () => {
      for (const body of [
        { email: "x", secret: "y" },
        { email: "a@example.com" },
        { secret: "z".repeat(65) },
      ]) {
        const res = await api().post("/v1/orders/lookup").send(body);
        expect(res.status).to.equal(400);
      }
    });

    it("rate limits lookups with 429 and Retry-After", async () => {
      const email = "flood@example.com";
      let refused: request.Response | null = null;
      for (let i = 0; i < 80 && !refused; i++) {
        const res = await lookup(email, `${i}`.padStart(43, "D"));
        if (res.status === 429) refused = res;
        else expect(res.status).to.equal(404);
      }
      expect(refused, "a 429").to.not.equal(null);
      expect(refused!.body.error.code).to.equal("RATE_LIMITED");
      expect(refused!.headers["retry-after"]).to.match(/^\d+$/);
    });
  });

  describe("a wallet's order history", () => {
    let cryptoTokenId: string;

    before(async () => {
      const licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, buyer);
      const receipt = await (
        await licenses.purchase(offerId, buyer.address, ethers.ZeroAddress, {
          value: ethers.parseEther("0.01"),
        })
      ).wait();
      const issued = receipt!.logs
        .map((l) => licenses.interface.parseLog(l))
        .find((e) => e?.name === "LicenseIssued");
      cryptoTokenId = String(issued!.args.tokenId);
      await mine(stack);
      await stack.waitFor(async () => {
        const { rows } = await stack.db.pool.query(`SELECT 1 FROM licenses WHERE token_id = $1`, [
          cryptoTokenId,
        ]);
        return rows.length === 1;
      });
    });

    const history = (session: string, query = "") =>
      api().get(`/v1/orders${query}`).set("Authorization", `Bearer ${session}`);

    it("lists card orders and on-chain purchases together, newest first, page by page", async () => {
      const all: { id: string; kind: string; at: string }[] = [];
      let cursor: string | null = null;
      do {
        const res: request.Response = await history(
          buyerToken,
          `?limit=1${cursor ? `&cursor=${cursor}` : ""}`,
        );
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body.items.length).to.be.at.most(1);
        all.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor);
      const ids = all.map((i) => i.id);
      expect(new Set(ids).size, "no purchase twice").to.equal(ids.length);
      expect(ids).to.include(`chain:${cryptoTokenId}`);
      const kinds = new Set(all.map((i) => i.kind));
      expect([...kinds].sort()).to.deep.equal(["card", "crypto"]);
      const times = all.map((i) => Date.parse(i.at));
      expect(times).to.deep.equal([...times].sort((a, b) => b - a));
      const whole = await history(buyerToken, "?limit=100");
      expect(whole.body.items.map((i: { id: string }) => i.id)).to.deep.equal(ids);
      const crypto = all.find((i) => i.kind === "crypto") as unknown as { amount: string; currency: string };
      expect(crypto.amount).to.equal(ethers.parseEther("0.01").toString());
      expect(crypto.currency).to.equal(ethers.ZeroAddress.toLowerCase());
    });

    it("shows another wallet none of them, and answers 404 to its session for their ids", async () => {
      const res = await history(otherToken, "?limit=100");
      expect(res.status).to.equal(200);
      const mine = await history(buyerToken, "?limit=100");
      const theirs = new Set(res.body.items.map((i: { id: string }) => i.id));
      expect(mine.body.items.filter((i: { id: string }) => theirs.has(i.id))).to.deep.equal([]);
      for (const item of mine.body.items.filter((i: { kind: string }) => i.kind === "card")) {
        const read = await api().get(`/v1/orders/${item.id}`).set("Authorization", `Bearer ${otherToken}`);
        expect(read.status).to.equal(404);
      }
    });

    it("refuses without a session and with a cursor it did not make", async () => {
      expect((await api().get("/v1/orders")).status).to.equal(401);
      const forged = Buffer.from(JSON.stringify(["2020-01-01", "'; DROP TABLE orders"])).toString(
        "base64url",
      );
      const res = await history(buyerToken, `?cursor=${forged}`);
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal("INVALID_CURSOR");
    });

    it("never reads an email-only order without its secret, even with no session", async () => {
      const created = await checkout({ email: "anon@example.com" });
      const res = await api().get(`/v1/orders/${created.orderId}`);
      expect(res.status).to.equal(404);
    });
  });
});
