/** Fixtures for delivery tests and its benchmark: large private works with a license, made without uploading them. */
import { createCipheriv, createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ethers, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { recordOriginal } from "../../server/content/store.ts";
import { LicenseToken__factory } from "../../types/typechain/index.ts";
import { mine, offerTerms, publishOffer, soleSplit } from "./commerce.ts";
import { commitAndReveal } from "./registry.ts";
import type { TestStack } from "./stack.ts";

const MiB = 1024 * 1024;

/** `size` pseudo-random bytes named by `seed`, in 1 MiB pieces: AES-CTR's keystream, the same every time. */
export async function* pseudoRandom(seed: string, size: number): AsyncGenerator<Buffer> {
  const key = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  for (let at = 0; at < size; at += MiB) yield cipher.update(zeros.subarray(0, Math.min(MiB, size - at)));
}

export async function sha256Of(source: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of source) hash.update(chunk);
  return `0x${hash.digest("hex")}`;
}

export interface LicensedWork {
  workId: string;
  contentHash: string;
  offerId: string;
  tokenId: string;
}

/**
 * A private work of `size` pseudo-random bytes, stored sealed as an upload would be (streamed,
 * never whole in memory) and registered on chain by `creator`, with an offer of it and a license
 * `buyer` bought on chain, safe by the time this resolves.
 */
export async function licensedPrivateWork(
  stack: TestStack,
  creator: JsonRpcSigner,
  buyer: JsonRpcSigner,
  seed: string,
  size: number,
): Promise<LicensedWork> {
  const contentHash = await sha256Of(pseudoRandom(seed, size));
  const added = await stack.originals.add(contentHash, "private", pseudoRandom(seed, size));
  await recordOriginal(stack.db.pool, {
    contentHash,
    cid: added.cid,
    size,
    filename: `${seed}.bin`,
    contentType: "application/octet-stream",
    visibility: "private",
    sealing: added.sealing,
  });
  const { workId } = await commitAndReveal(stack.registry.connect(creator), creator, contentHash, {
    cid: added.cid,
    metadataURI: `ipfs://${added.cid}`,
  });
  await stack.waitFor(async () => (await request(stack.app).get(`/v1/works/${workId}`)).status === 200);
  const price = ethers.parseEther("0.001");
  const offerId = await publishOffer(
    stack,
    creator,
    workId.toString(),
    offerTerms(await soleSplit(stack, creator), { price: price.toString() }),
    null,
  );
  const licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, buyer);
  const receipt = await (
    await licenses.purchase(offerId, buyer.address, ethers.ZeroAddress, { value: price })
  ).wait();
  const issued = receipt!.logs
    .map((log) => licenses.interface.parseLog(log))
    .find((e) => e?.name === "LicenseIssued");
  await mine(stack);
  await stack.waitFor(async () => {
    const res = await request(stack.app).get(`/v1/licenses/verify?workId=${workId}&holder=${buyer.address}`);
    return res.body.valid === true && res.body.finality !== "pending";
  });
  return { workId: workId.toString(), contentHash, offerId, tokenId: String(issued!.args.tokenId) };
}

/** The API process's resident memory in bytes, from /proc. */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kib) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib[1]) * 1024;
}

/**
 * Runs `during` while sampling `pid`'s resident memory every 50 ms; answers its result and the
 * largest growth of resident memory over the reading taken just before.
 */
export async function watchingMemory<T>(
  pid: number,
  during: () => Promise<T>,
): Promise<{ result: T; rssGrowth: number }> {
  const baseline = await residentBytes(pid);
  let peak = baseline;
  const sampler = setInterval(() => {
    residentBytes(pid).then(
      (rss) => (peak = Math.max(peak, rss)),
      () => undefined,
    );
  }, 50);
  try {
    const result = await during();
    return { result, rssGrowth: Math.max(peak, await residentBytes(pid)) - baseline };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Downloads `url` whole with fetch, hashing it as it arrives, while watching `pid`'s resident
 * memory; answers the SHA-256, the bytes, the seconds taken and the growth of resident memory.
 */
export async function downloadWatchingMemory(
  url: string,
  pid: number,
): Promise<{ sha256: string; bytes: number; seconds: number; rssGrowth: number }> {
  const { result, rssGrowth } = await watchingMemory(pid, async () => {
    const started = performance.now();
    const res = await fetch(url);
    if (res.status !== 200) throw new Error(`the download answered ${res.status}: ${await res.text()}`);
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of res.body!) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
    return { sha256: `0x${hash.digest("hex")}`, bytes, seconds: (performance.now() - started) / 1000 };
  });
  return { ...result, rssGrowth };
}
