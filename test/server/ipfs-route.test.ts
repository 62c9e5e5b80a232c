import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import express, { type Express } from "express";
import { base36 } from "multiformats/bases/base36";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import pino from "pino";
import request, { type Response } from "supertest";
import { errorHandler, routeNotFound } from "../../server/errors.ts";
import { EmbeddedIpfsStore } from "../../server/ipfs/embedded-store.ts";
import type { IpfsStore } from "../../server/ipfs/store.ts";
import { ipfsRouter } from "../../server/routes/ipfs.ts";

const CHUNK = 262_144;
const IMMUTABLE = "public, max-age=31536000, immutable";

function buildApp(store: IpfsStore): Express {
  const app = express();
  app.use(ipfsRouter(store));
  app.use(routeNotFound);
  app.use(errorHandler(pino({ level: "silent" })));
  return app;
}

function patterned(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
  return bytes;
}

// A store that fails every call not given in `overrides`.
function stubStore(overrides: Partial<IpfsStore>): IpfsStore {
  const unused = () => Promise.reject(new Error("not used by this test"));
  return {
    add: unused,
    async *cat() {
      yield* [];
      throw new Error("not used by this test");
    },
    stat: unused,
    has: unused,
    ready: unused,
    collect: unused,
    close: unused,
    ...overrides,
  };
}

// Collects any body as bytes, whatever its Content-Type (superagent hands parsers the raw response).
function binary(res: unknown, done: (err: Error | null, body: Buffer) => void): void {
  const stream = res as NodeJS.ReadableStream;
  const parts: Buffer[] = [];
  stream.on("data", (part: Buffer) => parts.push(part));
  stream.on("end", () => done(null, Buffer.concat(parts)));
}

describe("GET /ipfs/:cid", () => {
  let dir: string;
  let store: EmbeddedIpfsStore;
  let app: Express;
  const text = Buffer.from("0123456789");
  const large = patterned(2 * CHUNK + 7);
  let textCid: string;
  let largeCid: string;
  let emptyCid: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "rights-ledger-ipfs-route-"));
    store = await EmbeddedIpfsStore.open(dir);
    app = buildApp(store);
    textCid = (await store.add(text)).cid;
    largeCid = (await store.add(large)).cid;
    emptyCid = (await store.add(new Uint8Array(0))).cid;
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (url: string) => request(app).get(url).buffer(true).parse(binary);

  function expectCacheable(res: Response, cid: string): void {
    expect(res.headers["etag"]).to.equal(`"${cid}"`);
    expect(res.headers["cache-control"]).to.equal(IMMUTABLE);
    expect(res.headers["x-content-type-options"]).to.equal("nosniff");
    expect(res.headers["accept-ranges"]).to.equal("bytes");
    // Uploads are anyone's bytes: never rendered as a page of this origin.
    expect(res.headers["content-disposition"]).to.equal(`attachment; filename="${cid}"`);
    expect(res.headers["content-security-policy"]).to.equal("sandbox; default-src 'none'");
  }

  function expectError(res: Response, status: number, code: string): void {
    expect(res.status).to.equal(status);
    const body = JSON.parse((res.body as Buffer).toString()) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal(code);
    expect(body.error.message).to.be.a("string");
    expect(res.headers["cache-control"]).to.equal(undefined);
  }

  describe("whole files", () => {
    it("streams a stored file with its length, type, ETag and immutable caching", async () => {
      const res = await get(`/ipfs/${textCid}`);
      expect(res.status).to.equal(200);
      expect((res.body as Buffer).equals(text)).to.equal(true);
      expect(res.headers["content-length"]).to.equal("10");
      expect(res.headers["content-type"]).to.equal("application/octet-stream");
      expectCacheable(res, textCid);
    });

    it("streams a multi-chunk file byte for byte", async () => {
      const res = await get(`/ipfs/${largeCid}`);
      expect(res.status).to.equal(200);
      expect(res.headers["content-length"]).to.equal(String(large.length));
      expect((res.body as Buffer).equals(large)).to.equal(true);
    });

    it("serves the empty file as an empty 200", async () => {
      const res = await get(`/ipfs/${emptyCid}`);
      expect(res.status).to.equal(200);
      expect(res.headers["content-length"]).to.equal("0");
      expect((res.body as Buffer).length).to.equal(0);
    });

    it("answers HEAD with the same headers and no body", async () => {
      const res = await request(app).head(`/ipfs/${largeCid}`);
      expect(res.status).to.equal(200);
      expect(res.headers["content-length"]).to.equal(String(large.length));
      expect(res.headers["content-type"]).to.equal("application/octet-stream");
      expectCacheable(res, largeCid);
      expect(res.text ?? "").to.equal("");
    });

    it("answers the CIDv0 or base36 form of a CID with the file under its base32 CIDv1 ETag", async () => {
      const v0 = CID.parse(largeCid).toV0().toString();
      const base36Form = CID.parse(largeCid).toString(base36);
      for (const form of [v0, base36Form]) {
        const res = await get(`/ipfs/${form}`);
        expect(res.status, form).to.equal(200);
        expect(res.headers["etag"]).to.equal(`"${largeCid}"`);
        expect((res.body as Buffer).equals(large)).to.equal(true);
      }
    });
  });

  describe("ranges", () => {
    const ranged = (range: string, cid = textCid) => get(`/ipfs/${cid}`).set("Range", range);

    it("serves bytes=a-b as 206 with Content-Range", async () => {
      const res = await ranged("bytes=2-5");
      expect(res.status).to.equal(206);
      expect(res.headers["content-range"]).to.equal("bytes 2-5/10");
      expect(res.headers["content-length"]).to.equal("4");
      expect((res.body as Buffer).toString()).to.equal("2345");
      expectCacheable(res, textCid);
    });

    it("serves bytes=a- to the end", async () => {
      const res = await ranged("bytes=7-");
      expect(res.status).to.equal(206);
      expect(res.headers["content-range"]).to.equal("bytes 7-9/10");
      expect((res.body as Buffer).toString()).to.equal("789");
    });

    it("serves bytes=-n as the last n bytes", async () => {
      const res = await ranged("bytes=-3");
      expect(res.status).to.equal(206);
      expect(res.headers["content-range"]).to.equal("bytes 7-9/10");
      expect((res.body as Buffer).toString()).to.equal("789");
    });

    it("serves a suffix longer than the file as the whole file, still 206", async () => {
      const res = await ranged("bytes=-50");
      expect(res.status).to.equal(206);
      expect(res.headers["content-range"]).to.equal("bytes 0-9/10");
      expect((res.body as Buffer).toString()).to.equal("0123456789");
    });

    it("cuts a range that runs past the end at the last byte", async () => {
      const res = await ranged("bytes=8-1000");
      expect(res.status).to.equal(206);
      expect(res.headers["content-range"]).to.equal("bytes 8-9/10");
      expect((res.body as Buffer).toString()).to.equal("89");
    });

    it("serves a range across chunk boundaries of a multi-chunk file", async () => {
      const res = await ranged(`bytes=${CHUNK - 5}-${2 * CHUNK + 4}`, largeCid);
      expect(res.status).to.equal(206);
      expect(res.headers["content-range"]).to.equal(`bytes ${CHUNK - 5}-${2 * CHUNK + 4}/${large.length}`);
      expect((res.body as Buffer).equals(large.subarray(CHUNK - 5, 2 * CHUNK + 5))).to.equal(true);
    });

    it("answers HEAD with a range with the partial headers and no body", async () => {
      const res = await request(app).head(`/ipfs/${textCid}`).set("Range", "bytes=1-2");
      expect(res.status).to.equal(206);
      expect(res.headers["content-range"]).to.equal("bytes 1-2/10");
      expect(res.headers["content-length"]).to.equal("2");
    });

    for (const range of ["bytes=10-", "bytes=10-20", "bytes=-0"]) {
      it(`answers ${range} on a 10-byte file with 416 and Content-Range bytes */10`, async () => {
        const res = await ranged(range);
        expectError(res, 416, "RANGE_NOT_SATISFIABLE");
        expect(res.headers["content-range"]).to.equal("bytes */10");
      });
    }

    it("answers any range of the empty file with 416 and Content-Range bytes */0", async () => {
      const res = await ranged("bytes=0-", emptyCid);
      expectError(res, 416, "RANGE_NOT_SATISFIABLE");
      expect(res.headers["content-range"]).to.equal("bytes */0");
    });

    it("serves the whole file with 200 when several ranges are asked", async () => {
      const res = await ranged("bytes=0-1, 4-5");
      expect(res.status).to.equal(200);
      expect(res.headers["content-range"]).to.equal(undefined);
      expect((res.body as Buffer).toString()).to.equal("0123456789");
    });

    for (const range of ["bytes=5-2", "items=0-1", "bytes=abc", "bytes=", "bytes=1-2-3"]) {
      it(`ignores the malformed or foreign range "${range}" and serves the whole file`, async () => {
        const res = await ranged(range);
        expect(res.status).to.equal(200);
        expect((res.body as Buffer).toString()).to.equal("0123456789");
      });
    }

    it("honours a range whose If-Range is the file's ETag and ignores one with another validator", async () => {
      const matching = await ranged("bytes=0-1").set("If-Range", `"${textCid}"`);
      expect(matching.status).to.equal(206);
      const stale = await ranged("bytes=0-1").set("If-Range", "Wed, 21 Oct 2015 07:28:00 GMT");
      expect(stale.status).to.equal(200);
      expect((stale.body as Buffer).toString()).to.equal("0123456789");
    });
  });

  describe("revalidation", () => {
    for (const header of [(cid: string) => `"${cid}"`, (cid: string) => `"other", W/"${cid}"`, () => "*"]) {
      it(`answers If-None-Match: ${header("<cid>")} with 304, its ETag and no body`, async () => {
        const res = await get(`/ipfs/${textCid}`).set("If-None-Match", header(textCid));
        expect(res.status).to.equal(304);
        expect(res.headers["etag"]).to.equal(`"${textCid}"`);
        expect(res.headers["cache-control"]).to.equal(IMMUTABLE);
        expect((res.body as Buffer).length).to.equal(0);
      });
    }

    it("answers 304 rather than a range when the ETag matches", async () => {
      const res = await get(`/ipfs/${textCid}`)
        .set("If-None-Match", `"${textCid}"`)
        .set("Range", "bytes=50-");
      expect(res.status).to.equal(304);
    });

    it("serves the file when If-None-Match names another ETag", async () => {
      const res = await get(`/ipfs/${textCid}`).set("If-None-Match", `"${largeCid}"`);
      expect(res.status).to.equal(200);
      expect((res.body as Buffer).toString()).to.equal("0123456789");
    });
  });

  describe("bad and unknown paths", () => {
    it("rejects a malformed CID with 400 INVALID_CID naming it", async () => {
      const res = await get("/ipfs/not-a-cid");
      expectError(res, 400, "INVALID_CID");
      const { details } = JSON.parse((res.body as Buffer).toString()).error as { details: { cid: string } };
      expect(details.cid).to.equal("not-a-cid");
    });

    it("rejects an encoded path traversal as an invalid CID", async () => {
      const res = await get("/ipfs/..%2F..%2Fetc%2Fpasswd");
      expectError(res, 400, "INVALID_CID");
    });

    it("answers a path below a CID with 404", async () => {
      const res = await get(`/ipfs/${textCid}/extra`);
      expect(res.status).to.equal(404);
    });

    it("answers a raw traversal with 404", async () => {
      const res = await get("/ipfs/../../etc/passwd");
      expect(res.status).to.equal(404);
    });

    it("answers a broken percent-encoding with 400", async () => {
      const res = await get("/ipfs/%E0%A4%A");
      expect(res.status).to.equal(400);
    });

    it("answers a valid CID the store does not hold with 404 NOT_FOUND", async () => {
      const absent = CID.create(1, raw.code, await sha256.digest(Buffer.from("never uploaded"))).toString();
      const res = await get(`/ipfs/${absent}`);
      expectError(res, 404, "NOT_FOUND");
    });

    it("answers a CID of another codec with 404 NOT_FOUND", async () => {
      const dagCbor = CID.createV1(0x71, CID.parse(textCid).multihash).toString();
      expectError(await get(`/ipfs/${dagCbor}`), 404, "NOT_FOUND");
    });

    it("answers HEAD for an unknown CID with 404", async () => {
      const absent = CID.create(1, raw.code, await sha256.digest(Buffer.from("absent"))).toString();
      expect((await request(app).head(`/ipfs/${absent}`)).status).to.equal(404);
    });
  });

  describe("store failures", () => {
    it("answers 500 without internals when the store cannot be read", async () => {
      const broken = stubStore({ stat: () => Promise.reject(new Error("EIO: disk on fire")) });
      const res = await request(buildApp(broken)).get(`/ipfs/${textCid}`);
      expect(res.status).to.equal(500);
      expect(res.body.error.code).to.equal("INTERNAL");
      expect(JSON.stringify(res.body)).not.to.contain("disk on fire");
    });

    it("cuts the connection when the store fails mid-stream, so a truncated body never looks complete", async () => {
      const failing = stubStore({
        stat: () => Promise.resolve({ size: 1_000_000 }),
        async *cat() {
          yield new Uint8Array(1000);
          throw new Error("block vanished");
        },
      });
      let failure: unknown;
      try {
        await request(buildApp(failing)).get(`/ipfs/${textCid}`).buffer(true).parse(binary);
      } catch (err) {
        failure = err;
      }
      expect((failure as NodeJS.ErrnoException).code).to.equal("ECONNRESET");
    });
  });
});
