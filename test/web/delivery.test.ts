import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { chromium, type Browser } from "playwright-core";
import request from "supertest";
import { CHROMIUM_ARGS, startBrowserStack, type BrowserStack } from "../helpers/browser.ts";
import { mine, offerTerms, publishOffer, soleSplit } from "../helpers/commerce.ts";
import { sessionToken } from "../helpers/stack.ts";

const CREATOR = 5;

function sha256(bytes: Buffer): string {
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}

describe("web app: a card buyer downloads the bought file, and nobody else can", function () {
  this.timeout(300_000);
  let b: BrowserStack;
  let other: Browser;
  let offerId: string;
  let workId: string;
  const file = randomBytes(200 * 1024);

  before(async () => {
    b = await startBrowserStack("web_delivery");
    const { stack } = b;
    const creator = await stack.signer(CREATOR);
    const upload = await request(stack.app)
      .post("/v1/works")
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
      .field({ creator: creator.address, title: "Harbour lights" })
      .attach("file", file, { filename: "harbour-lights.bin", contentType: "application/octet-stream" });
    expect(upload.status, JSON.stringify(upload.body)).to.equal(201);
    const typed = upload.body.typedData;
    const signature = await creator.signTypedData(
      typed.domain,
      { Register: typed.types.Register },
      typed.message,
    );
    await request(stack.app)
      .post(`/v1/works/${upload.body.sha256}/register`)
      .send({ ...typed.message, signature })
      .expect(202);
    const work = await stack.waitFor(async () => {
      const r = await request(stack.app).get(`/v1/works/by-hash/${upload.body.sha256}/registration`);
      return r.body.status === "anchored" ? (r.body.work as { workId: string }) : null;
    });
    workId = work.workId;
    offerId = await publishOffer(stack, creator, work.workId, offerTerms(await soleSplit(stack, creator)), {
      amount: 700,
      currency: "usd",
    });
    other = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
    });
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(b.stack.warnings().join(""));
    expect(b.takePageErrors(), "uncaught errors in the page").to.deep.equal([]);
  });
  after(async () => {
    await other?.close();
    await b?.stop();
  });

  it("lets the offer's creator limit each license to one download on the offer's page", async () => {
    const { page } = b;
    await page.goto(`${b.baseUrl}/offers/${offerId}`);
    await b.connectDevAccount(CREATOR);
    const section = page.getByRole("region", { name: "Delivery" });
    await section.getByText(/Unlimited downloads/).waitFor();
    await section.getByRole("button", { name: "Change delivery terms" }).click();
    await section.getByLabel(/Downloads per license/).fill("1");
    await section.getByRole("button", { name: "Save delivery terms" }).click();
    await section.getByText("Delivery terms saved.").waitFor({ timeout: 30_000 });
    await section.getByText(/1 download per license/).waitFor();
    await b.screenshot("offer-delivery-terms");
    await page.getByRole("button", { name: "Disconnect" }).click();
  });

  it("pays by card, then downloads the exact file from the order page; a second browser without the order's secret cannot", async () => {
    const { page, stack } = b;
    const wallet = (await stack.signer(12)).address;
    const checkout = await request(stack.app).post("/v1/checkout").send({ offerId, wallet });
    expect(checkout.status, JSON.stringify(checkout.body)).to.equal(201);
    const { orderId, orderSecret, checkoutUrl } = checkout.body as {
      orderId: string;
      orderSecret: string;
      checkoutUrl: string;
    };
    await page.goto(checkoutUrl);
    await page.getByRole("button", { name: /^Pay / }).click();
    const order = async () =>
      (await request(stack.app).get(`/v1/orders/${orderId}?secret=${orderSecret}`)).body as {
        license: { finality: string | null } | null;
      };
    await stack.waitFor(async () => (await order()).license !== null, 60_000);
    // The payment is captured, and the file delivered, once the license is safe: one more block.
    await mine(stack);
    await page.goto(`${b.baseUrl}/orders/${orderId}?secret=${orderSecret}`);
    await page.getByText("Your license is issued.").waitFor({ timeout: 60_000 });
    const section = page.getByRole("region", { name: "Your file" });
    await section.waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      section.getByRole("button", { name: "Download the file" }).click(),
    ]);
    expect(download.suggestedFilename()).to.equal("harbour-lights.bin");
    const saved = await readFile((await download.path())!);
    expect(sha256(saved)).to.equal(sha256(file));
    await section.getByText(/Downloading harbour-lights\.bin .* 0 downloads left\./).waitFor();
    await b.screenshot("order-download");
    await section.getByRole("button", { name: "Download the file" }).click();
    await section
      .getByRole("alert")
      .getByText(/no downloads left/)
      .waitFor();

    const stranger = await other.newContext();
    try {
      const strangerPage = await stranger.newPage();
      await strangerPage.goto(`${b.baseUrl}/orders/${orderId}`);
      await strangerPage.getByRole("alert").waitFor();
      expect(await strangerPage.getByRole("button", { name: "Download the file" }).count()).to.equal(0);
      const refused = await strangerPage.evaluate(async (id) => {
        const res = await fetch(`/v1/orders/${id}/downloads`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        return res.status;
      }, orderId);
      expect(refused).to.equal(404);
      // Signed in with a wallet that holds no license to the work: refused with the reason.
      const token = await sessionToken((await stack.signer(13)).address);
      const noLicense = await strangerPage.evaluate(
        async ({ id, bearer }) => {
          const res = await fetch(`/v1/works/${id}/downloads`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
            body: "{}",
          });
          return { status: res.status, body: (await res.json()) as { error: { code: string } } };
        },
        { id: workId, bearer: token },
      );
      expect(noLicense.status).to.equal(403);
      expect(noLicense.body.error.code).to.equal("NOT_LICENSE_HOLDER");
    } finally {
      await stranger.close();
    }
  });
});
