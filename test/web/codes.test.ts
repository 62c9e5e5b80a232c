import { expect } from "chai";
import { randomBytes } from "node:crypto";
import request from "supertest";
import { startBrowserStack, type BrowserStack } from "../helpers/browser.ts";
import { soleCreatorOffer } from "../helpers/commerce.ts";

const CREATOR = 5;

describe("web app: a creator stocks codes and gives a coupon; a card buyer sees the discount and copies the code", function () {
  this.timeout(300_000);
  let b: BrowserStack;
  let offerId: string;
  const codes = [0, 1].map((i) => `GIFT-${i}-${randomBytes(5).toString("hex").toUpperCase()}`);

  before(async () => {
    b = await startBrowserStack("web_codes");
    const creator = await b.stack.signer(CREATOR);
    offerId = await soleCreatorOffer(b.stack, creator, { amount: 2000, currency: "usd" });
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(b.stack.warnings().join(""));
    expect(b.takePageErrors(), "uncaught errors in the page").to.deep.equal([]);
  });
  after(async () => {
    await b?.stop();
  });

  it("adds codes and a coupon on the offer's page", async () => {
    const { page } = b;
    await page.goto(`${b.baseUrl}/offers/${offerId}`);
    await b.connectDevAccount(CREATOR);
    const stock = page.getByRole("region", { name: "Redemption codes" });
    await stock.getByLabel("Codes").fill(codes.join("\n"));
    await stock.getByRole("button", { name: "Add codes" }).click();
    await stock.getByText(/Added 2 codes/).waitFor({ timeout: 30_000 });
    await stock
      .getByTestId("code-stock")
      .getByText(/2 available/)
      .waitFor();

    const coupons = page.getByRole("region", { name: "Coupons" });
    await coupons.getByRole("textbox", { name: "Code" }).fill("WELCOME25");
    await coupons.getByRole("spinbutton", { name: "Percent" }).fill("25");
    await coupons.getByRole("button", { name: "Give coupon" }).click();
    await coupons
      .getByTestId("coupons")
      .getByText(/WELCOME25/)
      .waitFor({ timeout: 30_000 });
    await b.screenshot("offer-codes-and-coupons");
    await page.getByRole("button", { name: "Disconnect" }).click();
  });

  it("pays by card with the coupon; the order page shows the discount and the code with a copy button", async () => {
    const { page, stack } = b;
    const wallet = (await stack.signer(12)).address;
    const checkout = await request(stack.app)
      .post("/v1/checkout")
      .send({ offerId, wallet, coupon: "welcome25" });
    expect(checkout.status, JSON.stringify(checkout.body)).to.equal(201);
    expect(checkout.body).to.include({ amount: 1500, discount: 500, coupon: "WELCOME25" });
    const { orderId, orderSecret, checkoutUrl } = checkout.body as {
      orderId: string;
      orderSecret: string;
      checkoutUrl: string;
    };
    await page.goto(checkoutUrl);
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.goto(`${b.baseUrl}/orders/${orderId}?secret=${orderSecret}`);
    await page.getByText(/less \$5\.00 with coupon/).waitFor({ timeout: 30_000 });
    const section = page.getByRole("region", { name: "Your code" });
    const shown = await section.getByTestId("redemption-code").textContent({ timeout: 60_000 });
    expect(codes).to.include(shown);
    await section.getByRole("button", { name: /Copy/ }).waitFor();
    await b.screenshot("order-code");
  });
});
