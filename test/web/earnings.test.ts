import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { modelledCardFee } from "../../server/payments/card-fees.ts";
import { salePostings } from "../../server/payouts/postings.ts";
import { IERC20Metadata__factory, SplitFactory__factory } from "../../types/typechain/index.ts";
import { formatUnits } from "../../web/src/format.ts";
import { startBrowserStack, type BrowserStack } from "../helpers/browser.ts";
import { passHoldback } from "../helpers/ledger.ts";
import { payByCard, waitBooked } from "../helpers/card-sales.ts";
import { offerTerms, publishOffer, registerWork } from "../helpers/commerce.ts";

/** Development accounts the browser signs with (0–4 hold the platform's roles). */
const CREATOR = 5;
const CO_AUTHOR = 6;
const BUYER = 7;
const PRICE = 900;
const HOLDBACK_SECONDS = 3600;

describe("web app: Earnings", function () {
  this.timeout(300_000);
  let b: BrowserStack;
  let offerId: string;
  let split: string;
  let creator: string;
  let coAuthor: string;
  /** What the card sale credits the split, in cents. */
  let toSplit: number;

  const stablecoinOf = (account: string) =>
    IERC20Metadata__factory.connect(b.stack.deployment.settlementToken, b.stack.provider).balanceOf(account);
  const figure = (scope: ReturnType<BrowserStack["page"]["getByRole"]>, term: string) =>
    scope.locator("div", { has: b.page.locator("dt", { hasText: new RegExp(`^${term}$`) }) }).locator("dd");

  before(async () => {
    b = await startBrowserStack("web_earnings", {
      SETTLEMENT_HOLDBACK_SECONDS: String(HOLDBACK_SECONDS),
      SETTLEMENT_EVERY_SECONDS: "1",
    });
    const { stack } = b;
    const creatorSigner = await stack.signer(CREATOR);
    creator = creatorSigner.address;
    coAuthor = (await stack.signer(CO_AUTHOR)).address;
    const work = await registerWork(stack, creatorSigner);
    const factory = SplitFactory__factory.connect(
      stack.deployment.contracts.SplitFactory.address,
      creatorSigner,
    );
    await (await factory.createSplit([creator, coAuthor], [7000, 3000])).wait();
    split = await factory.predictSplit([creator, coAuthor], [7000, 3000]);
    offerId = await publishOffer(stack, creatorSigner, work, offerTerms(split, { referrerBps: 0 }), {
      amount: PRICE,
      currency: "usd",
    });
    const lines = salePostings({
      amount: PRICE,
      providerFee: modelledCardFee(PRICE),
      platformFeeBps: 250,
      referrerBps: 0,
      split,
      referrer: null,
    });
    toSplit = -lines.find((l) => l.account === `payee:${split.toLowerCase()}`)!.amount;
    const sale = await payByCard(b, offerId, (await stack.signer(BUYER)).address);
    await waitBooked(b, sale, "sale");
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(b.stack.warnings().join(""));
    expect(b.takePageErrors(), "uncaught errors in the page").to.deep.equal([]);
  });
  after(async () => b?.stop());

  it("shows the creator a card sale's earnings as pending, with a chart of sales per day", async () => {
    const { page } = b;
    await page.goto(`${b.baseUrl}/earnings`);
    await page.getByText("Connect a wallet to see your earnings").waitFor();
    await b.connectDevAccount(CREATOR);
    await page.getByRole("button", { name: "Sign in to see earnings" }).click();
    const offer = page.getByRole("article", { name: `Earnings of offer #${offerId}` });
    const card = offer.getByRole("group", { name: "By card, USD" });
    await card.waitFor();
    expect(await figure(card, "Sales").textContent()).to.equal("1");
    expect(await figure(card, "Gross").textContent()).to.equal("9.00 USD");
    expect(await figure(card, "Net to split").textContent()).to.equal(
      `${formatUnits(String(toSplit), 2)} USD`,
    );
    expect(await figure(card, "Pending").textContent()).to.equal(`${formatUnits(String(toSplit), 2)} USD`);
    expect(await figure(card, "Settled").textContent()).to.equal("0.00 USD");
    const chart = page.getByRole("figure", { name: /Sales per day/ });
    expect(await chart.locator("rect.chart-card").count()).to.equal(1);
    await b.screenshot("earnings-pending");
  });

  it("shows it settled once the holdback passed, and the recipients withdraw the stablecoin", async () => {
    const { page, stack } = b;
    await passHoldback(stack, HOLDBACK_SECONDS);
    const card = page
      .getByRole("article", { name: `Earnings of offer #${offerId}` })
      .getByRole("group", { name: "By card, USD" });
    const amount = `${formatUnits(String(toSplit), 2)} USD`;
    // The page reads its figures again by itself while the settlement job pays the split.
    await stack.waitFor(async () => (await figure(card, "Settled").textContent()) === amount, 60_000);
    expect(await figure(card, "Pending").textContent()).to.equal("0.00 USD");

    // Recipient 0 takes its share of the settled units rounded up; the co-author the rest.
    const units = BigInt(toSplit) * 10_000n;
    const creatorShare = (units * 7000n + 9999n) / 10_000n;
    const coAuthorShare = units - creatorShare;
    const splitCard = page.getByRole("region", { name: `Split ${split}` });
    const before = await stablecoinOf(creator);
    await splitCard
      .getByRole("button", { name: `Withdraw ${formatUnits(String(creatorShare), 6)} stablecoin` })
      .click();
    await page.getByText(/^Withdrawing .* is mined\./).waitFor({ timeout: 60_000 });
    expect((await stablecoinOf(creator)) - before).to.equal(creatorShare);
    await b.screenshot("earnings-withdrawn");

    const coAuthorBefore = await stablecoinOf(coAuthor);
    await splitCard.getByRole("button", { name: "Distribute stablecoin to every recipient" }).click();
    await page.getByText(/^Distributing .* is mined\./).waitFor({ timeout: 60_000 });
    expect((await stablecoinOf(coAuthor)) - coAuthorBefore).to.equal(coAuthorShare);
    await splitCard.getByRole("button", { name: /Distribute stablecoin/ }).waitFor({ state: "detached" });
  });

  it("downloads the creator's ledger as CSV", async () => {
    const { page } = b;
    await page.getByRole("button", { name: "Export the ledger (CSV)" }).click();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download ledger.csv" }).click(),
    ]);
    const text = await readFile((await download.path())!, "utf8");
    expect(text.split("\r\n")[0]).to.match(/^transaction_id,booked_at,kind,/);
    expect(text).to.include(",sale,usd,");
    expect(text).to.include(",settlement,usd,");
  });

  it("shows the co-author their share of the split, and none of the creator's offers", async () => {
    const { page } = b;
    await page.getByRole("button", { name: "Disconnect" }).click();
    await b.connectDevAccount(CO_AUTHOR);
    await page.getByRole("button", { name: "Sign in to see earnings" }).click();
    const shared = page.getByRole("region", { name: `Split ${split}` });
    await shared.getByText("You receive 30% of what this split is paid").waitFor();
    expect(await page.getByRole("article", { name: /^Earnings of offer/ }).count()).to.equal(0);
    const state = shared.getByRole("group", { name: "Card revenue of the split, USD" });
    expect(await figure(state, "Settled").textContent()).to.equal(`${formatUnits(String(toSplit), 2)} USD`);
    await b.screenshot("earnings-co-author");
  });
});
