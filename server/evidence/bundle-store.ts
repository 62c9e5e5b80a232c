import { randomUUID } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

/** A location this store gave out: the request's id and a random suffix, so attempts never overwrite each other. */
const LOCATION = /^[0-9a-f-]{36}-[0-9a-f-]{36}\.zip$/;

/**
 * Finished evidence bundles as files in one directory (EVIDENCE_DIR), which the workers that build
 * them and the API processes that serve them share, as they share IPFS_DIR. PostgreSQL keeps only
 * each bundle's location, size and hash. Nothing here is served by content address: a bundle is
 * read only through the evidence routes, which check who asks.
 */
export class EvidenceBundleStore {
  constructor(readonly dir: string) {}

  /** Writes a bundle whole or not at all (synced, then renamed into place); answers its location. */
  async put(requestId: string, bytes: Uint8Array): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const location = `${requestId}-${randomUUID()}.zip`;
    const partial = path.join(this.dir, `.${location}.partial`);
    const handle = await open(partial, "wx");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, this.#path(location));
    return location;
  }

  /** Bytes `start` to `end` (inclusive) of a stored bundle, read in small chunks; rejects when the file is gone. */
  async read(location: string, start: number, end: number): Promise<Readable> {
    const handle = await open(this.#path(location), "r");
    return handle.createReadStream({ start, end, autoClose: true });
  }

  /** Deletes a bundle; a missing one is fine. */
  async remove(location: string): Promise<void> {
    await rm(this.#path(location), { force: true });
  }

  #path(location: string): string {
    if (!LOCATION.test(location)) throw new Error(`not an evidence bundle location: ${location}`);
    return path.join(this.dir, location);
  }
}
