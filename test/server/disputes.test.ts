import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import request from "supertest";
import { ApiKeys } from "../../server/auth/api-keys.ts";
import { ItemEscrow__factory, type ItemEscrow } from "../../types/typechain/index.ts";
import { defineItem, indexed, listOnChain } from "../helpers/market.ts";
import { sessionToken, startTestStack, type TestStack } from "../helpers/stack.ts";

const ITEM = 301n;
const PRICE = 10n ** 15n;
const sha256 = (bytes: Buffer | string) => `0x${createHash("sha256").update(bytes).digest("hex")}`;

describe("disputes API", function () {
  this.timeout(120_000);
  let stack: TestStack;
  let seller: JsonRpcSigner;
  let buyer: JsonRpcSigner;
  let escrow: ItemEscrow;
  let adminKey: string;
  const auth: Record<"seller" | "buyer" | "outsider", { authorization: string }> = {} as never;
  let disputed: string;
  let other: string;

  const post = (path: string, who: keyof typeof auth | null, body: Record<string, unknown>) => {
    const req = request(stack.app).post(path);
    return (who ? req.set(auth[who]) : req).send(body);
  };

  /** A trade between the seller and the buyer, paid (and disputed when asked). */
  async function paidTrade(): Promise<string> {
    const id = await listOnChain(stack, seller, { itemId: ITEM, price: PRICE });
    await (await escrow.connect(buyer).buy(id, { value: PRICE })).wait();
    return id;
  }

  before(async () => {
    stack = await startTestStack("disputes", {
      workers: false,
      env: {
        DISPUTE_EVIDENCE_MAX_PIECES: "4",
        DISPUTE_EVIDENCE_MAX_BYTES: "2048",
        DISPUTE_EVIDENCE_QUOTA_BYTES: "3000",
      },
    });
    [seller, buyer] = [await stack.signer(5), await stack.signer(6)];
    escrow = ItemEscrow__factory.connect(stack.deployment.contracts.ItemEscrow.address, stack.provider);
    await defineItem(stack, ITEM, "Glass Bow", [seller.address]);
    auth.seller = { authorization: `Bearer ${await sessionToken(seller.address)}` };
    auth.buyer = { authorization: `Bearer ${await sessionToken(buyer.address)}` };
    auth.outsider = { authorization: `Bearer ${await sessionToken((await stack.signer(7)).address)}` };
    adminKey = (await new ApiKeys(stack.db.pool).create("Arbitration desk", ["admin"])).key;
    disputed = await paidTrade();
    other = await paidTrade();
    await indexed(stack);
  });
  after(async () => stack?.stop());

  it("lets only the buyer of a paid trade open a dispute, and only with a reason", async () => {
    const path = `/v1/trades/${disputed}/dispute/statements`;
    const text = "The bow arrived with a cracked limb.";
    expect((await post(path, null, { text, reason: "not_as_described" })).status).to.equal(401);
    const outsider = await post(path, "outsider", { text, reason: "not_as_described" });
    expect(outsider.status).to.equal(403);
    expect(outsider.body.error.code).to.equal("NOT_A_PARTY");
    const early = await post(path, "seller", { text: "It was perfect." });
    expect(early.status).to.equal(409);
    expect(early.body.error.code).to.equal("NOT_DISPUTED");
    const noReason = await post(path, "buyer", { text });
    expect(noReason.status).to.equal(400);
    expect(noReason.body.error.code).to.equal("REASON_REQUIRED");
    expect((await post(path, "buyer", { text, reason: "broken" })).status).to.equal(400);
    expect((await post(path, "buyer", { text: "  ", reason: "other" })).status).to.equal(400);
    expect(
      (await post(`/v1/trades/999999/dispute/statements`, "buyer", { text, reason: "other" })).status,
    ).to.equal(404);

    const opened = await post(path, "buyer", { text, reason: "not_as_described" });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    expect(opened.body).to.deep.include({
      party: "buyer",
      submittedBy: buyer.address,
      kind: "statement",
      sha256: sha256(text),
      size: Buffer.byteLength(text),
      text,
    });
    const dispute = await request(stack.app).get(`/v1/trades/${disputed}/dispute`).set(auth.seller);
    expect(dispute.status).to.equal(200);
    expect(dispute.body).to.deep.include({
      status: "opening",
      reason: "not_as_described",
      openedBy: buyer.address,
    });
    expect(dispute.body.allowedOutcomes).to.deep.equal([]);
  });

  it("keeps both parties' statements and files, hashed, once the escrow's dispute is open", async () => {
    await (await escrow.connect(buyer).dispute(disputed)).wait();
    const statement = await post(`/v1/trades/${disputed}/dispute/statements`, "seller", {
      text: "Shipped intact; see the photo.",
    });
    expect(statement.status).to.equal(201);
    expect(
      (await post(`/v1/trades/${disputed}/dispute/statements`, "seller", { text: "x", reason: "other" }))
        .status,
      "only the buyer gives the reason",
    ).to.equal(400);
    const photo = Buffer.from("\x89PNG\r\n\x1a\n a photograph of an intact bow");
    const file = await request(stack.app)
      .post(`/v1/trades/${disputed}/dispute/files`)
      .set(auth.seller)
      .attach("file", photo, { filename: "bow ✓.png", contentType: "image/png" });
    expect(file.status, JSON.stringify(file.body)).to.equal(201);
    expect(file.body).to.deep.include({
      party: "seller",
      kind: "file",
      sha256: sha256(photo),
      size: photo.length,
      filename: "bow ✓.png",
      mediaType: "image/png",
      text: null,
    });

    await indexed(stack);
    const dispute = await request(stack.app).get(`/v1/trades/${disputed}/dispute`).set(auth.buyer);
    expect(dispute.body.status).to.equal("open");
    expect(dispute.body.evidence.buyer).to.have.length(1);
    expect(dispute.body.evidence.seller.map((e: { kind: string }) => e.kind)).to.deep.equal([
      "statement",
      "file",
    ]);
    expect(dispute.body.evidenceHashes).to.deep.equal([
      sha256("The bow arrived with a cracked limb."),
      sha256("Shipped intact; see the photo."),
      sha256(photo),
    ]);
    expect(dispute.body.arbiter).to.equal((await stack.signer(2)).address);
    expect(dispute.body.allowedOutcomes.map((o: { outcome: string }) => o.outcome)).to.deep.equal([
      "refund_buyer",
      "complete_sale",
      "reassign",
    ]);

    const download = await request(stack.app)
      .get(`/v1/trades/${disputed}/dispute/files/${file.body.id}`)
      .set(auth.buyer)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done(null, Buffer.concat(chunks)));
      });
    expect(download.status).to.equal(200);
    expect(Buffer.compare(download.body as Buffer, photo)).to.equal(0);
    expect(download.headers["content-type"]).to.equal("application/octet-stream");
    expect(download.headers["content-disposition"]).to.match(
      /^attachment; .*filename\*=UTF-8''bow%20%E2%9C%93\.png$/,
    );
    expect(download.headers["repr-digest"]).to.equal(
      `sha-256=:${Buffer.from(sha256(photo).slice(2), "hex").toString("base64")}:`,
    );
    expect(
      (
        await request(stack.app)
          .get(`/v1/trades/${disputed}/dispute/files/${file.body.id}`)
          .set("x-api-key", adminKey)
      ).status,
    ).to.equal(200);
    expect(
      (
        await request(stack.app)
          .get(`/v1/trades/${disputed}/dispute/files/${file.body.id}`)
          .set(auth.outsider)
      ).status,
    ).to.equal(403);
    expect(
      (await request(stack.app).get(`/v1/trades/${disputed}/dispute/files/${file.body.id}`)).status,
    ).to.equal(401);
    expect(
      (await request(stack.app).get(`/v1/trades/${other}/dispute/files/${file.body.id}`).set(auth.buyer))
        .status,
      "another trade's evidence",
    ).to.equal(404);
    expect(
      (
        await request(stack.app)
          .get(`/v1/trades/${disputed}/dispute/files/${statement.body.id}`)
          .set(auth.buyer)
      ).status,
      "a statement is no file",
    ).to.equal(404);
    expect(
      (await request(stack.app).get(`/v1/trades/${disputed}/dispute`).set(auth.outsider)).status,
    ).to.equal(403);
    expect((await request(stack.app).get(`/v1/trades/${other}/dispute`).set(auth.buyer)).status).to.equal(
      404,
    );
  });

  it("refuses evidence past a party's limits: pieces, file size and quota", async () => {
    const big = Buffer.alloc(2049, 1);
    const tooBig = await request(stack.app)
      .post(`/v1/trades/${disputed}/dispute/files`)
      .set(auth.seller)
      .attach("file", big, "big.bin");
    expect(tooBig.status).to.equal(413);
    const second = Buffer.alloc(2000, 2);
    const overQuota = await request(stack.app)
      .post(`/v1/trades/${disputed}/dispute/files`)
      .set(auth.seller)
      .attach("file", second, "second.bin");
    expect(overQuota.status, "the first file took 38 of 3000 bytes; 2000 more would pass").to.equal(201);
    const third = await request(stack.app)
      .post(`/v1/trades/${disputed}/dispute/files`)
      .set(auth.seller)
      .attach("file", Buffer.alloc(1000, 3), "third.bin");
    expect(third.status).to.equal(413);
    expect(third.body.error.code).to.equal("EVIDENCE_QUOTA");
    expect(
      (await post(`/v1/trades/${disputed}/dispute/statements`, "seller", { text: "Fourth." })).status,
    ).to.equal(201);
    const fifth = await post(`/v1/trades/${disputed}/dispute/statements`, "seller", { text: "Fifth." });
    expect(fifth.status).to.equal(409);
    expect(fifth.body.error.code).to.equal("EVIDENCE_LIMIT");
    const anonymousFile = await request(stack.app)
      .post(`/v1/trades/${disputed}/dispute/files`)
      .attach("file", Buffer.from("x"), "x.txt");
    expect(anonymousFile.status).to.equal(401);
    const notParty = await request(stack.app)
      .post(`/v1/trades/${disputed}/dispute/files`)
      .set(auth.outsider)
      .attach("file", Buffer.from("x"), "x.txt");
    expect(notParty.status).to.equal(403);
  });

  it("queues disputes for admins only, soonest deadline first, with each party's evidence counted", async () => {
    await (await escrow.connect(buyer).dispute(other)).wait();
    await indexed(stack);
    expect((await request(stack.app).get("/v1/admin/disputes")).status).to.equal(401);
    expect((await request(stack.app).get("/v1/admin/disputes").set(auth.buyer)).status).to.equal(403);
    expect(
      (await request(stack.app).get("/v1/admin/disputes?status=closed").set("x-api-key", adminKey)).status,
    ).to.equal(400);
    const queue = await request(stack.app).get("/v1/admin/disputes?limit=1").set("x-api-key", adminKey);
    expect(queue.status).to.equal(200);
    expect(queue.body.items.map((i: { listingId: string }) => i.listingId)).to.deep.equal([disputed]);
    expect(queue.body.items[0]).to.deep.include({
      reason: "not_as_described",
      evidenceCount: { buyer: 1, seller: 4 },
      decisions: 0,
    });
    const next = await request(stack.app)
      .get(`/v1/admin/disputes?limit=1&cursor=${queue.body.nextCursor}`)
      .set("x-api-key", adminKey);
    expect(next.body.items.map((i: { listingId: string }) => i.listingId)).to.deep.equal([other]);
    expect(next.body.items[0].reason, "disputed on chain without a word").to.equal(null);
  });

  it("records each decision with its reason before handing its transaction to the arbiter", async () => {
    const path = `/v1/admin/trades/${disputed}/resolve`;
    expect(
      (await request(stack.app).post(path).set("x-api-key", adminKey).send({ refundBuyer: true })).status,
    ).to.equal(400);
    expect(
      (
        await request(stack.app)
          .post(path)
          .set("x-api-key", adminKey)
          .send({ refundBuyer: true, reason: "short" })
      ).status,
    ).to.equal(400);
    expect(
      (await post(path, "seller", { refundBuyer: false, reason: "The seller says so, loudly." })).status,
    ).to.equal(403);
    const reason = "The photo shows the limb intact; the buyer sent no picture of the crack.";
    const decided = await request(stack.app)
      .post(path)
      .set("x-api-key", adminKey)
      .send({ refundBuyer: false, reason });
    expect(decided.status, JSON.stringify(decided.body)).to.equal(200);
    const arbiter = await stack.signer(2);
    expect(decided.body.transactions[0].from).to.equal(arbiter.address);
    expect(decided.body.decision).to.deep.include({
      outcome: "complete_sale",
      reason,
      signer: arbiter.address,
    });
    expect(decided.body.decision.decidedBy).to.match(/^key:/);
    const tx = decided.body.transactions[0];
    await (await arbiter.sendTransaction({ to: tx.to, data: tx.data })).wait();
    await indexed(stack);

    const dispute = await request(stack.app).get(`/v1/trades/${disputed}/dispute`).set(auth.seller);
    expect(dispute.body.status).to.equal("resolved");
    expect(dispute.body.trade.state).to.equal("completed");
    expect(dispute.body.decisions.map((d: { reason: string }) => d.reason)).to.deep.equal([reason]);
    expect(dispute.body.allowedOutcomes).to.deep.equal([]);
    const late = await post(`/v1/trades/${disputed}/dispute/statements`, "buyer", { text: "But…" });
    expect(late.status).to.equal(409);
    const again = await request(stack.app)
      .post(path)
      .set("x-api-key", adminKey)
      .send({ refundBuyer: true, reason });
    expect(again.status, "nothing left to decide").to.equal(409);
    await stack.db.pool
      .query(`UPDATE dispute_decisions SET reason = 'changed afterwards' WHERE listing_id = $1`, [disputed])
      .then(
        () => expect.fail("a decision was changed"),
        (err: Error) => expect(err.message).to.match(/append-only/),
      );
  });

  it("keeps the arbiters' routes from players, and refuses malformed decisions and unknown trades", async () => {
    const assign = `/v1/admin/trades/${other}/arbiter`;
    const reassignment = { arbiter: (await stack.signer(9)).address, reason: "The first arbiter is away" };
    expect((await post(assign, null, reassignment)).status).to.equal(401);
    for (const who of ["buyer", "seller", "outsider"] as const) {
      const refused = await post(assign, who, reassignment);
      expect(refused.status, who).to.equal(403);
      expect(refused.body.error.code).to.equal("FORBIDDEN");
      expect(
        (
          await post(`/v1/admin/trades/${other}/resolve`, who, {
            refundBuyer: true,
            reason: reassignment.reason,
          })
        ).status,
        who,
      ).to.equal(403);
    }
    const admin = (path: string, body: Record<string, unknown>) =>
      request(stack.app).post(path).set("x-api-key", adminKey).send(body);
    for (const body of [
      { arbiter: "0x1234", reason: reassignment.reason },
      { arbiter: reassignment.arbiter, reason: "short" },
      { arbiter: reassignment.arbiter },
    ])
      expect((await admin(assign, body)).status, JSON.stringify(body)).to.equal(400);
    expect((await admin("/v1/admin/trades/999999/arbiter", reassignment)).status).to.equal(404);
    expect((await admin("/v1/admin/trades/abc/arbiter", reassignment)).status).to.equal(400);
    expect(
      (await admin("/v1/admin/trades/999999/resolve", { refundBuyer: true, reason: reassignment.reason }))
        .status,
    ).to.equal(404);
    expect(
      (await admin(`/v1/admin/trades/${other}/resolve`, { refundBuyer: "yes", reason: reassignment.reason }))
        .status,
    ).to.equal(400);
    expect((await request(stack.app).get("/v1/trades/abc/dispute").set(auth.buyer)).status).to.equal(400);
    expect(
      (await request(stack.app).get(`/v1/trades/${other}/dispute/files/abc`).set(auth.buyer)).status,
    ).to.equal(400);
    expect(
      (await request(stack.app).get(`/v1/trades/${other}/dispute/files/999999`).set(auth.buyer)).status,
    ).to.equal(404);
    expect(
      (await request(stack.app).get("/v1/admin/disputes?limit=0").set("x-api-key", adminKey)).status,
    ).to.equal(400);
  });

  it("notifies each party of what the other and the arbiter did, until they mark it seen", async () => {
    const seen = await request(stack.app).get("/v1/notifications").set(auth.seller);
    expect(seen.status).to.equal(200);
    const kinds = seen.body.items
      .filter((n: { listingId: string }) => n.listingId === disputed)
      .map((n: { kind: string }) => n.kind);
    expect(kinds).to.include.members([
      "bought",
      "disputed",
      "evidence",
      "decision",
      "dispute_rejected",
      "completed",
    ]);
    expect(
      kinds.filter((k: string) => k === "evidence"),
      "the buyer's statement only, not its own",
    ).to.have.length(1);
    expect(seen.body.unread).to.equal(seen.body.items.length);
    const buyerSide = await request(stack.app).get("/v1/notifications").set(auth.buyer);
    expect(buyerSide.body.items.filter((n: { kind: string }) => n.kind === "evidence")).to.have.length(4);
    expect(
      buyerSide.body.items.some((n: { kind: string }) => n.kind === "bought"),
      "the buyer bought it itself",
    ).to.equal(false);
    expect((await request(stack.app).post("/v1/notifications/seen").set(auth.seller)).body).to.deep.equal({
      unread: 0,
    });
    expect((await request(stack.app).get("/v1/notifications").set(auth.seller)).body.unread).to.equal(0);
    expect((await request(stack.app).get("/v1/notifications")).status).to.equal(401);
    await post(`/v1/trades/${other}/dispute/statements`, "buyer", {
      text: "Never arrived.",
      reason: "not_received",
    });
    const after = await request(stack.app).get("/v1/notifications").set(auth.seller);
    expect(after.body.unread).to.equal(1);
    expect(after.body.items.find((n: { unread: boolean }) => n.unread)).to.deep.include({
      kind: "evidence",
      listingId: other,
    });
  });

  it("streams a trade's state and its dispute's activity as server-sent events", async () => {
    const server = stack.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    const controller = new AbortController();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/trades/${other}/events`, {
        signal: controller.signal,
      });
      expect(res.headers.get("content-type")).to.match(/^text\/event-stream/);
      const reader = res.body!.getReader();
      let text = "";
      const until = async (pattern: RegExp) => {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${pattern}`);
          text += Buffer.from(value).toString("utf8");
        }
      };
      await until(/event: dispute\ndata: \{"evidence":1,"decisions":0\}/);
      expect(text).to.match(/event: trade\ndata: \{"listingId":"\d+"/);
      await post(`/v1/trades/${other}/dispute/statements`, "seller", { text: "It left my wallet." });
      await until(/"evidence":2,"decisions":0/);
      const decided = await request(stack.app)
        .post(`/v1/admin/trades/${other}/resolve`)
        .set("x-api-key", adminKey)
        .send({ refundBuyer: true, reason: "Neither party shows the item arrived." });
      const arbiter = await stack.signer(2);
      await (
        await arbiter.sendTransaction({
          to: decided.body.transactions[0].to,
          data: decided.body.transactions[0].data,
        })
      ).wait();
      await until(/"state":"refunded"/);
      expect((await fetch(`http://127.0.0.1:${port}/v1/trades/999999/events`)).status).to.equal(404);
    } finally {
      controller.abort();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
