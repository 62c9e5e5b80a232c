import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import request from "supertest";
import { ContentKeys } from "../../server/content/content-keys.ts";
import { Originals } from "../../server/content/originals.ts";
import { rotateContentKeys } from "../../server/content/rotate-keys.ts";
import { findOriginal } from "../../server/content/store.ts";
import { filesUnder, holdsRunOf } from "../helpers/plaintext-runs.ts";
import { sessionToken, startTestStack, type TestStack } from "../helpers/stack.ts";

const KiB = 1024;

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

describe("private originals: sealed at rest, withheld by /ipfs", function () {
  this.timeout(120_000);
  let stack: TestStack;
  let creator: JsonRpcSigner;

  before(async () => {
    stack = await startTestStack("private_originals");
    creator = await stack.signer(5);
  });
  after(async () => stack?.stop());

  async function upload(bytes: Buffer, fields: Record<string, string> = {}) {
    return request(stack.app)
      .post("/v1/works")
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
      .field({ creator: creator.address, title: "Sealed", ...fields })
      .attach("file", bytes, { filename: "work.bin", contentType: "application/octet-stream" });
  }

  /** Uploads, signs and registers `bytes`, and waits until the registration is anchored. */
  async function register(bytes: Buffer, fields: Record<string, string> = {}) {
    const res = await upload(bytes, fields);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const typed = res.body.typedData;
    const signature = await creator.signTypedData(
      typed.domain,
      { Register: typed.types.Register },
      typed.message,
    );
    await request(stack.app)
      .post(`/v1/works/${res.body.sha256}/register`)
      .send({ ...typed.message, signature })
      .expect(202);
    await stack.waitFor(async () => {
      const r = await request(stack.app).get(`/v1/works/by-hash/${res.body.sha256}/registration`);
      return r.body.status === "anchored";
    });
    return res.body as { sha256: string; cid: string; metadataURI: string; visibility: string; size: number };
  }

  const ipfsStatus = async (cid: string) => (await request(stack.app).get(`/ipfs/${cid}`)).status;

  it("stores a work privately by default: no 64-byte run of the original in any stored block, and /ipfs never serves it", async () => {
    const original = randomBytes(700 * KiB);
    const work = await register(original);
    expect(work.visibility).to.equal("private");
    expect(work.size).to.equal(original.length);
    const blocks = await filesUnder(stack.config.ipfs.dir);
    expect(blocks.length).to.be.greaterThan(0);
    for (const block of blocks) expect(holdsRunOf(block, original)).to.equal(false);
    expect(await ipfsStatus(work.cid)).to.equal(404);
    // The metadata document is public once the registration is anchored, and names the sealed file's CID.
    const metadata = await request(stack.app)
      .get(`/ipfs/${work.metadataURI.replace("ipfs://", "")}`)
      .buffer(true);
    expect(metadata.status).to.equal(200);
    const document = JSON.parse(Buffer.from(metadata.body as Buffer).toString()) as Record<string, unknown>;
    expect(document).to.include({ sha256: work.sha256, cid: work.cid, size: original.length });
    const stored = await findOriginal(stack.db.pool, work.sha256);
    expect(await collect(stack.originals.read(stored!))).to.deep.equal(original);
  });

  it("stores a work marked public in the clear and serves it by /ipfs once anchored", async () => {
    const original = randomBytes(40 * KiB);
    const res = await upload(original, { visibility: "public" });
    expect(res.body.visibility).to.equal("public");
    expect(await ipfsStatus(res.body.cid)).to.equal(404);
    const blocks = await filesUnder(stack.config.ipfs.dir);
    expect(blocks.some((block) => holdsRunOf(block, original))).to.equal(true);
    await register(original, { visibility: "public" });
    const served = await request(stack.app).get(`/ipfs/${res.body.cid}`).buffer(true);
    expect(served.status).to.equal(200);
    expect(Buffer.from(served.body as Buffer).equals(original)).to.equal(true);
  });

  it("keeps the first upload's stored file: the same bytes again get its CID and visibility, whatever they ask", async () => {
    const original = randomBytes(3 * KiB);
    const first = await upload(original);
    const again = await upload(original, { visibility: "public" });
    expect(again.status).to.equal(201);
    expect(again.body.cid).to.equal(first.body.cid);
    expect(again.body.visibility).to.equal("private");
    const { rows } = await stack.db.pool.query(
      "SELECT count(*)::int AS n FROM uploads WHERE content_hash = $1",
      [first.body.sha256],
    );
    expect(rows[0].n).to.equal(1);
  });

  it("refuses a visibility it does not know, storing nothing", async () => {
    const original = randomBytes(KiB);
    const res = await upload(original, { visibility: "secret" });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal("VALIDATION_FAILED");
    const { rows } = await stack.db.pool.query("SELECT count(*)::int AS n FROM uploads WHERE size = $1", [
      KiB,
    ]);
    expect(rows[0].n).to.equal(0);
  });

  it("reads any byte range of a private original through its seal, and refuses a range past its end", async () => {
    const original = randomBytes(300 * KiB + 123);
    const res = await upload(original);
    const stored = (await findOriginal(stack.db.pool, res.body.sha256))!;
    expect(stored.sealing).to.not.equal(null);
    for (const [offset, length] of [
      [0, 1],
      [65_535, 2],
      [262_140, 10],
      [original.length - 5, 5],
      [1000, 200_000],
    ] as const) {
      const got = await collect(stack.originals.read(stored, { offset, length }));
      expect(got.equals(original.subarray(offset, offset + length)), `${offset}+${length}`).to.equal(true);
    }
    let failure: unknown;
    try {
      await collect(stack.originals.read(stored, { offset: original.length - 1, length: 2 }));
    } catch (err) {
      failure = err;
    }
    expect(failure).to.be.instanceOf(RangeError);
  });

  it("lets only the work's creator give it a public preview, which /ipfs serves and the work shows", async () => {
    const work = await register(randomBytes(2 * KiB));
    const preview = Buffer.from("The first chapter, free to read.");
    const put = async (hash: string, auth: string | null) => {
      const req = request(stack.app).put(`/v1/works/by-hash/${hash}/preview`);
      if (auth) req.set("Authorization", `Bearer ${auth}`);
      return req.attach("file", preview, { filename: "chapter-1.txt", contentType: "text/plain" });
    };
    const stranger = await sessionToken("0x00000000000000000000000000000000000000e1");
    expect((await put(work.sha256, null)).status).to.equal(401);
    const refused = await put(work.sha256, stranger);
    expect([refused.status, refused.body.error.code]).to.deep.equal([403, "NOT_WORK_CREATOR"]);
    const unknown = await put(`0x${"00".repeat(32)}`, await sessionToken(creator.address));
    expect([unknown.status, unknown.body.error.code]).to.deep.equal([404, "UPLOAD_NOT_FOUND"]);
    const unregistered = (await upload(randomBytes(KiB))).body.sha256 as string;
    expect((await put(unregistered, await sessionToken(creator.address))).status).to.equal(409);

    const set = await put(work.sha256, await sessionToken(creator.address));
    expect(set.status, JSON.stringify(set.body)).to.equal(200);
    expect(set.body).to.include({
      size: preview.length,
      filename: "chapter-1.txt",
      contentType: "text/plain",
    });
    const served = await request(stack.app).get(set.body.url).buffer(true);
    expect(served.status).to.equal(200);
    expect(Buffer.from(served.body as Buffer).equals(preview)).to.equal(true);
    const shown = await request(stack.app).get(`/v1/works/by-hash/${work.sha256}`);
    expect(shown.body.visibility).to.equal("private");
    expect(shown.body.preview).to.deep.equal(set.body);
    expect(await ipfsStatus(work.cid)).to.equal(404);
  });

  it("rotates the key-encryption key: every data key is re-wrapped, the files stay as they are and open without the old key", async () => {
    const originals = [randomBytes(5 * KiB), randomBytes(70 * KiB)];
    const hashes = [];
    for (const original of originals) hashes.push((await upload(original)).body.sha256 as string);
    const before = await Promise.all(hashes.map((h) => findOriginal(stack.db.pool, h)));
    const next = { id: "next", key: randomBytes(32) };
    const rotating = new ContentKeys([next, ...stack.config.content.keys]);
    const rewrapped = await rotateContentKeys(stack.db.pool, rotating);
    expect(rewrapped).to.be.at.least(2);
    expect(await rotateContentKeys(stack.db.pool, rotating)).to.equal(0);
    const { rows } = await stack.db.pool.query<{ key_id: string }>(
      "SELECT DISTINCT key_id FROM uploads WHERE visibility = 'private'",
    );
    expect(rows.map((r) => r.key_id)).to.deep.equal(["next"]);
    const onlyNext = new Originals(stack.ipfs, new ContentKeys([next]));
    for (const [i, hash] of hashes.entries()) {
      const after = (await findOriginal(stack.db.pool, hash))!;
      expect(after.cid).to.equal(before[i]!.cid);
      expect(await collect(onlyNext.read(after))).to.deep.equal(originals[i]);
      let failure: unknown;
      try {
        await collect(stack.originals.read(after));
      } catch (err) {
        failure = err;
      }
      expect((failure as Error).name).to.equal("ContentKeyError");
    }
    // Put the stack's own key back first for the tests that follow.
    await rotateContentKeys(stack.db.pool, new ContentKeys([...stack.config.content.keys, next]));
  });
});
