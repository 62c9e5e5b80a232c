/**
 * `npm run demo`: the product's story, step by step, against a running stack (`npm start`):
 * a creator registers and versions a work, publishes an offer with a 3-way split; a buyer pays by
 * (dev) card and the license lands in their wallet; time passes, it expires and is renewed, and the
 * card revenue is settled to the split, where the co-creator withdraws it; two
 * players trade an item through escrow, one trade disputed and resolved; a legal team exports an
 * evidence bundle and the verifier passes it. Exits 0 only if every step checked out.
 *
 * API_URL (default http://127.0.0.1:3000) and CHAIN_RPC_URL (default http://127.0.0.1:8545).
 */
import { createHash, randomBytes } from "node:crypto";
import { JsonRpcProvider, type JsonRpcSigner, type TransactionRequest } from "ethers";
import { SiweMessage } from "siwe";
import { CREATE_OFFER_TYPES, licenseDomain } from "../lib/eip712.ts";
import { readDeployment } from "../lib/deployment.ts";
import { verifyBundle } from "../lib/evidence/verify.ts";
import {
  GameItems__factory,
  IERC20Metadata__factory,
  LicenseToken__factory,
  PayoutSettlement__factory,
  RevenueSplit__factory,
} from "../types/typechain/index.ts";

const API = (process.env.API_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const RPC = process.env.CHAIN_RPC_URL ?? "http://127.0.0.1:8545";
const DAY = 24 * 3600;

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
  return { status: res.status, body: parsed as T };
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

async function send(signer: JsonRpcSigner, tx: { to: string; data: string; value?: string }): Promise<void> {
  const request: TransactionRequest = { to: tx.to, data: tx.data, value: BigInt(tx.value ?? "0") };
  const receipt = await (await signer.sendTransaction(request)).wait();
  if (receipt?.status !== 1) throw new DemoFailure(`transaction to ${tx.to} failed`);
}

async function sendAll(
  signer: JsonRpcSigner,
  body: { transactions: { to: string; data: string; value?: string }[] },
) {
  for (const tx of body.transactions) await send(signer, tx);
}

async function signIn(signer: JsonRpcSigner, chainId: number): Promise<string> {
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
  check(
    settled.amount === toSplit,
    `the split received ${Number(toSplit) / 1e6} tUSD in settlement ${settled.txHash.slice(0, 10)}… (checked on chain)`,
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

  say("Two players trade a game item through escrow");
  const items = GameItems__factory.connect(deployment.contracts.GameItems.address, studio);
  const itemId = BigInt(Date.now());
  await (await items.defineItem(itemId, `ipfs://item-${itemId}`, 0)).wait();
  await (await items.mint(playerA!.address, itemId, 2, "0x")).wait();
  ok(`the studio minted 2 × item ${itemId} to player A`);
  const listingDeadline = String((await provider.getBlock("latest"))!.timestamp + 7 * DAY);
  const price = 5n * 10n ** 15n;
  async function list(): Promise<string> {
    const before = await api<{ items: { listingId: string }[] }>(
      "GET",
      `/v1/trades?seller=${playerA!.address}`,
    );
    const known = new Set(before.body.items.map((t) => t.listingId));
    await sendAll(
      playerA!,
      await expectStatus(
        api("POST", "/v1/trades", {
          seller: playerA!.address,
          itemId: itemId.toString(),
          amount: "1",
          price: price.toString(),
          deadline: listingDeadline,
        }),
        200,
        "list",
      ),
    );
    return waitFor("the listing", async () => {
      const r = await api<{ items: { listingId: string }[] }>("GET", `/v1/trades?seller=${playerA!.address}`);
      return r.body.items.find((t) => !known.has(t.listingId))?.listingId;
    });
  }
  async function stateOf(listingId: string, state: string) {
    return waitFor(`trade ${listingId} to be ${state}`, async () => {
      const r = await api<{ state: string }>("GET", `/v1/trades/${listingId}`);
      return r.body.state === state ? r.body : null;
    });
  }
  const first = await list();
  ok(`player A listed one item (trade ${first})`);
  await sendAll(
    playerB!,
    await expectStatus(api("POST", `/v1/trades/${first}/buy`, { buyer: playerB!.address }), 200, "buy"),
  );
  await stateOf(first, "paid");
  ok("player B paid into escrow");
  await sendAll(
    playerB!,
    await expectStatus(
      api("POST", `/v1/trades/${first}/confirm`, { buyer: playerB!.address }),
      200,
      "confirm",
    ),
  );
  await stateOf(first, "completed");
  ok("player B confirmed the purchase");
  const claim = async (player: typeof playerA, side: "claim-items" | "claim-funds", listingId: string) =>
    sendAll(
      player!,
      await expectStatus(
        api("POST", `/v1/trades/${listingId}/${side}`, { from: player!.address }),
        200,
        side,
      ),
    );
  await claim(playerB, "claim-items", first);
  check((await items.balanceOf(playerB!.address, itemId)) === 1n, "player B claimed the item");
  const escrowBalance = () => provider.getBalance(deployment.contracts.ItemEscrow.address);
  const held = await escrowBalance();
  await claim(playerA, "claim-funds", first);
  check(
    held - (await escrowBalance()) ===
      price - (price * BigInt(deployment.settings.escrowCommissionBps)) / 10_000n,
    "player A claimed the proceeds, less the commission fixed when listing",
  );

  const second = await list();
  await sendAll(
    playerB!,
    await expectStatus(api("POST", `/v1/trades/${second}/buy`, { buyer: playerB!.address }), 200, "buy"),
  );
  await stateOf(second, "paid");
  await sendAll(
    playerB!,
    await expectStatus(
      api("POST", `/v1/trades/${second}/dispute`, { buyer: playerB!.address }),
      200,
      "dispute",
    ),
  );
  await stateOf(second, "disputed");
  ok(`player B disputed trade ${second}`);
  const adminToken = await signIn(admin!, chainId);
  const resolution = await expectStatus<{ transactions: { to: string; data: string }[] }>(
    api(
      "POST",
      `/v1/admin/trades/${second}/resolve`,
      { refundBuyer: true, reason: "The buyer never received the item" },
      { authorization: `Bearer ${adminToken}` },
    ),
    200,
    "resolve",
  );
  await sendAll(arbiter!, resolution);
  await stateOf(second, "refunded");
  ok("the arbiter refunded the buyer");
  await claim(playerA, "claim-items", second);
  await claim(playerB, "claim-funds", second);
  check(
    (await items.balanceOf(playerA!.address, itemId)) === 1n,
    "player A took the item back and player B the payment, each on their own",
  );

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
