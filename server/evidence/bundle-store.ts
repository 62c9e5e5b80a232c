import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

/** A location this store gave out: the request's id and a random suffix, so attempts never overwrite each other. */
const LOCATION = /^[0-9a-f-]{36}-[0-9a-f-]{36}\.zip$/;
/** A write that has not been renamed into place yet. */
const PARTIAL = /^\.[0-9a-f-]{36}-[0-9a-f-]{36}\.zip\.partial$/;

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

  /**
   * Deletes the files last written before `before` that `isReferenced` does not claim: bundles of a
   * build whose worker died between writing and recording them, and partial writes. Answers how many.
   */
  async collect(before: Date, isReferenced: (locations: string[]) => Promise<Set<string>>): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw err;
    }
    const old: string[] = [];
    for (const name of names) {
      if (!LOCATION.test(name) && !PARTIAL.test(name)) continue;
      const info = await stat(path.join(this.dir, name)).catch(() => null);
      if (info && info.mtime < before) old.push(name);
    }
    const kept = await isReferenced(old.filter((name) => LOCATION.test(name)));
    const orphans = old.filter((name) => !kept.has(name));
    for (const name of orphans) await rm(path.join(this.dir, name), { force: true });
    return orphans.length;
  }

  #path(location: string): string {
    if (!LOCATION.test(location)) throw new Error(`not an evidence bundle location: ${location}`);
    return path.join(this.dir, location);
  }
}
