import { expect } from "chai";
import { ethers } from "ethers";
import { LicenseToken__factory } from "../../types/typechain/index.ts";
import { startBrowserStack, type BrowserStack } from "../helpers/browser.ts";
import { offerTerms, publishOffer, registerWork, soleSplit } from "../helpers/commerce.ts";

/** Development accounts the browser signs with (0–4 hold the platform's roles). */
const CREATOR = 5;
const OTHER_CREATOR = 6;
const BUYER = 7;
const REFERRER = 8;

describe("web app: an offer's page and its referral links", function () {
  this.timeout(300_000);
  let b: BrowserStack;
  let offerId: string;
  let referrer: string;
  let buyer: string;

  before(async () => {
    b = await startBrowserStack("web_offer");
    const creator = await b.stack.signer(CREATOR);
    referrer = (await b.stack.signer(REFERRER)).address;
    buyer = (await b.stack.signer(BUYER)).address;
    const work = await registerWork(b.stack, creator);
    offerId = await publishOffer(b.stack, creator, work, offerTerms(await soleSplit(b.stack, creator)), {
      amount: 900,
      currency: "usd",
    });
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(b.stack.warnings().join(""));
    expect(b.takePageErrors(), "uncaught errors in the page").to.deep.equal([]);
  });
  after(async () => b?.stop());

  it("lets the offer's creator approve a referrer without gas and hands out the referral link", async () => {
    const { page } = b;
    await page.goto(`${b.baseUrl}/offers/${offerId}`);
    await b.connectDevAccount(CREATOR);
    const section = page.getByRole("region", { name: "Referrers" });
    await section.getByText("An approved referrer earns 5% of each sale").waitFor();
    await section.getByLabel("Referrer address").fill("0x1234");
    await section.getByRole("button", { name: "Approve referrer" }).click();
    await section.getByText(/Enter the referrer's wallet address/).waitFor();
    await section.getByLabel("Referrer address").fill(referrer);
    await section.getByRole("button", { name: "Approve referrer" }).click();
    await section.getByText(`Approved ${referrer}.`).waitFor({ timeout: 60_000 });
    const row = section.getByRole("row", { name: new RegExp(referrer) });
    await row.getByText("Approved", { exact: true }).waitFor();
    expect(await row.getByText(`${b.baseUrl}/offers/${offerId}?ref=${referrer}`).count()).to.equal(1);
    const licenses = LicenseToken__factory.connect(
      b.stack.deployment.contracts.LicenseToken.address,
      b.stack.provider,
    );
    expect(await licenses.isReferrer(offerId, referrer)).to.equal(true);
    await b.screenshot("offer-referrers");
  });

  it("shows another creator the offer without its referrers", async () => {
    const { page } = b;
    await page.getByRole("button", { name: "Disconnect" }).click();
    await b.connectDevAccount(OTHER_CREATOR);
    await page.getByRole("article", { name: `Offer #${offerId}` }).waitFor();
    expect(await page.getByRole("region", { name: "Referrers" }).count()).to.equal(0);
  });

  it("buys through a referral link with the wallet and by card, both naming the referrer", async () => {
    const { page, stack } = b;
    await page.getByRole("button", { name: "Disconnect" }).click();
    await page.goto(`${b.baseUrl}/offers/${offerId}?ref=${referrer}`);
    await b.connectDevAccount(BUYER);
    const offer = page.getByRole("article", { name: `Offer #${offerId}` });
    await offer.getByText(`Referred by ${referrer}`).waitFor();
    await b.screenshot("offer-referral-link");
    const licenses = LicenseToken__factory.connect(
      stack.deployment.contracts.LicenseToken.address,
      stack.provider,
    );
    const { price, platformFeeBps } = await licenses.getOffer(offerId);
    await offer.getByRole("button", { name: "Buy with wallet" }).click();
    await offer.getByText(/^Bought: transaction/).waitFor({ timeout: 60_000 });
    expect(await licenses.owed(referrer, ethers.ZeroAddress)).to.equal((price * 500n) / 10_000n);
    expect(platformFeeBps).to.be.greaterThan(0n);

    await offer.getByRole("button", { name: "Buy with card" }).click();
    // With a wallet connected the license goes to it: the card form asks nothing more.
    await offer
      .getByRole("form", { name: "Card checkout" })
      .getByRole("button", { name: "Continue to payment" })
      .click();
    await page.getByText("Waiting for your card payment.").waitFor();
    const { rows } = await stack.db.pool.query(
      `SELECT referrer FROM orders WHERE wallet = $1 ORDER BY created_at DESC LIMIT 1`,
      [buyer.toLowerCase()],
    );
    expect(rows[0].referrer).to.equal(referrer.toLowerCase());
  });

  it("refuses a referral link naming the buyer's own wallet before anything is sent", async () => {
    const { page } = b;
    await page.goto(`${b.baseUrl}/offers/${offerId}?ref=${buyer}`);
    const offer = page.getByRole("article", { name: `Offer #${offerId}` });
    await offer
      .getByRole("alert")
      .getByText(/cannot refer their own purchase/)
      .waitFor();
    expect(await offer.getByRole("button", { name: "Buy with wallet" }).isDisabled()).to.equal(true);
    expect(await offer.getByRole("button", { name: "Buy with card" }).isDisabled()).to.equal(true);
    await page.goto(`${b.baseUrl}/offers/${offerId}?ref=not-an-address`);
    await page.getByText(/referrer is not an address/).waitFor();
  });
});
