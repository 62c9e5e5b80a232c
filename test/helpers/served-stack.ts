/** A test stack whose API listens on a port of its own, as the dev checkout and the browser need it. */
import { once } from "node:events";
import type { Server } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { startTestStack, type TestStack, type TestStackOptions } from "./stack.ts";

export interface ServedStack {
  stack: TestStack;
  /** Where the API listens; PUBLIC_URL, so the dev checkout posts its webhooks here. */
  baseUrl: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Starts a test stack and serves its API on 127.0.0.1, with PUBLIC_URL naming that address. */
export async function startServedStack(label: string, options: TestStackOptions = {}): Promise<ServedStack> {
  // The API builds absolute links (card checkout pages) from PUBLIC_URL, so it needs the port up front.
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const stack = await startTestStack(label, { ...options, env: { PUBLIC_URL: baseUrl, ...options.env } });
  const server: Server = stack.app.listen(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  return {
    stack,
    baseUrl,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      await stack.stop();
    },
  };
}
