/** Checks for leaked plaintext: whether stored bytes hold a run of a file. */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/**
 * Whether `haystack` holds `run` (≥ 2 × 32) consecutive bytes of `needle` anywhere. Any such run
 * covers one of the needle's 32-byte pieces at a multiple of 32, so those pieces are indexed and
 * every position of the haystack looked up, then the match extended both ways.
 */
export function holdsRunOf(haystack: Buffer, needle: Buffer, run = 64): boolean {
  const piece = 32;
  if (run < 2 * piece) throw new RangeError("runs shorter than 64 bytes are not checked this way");
  const pieces = new Map<string, number[]>();
  for (let at = 0; at + piece <= needle.length; at += piece) {
    const key = needle.toString("latin1", at, at + piece);
    pieces.set(key, [...(pieces.get(key) ?? []), at]);
  }
  for (let at = 0; at + piece <= haystack.length; at++) {
    for (const origin of pieces.get(haystack.toString("latin1", at, at + piece)) ?? []) {
      let before = 0;
      while (
        at - before > 0 &&
        origin - before > 0 &&
        haystack[at - before - 1] === needle[origin - before - 1]
      ) {
        before++;
      }
      let after = piece;
      while (
        at + after < haystack.length &&
        origin + after < needle.length &&
        haystack[at + after] === needle[origin + after]
      ) {
        after++;
      }
      if (before + after >= run) return true;
    }
  }
  return false;
}

/** Every file under `directory`, read whole (a store's block files). */
export async function filesUnder(directory: string): Promise<Buffer[]> {
  const found: Buffer[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(full)));
    else if (entry.isFile()) found.push(await readFile(full));
  }
  return found;
}
