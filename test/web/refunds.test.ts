import { expect } from "chai";
import request from "supertest";
import { startMailCatcher, type MailCatcher } from "../../scripts/stack/mail-catcher.ts";
import { startBrowserStack, type BrowserPlayer, type BrowserStack } from "../helpers/browser.ts";
import { soleCreatorOffer } from "../helpers/commerce.ts";

const CREATOR = 5;

describe("web app: a card buyer asks for a refund on the order page; the creator approves it in another browser", function () {
  this.timeout(300_000);
  let b: BrowserStack;
  let creatorPlayer: BrowserPlayer;
  let catcher: MailCatcher;
  let offerId: string;

  before(async () => {
    catcher = await startMailCatcher();
    b = await startBrowserStack("web_refunds", {
      SMTP_URL: catcher.url,
      MAIL_FROM: "refunds@rights-ledger.test",
    });
    const creator = await b.stack.signer(CREATOR);
    offerId = await soleCreatorOffer(b.stack, creator);
    creatorPlayer = await b.newPlayer();
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(b.stack.warnings().join(""));
    expect(b.takePageErrors(), "uncaught errors in the buyer's page").to.deep.equal([]);
    expect(creatorPlayer.takePageErrors(), "uncaught errors in the creator's page").to.deep.equal([]);
  });
  after(async () => {
    await b?.stop();
    await catcher?.stop();
  });

  it("requests, approves, refunds and revokes, each step live, and mails the decision", async () => {
    const { page, stack } = b;
    const wallet = (await stack.signer(13)).address;
    const checkout = await request(stack.app).post("/v1/checkout").send({ offerId, wallet });
    expect(checkout.status, JSON.stringify(checkout.body)).to.equal(201);
    const { orderId, orderSecret, checkoutUrl } = checkout.body as {
      orderId: string;
      orderSecret: string;
      checkoutUrl: string;
    };
    await page.goto(checkoutUrl);
    await page.getByRole("button", { name: /^Pay / }).click();
    await page.goto(`${b.baseUrl}/orders/${orderId}?secret=${orderSecret}`);
    // The order completes once the mint is in a safe block: let the chain move on meanwhile.
    const issued = page.getByText("Your license is issued.");
    await stack.waitFor(async () => {
      await stack.provider.send("evm_mine", []);
      return issued.isVisible();
    }, 120_000);

    const refund = page.getByRole("region", { name: "Refund" });
    await refund.getByLabel("Why do you want a refund?").fill("The stems are missing the drum track.");
    await refund.getByLabel("Email for the decision (optional)").fill("buyer@example.com");
    await refund.getByRole("button", { name: "Request a refund" }).click();
    await refund.getByTestId("refund-status").getByText("requested").waitFor({ timeout: 30_000 });
    await b.screenshot("order-refund-requested");

    const creator = creatorPlayer.page;
    await creator.goto(`${b.baseUrl}/offers/${offerId}`);
    await creatorPlayer.connectDevAccount(CREATOR);
    const requests = creator.getByRole("region", { name: "Refund requests" });
    await requests.getByRole("button", { name: "Sign in to see the requests" }).click();
    const item = requests.getByTestId("refund-request").filter({ hasText: "drum track" });
    await item.waitFor({ timeout: 30_000 });
    await creatorPlayer.screenshot("offer-refund-requests");
    await item.getByLabel("Your reason (the buyer reads it)").fill("Sorry, the upload was incomplete.");
    await item.getByRole("button", { name: "Approve and refund" }).click();
    await item.getByText(/Approved/).waitFor({ timeout: 30_000 });

    // The buyer's page moves on its own: approved, refunded, then the license revoked.
    await refund
      .getByTestId("refund-decision")
      .getByText(/incomplete/)
      .waitFor({ timeout: 30_000 });
    await refund.getByTestId("refund-status").getByText("refunded").waitFor({ timeout: 60_000 });
    await page.getByText("The payment was refunded and the license revoked.").waitFor();
    const revoked = page.getByTestId("license-revoked");
    await stack.waitFor(async () => {
      await stack.provider.send("evm_mine", []);
      return revoked.isVisible();
    }, 60_000);
    await b.screenshot("order-refunded");

    const [mail] = await catcher.waitFor(1, 30_000);
    expect(mail!.to).to.deep.equal(["buyer@example.com"]);
    expect(mail!.subject).to.match(/approved/);
    expect(mail!.text).to.include("Sorry, the upload was incomplete.");
  });
});
