import { createReadStream, type ReadStream } from "node:fs";
import { mkdir, rename, stat } from "node:fs/promises";
import path from "node:path";
import { discardStaged } from "../services/uploads.ts";

/**
 * Dispute evidence files, kept by their SHA-256 in one directory: a file sent twice is kept once, and
 * a file's name says what it must hash to. Uploads are staged in a directory beside it (the same
 * file system, so keeping one is a rename).
 */
export class EvidenceFiles {
  readonly stagingDir: string;

  constructor(readonly dir: string) {
    this.stagingDir = path.join(dir, "staging");
  }

  async ready(): Promise<void> {
    await mkdir(this.stagingDir, { recursive: true });
  }

  #pathOf(sha256: string): string {
    if (!/^0x[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA-256 digest: ${sha256}`);
    return path.join(this.dir, sha256.slice(2));
  }

  /** Moves a staged file whose content hashes to `sha256` into the store; the same content kept already wins. */
  async keep(stagedPath: string, sha256: string): Promise<void> {
    const target = this.#pathOf(sha256);
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (exists) await discardStaged(stagedPath);
    else await rename(stagedPath, target);
  }

  open(sha256: string): ReadStream {
    return createReadStream(this.#pathOf(sha256));
  }
}
