/** The web app in Chromium against a whole test stack: what the web tests drive. */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { ensureWebBuild } from "../../scripts/build-web.ts";
import { startServedStack } from "./served-stack.ts";
import type { TestStack } from "./stack.ts";

/** Where failing web tests leave their screenshots. */
export const ARTIFACTS = path.resolve("test/artifacts");
/** Debian's Chromium, headless, with nothing that would reach the network on its own. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** One browser context (its own storage, so its own wallet and session) with a page in it. */
export interface BrowserPlayer {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of the page since the last call. */
  takePageErrors(): string[];
  /** Saves the whole page under test/artifacts/<name>.png. */
  screenshot(name: string): Promise<void>;
  /** Connects development account `index` through the header's wallet dialog. */
  connectDevAccount(index: number): Promise<void>;
}

export interface BrowserStack extends BrowserPlayer {
  stack: TestStack;
  baseUrl: string;
  /** Another context of the same browser: another player, with a wallet and session of its own. */
  newPlayer(): Promise<BrowserPlayer>;
  stop(): Promise<void>;
}

async function openPlayer(browser: Browser): Promise<BrowserPlayer> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const errors: Error[] = [];
  page.on("pageerror", (err) => errors.push(err));
  return {
    context,
    page,
    takePageErrors: () => errors.splice(0).map((e) => e.message),
    async screenshot(name) {
      // The viewport grows to the page's height so the sticky header stays on top.
      const viewport = page.viewportSize()!;
      const height = await page.evaluate<number>("document.documentElement.scrollHeight");
      await page.setViewportSize({ width: viewport.width, height: Math.max(height, viewport.height) });
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
      await page.setViewportSize(viewport);
    },
    async connectDevAccount(index) {
      await page.getByRole("button", { name: "Connect wallet" }).click();
      const dialog = page.getByRole("dialog", { name: "Connect a wallet" });
      await dialog.getByLabel("Account").selectOption(String(index));
      await dialog.getByRole("button", { name: "Use this account" }).click();
      await page.getByText("Connected wallet").waitFor({ state: "attached" });
    },
  };
}

/** A test stack serving the built web app on its own port, and Chromium (Debian's /usr/bin/chromium) on it. */
export async function startBrowserStack(
  label: string,
  env: Record<string, string> = {},
): Promise<BrowserStack> {
  const webDir = await ensureWebBuild();
  // SIWE messages name the page's host (127.0.0.1:<port>), so the API checks against the request's Host.
  const served = await startServedStack(label, { env: { SIWE_DOMAIN: "", WEB_DIR: webDir, ...env } });
  const { stack, baseUrl } = served;
  await mkdir(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const first = await openPlayer(browser);

  return {
    stack,
    baseUrl,
    ...first,
    newPlayer: () => openPlayer(browser),
    async stop() {
      await browser.close();
      await served.stop();
    },
  };
}
