import { mkdir } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { DEV_SETTLEMENT_TREASURY_INDEX } from "../../scripts/deploy-contracts.ts";
import { DevStablecoin__factory, ItemEscrow__factory } from "../../types/typechain/index.ts";
import { startBrowserStack, type BrowserPlayer, type BrowserStack } from "../helpers/browser.ts";
import { defineItem, svgImage, metadataUri } from "../helpers/market.ts";
import { devWallet } from "../helpers/stack.ts";

/** Development accounts: the platform's admin and arbiter, and two players. */
const ADMIN = 0;
const ARBITER = 2;
const A = 5;
const B = 6;
const SWORD = 501n;
const SHIELD = 502n;
/** `UPDATE_SCREENS=1` saves each new page at both sizes into docs/screens/ for the README. */
const SCREENS = process.env.UPDATE_SCREENS ? path.resolve("docs/screens") : null;

/** The page at 1280×800 and 390×844 into docs/screens/<name>-{desktop,mobile}.png, when asked to. */
async function screens(player: BrowserPlayer, name: string): Promise<void> {
  await player.screenshot(name);
  if (!SCREENS) return;
  await mkdir(SCREENS, { recursive: true });
  const viewport = player.page.viewportSize()!;
  for (const [size, width, height] of [
    ["desktop", 1280, 800],
    ["mobile", 390, 844],
  ] as const) {
    await player.page.setViewportSize({ width, height });
    await player.page.evaluate("window.scrollTo(0, 0)");
    await player.page.waitForTimeout(200);
    await player.page.screenshot({ path: path.join(SCREENS, `${name}-${size}.png`) });
  }
  await player.page.setViewportSize(viewport);
}

/** Waits for what `locate` finds, reloading the page while the chain's mirror has not caught up yet. */
async function soon(
  player: BrowserPlayer,
  locate: () => ReturnType<BrowserPlayer["page"]["locator"]>,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await locate().waitFor({ timeout: 2000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await player.page.reload();
    }
  }
}

describe("web app: the trading floor, two players and an arbiter", function () {
  this.timeout(600_000);
  let b: BrowserStack;
  let seller: BrowserPlayer;
  let buyer: BrowserPlayer;
  let arbiter: BrowserPlayer;
  let sale: string;
  let disputed: string;
  const players = () => [seller, buyer, arbiter].filter(Boolean);

  const listingIdOf = (player: BrowserPlayer) => /\/market\/(\d+)$/.exec(player.page.url())![1]!;
  const state = (player: BrowserPlayer, value: string) =>
    player.page
      .locator(".page-title .badge", { hasText: new RegExp(`^${value}$`) })
      .waitFor({ timeout: 60_000 });
  const done = (player: BrowserPlayer, text: string) =>
    player.page.getByText(`${text}: done.`).waitFor({ timeout: 60_000 });

  before(async () => {
    b = await startBrowserStack("web_market", { ADMIN_ADDRESSES: devWallet(ARBITER).address });
    seller = b;
    buyer = await b.newPlayer();
    arbiter = await b.newPlayer();
    const { stack } = b;
    const [a, bAddress] = [devWallet(A).address, devWallet(B).address];
    await defineItem(stack, SWORD, "Ember Sword", [a], 3n);
    await defineItem(
      stack,
      SHIELD,
      "Frost Shield",
      [a],
      2n,
      metadataUri({ name: "Frost Shield", description: "Never melts", image: svgImage("#1d4ed8") }),
    );
    const treasury = await stack.signer(DEV_SETTLEMENT_TREASURY_INDEX);
    const usd = DevStablecoin__factory.connect(stack.deployment.settlementToken, treasury);
    await (await usd.transfer(bAddress, 100_000_000n)).wait();
    // The platform charges what item-trading platforms do: 15%, set by the admin's wallet.
    const escrow = ItemEscrow__factory.connect(
      stack.deployment.contracts.ItemEscrow.address,
      await stack.signer(ADMIN),
    );
    await (await escrow.setCommission(1500)).wait();
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") {
      console.error(b.stack.warnings().join(""));
      for (const [i, player] of players().entries()) await player.screenshot(`market-failed-${i}`);
    }
    for (const player of players())
      expect(player.takePageErrors(), "uncaught errors in a page").to.deep.equal([]);
  });
  after(async () => b?.stop());

  it("shows player A's inventory with each item's history, and lists a sword with one approval", async () => {
    const { page } = seller;
    await page.goto(`${b.baseUrl}/inventory`);
    await seller.connectDevAccount(A);
    const sword = page.getByRole("article", { name: "Ember Sword" });
    await sword.getByText("× 3").waitFor();
    await sword.getByRole("button", { name: "History" }).click();
    await sword.getByText(/^Minted 3 to/).waitFor();
    await screens(seller, "inventory");

    await sword.getByRole("link", { name: "Sell" }).click();
    await page.getByLabel("Price (ETH)").fill("0.01");
    const preview = page.getByLabel("Price preview");
    await preview.getByText("Commission (15%)").waitFor();
    await preview.getByText("0.0085 ETH", { exact: true }).waitFor();
    await page.getByText(/^2 signatures: first allow the escrow/).waitFor();
    await screens(seller, "sell");
    await page.getByRole("button", { name: "Approve and list" }).click();
    await page.waitForURL(/\/market\/\d+$/, { timeout: 60_000 });
    sale = listingIdOf(seller);
    await state(seller, "listed");
    await page.getByRole("heading", { name: "Ember Sword" }).waitFor();
  });

  it("lets player B find it in the market, buy it with the wallet and confirm: the sword is B's, A's proceeds withdrawable", async () => {
    const { page } = buyer;
    await page.goto(`${b.baseUrl}/market`);
    await buyer.connectDevAccount(B);
    await page.getByLabel("Item name").fill("ember");
    await page.getByRole("button", { name: "Search" }).click();
    const card = page.getByRole("article", { name: `Ember Sword, trade #${sale}` });
    await card.getByText("0.0085 ETH (after 15%)").waitFor();
    await screens(buyer, "market");
    await card.getByRole("link").click();
    const listing = page.getByRole("article", { name: `Listing #${sale}` });
    await listing.getByText("Commission (15%)").waitFor();
    await page.getByText("Live", { exact: true }).waitFor();
    await screens(buyer, "listing");
    await listing.getByRole("button", { name: "Buy for 0.01 ETH" }).click();
    await done(buyer, "Buying");
    await state(buyer, "paid");
    await listing.getByRole("button", { name: "Confirm receipt" }).click();
    await done(buyer, "Confirming receipt");
    await state(buyer, "completed");
    await listing.getByRole("button", { name: "Claim items" }).click();
    await done(buyer, "Claiming the items");
    await page.goto(`${b.baseUrl}/inventory`);
    await soon(buyer, () => page.getByRole("article", { name: "Ember Sword" }).getByText("× 1"));

    // Player A's page followed the trade live: the proceeds after commission wait for A.
    const own = seller.page.getByRole("article", { name: `Listing #${sale}` });
    await own.getByText("Waiting in escrow for you: your proceeds, 0.0085 ETH.").waitFor({ timeout: 60_000 });
    const before = await b.stack.provider.getBalance(devWallet(A).address);
    await own.getByRole("button", { name: "Withdraw proceeds" }).click();
    await done(seller, "Withdrawing");
    const escrow = ItemEscrow__factory.connect(
      b.stack.deployment.contracts.ItemEscrow.address,
      b.stack.provider,
    );
    expect((await escrow.getListing(sale)).fundsClaimed).to.equal(true);
    expect((await b.stack.provider.getBalance(devWallet(A).address)) > before).to.equal(true);
  });

  it("lets B pay a second item in the stablecoin and dispute it with evidence, and A answer", async () => {
    await seller.page.goto(`${b.baseUrl}/sell?item=${SHIELD}`);
    await seller.page.getByLabel("Currency").selectOption({ label: "tUSD" });
    await seller.page.getByLabel("Price (tUSD)").fill("25");
    await seller.page.getByText("One signature: the escrow may already move your items.").waitFor();
    await seller.page.getByText("21.25 tUSD").waitFor();
    await seller.page.getByRole("button", { name: "List for sale" }).click();
    await seller.page.waitForURL(/\/market\/\d+$/, { timeout: 60_000 });
    disputed = listingIdOf(seller);

    const { page } = buyer;
    await page.goto(`${b.baseUrl}/market?currency=${b.stack.deployment.settlementToken}`);
    await page
      .getByRole("article", { name: `Frost Shield, trade #${disputed}` })
      .getByRole("link")
      .click();
    const listing = page.getByRole("article", { name: `Listing #${disputed}` });
    await listing.getByRole("button", { name: "Buy for 25 tUSD" }).click();
    await done(buyer, "Buying");
    await state(buyer, "paid");
    await listing.getByRole("button", { name: "Dispute" }).click();
    const form = page.getByRole("form", { name: "Open a dispute" });
    await form.getByLabel("Reason").selectOption("not_as_described");
    await form.getByLabel("Statement").fill("The shield melts in the sun; the listing said it never melts.");
    await form.getByLabel(/^Files/).setInputFiles({
      name: "melted-shield.png",
      mimeType: "image/png",
      buffer: Buffer.from("\x89PNG\r\n\x1a\n a photograph of a puddle"),
    });
    await form.getByText(/^SHA-256 0x/).waitFor();
    await form.getByRole("button", { name: "Open dispute" }).click();
    await state(buyer, "disputed");
    const dispute = page.getByRole("region", { name: "Dispute" });
    await dispute.getByRole("region", { name: "Buyer's evidence" }).getByText("melted-shield.png").waitFor();
    await screens(buyer, "dispute");

    await seller.page.getByRole("button", { name: "Sign in to see the dispute" }).click({ timeout: 60_000 });
    const answer = seller.page.getByRole("form", { name: "Add evidence" });
    await answer.getByLabel("Statement").fill("It was frozen solid when it left my wallet.");
    await answer.getByRole("button", { name: "Add evidence" }).click();
    await seller.page.getByText("Added 1 piece of evidence.").waitFor();
    await seller.page.getByRole("link", { name: /^Notifications/ }).click();
    await seller.page
      .getByRole("link", { name: `The buyer disputed trade #${disputed}: add your evidence for the arbiter` })
      .waitFor();
    await screens(seller, "notifications");
  });

  it("lets the arbiter read both sides in the console and refund the buyer, with a reason both parties see", async () => {
    const { page } = arbiter;
    await page.goto(`${b.baseUrl}/arbiter`);
    await arbiter.connectDevAccount(ARBITER);
    await page.getByRole("main").getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: new RegExp(`^Trade #${disputed} `) }).click();
    const detail = page.getByRole("article", { name: `Dispute of trade #${disputed}` });
    await detail.getByRole("region", { name: "Buyer's evidence" }).getByText("melted-shield.png").waitFor();
    await detail
      .getByRole("region", { name: "Seller's evidence" })
      .getByText("It was frozen solid")
      .waitFor();
    await detail.getByText("Commission (15%)").waitFor();
    await screens(arbiter, "arbiter");
    await detail.getByLabel("Refund the buyer; the items go back to the seller").check();
    await detail
      .getByLabel("Reason")
      .fill("The buyer's photo shows the shield melted; the listing promised otherwise.");
    await detail.getByRole("button", { name: "Record decision and sign" }).click();
    await page.getByText("Decision recorded and signed.").waitFor({ timeout: 60_000 });

    await state(buyer, "refunded");
    const listing = buyer.page.getByRole("article", { name: `Listing #${disputed}` });
    await buyer.page.getByText("The buyer's photo shows the shield melted").waitFor();
    await listing.getByRole("button", { name: "Withdraw refund" }).click();
    await done(buyer, "Withdrawing");
    await seller.page.goto(`${b.baseUrl}/market/${disputed}`);
    await seller.page
      .getByRole("article", { name: `Listing #${disputed}` })
      .getByRole("button", { name: "Claim items" })
      .click();
    await done(seller, "Claiming the items");
    await seller.page.getByRole("button", { name: "Sign in to see the dispute" }).click();
    await seller.page.getByText("The buyer's photo shows the shield melted").waitFor();
    const usd = DevStablecoin__factory.connect(b.stack.deployment.settlementToken, b.stack.provider);
    expect(await usd.balanceOf(devWallet(B).address)).to.equal(100_000_000n);
  });

  it("shows every step of both items' provenance, from their mint to where each ended", async () => {
    const { page } = seller;
    const provenance = page.getByRole("list", { name: "Provenance" });
    const steps = async () =>
      (await provenance.locator(".timeline-text").allTextContents())
        .reverse()
        .map((s) => s.replace(/0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4}/g, "0x…"));
    await soon(seller, () => provenance.getByText("1 moved from the escrow to"));
    expect(await steps()).to.deep.equal([
      "Minted 2 to 0x…",
      `Listed trade #${disputed}`,
      "1 moved from 0x… to the escrow",
      `Bought; payment held in escrow trade #${disputed}`,
      `Disputed by the buyer trade #${disputed}`,
      `Trade refunded trade #${disputed}`,
      `Payment taken out of escrow trade #${disputed}`,
      `Items taken out of escrow trade #${disputed}`,
      "1 moved from the escrow to 0x…",
    ]);

    await page.goto(`${b.baseUrl}/market/${sale}`);
    await provenance.getByText(`Payment taken out of escrow trade #${sale}`).waitFor();
    expect(await steps()).to.deep.equal([
      "Minted 3 to 0x…",
      `Listed trade #${sale}`,
      "1 moved from 0x… to the escrow",
      `Bought; payment held in escrow trade #${sale}`,
      `Sale completed trade #${sale}`,
      `Items taken out of escrow trade #${sale}`,
      "1 moved from the escrow to 0x…",
      `Payment taken out of escrow trade #${sale}`,
    ]);
  });
});
