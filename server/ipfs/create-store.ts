import type { Config } from "../config.ts";
import { EmbeddedIpfsStore } from "./embedded-store.ts";
import { KuboIpfsStore } from "./kubo-store.ts";
import type { IpfsStore } from "./store.ts";

/** The Kubo node at `apiUrl` when one is configured, else the embedded store in `dir`. */
export async function createIpfsStore(config: Config["ipfs"]): Promise<IpfsStore> {
  return config.apiUrl ? KuboIpfsStore.connect(config.apiUrl) : EmbeddedIpfsStore.open(config.dir);
}
