import { expect } from "chai";
import request from "supertest";
import { startBrowserStack, type BrowserStack } from "../helpers/browser.ts";
import { soleCreatorOffer } from "../helpers/commerce.ts";

const CREATOR = 5;

describe("web app: a creator starts a sale window; buyers see the sale price struck against the list price", function () {
  this.timeout(300_000);
  let b: BrowserStack;
  let offerId: string;

  before(async () => {
    b = await startBrowserStack("web_sales");
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

  it("starts a sale from the offer's page, which then shows the sale price and when it ends", async () => {
    const { page } = b;
    await page.goto(`${b.baseUrl}/offers/${offerId}`);
    await b.connectDevAccount(CREATOR);
    const sales = page.getByRole("region", { name: "Sale windows" });
    await sales.getByRole("spinbutton", { name: /Sale price/ }).fill("14.00");
    await sales.getByRole("spinbutton", { name: "Orders per wallet" }).fill("2");
    await sales.getByRole("button", { name: "Start sale" }).click();
    await sales
      .getByTestId("sales")
      .getByText(/On now/)
      .waitFor({ timeout: 30_000 });
    const card = page.getByRole("article", { name: `Offer #${offerId}` });
    await card.getByTestId("sale-price").getByText("$14.00").waitFor({ timeout: 30_000 });
    expect(await card.locator("s.list-price").textContent()).to.equal("$20.00");
    await card.getByText(/ends in 23 h/).waitFor();
    await b.screenshot("offer-sale");
    await page.getByRole("button", { name: "Disconnect" }).click();
  });

  it("a card buyer pays the sale price; the order page shows it against the list price", async () => {
    const { page, stack } = b;
    const wallet = (await stack.signer(12)).address;
    const checkout = await request(stack.app).post("/v1/checkout").send({ offerId, wallet });
    expect(checkout.status, JSON.stringify(checkout.body)).to.equal(201);
    expect(checkout.body).to.include({ amount: 1400, listAmount: 2000, saleAmount: 1400 });
    const { orderId, orderSecret } = checkout.body as { orderId: string; orderSecret: string };
    await page.goto(`${b.baseUrl}/orders/${orderId}?secret=${orderSecret}`);
    const note = page.getByTestId("order-sale");
    await note.waitFor({ timeout: 30_000 });
    expect(await note.textContent()).to.equal("Sale price $14.00, list price $20.00");
    await page.getByRole("heading", { name: /\$14\.00/ }).waitFor();
    await b.screenshot("order-sale");
  });
});
