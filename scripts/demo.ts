/**
 * `npm run demo`: the product's story, step by step, against a running stack (`npm start`):
 * a creator registers and versions a work, publishes an offer with a 3-way split; a buyer pays by
 * (dev) card and the license lands in their wallet; time passes, it expires and is renewed, and the
 * card revenue is settled to the split, where the co-creator withdraws it; two players trade a
 * game item as the web app walks it (Inventory → Sell → Market → the listing's page: buy, confirm,
 * claim, withdraw), and a second sale is disputed with a reason, a statement and a photo, answered
 * by the seller and resolved by the arbiter in the console; a legal team exports an evidence bundle
 * and the verifier passes it; the creator sells codes with a coupon and runs a flash sale; a buyer
 * without a wallet extension pays by card with an email address and claims the license with a fresh
 * wallet through the mailed link. Exits 0 only if every step checked out.
 *
 * API_URL (default http://127.0.0.1:3000) and CHAIN_RPC_URL (default http://127.0.0.1:8545).
 */
import { createHash, randomBytes } from "node:crypto";
import {
  formatEther,
  JsonRpcProvider,
  Wallet,
  type JsonRpcSigner,
  type TransactionReceipt,
  type TransactionRequest,
} from "ethers";
import { SiweMessage } from "siwe";
import { formatBps, splitPrice } from "../lib/commission.ts";
import { CREATE_OFFER_TYPES, licenseDomain } from "../lib/eip712.ts";
import { readDeployment } from "../lib/deployment.ts";
import { verifyBundle } from "../lib/evidence/verify.ts";
import {
  CodeCommitments__factory,
  GameItems__factory,
  IERC20Metadata__factory,
  ItemEscrow__factory,
  LicenseToken__factory,
  PayoutSettlement__factory,
  RevenueSplit__factory,
} from "../types/typechain/index.ts";

const API = (process.env.API_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const RPC = process.env.CHAIN_RPC_URL ?? "http://127.0.0.1:8545";
const DAY = 24 * 3600;
const NATIVE = "0x0000000000000000000000000000000000000000";

const provider = new JsonRpcProvider(RPC, undefined, { staticNetwork: true, cacheTimeout: -1 });
let step = 0;

function say(text: string): void {
  console.log(`\n${++step}. ${text}`);
}
function ok(text: string): void {
  console.log(`   ✔ ${text}`);
}
class DemoFailure extends Error {}
function check(condition: unknown, text: string): asserts condition {
  if (!condition) throw new DemoFailure(text);
  ok(text);
}

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${API}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    // Demo runs one after another on one stack reach the per-address limits: wait as the API asks.
    const retryAfter = rateLimitWait(res.status, parsed);
    if (retryAfter === null || attempt === 3) return { status: res.status, body: parsed as T };
    console.log(`     ${method} ${path}: rate limited, retrying in ${retryAfter} s as the API asks`);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
  }
}

/** Seconds a 429 RATE_LIMITED answer asks to wait (at most 90), or null for any other answer. */
function rateLimitWait(status: number, body: unknown): number | null {
  if (status !== 429) return null;
  const error = (body as { error?: { code?: string; details?: { retryAfterSeconds?: unknown } } }).error;
  const seconds = error?.code === "RATE_LIMITED" ? error.details?.retryAfterSeconds : undefined;
  return typeof seconds === "number" && seconds > 0 && seconds <= 90 ? Math.ceil(seconds) : null;
}

async function expectStatus<T>(
  promise: Promise<{ status: number; body: T }>,
  status: number,
  what: string,
): Promise<T> {
  const res = await promise;
  if (res.status !== status)
    throw new DemoFailure(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new DemoFailure(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function send(
  signer: JsonRpcSigner,
  tx: { to: string; data: string; value?: string },
): Promise<TransactionReceipt> {
  const request: TransactionRequest = { to: tx.to, data: tx.data, value: BigInt(tx.value ?? "0") };
  const receipt = await (await signer.sendTransaction(request)).wait();
  if (receipt?.status !== 1) throw new DemoFailure(`transaction to ${tx.to} failed`);
  return receipt;
}

/** Signs and sends prepared transactions in order, as the web app's wallet does; answers their receipts. */
async function sendAll(
  signer: JsonRpcSigner,
  body: { transactions: { to: string; data: string; value?: string }[] },
): Promise<TransactionReceipt[]> {
  const receipts: TransactionReceipt[] = [];
  for (const tx of body.transactions) receipts.push(await send(signer, tx));
  return receipts;
}

async function signIn(
  signer: Pick<JsonRpcSigner, "address" | "signMessage">,
  chainId: number,
): Promise<string> {
  const { nonce } = await expectStatus<{ nonce: string }>(api("POST", "/v1/auth/nonce"), 201, "nonce");
  const message = new SiweMessage({
    domain: new URL(API).host,
    address: signer.address,
    statement: "Sign in to Rights Ledger",
    uri: API,
    version: "1",
    chainId,
    nonce,
  }).prepareMessage();
  const session = await expectStatus<{ token: string }>(
    api("POST", "/v1/auth/verify", { message, signature: await signer.signMessage(message) }),
    200,
    "sign-in",
  );
  return session.token;
}

/** The claim link mailed to `email`, as the stack's mail catcher caught it (GET /v1/dev/mail); null until then. */
async function caughtClaimLink(email: string): Promise<string | null> {
  const list = await api<{ mails: { id: string; to: string[]; subject: string }[] }>("GET", "/v1/dev/mail");
  const caught = list.body.mails?.find((m) => m.to.includes(email) && /claim/i.test(m.subject));
  if (!caught) return null;
  const mail = await api<{ text: string }>("GET", `/v1/dev/mail/${caught.id}`);
  return /https?:\/\/\S+\/claim#token=[A-Za-z0-9_-]{43}/.exec(mail.body.text)?.[0] ?? null;
}

async function registerWork(
  creator: JsonRpcSigner,
  token: string,
  bytes: Buffer,
  title: string,
  parentId?: string,
) {
  const form = new FormData();
  form.set("creator", creator.address);
  form.set("title", title);
  if (parentId) form.set("parentId", parentId);
  form.set("file", new Blob([bytes]), `${title.toLowerCase().replace(/\W+/g, "-")}.txt`);
  const res = await fetch(`${API}/v1/works`, {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${token}` },
  });
  const upload = (await res.json()) as {
    sha256: string;
    cid: string;
    typedData: {
      domain: Record<string, string>;
      types: { Register: { name: string; type: string }[] };
      message: Record<string, string>;
    };
  };
  if (res.status !== 201) throw new DemoFailure(`upload: ${res.status} ${JSON.stringify(upload)}`);
  ok(`uploaded: SHA-256 ${upload.sha256.slice(0, 18)}…, CID ${upload.cid}`);
  const signature = await creator.signTypedData(
    upload.typedData.domain,
    upload.typedData.types,
    upload.typedData.message,
  );
  await expectStatus(
    api("POST", `/v1/works/${upload.sha256}/register`, { ...upload.typedData.message, signature }),
    202,
    "register",
  );
  const before = await provider.getBalance(creator.address);
  const registration = await waitFor("anchoring", async () => {
    const r = await api<{ status: string; work: { workId: string; txHash: string } | null }>(
      "GET",
      `/v1/works/by-hash/${upload.sha256}/registration`,
    );
    return r.body.status === "anchored" ? r.body : null;
  });
  check(
    registration.work,
    `anchored as work ${registration.work?.workId} in ${registration.work?.txHash.slice(0, 18)}…`,
  );
  check((await provider.getBalance(creator.address)) === before, "the creator paid no gas (the relayer did)");
  return { sha256: upload.sha256, cid: upload.cid, workId: registration.work.workId };
}

async function main(): Promise<void> {
  const chainId = Number((await provider.getNetwork()).chainId);
  const deployment = await readDeployment(chainId, process.env.DEPLOYMENTS_DIR ?? "deployments");
  const [admin, , arbiter, , studio, creator, coCreator, referrer, buyer, playerA, playerB] =
    await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => provider.getSigner(i)));
  const ready = await api<{ status: string }>("GET", "/readyz");
  if (ready.status !== 200)
    throw new DemoFailure(`the stack is not ready at ${API}: ${JSON.stringify(ready.body)} (run npm start)`);

  say("A creator signs in and registers a work; the platform's relayer pays the gas");
  const creatorToken = await signIn(creator!, chainId);
  const work = await registerWork(
    creator!,
    creatorToken,
    Buffer.from(`Harbour at dusk — ${randomBytes(8).toString("hex")}`),
    "Harbour at dusk",
  );

  say("The creator registers a new version of it");
  const version = await registerWork(
    creator!,
    creatorToken,
    Buffer.from(`Harbour at dusk, second cut — ${randomBytes(8).toString("hex")}`),
    "Harbour at dusk v2",
    work.workId,
  );
  const versions = await expectStatus<{ items: { workId: string }[] }>(
    api("GET", `/v1/works/${version.workId}/versions`),
    200,
    "versions",
  );
  check(
    versions.items.map((w) => w.workId).join(",") === `${work.workId},${version.workId}`,
    "the version chain links v2 to v1",
  );

  say("The creator publishes an offer: 30-day license, revenue split 3 ways");
  const recipients = [creator!.address, coCreator!.address, referrer!.address];
  const prepared = await expectStatus<{ split: string; transaction: { to: string; data: string } | null }>(
    api("POST", "/v1/splits", { recipients, sharesBps: [6000, 3000, 1000] }),
    200,
    "split",
  );
  if (prepared.transaction) await send(creator!, prepared.transaction);
  ok(`split ${prepared.split}: 60% / 30% / 10%`);
  const offerTerms = {
    creator: creator!.address,
    workId: version.workId,
    currency: "0x0000000000000000000000000000000000000000",
    price: (10n ** 16n).toString(),
    duration: String(30 * DAY),
    maxSupply: 100,
    transferable: true,
    commercialUse: true,
    referrerBps: 500,
    royaltyBps: 500,
    split: prepared.split,
    territory: "WORLD",
    revocable: false,
    nonce: BigInt(`0x${randomBytes(8).toString("hex")}`).toString(),
    // Judged by the chain's clock, which the license-expiry step of an earlier run moved ahead.
    deadline: String((await provider.getBlock("latest"))!.timestamp + 3600),
  };
  const offerSignature = await creator!.signTypedData(
    licenseDomain(BigInt(chainId), deployment.contracts.LicenseToken.address),
    CREATE_OFFER_TYPES,
    offerTerms,
  );
  const publication = await expectStatus<{ id: string }>(
    api(
      "POST",
      `/v1/works/${version.workId}/offers`,
      {
        ...offerTerms,
        signature: offerSignature,
        fiatPrice: { amount: 1900, currency: "usd" },
      },
      { authorization: `Bearer ${creatorToken}` },
    ),
    202,
    "publish offer",
  );
  const published = await waitFor("the offer on chain", async () => {
    const r = await api<{ status: string; offerId: string | null }>(
      "GET",
      `/v1/offers/publications/${publication.id}`,
    );
    return r.body.status === "published" ? r.body : null;
  });
  check(published.offerId, `offer ${published.offerId} published by the relayer, $19.00 by card`);
  const offerId = published.offerId;
  // Buyers find offers in the mirror, which follows the chain a moment later.
  await waitFor(
    "the offer to be listed",
    async () => (await api("GET", `/v1/offers/${offerId}`)).status === 200,
  );

  say("A buyer pays by card (dev payments) and the license lands in their wallet");
  const order = await expectStatus<{ orderId: string; checkoutUrl: string; orderSecret: string }>(
    api("POST", "/v1/checkout", { offerId, wallet: buyer!.address }),
    201,
    "checkout",
  );
  ok(`order ${order.orderId}, checkout page ${order.checkoutUrl}`);
  const pay = await fetch(new URL(`${new URL(order.checkoutUrl, API).pathname}/pay`, API), {
    method: "POST",
    redirect: "manual",
  });
  check(pay.status === 303, "paid on the checkout page (a signed payment webhook was posted)");
  const fulfilled = await waitFor("the order to be fulfilled", async () => {
    const r = await api<{ status: string; tokenId: string | null; paymentRef: string | null }>(
      "GET",
      `/v1/orders/${order.orderId}?secret=${order.orderSecret}`,
    );
    if (r.body.status === "failed") throw new DemoFailure(`order failed: ${JSON.stringify(r.body)}`);
    return r.body.status === "fulfilled" ? r.body : null;
  });
  const licenses = LicenseToken__factory.connect(deployment.contracts.LicenseToken.address, buyer);
  check(
    (await licenses.ownerOf(fulfilled.tokenId!)).toLowerCase() === buyer!.address.toLowerCase(),
    `license token ${fulfilled.tokenId} is in the buyer's wallet (checked on chain)`,
  );
  const verified = await expectStatus<{ valid: boolean }>(
    api("GET", `/v1/licenses/verify?workId=${version.workId}&holder=${buyer!.address}`),
    200,
    "verify",
  );
  check(verified.valid, "GET /v1/licenses/verify answers valid");

  say("The buyer downloads the bought work from the order page's link; nobody else gets it");
  const link = await waitFor("a download link (the license safe)", async () => {
    const r = await api<{ url: string; entitlement: { downloads: { used: number } } }>(
      "POST",
      `/v1/orders/${order.orderId}/downloads`,
      {},
      { "x-order-secret": order.orderSecret },
    );
    return r.status === 201 ? r.body : null;
  });
  const downloaded = await fetch(`${API}${link.url}`);
  const delivered = Buffer.from(await downloaded.arrayBuffer());
  check(
    downloaded.status === 200 &&
      `0x${createHash("sha256").update(delivered).digest("hex")}` === version.sha256,
    `downloaded ${delivered.length} bytes through a short-lived signed link: their SHA-256 is the registered hash`,
  );
  const strangerToken = await signIn(playerA!, chainId);
  const refused = await api<{ error: { code: string } }>(
    "POST",
    `/v1/works/${version.workId}/downloads`,
    {},
    { authorization: `Bearer ${strangerToken}` },
  );
  check(
    refused.status === 403 && refused.body.error.code === "NOT_LICENSE_HOLDER",
    "a signed-in wallet without a license is refused: 403 NOT_LICENSE_HOLDER",
  );
  check(
    (await fetch(`${API}/ipfs/${version.cid}`)).status === 404,
    "the public /ipfs route never serves the private original (IPFS holds it encrypted)",
  );

  say("Time passes: the license expires, then the buyer renews it");
  await provider.send("evm_increaseTime", [31 * DAY]);
  await provider.send("evm_mine", []);
  const expired = await waitFor("the license to expire", async () => {
    const r = await api<{ valid: boolean }>(
      "GET",
      `/v1/licenses/verify?workId=${version.workId}&holder=${buyer!.address}`,
    );
    return r.body.valid ? null : r.body;
  });
  check(
    !expired.valid && !(await licenses.isValid(fulfilled.tokenId!)),
    "31 days later it is expired, on chain and in the API",
  );
  await (await licenses.renew(fulfilled.tokenId!, { value: 10n ** 16n })).wait();
  const renewed = await waitFor("the renewal", async () => {
    const r = await api<{ valid: boolean; validUntil: string }>(
      "GET",
      `/v1/licenses/verify?workId=${version.workId}&holder=${buyer!.address}`,
    );
    return r.body.valid ? r.body : null;
  });
  check(renewed.valid, `renewed with the wallet: valid until ${renewed.validUntil}`);

  say("The card sale's revenue is settled to the 3-way split, and the co-creator withdraws their 30%");
  // $19.00 less Stripe's fee (2.9% + 30¢ = 85¢) and the offer's platform fee, in the 6-decimal stablecoin.
  const platformFee = Math.floor((1900 * deployment.settings.platformFeeBps) / 10_000);
  const toSplit = BigInt(1900 - 85 - platformFee) * 10_000n;
  const settlements = PayoutSettlement__factory.connect(
    deployment.contracts.PayoutSettlement.address,
    provider,
  );
  const settled = await waitFor("the settlement of the card sale (past its 14-day holdback)", async () => {
    const logs = await settlements.queryFilter(settlements.filters.SettlementPaid());
    const log = logs.find((l) => l.args.paymentRefs.includes(fulfilled.paymentRef!));
    if (!log) return null;
    const at = log.args.payees.map((p) => p.toLowerCase()).indexOf(prepared.split.toLowerCase());
    return { amount: log.args.amounts[at] ?? 0n, txHash: log.transactionHash };
  });
  // A reused stack settles the split's earlier sales too (an earlier run's card sales) in the same settlement.
  check(
    settled.amount >= toSplit,
    `the split received ${Number(settled.amount) / 1e6} tUSD in settlement ${settled.txHash.slice(0, 10)}…, this sale's ${Number(toSplit) / 1e6} tUSD among it (checked on chain)`,
  );
  const usd = IERC20Metadata__factory.connect(deployment.settlementToken, provider);
  const split = RevenueSplit__factory.connect(prepared.split, coCreator);
  const owed = await split.releasable(deployment.settlementToken, coCreator!.address);
  const before = await usd.balanceOf(coCreator!.address);
  await (await split.release(deployment.settlementToken, coCreator!.address)).wait();
  const withdrawn = (await usd.balanceOf(coCreator!.address)) - before;
  check(
    withdrawn > 0n && withdrawn === owed,
    `the co-creator withdrew ${Number(withdrawn) / 1e6} tUSD, their share`,
  );

  // The trading floor, as the web app walks it: Inventory, Sell, Market, a listing's page, the
  // arbiters' console; each step sends the requests its page sends and signs what its wallet signs.
  const escrowAddress = deployment.contracts.ItemEscrow.address;
  const eth = (wei: string | bigint) => `${formatEther(wei)} ETH`;
  type Listing = {
    state: string;
    buyable: boolean;
    breakdown: { commissionBps: number; commission: string; sellerReceives: string };
    reputation: { completedSales: number; disputesLost: number };
    provenance: unknown[];
  };
  const listingPage = (id: string) => api<Listing>("GET", `/v1/market/listings/${id}`);
  const stateOf = (id: string, state: string) =>
    waitFor(`trade ${id} to be ${state}`, async () => {
      const r = await listingPage(id);
      return r.status === 200 && r.body.state === state ? r.body : null;
    });
  const inventoryOf = (player: JsonRpcSigner) =>
    waitFor(`${player.address}'s inventory`, async () => {
      const r = await api<{
        items: { itemId: string; balance: string; metadata: { name: string | null } }[];
      }>("GET", `/v1/items?owner=${player.address}`);
      return r.body.items.find((i) => i.itemId === itemId.toString()) ?? null;
    });
  /** A trade step's button: the API prepares the transactions, the player's wallet signs them. */
  const act = async (player: JsonRpcSigner, id: string, action: string, side: "buyer" | "from") =>
    sendAll(
      player,
      await expectStatus(api("POST", `/v1/trades/${id}/${action}`, { [side]: player.address }), 200, action),
    );

  say("Player A opens Inventory: the items their wallet holds, each with its history");
  const items = GameItems__factory.connect(deployment.contracts.GameItems.address, studio);
  const itemId = BigInt(Date.now());
  const itemName = "Ember Sword";
  const image = `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8" fill="#b45309"/></svg>').toString("base64")}`;
  const metadata = { name: itemName, description: "Forged in the demo", image };
  await (
    await items.defineItem(
      itemId,
      `data:application/json;base64,${Buffer.from(JSON.stringify(metadata)).toString("base64")}`,
      0,
    )
  ).wait();
  await (await items.mint(playerA!.address, itemId, 2, "0x")).wait();
  const held = await inventoryOf(playerA!);
  check(
    held.balance === "2" && held.metadata.name === itemName,
    `Inventory shows 2 × ${itemName} (item ${itemId}), named by its ERC-1155 metadata`,
  );
  const minted = await expectStatus<{ items: { kind: string; amount: string }[] }>(
    api("GET", `/v1/items/${itemId}/history`),
    200,
    "history",
  );
  check(minted.items[0]?.kind === "mint", `History: minted ${minted.items[0]?.amount} to player A`);

  const price = 5n * 10n ** 15n;
  /** The Sell page: the price preview, then the escrow's approval (only when missing) and the listing, signed. */
  async function sell(): Promise<string> {
    const settings = await expectStatus<{ commissionBps: number }>(
      api("GET", "/v1/market/settings"),
      200,
      "market settings",
    );
    const preview = splitPrice(price, settings.commissionBps);
    ok(
      `the price preview: ${eth(price)}, commission ${formatBps(settings.commissionBps)} ` +
        `(${eth(preview.commission)}), player A receives ${eth(preview.sellerReceives)}`,
    );
    const prepared = await expectStatus<{
      transactions: { to: string; data: string; description: string }[];
    }>(
      api("POST", "/v1/trades", {
        seller: playerA!.address,
        itemId: itemId.toString(),
        amount: "1",
        price: price.toString(),
        currency: NATIVE,
        deadline: String((await provider.getBlock("latest"))!.timestamp + 7 * DAY),
      }),
      200,
      "list",
    );
    ok(
      `${prepared.transactions.length === 1 ? "one signature" : `${prepared.transactions.length} signatures`}: ` +
        prepared.transactions.map((t) => t.description).join("; "),
    );
    const receipts = await sendAll(playerA!, prepared);
    const escrow = ItemEscrow__factory.createInterface();
    const listed = receipts
      .at(-1)!
      .logs.map((log) => escrow.parseLog(log))
      .find((parsed) => parsed?.name === "Listed");
    if (!listed) throw new DemoFailure("the listing transaction emitted no Listed event");
    const id = (listed.args.listingId as bigint).toString();
    const page = await waitFor("the market to show the listing", async () => {
      const r = await listingPage(id);
      return r.status === 200 ? r.body : null;
    });
    check(
      page.breakdown.sellerReceives === preview.sellerReceives.toString(),
      `listed as trade #${id}; its page shows what the preview showed`,
    );
    return id;
  }

  say(`Player A sells one ${itemName} on the Sell page`);
  const first = await sell();

  say(`Player B searches the Market for "${itemName.toLowerCase()}", cheapest first, and opens the listing`);
  const found = await expectStatus<{ items: { listingId: string; breakdown: { sellerReceives: string } }[] }>(
    api("GET", `/v1/market/listings?q=${encodeURIComponent(itemName.toLowerCase())}&sort=price_asc&limit=24`),
    200,
    "market search",
  );
  check(
    found.items.some((l) => l.listingId === first),
    `the Market lists trade #${first} among ${found.items.length} open ${itemName} listing(s)`,
  );
  const page = (await listingPage(first)).body;
  check(page.buyable, `the listing's page offers it for ${eth(price)}`);
  ok(
    `the seller's record: ${page.reputation.completedSales} sale(s) completed, ` +
      `${page.reputation.disputesLost} dispute(s) lost; the item's provenance: ${page.provenance.length} step(s)`,
  );

  say("Player B presses Buy and signs with their wallet: the payment waits in escrow");
  await act(playerB!, first, "buy", "buyer");
  await stateOf(first, "paid");
  ok(`trade #${first} is paid`);

  say("Player B presses Confirm receipt, then Claim items: the sword is in B's Inventory");
  await act(playerB!, first, "confirm", "buyer");
  await stateOf(first, "completed");
  ok(`trade #${first} is completed`);
  await act(playerB!, first, "claim-items", "from");
  check(
    (await waitFor("B's sword", async () => {
      const h = await inventoryOf(playerB!);
      return h.balance === "1" ? h : null;
    })) !== null,
    `player B's Inventory shows 1 × ${itemName}`,
  );

  say("Player A's listing page shows the proceeds waiting; A presses Withdraw proceeds");
  const proceeds = (await listingPage(first)).body.breakdown.sellerReceives;
  const escrowBalance = () => provider.getBalance(escrowAddress);
  const inEscrow = await escrowBalance();
  await act(playerA!, first, "claim-funds", "from");
  check(
    (inEscrow - (await escrowBalance())).toString() === proceeds,
    `player A withdrew ${eth(proceeds)}: the price less the commission fixed when listing`,
  );

  say("A second sale goes wrong: player B pays, then disputes it with a reason, a statement and a photo");
  const second = await sell();
  await act(playerB!, second, "buy", "buyer");
  await stateOf(second, "paid");
  const buyerToken = await signIn(playerB!, chainId);
  const asBuyer = { authorization: `Bearer ${buyerToken}` };
  await expectStatus(
    api(
      "POST",
      `/v1/trades/${second}/dispute/statements`,
      { reason: "not_as_described", text: "The sword arrived blunt; the listing said it was sharp." },
      asBuyer,
    ),
    201,
    "statement",
  );
  const photo = Buffer.from(`a photograph of a blunt sword ${randomBytes(8).toString("hex")}`);
  const form = new FormData();
  form.set("file", new Blob([photo], { type: "image/png" }), "blunt-sword.png");
  const upload = await fetch(`${API}/v1/trades/${second}/dispute/files`, {
    method: "POST",
    body: form,
    headers: asBuyer,
  });
  const file = (await upload.json()) as { sha256: string };
  check(
    upload.status === 201 && file.sha256 === `0x${createHash("sha256").update(photo).digest("hex")}`,
    `the photo is kept with its SHA-256 ${file.sha256.slice(0, 18)}…`,
  );
  await act(playerB!, second, "dispute", "buyer");
  await stateOf(second, "disputed");
  ok(`trade #${second} is disputed: the payment stays in escrow for an arbiter`);

  say("Player A sees it in Notifications and adds their own evidence");
  const sellerToken = await signIn(playerA!, chainId);
  const asSeller = { authorization: `Bearer ${sellerToken}` };
  const notified = await waitFor("player A's notification", async () => {
    const r = await api<{ items: { kind: string; listingId: string; text: string }[] }>(
      "GET",
      "/v1/notifications",
      undefined,
      asSeller,
    );
    return r.body.items.find((n) => n.kind === "disputed" && n.listingId === second);
  });
  ok(`"${notified.text}"`);
  await expectStatus(
    api(
      "POST",
      `/v1/trades/${second}/dispute/statements`,
      { text: "It was sharp when it left my wallet." },
      asSeller,
    ),
    201,
    "seller's statement",
  );
  ok("player A's statement is recorded beside the buyer's evidence");

  say("The arbiter opens the console: the queue, both parties' evidence side by side, and a decision");
  const arbiterToken = await signIn(arbiter!, chainId);
  const asArbiter = { authorization: `Bearer ${arbiterToken}` };
  const queue = await expectStatus<{
    items: { listingId: string; evidenceCount: { buyer: number; seller: number } }[];
  }>(
    api("GET", "/v1/admin/disputes?status=open", undefined, asArbiter),
    200,
    "the dispute queue (the arbiter's wallet must be in ADMIN_ADDRESSES)",
  );
  const queued = queue.items.find((d) => d.listingId === second);
  check(
    queued?.evidenceCount.buyer === 2 && queued.evidenceCount.seller === 1,
    `trade #${second} is in the queue with 2 pieces of the buyer's evidence and 1 of the seller's`,
  );
  const sides = await expectStatus<{
    evidence: Record<"buyer" | "seller", { kind: string; sha256: string }[]>;
    allowedOutcomes: { outcome: string }[];
  }>(api("GET", `/v1/trades/${second}/dispute`, undefined, asArbiter), 200, "dispute");
  ok(
    `the outcomes the escrow allows now: ${sides.allowedOutcomes.map((o) => o.outcome.replace("_", " ")).join(", ")}`,
  );
  const reason = "The buyer's photo shows a blunt sword; the listing promised a sharp one.";
  await sendAll(
    arbiter!,
    await expectStatus(
      api("POST", `/v1/admin/trades/${second}/resolve`, { refundBuyer: true, reason }, asArbiter),
      200,
      "resolve",
    ),
  );
  await stateOf(second, "refunded");
  ok("the arbiter refunded the buyer, signed with the arbiter's wallet");
  for (const [who, headers] of [
    ["player B", asBuyer],
    ["player A", asSeller],
  ] as const) {
    const seen = await expectStatus<{ decisions: { reason: string }[] }>(
      api("GET", `/v1/trades/${second}/dispute`, undefined, headers),
      200,
      "dispute",
    );
    check(seen.decisions.at(-1)?.reason === reason, `${who} reads the decision with its reason`);
  }

  say("Player B withdraws the refund and player A claims the sword back; its provenance shows every step");
  await act(playerB!, second, "claim-funds", "from");
  await act(playerA!, second, "claim-items", "from");
  check(
    (await items.balanceOf(playerA!.address, itemId)) === 1n,
    "player A holds the sword again, player B has the payment back",
  );
  const names = new Map([
    [playerA!.address.toLowerCase(), "player A"],
    [playerB!.address.toLowerCase(), "player B"],
    [escrowAddress.toLowerCase(), "the escrow"],
  ]);
  const party = (address: string | null) => names.get(address?.toLowerCase() ?? "") ?? address;
  const history = await waitFor("the provenance to show the return", async () => {
    const r = await api<{
      items: {
        kind: string;
        event: string;
        listingId: string | null;
        from: string | null;
        to: string | null;
      }[];
    }>("GET", `/v1/items/${itemId}/history?limit=50`);
    return r.body.items[0]?.kind === "transfer" &&
      r.body.items[0].to?.toLowerCase() === playerA!.address.toLowerCase()
      ? r.body.items
      : null;
  });
  for (const s of [...history].reverse()) {
    console.log(
      `     ${
        s.kind === "trade"
          ? `trade #${s.listingId}: ${s.event}`
          : s.kind === "mint"
            ? `minted to ${party(s.to)}`
            : `moved from ${party(s.from)} to ${party(s.to)}`
      }`,
    );
  }
  const events = history.filter((s) => s.kind === "trade").map((s) => `${s.listingId} ${s.event}`);
  check(
    [
      `${first} Listed`,
      `${first} Bought`,
      `${first} Completed`,
      `${second} Disputed`,
      `${second} Refunded`,
    ].every((e) => events.includes(e)),
    "listing, sale, dispute and refund of both trades are all in the item's provenance",
  );

  const adminToken = await signIn(admin!, chainId);

  say("A legal team exports an evidence bundle and the verifier passes it");
  const created = await expectStatus<{ key: string }>(
    api(
      "POST",
      "/v1/admin/api-keys",
      { name: "Demo legal team", scopes: ["legal"] },
      { authorization: `Bearer ${adminToken}` },
    ),
    201,
    "API key",
  );
  const evidence = await expectStatus<{ id: string }>(
    api(
      "POST",
      "/v1/evidence",
      {
        workId: work.workId,
        infringement: {
          url: "https://example.com/copy",
          observedAt: new Date().toISOString(),
          notes: "Found in the wild",
        },
      },
      { "x-api-key": created.key },
    ),
    202,
    "evidence request",
  );
  await provider.send("evm_mine", []);
  await waitFor("the bundle", async () => {
    const r = await api<{ status: string; error?: string }>("GET", `/v1/evidence/${evidence.id}`, undefined, {
      "x-api-key": created.key,
    });
    if (r.body.status === "failed") throw new DemoFailure(`evidence failed: ${r.body.error}`);
    return r.body.status === "ready";
  });
  const zip = await fetch(`${API}/v1/evidence/${evidence.id}/bundle.zip`, {
    headers: { "x-api-key": created.key },
  });
  const bytes = new Uint8Array(await zip.arrayBuffer());
  ok(`downloaded bundle.zip (${bytes.length.toLocaleString("en-US")} bytes)`);
  const report = await verifyBundle(bytes, { provider, minConfirmations: 1 });
  for (const c of report.checks)
    console.log(`     ${c.skipped ? "SKIP" : c.ok ? "PASS" : "FAIL"}  ${c.name}`);
  check(report.ok, "the independent verifier passes every check");

  say(
    "The creator sells redemption codes with the offer; a buyer pays by card with a coupon and gets one code",
  );
  const creatorAuth = { authorization: `Bearer ${creatorToken}` };
  const generated = await expectStatus<{ batch: { count: number } }>(
    api(
      "POST",
      `/v1/offers/${offerId}/codes`,
      { generate: { count: 5, format: "DEMO-#####-#####" } },
      creatorAuth,
    ),
    201,
    "code upload",
  );
  ok(`${generated.batch.count} codes generated and sealed; their Merkle root goes on chain`);
  const coupon = `DEMO${randomBytes(3).toString("hex").toUpperCase()}`;
  await expectStatus(
    api(
      "POST",
      "/v1/coupons",
      { code: coupon, kind: "percent", value: 20, maxUses: 5, maxUsesPerBuyer: 1, offerIds: [offerId] },
      creatorAuth,
    ),
    201,
    "coupon",
  );
  const codeBuyer = Wallet.createRandom().address;
  const codeOrder = await expectStatus<{
    orderId: string;
    checkoutUrl: string;
    orderSecret: string;
    amount: number;
    discount: number;
  }>(api("POST", "/v1/checkout", { offerId, wallet: codeBuyer, coupon }), 201, "checkout with a coupon");
  check(
    codeOrder.amount === 1520 && codeOrder.discount === 380,
    `the checkout shows the coupon ${coupon}: $19.00 less 20%, $15.20 to pay`,
  );
  const codePay = await fetch(new URL(`${new URL(codeOrder.checkoutUrl, API).pathname}/pay`, API), {
    method: "POST",
    redirect: "manual",
  });
  check(codePay.status === 303, "paid $15.20 on the checkout page");
  const boughtCode = await waitFor("the code", async () => {
    const r = await api<{ status: string; code: string | null }>(
      "GET",
      `/v1/orders/${codeOrder.orderId}/code?secret=${codeOrder.orderSecret}`,
    );
    return r.body.status === "delivered" ? r.body : null;
  });
  check(
    /^DEMO-\w{5}-\w{5}$/.test(boughtCode.code ?? ""),
    `the order page shows the buyer's code ${boughtCode.code}`,
  );
  const proof = await waitFor("the code's batch on chain", async () => {
    const r = await api<{
      batchId: string;
      salt: string;
      codeHash: string;
      proof: string[];
      contract: string;
    }>("GET", `/v1/orders/${codeOrder.orderId}/code/proof?secret=${codeOrder.orderSecret}`);
    return r.status === 200 ? r.body : null;
  });
  const commitments = CodeCommitments__factory.connect(proof.contract, provider);
  check(
    await commitments.verifyCode(proof.batchId, proof.salt, proof.codeHash, proof.proof),
    "CodeCommitments.verifyCode proves on chain that the code was issued in the offer's committed batch",
  );
  const redeemKey = await expectStatus<{ key: string }>(
    api("POST", "/v1/codes/keys", { name: "demo shop" }, creatorAuth),
    201,
    "redemption key",
  );
  await expectStatus(
    api(
      "POST",
      "/v1/codes/redeem",
      { code: boughtCode.code, redeemer: "demo player" },
      { "x-api-key": redeemKey.key },
    ),
    200,
    "redeem",
  );
  const again = await api<{ error: { code: string } }>(
    "POST",
    "/v1/codes/redeem",
    { code: boughtCode.code },
    { "x-api-key": redeemKey.key },
  );
  check(
    again.status === 409 && again.body.error.code === "CODE_ALREADY_REDEEMED",
    "the creator's system redeems the code once; a second redemption is refused, naming when and by whom",
  );

  say(
    "The creator runs a one-hour flash sale on the offer: $15.00 by card instead of $19.00, one per wallet",
  );
  const sale = await expectStatus<{ id: string; endsAt: string }>(
    api(
      "POST",
      `/v1/offers/${offerId}/sales`,
      { amount: 1500, endsAt: new Date(Date.now() + 3600_000).toISOString(), maxPerWallet: 1 },
      creatorAuth,
    ),
    201,
    "sale window",
  );
  const onSale = await expectStatus<{ sale: { amount: number; endsAt: string } | null }>(
    api("GET", `/v1/offers/${offerId}`),
    200,
    "offer on sale",
  );
  check(onSale.sale?.amount === 1500, `the offer shows the sale price until ${onSale.sale?.endsAt}`);
  const saleBuyer = Wallet.createRandom().address;
  const saleOrder = await expectStatus<{ amount: number; listAmount: number; saleAmount: number | null }>(
    api("POST", "/v1/checkout", { offerId, wallet: saleBuyer }),
    201,
    "checkout during the sale",
  );
  check(
    saleOrder.amount === 1500 && saleOrder.listAmount === 1900 && saleOrder.saleAmount === 1500,
    "the checkout charges the sale price: $15.00, list price $19.00",
  );
  const secondSale = await api<{ error: { code: string } }>("POST", "/v1/checkout", {
    offerId,
    wallet: saleBuyer,
  });
  check(
    secondSale.status === 403 && secondSale.body.error.code === "SALE_LIMIT_REACHED",
    "a second checkout by the same wallet is refused: one per wallet at the sale price",
  );
  await expectStatus(
    api("DELETE", `/v1/offers/${offerId}/sales/${sale.id}`, undefined, creatorAuth),
    200,
    "end the sale",
  );
  ok("the creator ends the sale early; the offer sells at $19.00 again");

  say("A buyer without a wallet extension pays by card with an email address and claims the license later");
  const email = `buyer-${randomBytes(4).toString("hex")}@example.com`;
  const heldOrder = await expectStatus<{ orderId: string; checkoutUrl: string; orderSecret: string }>(
    api("POST", "/v1/checkout", { offerId, email }),
    201,
    "checkout with an email",
  );
  const heldPay = await fetch(new URL(`${new URL(heldOrder.checkoutUrl, API).pathname}/pay`, API), {
    method: "POST",
    redirect: "manual",
  });
  check(heldPay.status === 303, `paid by card, no wallet given, only ${email}`);
  await waitFor("the license to be held", async () => {
    const r = await api<{ status: string }>(
      "GET",
      `/v1/orders/${heldOrder.orderId}?secret=${heldOrder.orderSecret}`,
    );
    if (r.body.status === "failed") throw new DemoFailure(`order failed: ${JSON.stringify(r.body)}`);
    return r.body.status === "held" ? r.body : null;
  });
  ok("the card is captured and the license held for the email address: nothing minted yet");
  const claimLink = await waitFor("the claim-link mail", () => caughtClaimLink(email));
  ok(`the claim link arrived by mail: ${claimLink.replace(/#token=.*/, "#token=…")}`);
  const foundByEmail = await expectStatus<{ orderId: string; status: string }>(
    api("POST", "/v1/orders/lookup", { email, secret: heldOrder.orderSecret }),
    200,
    "lookup",
  );
  const wrong = await api<{ error: { code: string } }>("POST", "/v1/orders/lookup", {
    email: `someone-else@example.com`,
    secret: heldOrder.orderSecret,
  });
  check(
    foundByEmail.orderId === heldOrder.orderId && wrong.status === 404,
    "the order is found again by email and order secret; another email gets 404",
  );
  const claimer = Wallet.createRandom();
  const claimerToken = await signIn(claimer, chainId);
  const token = new URL(claimLink).hash.replace(/^#token=/, "");
  const claimed = await expectStatus<{ wallet: string }>(
    api("POST", "/v1/claims", { token }, { authorization: `Bearer ${claimerToken}` }),
    200,
    "claim",
  );
  check(claimed.wallet === claimer.address, `claimed by a fresh wallet ${claimer.address} signed in with it`);
  const replay = await api<{ error: { code: string } }>(
    "POST",
    "/v1/claims",
    { token },
    { authorization: `Bearer ${creatorToken}` },
  );
  check(
    replay.status === 410 && replay.body.error.code === "CLAIM_USED",
    "the link works once: another wallet is refused with CLAIM_USED",
  );
  const claimedLicense = await waitFor("the claimed license to be minted", async () => {
    const r = await api<{ status: string; tokenId: string | null }>(
      "GET",
      `/v1/orders/${heldOrder.orderId}?secret=${heldOrder.orderSecret}`,
    );
    if (r.body.status === "failed") throw new DemoFailure(`claim failed: ${JSON.stringify(r.body)}`);
    return r.body.status === "fulfilled" ? r.body : null;
  });
  check(
    (await licenses.ownerOf(claimedLicense.tokenId!)) === claimer.address,
    `license token ${claimedLicense.tokenId} is in the claiming wallet (checked on chain)`,
  );
  const claimerOrders = await expectStatus<{ items: { id: string }[] }>(
    api("GET", "/v1/orders", undefined, { authorization: `Bearer ${claimerToken}` }),
    200,
    "order history",
  );
  check(
    claimerOrders.items.some((i) => i.id === heldOrder.orderId),
    "the claiming wallet's order history lists the order",
  );

  console.log(`\nEvery step checked out.`);
}

try {
  await main();
  provider.destroy();
  process.exit(0);
} catch (err) {
  console.error(`\n   ✘ ${err instanceof Error ? err.message : String(err)}`);
  provider.destroy();
  process.exit(1);
}
