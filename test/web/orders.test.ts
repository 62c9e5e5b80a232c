import { expect } from "chai";
import { startBrowserStack, type BrowserStack } from "../helpers/browser.ts";
import { mine, soleCreatorOffer } from "../helpers/commerce.ts";
import { startMailCatcher, type MailCatcher } from "../../scripts/stack/mail-catcher.ts";

const CREATOR = 5;
const CLAIMER = 8;

describe("web app: a buyer with no wallet pays by card with an email, finds the order again and claims the license", function () {
  this.timeout(300_000);
  let b: BrowserStack;
  let catcher: MailCatcher;
  let offerId: string;
  const email = `no-wallet-${Date.now()}@example.com`;
  let orderUrl: string;
  let claimLink: string;

  before(async () => {
    catcher = await startMailCatcher();
    b = await startBrowserStack("web_orders", { SMTP_URL: catcher.url });
    const creator = await b.stack.signer(CREATOR);
    offerId = await soleCreatorOffer(b.stack, creator, { amount: 1500, currency: "usd" });
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(b.stack.warnings().join(""));
    expect(b.takePageErrors(), "uncaught errors in the page").to.deep.equal([]);
  });
  after(async () => {
    await b?.stop();
    await catcher?.stop();
  });

  it("refuses a pasted garbage address and pays by card with only an email", async () => {
    const { page } = b;
    await page.goto(`${b.baseUrl}/offers/${offerId}`);
    await page.getByRole("button", { name: "Buy with card" }).click();
    const form = page.getByRole("form", { name: "Card checkout" });
    await form.getByText(/No wallet extension\?/).waitFor();
    await b.screenshot("checkout-without-wallet");

    await form.getByLabel("Email").fill(email);
    await form.getByLabel(/Wallet address/).fill("0x12345");
    await form.getByRole("button", { name: "Continue to payment" }).click();
    // The browser keeps a malformed address from being sent at all.
    expect(
      await form
        .getByLabel(/Wallet address/)
        .evaluate((el) => (el as unknown as { validity: { valid: boolean } }).validity.valid),
    ).to.equal(false);
    await form.getByLabel(/Wallet address/).fill("");
    await form.getByRole("button", { name: "Continue to payment" }).click();
    await page.waitForURL(/\/orders\/[\w-]+\?secret=/);
    orderUrl = page.url();

    const pay = await page.getByRole("link", { name: /Pay with card/ }).getAttribute("href");
    await page.goto(pay!);
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.goto(orderUrl);
    await page.getByText("Paid. Your license is kept for you until you claim it with a wallet.").waitFor({
      timeout: 60_000,
    });
    await page.getByText(`We mailed a claim link to ${email}`, { exact: false }).waitFor();
    await b.screenshot("order-held");
  });

  it("mails the claim link, caught by the local SMTP server", async () => {
    const mail = await b.stack.waitFor(async () => {
      const found = catcher.all().find((m) => m.to.includes(email) && /claim/i.test(m.subject));
      return found ?? null;
    }, 60_000);
    const link = /https?:\/\/\S+\/claim#token=[A-Za-z0-9_-]{43}/.exec(mail.text);
    expect(link, mail.text).to.not.equal(null);
    claimLink = link![0];
    expect(new URL(claimLink).origin).to.equal(b.baseUrl);
  });

  it("finds the order again by email and order secret; a wrong secret reads as not found", async () => {
    const { page } = b;
    const secret = new URL(orderUrl).searchParams.get("secret")!;
    await page.goto(`${b.baseUrl}/orders/find`);
    const form = page.getByRole("form", { name: "Find an order" });
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Order secret").fill(`${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`);
    await form.getByRole("button", { name: "Find the order" }).click();
    await page
      .getByRole("alert")
      .getByText(/not found/i)
      .waitFor();
    await form.getByLabel("Order secret").fill(secret);
    await b.screenshot("find-order");
    await form.getByRole("button", { name: "Find the order" }).click();
    await page.waitForURL(/\/orders\/[\w-]+\?secret=/);
    expect(new URL(page.url()).pathname).to.equal(new URL(orderUrl).pathname);
    await page.getByText(/held for/).waitFor();
  });

  it("claims the license with a dev wallet; the link then works no more", async () => {
    const { page, stack } = b;
    await page.goto(claimLink);
    await page.getByRole("heading", { name: "A license is kept for you" }).waitFor();
    await b.connectDevAccount(CLAIMER);
    await b.screenshot("claim");
    await page.getByRole("button", { name: /Claim the license to/ }).click();
    await stack.waitFor(async () => {
      await mine(stack);
      return page.getByText(/is in your wallet/).isVisible();
    }, 60_000);
    await b.screenshot("claimed");

    const again = await b.newPlayer();
    await again.page.goto(claimLink);
    await again.connectDevAccount(CLAIMER + 1);
    await again.page.getByRole("button", { name: /Claim the license to/ }).click();
    await again.page
      .getByRole("alert")
      .getByText(/was used already/)
      .waitFor();
    expect(again.takePageErrors()).to.deep.equal([]);
    await again.context.close();
  });

  it("lists the claimed order under My orders for the claiming wallet", async () => {
    const { page } = b;
    await page.goto(`${b.baseUrl}/orders`);
    const signIn = page.getByRole("button", { name: "Sign in to see your orders" });
    const table = page.getByRole("table", { name: "Orders" });
    // The page shows one or the other once it knows whether the wallet has a session.
    await signIn.or(table).first().waitFor();
    if (await signIn.isVisible()) await signIn.click();
    await table.getByText("$15.00").waitFor({ timeout: 30_000 });
    await table.getByText("fulfilled").waitFor();
    await b.screenshot("my-orders");
  });
});
