import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import type { Server } from "node:http";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ensureWebBuild } from "../../scripts/build-web.ts";
import { ApiKeys } from "../../server/auth/api-keys.ts";
import { ARTIFACTS, CHROMIUM_ARGS } from "../helpers/browser.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

/** Development account the browser signs with (0–4 hold the platform's roles). */
const CREATOR_INDEX = 5;
const BUYER_INDEX = 7;

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function sha256(bytes: Buffer): string {
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}

describe("web app", function () {
  this.timeout(300_000);

  let stack: TestStack;
  let server: Server;
  let baseUrl: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let creator: string;
  let buyer: string;
  const pageErrors: Error[] = [];
  const workFile = { name: "sunrise-over-the-bay.txt", bytes: randomBytes(2048) };

  /** Saves the whole page; the viewport grows to the page's height so the sticky header stays on top. */
  async function screenshot(name: string): Promise<void> {
    const viewport = page.viewportSize()!;
    const height = await page.evaluate<number>("document.documentElement.scrollHeight");
    await page.setViewportSize({ width: viewport.width, height: Math.max(height, viewport.height) });
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
    await page.setViewportSize(viewport);
  }

  async function nav(name: string): Promise<void> {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
  }

  async function connectDevAccount(index: number): Promise<void> {
    await page.getByRole("button", { name: "Connect wallet" }).click();
    const dialog = page.getByRole("dialog", { name: "Connect a wallet" });
    await dialog.getByLabel("Account").selectOption(String(index));
    await dialog.getByRole("button", { name: "Use this account" }).click();
    await page.getByText("Connected wallet").waitFor({ state: "attached" });
  }

  before(async function () {
    const webDir = await ensureWebBuild();
    // The API builds absolute links (card checkout pages) from PUBLIC_URL, so it needs the port up front.
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    // SIWE messages name the page's host (127.0.0.1:<port>), so the API checks against the request's Host.
    stack = await startTestStack("web", { env: { SIWE_DOMAIN: "", WEB_DIR: webDir, PUBLIC_URL: baseUrl } });
    server = stack.app.listen(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    creator = (await stack.signer(CREATOR_INDEX)).address;
    buyer = (await stack.signer(BUYER_INDEX)).address;

    await mkdir(ARTIFACTS, { recursive: true });
    profile = await mkdtemp(path.join(tmpdir(), "rl-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 860 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (err) => pageErrors.push(err));
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") {
      console.error(`stack warnings up to the failure:\n${stack.warnings().join("")}`);
    }
    expect(
      pageErrors.splice(0).map((e) => e.message),
      "uncaught errors in the page",
    ).to.deep.equal([]);
  });

  after(async function () {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await new Promise((resolve) => server?.close(resolve));
    await stack?.stop();
  });

  it("serves the app (deep links too, never for API paths) with a strict CSP and shows the empty Explore page", async function () {
    const response = await page.goto(baseUrl);
    const csp = response!.headers()["content-security-policy"]!;
    expect(csp).to.include("script-src 'self'");
    expect(csp).to.not.include("upgrade-insecure-requests");
    const apiMiss = await fetch(`${baseUrl}/v1/no-such-route`, { headers: { accept: "*/*" } });
    expect(apiMiss.status).to.equal(404);
    const deepLink = await fetch(`${baseUrl}/works/1`, { headers: { accept: "text/html" } });
    expect(deepLink.headers.get("cache-control")).to.equal("no-cache");
    expect(await deepLink.text()).to.include('<div id="root">');
    await page.getByText("No works registered yet").waitFor();
    await screenshot("explore-empty");
  });

  it("registers a dropped file: hash and CID at once, signed by the dev account, then anchored", async function () {
    await nav("Create");
    await connectDevAccount(CREATOR_INDEX);
    await page.getByLabel("Title").fill("Sunrise over the bay");
    await page.getByLabel("Description").fill("A short poem about the morning light.");
    await page.getByLabel("Work file").setInputFiles({
      name: workFile.name,
      mimeType: "text/plain",
      buffer: workFile.bytes,
    });
    await page.getByText(sha256(workFile.bytes)).waitFor();
    await page.getByRole("button", { name: "Sign and register" }).click();
    await page.getByText(/Anchored as/).waitFor({ timeout: 30_000 });
    await screenshot("create-anchored");

    const work = await stack.waitFor(async () => {
      const found = await fetch(`${baseUrl}/v1/works/by-hash/${sha256(workFile.bytes)}`);
      return found.ok ? ((await found.json()) as { workId: string; creator: string; title: string }) : null;
    });
    expect(work.creator).to.equal(creator);
    expect(work.title).to.equal("Sunrise over the bay");
    // Private by default: the CID is the sealed file's, which /ipfs never serves.
    const cid = await page.locator(".mono-value code").filter({ hasText: /^baf/ }).first().textContent();
    expect(cid).to.match(/^bafk/);
    await page.getByText("(stored encrypted)").waitFor();
    expect((await fetch(`${baseUrl}/ipfs/${cid}`)).status).to.equal(404);
  });

  it("lists the work on Explore and shows its proof, versions and offers on its page", async function () {
    await nav("Explore");
    await page.getByRole("link", { name: "Sunrise over the bay" }).click();
    await page.getByRole("heading", { name: "Proof of registration" }).waitFor();
    await page.getByText(sha256(workFile.bytes)).first().waitFor();
    await page.getByRole("heading", { name: "Versions" }).waitFor();
    await screenshot("work");
    await nav("Explore");
    await page.getByRole("link", { name: "Sunrise over the bay" }).waitFor();
    await screenshot("explore");
  });

  it("publishes an offer whose split must sum to 100%, buys a license by dev card, and lists it in My licenses", async function () {
    const coAuthor = (await stack.signer(CREATOR_INDEX + 1)).address;
    await nav("Explore");
    await page.getByRole("link", { name: "Sunrise over the bay" }).click();
    await page.getByRole("button", { name: "Publish an offer" }).click();
    await page.getByLabel("Price in ETH").fill("0.01");
    await page.getByLabel(/Card price/).fill("9.00");
    await page.getByLabel("Duration").selectOption({ label: "30 days" });
    await page.getByLabel("Share of recipient 1 (%)").fill("50");
    await page.getByRole("button", { name: "Add recipient" }).click();
    await page.getByLabel("Recipient 2 address").fill(coAuthor);
    await page.getByLabel("Share of recipient 2 (%)").fill("30");
    await page.getByText("Shares add up to 80.00%; they must add up to 100%.").waitFor();
    expect(await page.getByRole("button", { name: "Sign and publish" }).isDisabled()).to.equal(true);
    await page.getByLabel("Share of recipient 2 (%)").fill("50");
    await page.getByText("Total 100.00% ✓").waitFor();
    await screenshot("offer-form");
    await page.getByRole("button", { name: "Sign and publish" }).click();
    const offer = page.getByRole("article", { name: /^Offer #/ });
    await offer.waitFor({ timeout: 120_000 });
    await screenshot("work-with-offer");

    await page.getByRole("button", { name: "Disconnect" }).click();
    await connectDevAccount(BUYER_INDEX);
    await offer.getByRole("button", { name: "Buy with card" }).click();
    // With a wallet connected the license goes to it: the card form asks nothing more.
    await offer
      .getByRole("form", { name: "Card checkout" })
      .getByRole("button", { name: "Continue to payment" })
      .click();
    await page.getByText("Waiting for your card payment.").waitFor();
    await screenshot("order-created");
    const [checkout] = await Promise.all([
      context.waitForEvent("page"),
      page.getByRole("link", { name: /Pay with card/ }).click(),
    ]);
    await checkout.getByRole("button", { name: /^Pay/ }).click();
    await checkout.close();
    // The order completes once the mint is in a safe block: let the chain move on meanwhile.
    const issued = page.getByText("Your license is issued.");
    await stack.waitFor(async () => {
      await stack.provider.send("evm_mine", []);
      return issued.isVisible();
    }, 120_000);
    await screenshot("order-fulfilled");

    await page.getByRole("link", { name: "See it in My licenses" }).click();
    const row = page.getByRole("row", { name: /Sunrise over the bay/ });
    await row.waitFor();
    expect(await row.getByText("Valid").count()).to.equal(1);
    expect(await row.locator("time.countdown").textContent()).to.match(/^(29|30) d/);
    await screenshot("licenses");
    const licenses = async () =>
      (
        (await (await fetch(`${baseUrl}/v1/licenses?holder=${buyer}`)).json()) as {
          items: { valid: boolean; renewals: number }[];
        }
      ).items;
    expect((await licenses()).map((l) => l.valid)).to.deep.equal([true]);
  });

  it("renews a license from My licenses with the wallet, adding another term", async function () {
    await page.getByRole("button", { name: "Renew license #1" }).click();
    await page.getByText("License #1 renewed.").waitFor({ timeout: 30_000 });
    await stack.waitFor(async () => {
      const response = await fetch(`${baseUrl}/v1/licenses?holder=${buyer}`);
      const { items } = (await response.json()) as { items: { renewals: number }[] };
      return items[0]?.renewals === 1;
    });
    await page.reload();
    const row = page.getByRole("row", { name: /Sunrise over the bay/ });
    await row.getByText("renewed 1×").waitFor();
    expect(await row.locator("time.countdown").textContent()).to.match(/^(59|60) d/);
    await screenshot("licenses-renewed");
  });

  it("verifies a dropped file on the public Verify page: who registered it and since when", async function () {
    await nav("Verify");
    await page.getByLabel("File to verify").setInputFiles({
      name: "copy-found-online.txt",
      mimeType: "text/plain",
      buffer: workFile.bytes,
    });
    const result = page.locator(".result-ok");
    await result.getByText("Registered", { exact: true }).waitFor();
    expect(await result.textContent()).to.include(creator);
    await screenshot("verify-registered");

    const legalKey = (await new ApiKeys(stack.db.pool).create("legal team", ["legal"])).key;
    await page.getByLabel("Legal API key").fill(legalKey);
    await page.getByLabel(/Where the copy was found/).fill("https://example.com/copied-poem");
    await page.getByRole("button", { name: "Create evidence bundle" }).click();
    const download = page.getByRole("link", { name: "Download bundle.zip" });
    await download.waitFor({ timeout: 60_000 });
    await page
      .locator(".checks, .checks + *, .alert-error")
      .first()
      .waitFor({ timeout: 30_000 })
      .catch(() => {});
    await screenshot("debug");
    await page.getByText(/All \d+ checks passed/).waitFor({ timeout: 30_000 });
    expect(await page.locator(".check-bad").count()).to.equal(0);
    const [file] = await Promise.all([page.waitForEvent("download"), download.click()]);
    expect(file.suggestedFilename()).to.match(/^evidence-.*\.zip$/);
    await screenshot("verify-evidence");

    await page.getByLabel("File to verify").setInputFiles({
      name: "unknown.txt",
      mimeType: "text/plain",
      buffer: randomBytes(64),
    });
    await page.getByText("Not registered").waitFor();
    await screenshot("verify-unregistered");
  });

  it("shows Trades with its empty states, also on a phone-sized screen", async function () {
    await page.setViewportSize({ width: 390, height: 844 });
    await nav("Market");
    await page.getByRole("navigation", { name: "Trading" }).getByRole("link", { name: "My trades" }).click();
    await page.getByRole("heading", { name: "My listings" }).waitFor();
    await page.locator(".trade-section .empty").first().waitFor();
    await screenshot("trades-mobile");
    await page.setViewportSize({ width: 1280, height: 860 });
  });
});
