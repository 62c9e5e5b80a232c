import { expect } from "chai";
import { ethers, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { ApiKeys } from "../../server/auth/api-keys.ts";
import {
  GameItems__factory,
  ItemEscrow__factory,
  DevStablecoin__factory,
  type GameItems,
  type ItemEscrow,
  type DevStablecoin,
} from "../../types/typechain/index.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

interface Tx {
  description: string;
  from: string;
  to: string;
  data: string;
  value: string;
}

const SWORD = 7n;

describe("escrowed trades API", function () {
  let stack: TestStack;
  let seller: JsonRpcSigner;
  let buyer: JsonRpcSigner;
  let arbiter: JsonRpcSigner;
  let items: GameItems;
  let escrow: ItemEscrow;
  let stablecoin: DevStablecoin;
  let adminKey: string;

  /** Sends the API's transaction requests from `signer`, in order, checking each names it as sender. */
  async function sendAll(signer: JsonRpcSigner, transactions: Tx[]): Promise<void> {
    for (const tx of transactions) {
      expect(tx.from).to.equal(signer.address);
      await (await signer.sendTransaction({ to: tx.to, data: tx.data, value: BigInt(tx.value) })).wait();
    }
  }

  async function prepare(path: string, body: Record<string, unknown>, status = 200): Promise<Tx[]> {
    const res = await request(stack.app).post(path).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(status);
    return res.body.transactions as Tx[];
  }

  async function indexed(): Promise<void> {
    const head = await stack.provider.getBlockNumber();
    await stack.waitFor(async () => stack.indexer.indexedBlock() >= head);
  }

  async function deadline(): Promise<string> {
    return String((await stack.provider.getBlock("latest"))!.timestamp + 24 * 3600);
  }

  /** Lists `amount` swords through the API and returns the new trade's id. */
  async function list(price: bigint, currency = ethers.ZeroAddress, amount = 2n): Promise<string> {
    const before = await escrow.listingCount();
    await sendAll(
      seller,
      await prepare("/v1/trades", {
        seller: seller.address,
        itemId: SWORD.toString(),
        amount: amount.toString(),
        price: price.toString(),
        currency,
        deadline: await deadline(),
      }),
    );
    expect(await escrow.listingCount()).to.equal(before + 1n);
    return (before + 1n).toString();
  }

  before(async () => {
    stack = await startTestStack("trades", { workers: false });
    seller = await stack.signer(5);
    buyer = await stack.signer(6);
    arbiter = await stack.signer(2);
    const c = stack.deployment.contracts;
    items = GameItems__factory.connect(c.GameItems.address, await stack.signer(4));
    escrow = ItemEscrow__factory.connect(c.ItemEscrow.address, stack.provider);
    await (await items.defineItem(SWORD, "ipfs://sword", 0)).wait();
    await (await items.mint(seller.address, SWORD, 10, "0x")).wait();
    stablecoin = await new DevStablecoin__factory(await stack.signer(0)).deploy();
    await stablecoin.waitForDeployment();
    await (await stablecoin.mint(buyer.address, 1_000_000_000n)).wait();
    adminKey = (await new ApiKeys(stack.db.pool).create("Arbitration desk", ["admin"])).key;
  });
  after(async () => stack.stop());

  it("runs a full trade through the API's transaction requests: list, buy, confirm, each side claims", async () => {
    const price = ethers.parseEther("0.5");
    const firstListing = await prepare("/v1/trades", {
      seller: seller.address,
      itemId: SWORD.toString(),
      amount: "2",
      price: price.toString(),
      deadline: await deadline(),
    });
    expect(firstListing.map((t) => t.description)).to.have.length(2);
    expect(firstListing[0]!.to).to.equal(stack.deployment.contracts.GameItems.address);
    await sendAll(seller, firstListing);
    const tradeId = (await escrow.listingCount()).toString();
    expect(await items.balanceOf(stack.deployment.contracts.ItemEscrow.address, SWORD)).to.equal(2n);

    const buy = await prepare(`/v1/trades/${tradeId}/buy`, { buyer: buyer.address });
    expect(buy).to.have.length(1);
    expect(buy[0]!.value).to.equal(price.toString());
    await sendAll(buyer, buy);
    await sendAll(buyer, await prepare(`/v1/trades/${tradeId}/confirm`, { buyer: buyer.address }));
    const sellerClaimsItems = await request(stack.app)
      .post(`/v1/trades/${tradeId}/claim-items`)
      .send({ from: seller.address });
    expect(sellerClaimsItems.status).to.equal(403);
    expect(sellerClaimsItems.body.error.code).to.equal("NOT_CLAIMANT");
    await sendAll(buyer, await prepare(`/v1/trades/${tradeId}/claim-items`, { from: buyer.address }));
    expect(await items.balanceOf(buyer.address, SWORD)).to.equal(2n);
    const again = await request(stack.app)
      .post(`/v1/trades/${tradeId}/claim-items`)
      .send({ from: buyer.address });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal("ALREADY_CLAIMED");

    await indexed();
    const trade = await request(stack.app).get(`/v1/trades/${tradeId}`);
    expect(trade.status).to.equal(200);
    expect(trade.body).to.deep.include({
      listingId: tradeId,
      seller: seller.address,
      buyer: buyer.address,
      state: "completed",
      amount: "2",
      price: price.toString(),
      commissionBps: 250,
      itemsClaimed: true,
      fundsClaimed: false,
    });
    expect(trade.body.history.map((h: { event: string }) => h.event)).to.deep.equal([
      "Listed",
      "Bought",
      "Completed",
      "ItemsClaimed",
    ]);
    const bySeller = await request(stack.app).get(`/v1/trades?seller=${seller.address}&state=completed`);
    expect(bySeller.body.items.map((t: { listingId: string }) => t.listingId)).to.include(tradeId);
    const holdings = await request(stack.app).get(`/v1/items?owner=${buyer.address}`);
    expect(holdings.body.items).to.deep.include.members([
      {
        token: stack.deployment.contracts.GameItems.address,
        itemId: SWORD.toString(),
        balance: "2",
        uri: "ipfs://sword",
        maxSupply: "0",
        metadata: { status: "failed", name: null, description: null, image: null },
        finality: holdings.body.items[0].finality,
      },
    ]);

    const escrowBalance = () => stack.provider.getBalance(stack.deployment.contracts.ItemEscrow.address);
    const held = await escrowBalance();
    await sendAll(seller, await prepare(`/v1/trades/${tradeId}/claim-funds`, { from: seller.address }));
    expect(held - (await escrowBalance())).to.equal((price * 9750n) / 10_000n);
    expect((await escrow.getListing(tradeId)).fundsClaimed).to.equal(true);
    const nothing = await request(stack.app).post("/v1/escrow/withdraw").send({ account: seller.address });
    expect(nothing.status).to.equal(409);

    const second = await prepare("/v1/trades", {
      seller: seller.address,
      itemId: SWORD.toString(),
      amount: "1",
      price: "1",
      deadline: await deadline(),
    });
    expect(second, "approval is asked for once").to.have.length(1);
  });

  it("runs a disputed trade paid in a token: approve and buy, dispute, and the arbiter refunds the buyer", async () => {
    const price = 25_000_000n;
    const tradeId = await list(price, await stablecoin.getAddress());
    const buy = await prepare(`/v1/trades/${tradeId}/buy`, { buyer: buyer.address });
    expect(buy).to.have.length(2);
    expect(buy[0]!.to).to.equal(await stablecoin.getAddress());
    expect(buy[1]!.value).to.equal("0");
    await sendAll(buyer, buy);
    const paid = await stablecoin.balanceOf(buyer.address);
    await sendAll(buyer, await prepare(`/v1/trades/${tradeId}/dispute`, { buyer: buyer.address }));

    const anonymous = await request(stack.app)
      .post(`/v1/admin/trades/${tradeId}/resolve`)
      .send({ refundBuyer: true, reason: "The items never reached the buyer" });
    expect(anonymous.status).to.equal(401);
    const resolve = await request(stack.app)
      .post(`/v1/admin/trades/${tradeId}/resolve`)
      .set("X-Api-Key", adminKey)
      .send({ refundBuyer: true, reason: "The items never reached the buyer" });
    expect(resolve.status, JSON.stringify(resolve.body)).to.equal(200);
    expect(resolve.body.transactions[0].from).to.equal(arbiter.address);
    await sendAll(arbiter, resolve.body.transactions);
    await sendAll(buyer, await prepare(`/v1/trades/${tradeId}/claim-funds`, { from: buyer.address }));
    expect(await stablecoin.balanceOf(buyer.address)).to.equal(paid + price);
    await sendAll(seller, await prepare(`/v1/trades/${tradeId}/claim-items`, { from: seller.address }));

    await indexed();
    const trade = await request(stack.app).get(`/v1/trades/${tradeId}`);
    expect(trade.body.state).to.equal("refunded");
    expect(trade.body.arbiter).to.equal(arbiter.address);
    expect(trade.body.history.map((h: { event: string }) => h.event)).to.deep.equal([
      "Listed",
      "Bought",
      "Disputed",
      "Refunded",
      "FundsClaimed",
      "ItemsClaimed",
    ]);
  });

  it("hands a dispute to another arbiter, and lets anyone unwind one left past its deadline", async () => {
    const tradeId = await list(ethers.parseEther("0.1"));
    await sendAll(buyer, await prepare(`/v1/trades/${tradeId}/buy`, { buyer: buyer.address }));
    await sendAll(buyer, await prepare(`/v1/trades/${tradeId}/dispute`, { buyer: buyer.address }));
    const early = await request(stack.app)
      .post(`/v1/trades/${tradeId}/unwind`)
      .send({ from: seller.address });
    expect(early.status).to.equal(409);
    expect(early.body.error.code).to.equal("RESOLUTION_OPEN");

    const outsider = await stack.signer(9);
    const assign = await request(stack.app)
      .post(`/v1/admin/trades/${tradeId}/arbiter`)
      .set("X-Api-Key", adminKey)
      .send({ arbiter: outsider.address, reason: "The first arbiter is away this week" });
    expect(assign.status, JSON.stringify(assign.body)).to.equal(200);
    expect(assign.body.transactions[0].from).to.equal(stack.deployment.roles.admin);
    await sendAll(await stack.signer(0), assign.body.transactions);
    const resolve = await request(stack.app)
      .post(`/v1/admin/trades/${tradeId}/resolve`)
      .set("X-Api-Key", adminKey)
      .send({ refundBuyer: true, reason: "The items never reached the buyer" });
    expect(resolve.body.transactions[0].from).to.equal(outsider.address);

    await stack.provider.send("evm_increaseTime", [stack.deployment.settings.disputeWindowSeconds + 1]);
    await stack.provider.send("evm_mine", []);
    const late = await request(stack.app)
      .post(`/v1/admin/trades/${tradeId}/resolve`)
      .set("X-Api-Key", adminKey)
      .send({ refundBuyer: true, reason: "The items never reached the buyer" });
    expect(late.status).to.equal(409);
    expect(late.body.error.code).to.equal("RESOLUTION_CLOSED");
    await sendAll(seller, await prepare(`/v1/trades/${tradeId}/unwind`, { from: seller.address }));
    await indexed();
    const trade = await request(stack.app).get(`/v1/trades/${tradeId}`);
    expect(trade.body).to.deep.include({
      state: "refunded",
      arbiter: null,
      assignedArbiter: outsider.address,
    });
  });

  it("answers 409 for a step the trade's state does not allow and 403 for the wrong wallet", async () => {
    const tradeId = await list(1000n);
    const confirm = await request(stack.app)
      .post(`/v1/trades/${tradeId}/confirm`)
      .send({ buyer: buyer.address });
    expect(confirm.status).to.equal(409);
    expect(confirm.body.error.code).to.equal("INVALID_STATE");
    const selfBuy = await request(stack.app)
      .post(`/v1/trades/${tradeId}/buy`)
      .send({ buyer: seller.address });
    expect(selfBuy.status).to.equal(409);
    const notSeller = await request(stack.app)
      .post(`/v1/trades/${tradeId}/cancel`)
      .send({ seller: buyer.address });
    expect(notSeller.status).to.equal(403);
    await sendAll(seller, await prepare(`/v1/trades/${tradeId}/cancel`, { seller: seller.address }));
    const resolve = await request(stack.app)
      .post(`/v1/admin/trades/${tradeId}/resolve`)
      .set("X-Api-Key", adminKey)
      .send({ refundBuyer: false, reason: "The buyer received what was listed" });
    expect(resolve.status).to.equal(409);
    expect((await request(stack.app).get("/v1/trades/999999")).status).to.equal(404);
    expect(
      (await request(stack.app).post("/v1/trades/999999/buy").send({ buyer: buyer.address })).status,
    ).to.equal(404);
    const tooMany = await request(stack.app)
      .post("/v1/trades")
      .send({ seller: buyer.address, itemId: "999", amount: "1", price: "1", deadline: await deadline() });
    expect(tooMany.status).to.equal(409);
    expect(tooMany.body.error.code).to.equal("INSUFFICIENT_ITEMS");
    expect((await request(stack.app).get("/v1/trades?state=lost")).status).to.equal(400);
  });
});
