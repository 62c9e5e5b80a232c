import { expect } from "chai";
import { ethers, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { splitPrice } from "../../lib/commission.ts";
import { SessionTokens } from "../../server/auth/session.ts";
import { GameItems__factory, ItemEscrow__factory } from "../../types/typechain/index.ts";
import { defineItem, indexed, listOnChain, svgImage } from "../helpers/market.ts";
import { sessionToken, startTestStack, TEST_SESSION_SECRET, type TestStack } from "../helpers/stack.ts";

const SWORD = 101n;
const SHIELD = 102n;
const REMOTE = 103n;
const TEMPLATED = 104n;
const MILLI = 10n ** 15n;

interface Listing {
  listingId: string;
  seller: string;
  itemId: string;
  price: string;
  currency: string;
  deadline: string;
  state: string;
  item: { status: string; name: string | null; image: string | null };
  breakdown: { price: string; commissionBps: number; commission: string; sellerReceives: string };
}

describe("market API", function () {
  this.timeout(120_000);
  let stack: TestStack;
  let a: JsonRpcSigner;
  let b: JsonRpcSigner;
  let c: JsonRpcSigner;
  let token: string;
  /** Listing ids by name. */
  const ids = {} as Record<
    "swordA3" | "swordA1" | "shieldB2" | "swordBToken" | "remoteSoon" | "potion6" | "cancelled" | "sold",
    string
  >;

  const get = async (path: string, status = 200) => {
    const res = await request(stack.app).get(path);
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(status);
    return res.body;
  };
  const market = async (query: string): Promise<{ items: Listing[]; nextCursor: string | null }> =>
    get(`/v1/market/listings?${query}`);
  const idsOf = (page: { items: Listing[] }) => page.items.map((l) => l.listingId);
  async function send(signer: JsonRpcSigner, path: string, body: Record<string, unknown>) {
    const res = await request(stack.app).post(path).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    for (const tx of res.body.transactions as { to: string; data: string; value: string }[])
      await (await signer.sendTransaction({ to: tx.to, data: tx.data, value: BigInt(tx.value) })).wait();
  }

  before(async () => {
    stack = await startTestStack("market", { workers: false });
    [a, b, c] = [await stack.signer(5), await stack.signer(6), await stack.signer(7)];
    token = stack.deployment.settlementToken;
    const { cid } = await stack.ipfs.add(
      Buffer.from(
        JSON.stringify({ name: "Frost Shield", description: "Cold", image: `ipfs://${cidOfImage}` }),
      ),
    );
    await defineItem(stack, SWORD, "Ember Sword", [a.address, b.address]);
    await defineItem(stack, SHIELD, "Frost Shield", [b.address], 10n, `ipfs://${cid}`);
    await defineItem(stack, REMOTE, "unused", [a.address], 10n, "https://studio.example/items/{id}.json");
    await defineItem(
      stack,
      TEMPLATED,
      "unused",
      [a.address],
      10n,
      `data:application/json,{"name":"Potion {id}\\u0000","image":"https://x.example/p.png"}`,
    );
    ids.swordA3 = await listOnChain(stack, a, { itemId: SWORD, price: 3n * MILLI });
    ids.swordA1 = await listOnChain(stack, a, { itemId: SWORD, price: 1n * MILLI });
    ids.shieldB2 = await listOnChain(stack, b, { itemId: SHIELD, price: 2n * MILLI });
    ids.swordBToken = await listOnChain(stack, b, { itemId: SWORD, price: 5_000_000n, currency: token });
    ids.remoteSoon = await listOnChain(stack, a, { itemId: REMOTE, price: 4n * MILLI, deadlineIn: 2 * 3600 });
    ids.potion6 = await listOnChain(stack, a, { itemId: TEMPLATED, price: 6n * MILLI });
    ids.cancelled = await listOnChain(stack, a, { itemId: SWORD, price: 7n * MILLI });
    ids.sold = await listOnChain(stack, a, { itemId: SWORD, price: 8n * MILLI });
    const escrow = ItemEscrow__factory.connect(stack.deployment.contracts.ItemEscrow.address, stack.provider);
    await (await escrow.connect(a).cancel(ids.cancelled)).wait();
    await (await escrow.connect(c).buy(ids.sold, { value: 8n * MILLI })).wait();
    await indexed(stack);
  });
  after(async () => stack?.stop());

  const OPEN = () => [ids.swordA3, ids.swordA1, ids.shieldB2, ids.swordBToken, ids.remoteSoon, ids.potion6];

  it("lists every open listing, newest first, with the item's metadata and what the seller receives", async () => {
    const page = await market("limit=100");
    expect(idsOf(page)).to.deep.equal([...OPEN()].reverse());
    const sword = page.items.find((l) => l.listingId === ids.swordA3)!;
    expect(sword).to.deep.include({
      seller: a.address,
      itemId: "101",
      price: (3n * MILLI).toString(),
      state: "listed",
    });
    expect(sword.item).to.deep.include({
      status: "resolved",
      name: "Ember Sword",
      image: svgImage("#b45309"),
    });
    const split = splitPrice(3n * MILLI, 250);
    expect(sword.breakdown).to.deep.equal({
      price: (3n * MILLI).toString(),
      commissionBps: 250,
      commission: split.commission.toString(),
      sellerReceives: split.sellerReceives.toString(),
    });
    expect(page.nextCursor).to.equal(null);
  });

  it("filters by item, seller, currency and price, and finds items by words of their name", async () => {
    expect(idsOf(await market(`itemId=101&limit=100`))).to.have.members([
      ids.swordA3,
      ids.swordA1,
      ids.swordBToken,
    ]);
    expect(idsOf(await market(`seller=${b.address.toLowerCase()}`))).to.have.members([
      ids.shieldB2,
      ids.swordBToken,
    ]);
    expect(idsOf(await market(`currency=${token}`))).to.deep.equal([ids.swordBToken]);
    expect(
      idsOf(await market(`currency=${ethers.ZeroAddress}&minPrice=${2n * MILLI}&maxPrice=${4n * MILLI}`)),
    ).to.have.members([ids.swordA3, ids.shieldB2, ids.remoteSoon]);
    expect(idsOf(await market("q=ember"))).to.have.members([ids.swordA3, ids.swordA1, ids.swordBToken]);
    expect(idsOf(await market("q=SHIELD%20frost"))).to.deep.equal([ids.shieldB2]);
    expect(idsOf(await market("q=sword%20frost"))).to.deep.equal([]);
    expect(idsOf(await market(`q=ember&itemId=102`))).to.deep.equal([]);
    for (const wildcard of ["%25", "_", "%5C", "em_er", "emb%25"])
      expect(idsOf(await market(`q=${wildcard}`)), `${wildcard} is no wildcard`).to.deep.equal([]);
  });

  it("answers a search ahead of the router exactly as the router does", async () => {
    const session = `Bearer ${await sessionToken(c.address)}`;
    for (const query of [
      "q=ember&sort=price_asc",
      `seller=${b.address.toLowerCase()}`,
      "limit=2",
      "limit=0",
    ]) {
      const path = `/v1/market/listings?${query}`;
      const hot = await request(stack.app).get(path);
      // With a session the request goes through Express's router; without one it is answered ahead of it.
      const routed = await request(stack.app).get(path).set("Authorization", session);
      const comparable = (res: request.Response) => {
        const {
          date: _date,
          "ratelimit-remaining": _remaining,
          "ratelimit-reset": _reset,
          "x-request-id": _id,
          ...headers
        } = res.headers;
        return { status: res.status, headers, body: res.body as unknown };
      };
      expect(comparable(hot), query).to.deep.equal(comparable(routed));
    }
  });

  it("sorts by price and deadline and pages by keyset, every open listing once", async () => {
    const all = (await market("limit=100")).items;
    const byPrice = [...all].sort((x, y) =>
      BigInt(x.price) === BigInt(y.price)
        ? Number(x.listingId) - Number(y.listingId)
        : BigInt(x.price) < BigInt(y.price)
          ? -1
          : 1,
    );
    const expected = {
      price_asc: byPrice.map((l) => l.listingId),
      price_desc: [...byPrice].reverse().map((l) => l.listingId),
      ending: [...all]
        .sort(
          (x, y) =>
            Date.parse(x.deadline) - Date.parse(y.deadline) || Number(x.listingId) - Number(y.listingId),
        )
        .map((l) => l.listingId),
      newest: all.map((l) => l.listingId),
    };
    expect(expected.ending[0]).to.equal(ids.remoteSoon);
    for (const [sort, order] of Object.entries(expected)) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await market(`sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        seen.push(...idsOf(page));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen, sort).to.deep.equal(order);
    }
  });

  it("refuses malformed queries and cursors of another sort with 400", async () => {
    for (const query of [
      "sort=cheapest",
      "limit=0",
      "limit=101",
      "cursor=abc",
      "cursor=1.2.3",
      "itemId=-1",
      "seller=0x1234",
      `minPrice=${5n * MILLI}&maxPrice=${MILLI}`,
      `q=${"x".repeat(101)}`,
      "sort=newest&cursor=5.3",
      "sort=price_asc&cursor=3",
    ])
      await get(`/v1/market/listings?${query}`, 400);
    const wrong = await get("/v1/market/listings?sort=price_asc&cursor=3", 400);
    expect(wrong.error.code).to.equal("INVALID_CURSOR");
    for (const path of [
      "/v1/market/listings/abc",
      "/v1/market/sellers/0x1234",
      "/v1/market/sellers/seller",
      "/v1/items",
      "/v1/items?owner=0x12",
      "/v1/items/1.5",
      `/v1/items/${SWORD}/history?limit=0`,
    ])
      expect((await get(path, 400)).error.code, path).to.equal("VALIDATION_FAILED");
  });

  it("reads item metadata from data: and ipfs:// URIs, substitutes {id}, and fetches no other URL", async () => {
    const shield = await get(`/v1/items/${SHIELD}`);
    expect(shield.metadata).to.deep.equal({
      status: "resolved",
      name: "Frost Shield",
      description: "Cold",
      image: `/ipfs/${cidOfImage}`,
    });
    expect(shield, "the seller and the escrow hold it").to.deep.include({
      itemId: "102",
      minted: "10",
      holders: 2,
      openListings: 1,
    });
    const remote = await get(`/v1/items/${REMOTE}`);
    expect(remote.metadata).to.deep.equal({
      status: "unsupported",
      name: null,
      description: null,
      image: null,
    });
    const potion = await get(`/v1/items/${TEMPLATED}`);
    expect(potion.metadata.name).to.equal(`Potion ${TEMPLATED.toString(16).padStart(64, "0")}`);
    expect(potion.metadata.image, "only same-origin images").to.equal(null);
    await get("/v1/items/999999", 404);
    await get("/v1/items/abc", 400);
    const holdings = await get(`/v1/items?owner=${b.address}`);
    expect(
      holdings.items.map((h: { itemId: string; metadata: { name: string } }) => [h.itemId, h.metadata.name]),
    ).to.deep.equal([
      ["101", "Ember Sword"],
      ["102", "Frost Shield"],
    ]);
  });

  it("shows a listing's page with the seller's record and the item's provenance, step by step", async () => {
    const escrow = ItemEscrow__factory.connect(stack.deployment.contracts.ItemEscrow.address, stack.provider);
    await (await escrow.connect(c).confirm(ids.sold)).wait();
    await (await escrow.connect(c).claimItems(ids.sold)).wait();
    await (await escrow.connect(a).claimFunds(ids.sold)).wait();
    const lost = await listOnChain(stack, a, { itemId: SWORD, price: MILLI });
    await (await escrow.connect(c).buy(lost, { value: MILLI })).wait();
    await (await escrow.connect(c).dispute(lost)).wait();
    await (await escrow.connect(await stack.signer(2)).resolve(lost, true)).wait();
    await indexed(stack);

    const page = await get(`/v1/market/listings/${ids.sold}`);
    expect(page).to.deep.include({
      listingId: ids.sold,
      state: "completed",
      buyable: false,
      seller: a.address,
    });
    expect(page.history.map((h: { event: string }) => h.event)).to.deep.equal([
      "Listed",
      "Bought",
      "Completed",
      "ItemsClaimed",
      "FundsClaimed",
    ]);
    expect(page.history.every((h: { at: string | null }) => h.at !== null)).to.equal(true);
    expect(page.reputation).to.deep.include({
      address: a.address,
      completedSales: 1,
      completedPurchases: 0,
      disputesLost: 1,
      disputesWon: 0,
      openListings: 4,
    });
    const escrowAddress = stack.deployment.contracts.ItemEscrow.address;
    const who = (address: string | null) =>
      address === escrowAddress
        ? "escrow"
        : address === a.address
          ? "seller"
          : address === c.address
            ? "buyer"
            : address;
    type Step = {
      kind: string;
      event: string;
      listingId: string | null;
      from: string | null;
      to: string | null;
      txHash: string;
    };
    const steps = [...(page.provenance as Step[])].reverse();
    const txs = new Set(page.history.map((h: { txHash: string }) => h.txHash));
    const ofSold = steps.filter(
      (s) => s.listingId === ids.sold || (s.kind === "transfer" && txs.has(s.txHash)),
    );
    expect(ofSold.map((s) => (s.kind === "trade" ? s.event : `${who(s.from)}→${who(s.to)}`))).to.deep.equal([
      "Listed",
      "seller→escrow",
      "Bought",
      "Completed",
      "ItemsClaimed",
      "escrow→buyer",
      "FundsClaimed",
    ]);
    expect(steps[0]).to.deep.include({ kind: "mint", from: ethers.ZeroAddress, to: a.address });
    expect(await get(`/v1/market/sellers/${a.address}`)).to.deep.equal(page.reputation);
    const open = await get(`/v1/market/listings/${ids.swordA1}`);
    expect(open.buyable).to.equal(true);
    await get("/v1/market/listings/999999", 404);
    await get("/v1/market/listings/0", 400);
  });

  it("pages an item's history, newest first, by keyset", async () => {
    const full = await get(`/v1/items/${SWORD}/history?limit=100`);
    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: unknown[]; nextCursor: string | null } = await get(
        `/v1/items/${SWORD}/history?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).to.deep.equal(full.items);
    expect(full.items.length).to.be.greaterThan(10);
    await get(`/v1/items/${SWORD}/history?cursor=1.2`, 400);
    await get(`/v1/items/999999/history`, 404);
  });

  it("leaves out listings past their deadline, whose items anyone may return to the seller", async () => {
    const early = await request(stack.app)
      .post(`/v1/trades/${ids.remoteSoon}/reclaim`)
      .send({ from: c.address });
    expect(early.status).to.equal(409);
    expect(early.body.error.code).to.equal("DEADLINE_NOT_REACHED");
    await stack.provider.send("evm_increaseTime", [3 * 3600]);
    await stack.provider.send("evm_mine", []);
    await indexed(stack);
    await stack.waitFor(async () => !idsOf(await market("limit=100")).includes(ids.remoteSoon), 5000);
    expect((await get(`/v1/market/listings/${ids.remoteSoon}`)).buyable).to.equal(false);
    const items = GameItems__factory.connect(stack.deployment.contracts.GameItems.address, stack.provider);
    const before = await items.balanceOf(a.address, REMOTE);
    await send(c, `/v1/trades/${ids.remoteSoon}/reclaim`, { from: c.address });
    expect(await items.balanceOf(a.address, REMOTE)).to.equal(before + 1n);
    const again = await request(stack.app)
      .post(`/v1/trades/${ids.remoteSoon}/reclaim`)
      .send({ from: c.address });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal("INVALID_STATE");
    await indexed(stack);
    expect((await get(`/v1/market/listings/${ids.remoteSoon}`)).state).to.equal("expired");
  });

  it("answers the commission in force, which only an admin can change, up to 15%", async () => {
    const settings = await get("/v1/market/settings");
    expect(settings).to.deep.include({ commissionBps: 250, maxCommissionBps: 1500 });
    expect(settings.currencies.map((x: { symbol: string }) => x.symbol)).to.deep.equal(["ETH", "tUSD"]);
    const path = "/v1/admin/market/commission";
    expect((await request(stack.app).post(path).send({ commissionBps: 1500 })).status).to.equal(401);
    const player = await sessionToken(a.address);
    expect(
      (
        await request(stack.app)
          .post(path)
          .set("authorization", `Bearer ${player}`)
          .send({ commissionBps: 1500 })
      ).status,
    ).to.equal(403);
    const admin = (
      await new SessionTokens(TEST_SESSION_SECRET, 3600).issue(stack.deployment.roles.admin, true)
    ).token;
    const auth = { authorization: `Bearer ${admin}` };
    expect((await request(stack.app).post(path).set(auth).send({ commissionBps: 1501 })).status).to.equal(
      400,
    );
    const res = await request(stack.app).post(path).set(auth).send({ commissionBps: 1500 });
    expect(res.status).to.equal(200);
    expect(res.body.transactions[0].from).to.equal(stack.deployment.roles.admin);
    const adminSigner = await stack.signer(0);
    await (
      await adminSigner.sendTransaction({
        to: res.body.transactions[0].to,
        data: res.body.transactions[0].data,
      })
    ).wait();
    const listed = await listOnChain(stack, a, { itemId: SWORD, price: 1000n });
    await indexed(stack);
    expect((await get(`/v1/market/listings/${listed}`)).breakdown).to.deep.equal({
      price: "1000",
      commissionBps: 1500,
      commission: "150",
      sellerReceives: "850",
    });
    expect(
      (await get(`/v1/market/listings/${ids.swordA1}`)).breakdown.commissionBps,
      "fixed when listed",
    ).to.equal(250);
    await stack.waitFor(async () => (await get("/v1/market/settings")).commissionBps === 1500, 10_000);
  });
});

/** A PNG-like file the shield's metadata points at; only its CID matters. */
const cidOfImage = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
