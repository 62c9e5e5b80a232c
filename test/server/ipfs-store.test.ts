import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Busboy from "busboy";
import { expect } from "chai";
import { base32upper } from "multiformats/bases/base32";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256, sha512 } from "multiformats/hashes/sha2";
import { ContentKeys } from "../../server/content/content-keys.ts";
import { Originals } from "../../server/content/originals.ts";
import { createIpfsStore } from "../../server/ipfs/create-store.ts";
import { EmbeddedIpfsStore } from "../../server/ipfs/embedded-store.ts";
import { KuboIpfsStore } from "../../server/ipfs/kubo-store.ts";
import type { IpfsStore } from "../../server/ipfs/store.ts";
import { holdsRunOf } from "../helpers/plaintext-runs.ts";

const CHUNK = 262_144;
const MAX_LINKS = 174;
const EMPTY_FILE_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
const HELLO_WORLD_CID = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

// ---------------------------------------------------------------------------------------------
// Reference CIDs, built from the specifications rather than with the importer or its codecs:
// protobuf by hand (dag-pb PBNode/PBLink, UnixFS Data), multibase base32 by hand, and the file
// DAG laid out the way Kubo's balanced builder (boxo ipld/unixfs/importer/balanced) does it.
// ---------------------------------------------------------------------------------------------

interface RefNode {
  cid: Uint8Array;
  tsize: number;
  fileSize: number;
}

const RAW_CODEC = 0x55;
const DAG_PB_CODEC = 0x70;
const SHA2_256 = 0x12;

function varint(value: number): number[] {
  const out: number[] = [];
  let n = value;
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function lengthDelimited(field: number, bytes: ArrayLike<number>): number[] {
  return [(field << 3) | 2, ...varint(bytes.length), ...Array.from(bytes)];
}

function sha256Of(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

function cidV1(codec: number, digest: Uint8Array): Uint8Array {
  return Uint8Array.from([1, ...varint(codec), SHA2_256, digest.length, ...digest]);
}

// RFC 4648 base32, lower case, no padding, with the multibase prefix "b".
function base32Cid(bytes: Uint8Array): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let out = "b";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

function refLeaf(chunk: Uint8Array): RefNode {
  return { cid: cidV1(RAW_CODEC, sha256Of(chunk)), tsize: chunk.length, fileSize: chunk.length };
}

// PBNode { Links = 2 (PBLink { Hash = 1, Name = 2, Tsize = 3 }), Data = 1 }, Links first as dag-pb
// requires; UnixFS Data { Type = 1 (File = 2), filesize = 3, blocksizes = 4 (repeated, unpacked) }.
function refParent(children: RefNode[]): RefNode {
  const fileSize = children.reduce((sum, child) => sum + child.fileSize, 0);
  const links = children.flatMap((child) =>
    lengthDelimited(2, [
      ...lengthDelimited(1, child.cid),
      ...lengthDelimited(2, []),
      0x18,
      ...varint(child.tsize),
    ]),
  );
  const unixfs = [
    0x08,
    2,
    0x18,
    ...varint(fileSize),
    ...children.flatMap((child) => [0x20, ...varint(child.fileSize)]),
  ];
  const block = Uint8Array.from([...links, ...lengthDelimited(1, unixfs)]);
  const tsize = block.length + children.reduce((sum, child) => sum + child.tsize, 0);
  return { cid: cidV1(DAG_PB_CODEC, sha256Of(block)), tsize, fileSize };
}

// Kubo's balanced layout: start from the first leaf; while leaves remain, make the root the first
// child of a new root one level deeper and fill that with full subtrees.
function kuboBalancedRoot(leaves: RefNode[]): RefNode {
  let next = 0;
  const fill = (children: RefNode[], depth: number): RefNode => {
    while (children.length < MAX_LINKS && next < leaves.length) {
      children.push(depth === 1 ? leaves[next++]! : fill([], depth - 1));
    }
    return refParent(children);
  };
  let root = leaves[next++] ?? refLeaf(new Uint8Array(0));
  for (let depth = 1; next < leaves.length; depth++) root = fill([root], depth);
  return root;
}

/** The CID Kubo gives `bytes` with `ipfs add --cid-version=1` (256 KiB chunks, raw leaves, balanced). */
function referenceCid(chunks: Uint8Array[]): string {
  return base32Cid(kuboBalancedRoot(chunks.map(refLeaf)).cid);
}

function chunksOf(bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK)
    chunks.push(bytes.subarray(offset, offset + CHUNK));
  return chunks;
}

// Deterministic bytes with no repeating chunk: byte p of a generated file.
function byteAt(position: number): number {
  return Math.imul(position, 0x9e3779b1) >>> 24;
}

function generated(start: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = byteAt(start + i);
  return bytes;
}

// Streams a generated file in pieces that do not line up with chunk boundaries.
async function* generatedStream(size: number, piece = 100_003): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < size; offset += piece)
    yield generated(offset, Math.min(piece, size - offset));
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

async function digestOf(source: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const part of source) hash.update(part);
  return hash.digest("hex");
}

async function makeTempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "rights-ledger-ipfs-"));
}

describe("reference CIDs", () => {
  it("reproduce the published CIDs of the empty file and of 'hello world'", () => {
    expect(referenceCid([new Uint8Array(0)])).to.equal(EMPTY_FILE_CID);
    expect(referenceCid([new TextEncoder().encode("hello world")])).to.equal(HELLO_WORLD_CID);
  });

  it("agree with multiformats on a raw-leaf CID", async () => {
    const bytes = generated(0, 1000);
    const expected = CID.create(1, raw.code, await sha256.digest(bytes)).toString();
    expect(referenceCid([bytes])).to.equal(expected);
  });
});

describe("embedded IPFS store", function () {
  let dir: string;
  let store: EmbeddedIpfsStore;

  beforeEach(async () => {
    dir = await makeTempDir();
    store = await EmbeddedIpfsStore.open(path.join(dir, "ipfs"));
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe("gives the CID Kubo gives", () => {
    const cases: Array<[string, Uint8Array]> = [
      ["the empty file", new Uint8Array(0)],
      ["one byte", Uint8Array.of(0x2a)],
      ["a short text", new TextEncoder().encode("Rights Ledger: proof of existence\n")],
      ["exactly one chunk (262,144 bytes)", generated(0, CHUNK)],
      ["one chunk and one byte (262,145 bytes)", generated(0, CHUNK + 1)],
      ["four identical chunks", new Uint8Array(4 * CHUNK)],
    ];
    for (const [name, bytes] of cases) {
      it(`for ${name}, as the reference DAG has it`, async () => {
        const expected = referenceCid(chunksOf(bytes));
        const added = await store.add(bytes);
        expect(added).to.deep.equal({ cid: expected, size: bytes.length });
      });
    }

    it("for the empty file: bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", async () => {
      expect((await store.add(new Uint8Array(0))).cid).to.equal(EMPTY_FILE_CID);
    });

    it("for 'hello world' as a raw leaf: CIDv1(raw, sha256)", async () => {
      expect((await store.add(new TextEncoder().encode("hello world"))).cid).to.equal(HELLO_WORLD_CID);
    });

    it("for a single-chunk file: a bafkrei raw leaf, not a dag-pb parent", async () => {
      const { cid } = await store.add(generated(0, CHUNK));
      expect(cid.startsWith("bafkrei")).to.equal(true);
      expect((await store.add(generated(0, CHUNK + 1))).cid.startsWith("bafybei")).to.equal(true);
    });

    it("for 175 chunks and one byte streamed in odd pieces, a two-level balanced tree", async () => {
      const size = 175 * CHUNK + 1;
      const chunks = Array.from({ length: 176 }, (_, i) =>
        generated(i * CHUNK, Math.min(CHUNK, size - i * CHUNK)),
      );
      const expected = referenceCid(chunks);
      const added = await store.add(generatedStream(size));
      expect(added).to.deep.equal({ cid: expected, size });

      const wholeFile = createHash("sha256");
      for (const chunk of chunks) wholeFile.update(chunk);
      expect(await digestOf(store.cat(added.cid))).to.equal(wholeFile.digest("hex"));
      // Across the boundary between the two level-1 nodes.
      const across = await collect(store.cat(added.cid, { offset: 174 * CHUNK - 10, length: CHUNK }));
      expect(across.equals(generated(174 * CHUNK - 10, CHUNK))).to.equal(true);
    });
  });

  it("returns CIDs as base32 CIDv1 strings", async () => {
    const { cid } = await store.add(generated(0, CHUNK + 1));
    const parsed = CID.parse(cid);
    expect(parsed.version).to.equal(1);
    expect(parsed.toString()).to.equal(cid);
    expect(cid).to.match(/^b[a-z2-7]+$/);
  });

  it("writes blocks while the source is still being read", async () => {
    const first = generated(0, CHUNK);
    const firstLeaf = CID.create(1, raw.code, await sha256.digest(first)).toString();
    let sawBlockMidStream = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 16; i++) yield generated(i * CHUNK, CHUNK);
      for (let tries = 0; tries < 200 && !sawBlockMidStream; tries++) {
        sawBlockMidStream = await store.has(firstLeaf);
        if (!sawBlockMidStream) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      yield generated(16 * CHUNK, 1);
    }
    await store.add(source());
    expect(sawBlockMidStream).to.equal(true);
  });

  it("streams a stored file back byte for byte", async () => {
    const bytes = generated(7, 3 * CHUNK + 5);
    const { cid } = await store.add(bytes);
    expect((await collect(store.cat(cid))).equals(bytes)).to.equal(true);
  });

  it("streams a range that crosses chunk boundaries", async () => {
    const bytes = generated(0, 3 * CHUNK);
    const { cid } = await store.add(bytes);
    const part = await collect(store.cat(cid, { offset: CHUNK - 3, length: CHUNK + 6 }));
    expect(part.equals(bytes.subarray(CHUNK - 3, 2 * CHUNK + 3))).to.equal(true);
  });

  it("fails a read whose leaf block was cut short or lost, instead of streaming a shorter file", async () => {
    const bytes = generated(11, 3 * CHUNK);
    const { cid } = await store.add(bytes);
    const leaves = [
      CID.create(1, raw.code, await sha256.digest(bytes.subarray(CHUNK, 2 * CHUNK))),
      CID.create(1, raw.code, await sha256.digest(bytes.subarray(2 * CHUNK))),
    ].map((leaf) => base32upper.encoder.encode(leaf.multihash.bytes));
    const files = (await readdir(store.directory, { recursive: true })).map((f) =>
      path.join(store.directory, f),
    );
    await truncate(
      files.find((f) => f.endsWith(`${leaves[0]}.data`))!,
      CHUNK - 1,
    );
    await rm(files.find((f) => f.endsWith(`${leaves[1]}.data`))!);
    for (const range of [{}, { offset: 2 * CHUNK - 1, length: 1 }, { offset: 2 * CHUNK + 1 }]) {
      let failure: unknown;
      try {
        await collect(store.cat(cid, range));
      } catch (err) {
        failure = err;
      }
      expect(failure, JSON.stringify(range)).to.be.instanceOf(Error);
    }
  });

  it("stops a range at the end of the file", async () => {
    const { cid } = await store.add(new TextEncoder().encode("0123456789"));
    expect((await collect(store.cat(cid, { offset: 6, length: 100 }))).toString()).to.equal("6789");
    expect((await collect(store.cat(cid, { offset: 10 }))).length).to.equal(0);
  });

  it("rejects an offset past the end or a negative length with RangeError", async () => {
    const { cid } = await store.add(new TextEncoder().encode("0123456789"));
    for (const options of [{ offset: 11 }, { offset: -1 }, { length: -1 }, { offset: 1.5 }]) {
      let failure: unknown;
      try {
        await collect(store.cat(cid, options));
      } catch (err) {
        failure = err;
      }
      expect(failure, JSON.stringify(options)).to.be.instanceOf(RangeError);
    }
  });

  it("reports the byte size of a stored file, single-chunk or not", async () => {
    const small = await store.add(new TextEncoder().encode("hello"));
    const large = await store.add(generated(0, 2 * CHUNK + 9));
    expect(await store.stat(small.cid)).to.deep.equal({ size: 5 });
    expect(await store.stat(large.cid)).to.deep.equal({ size: 2 * CHUNK + 9 });
  });

  it("answers null and false for a CID it does not hold", async () => {
    const absent = CID.create(
      1,
      raw.code,
      await sha256.digest(new TextEncoder().encode("never added")),
    ).toString();
    expect(await store.stat(absent)).to.equal(null);
    expect(await store.has(absent)).to.equal(false);
  });

  it("answers null for CIDs of things it never stores: other codecs, other hashes, a leaf read as dag-pb", async () => {
    const bytes = new TextEncoder().encode("a stored leaf");
    const { cid } = await store.add(bytes);
    const leaf = CID.parse(cid);
    const asDagPb = CID.createV1(DAG_PB_CODEC, leaf.multihash).toString();
    const asDagCbor = CID.createV1(0x71, leaf.multihash).toString();
    const sha512Raw = CID.createV1(raw.code, await sha512.digest(bytes)).toString();
    for (const other of [asDagPb, asDagCbor, sha512Raw])
      expect(await store.stat(other), other).to.equal(null);
    expect(await store.has(asDagCbor)).to.equal(false);
  });

  it("accepts the same file under its CIDv0 form", async () => {
    const { cid } = await store.add(generated(0, CHUNK + 1));
    const v0 = CID.parse(cid).toV0().toString();
    expect(v0.startsWith("Qm")).to.equal(true);
    expect(await store.stat(v0)).to.deep.equal({ size: CHUNK + 1 });
  });

  it("knows a file once added", async () => {
    const { cid } = await store.add(new TextEncoder().encode("kept"));
    expect(await store.has(cid)).to.equal(true);
  });

  it("stores concurrent adds of the same file once, whole, under one CID", async () => {
    const bytes = Buffer.concat([new Uint8Array(3 * CHUNK), generated(0, 2 * CHUNK + 1)]);
    const results = await Promise.all(Array.from({ length: 6 }, () => store.add(generatedPieces(bytes))));
    expect(new Set(results.map((r) => r.cid)).size).to.equal(1);
    expect(results[0]!.cid).to.equal(referenceCid(chunksOf(bytes)));
    expect((await collect(store.cat(results[0]!.cid))).equals(bytes)).to.equal(true);
    expect(await temporaryFiles(store.directory)).to.deep.equal([]);
  });

  it("serves files added before it was closed and reopened", async () => {
    const bytes = generated(3, CHUNK + 100);
    const { cid } = await store.add(bytes);
    await store.close();
    store = await EmbeddedIpfsStore.open(path.join(dir, "ipfs"));
    expect(await store.stat(cid)).to.deep.equal({ size: bytes.length });
    expect((await collect(store.cat(cid))).equals(bytes)).to.equal(true);
  });

  it("is ready while its directory is writable and says why not once it is gone", async () => {
    await store.ready();
    await rm(store.directory, { recursive: true });
    let failure: unknown;
    try {
      await store.ready();
    } catch (err) {
      failure = err;
    }
    expect((failure as NodeJS.ErrnoException).code).to.equal("ENOENT");
  });

  it("rejects the add when the source fails", async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield generated(0, CHUNK);
      throw new Error("client went away");
    }
    let failure: unknown;
    try {
      await store.add(failing());
    } catch (err) {
      failure = err;
    }
    expect((failure as Error).message).to.equal("client went away");
  });
});

async function* generatedPieces(bytes: Uint8Array, piece = 65_537): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += piece) yield bytes.subarray(offset, offset + piece);
}

async function temporaryFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true });
  return entries.filter((name) => name.endsWith(".tmp"));
}

// ---------------------------------------------------------------------------------------------
// A stand-in for Kubo's RPC API: it records each request and answers in Kubo's shapes, so the
// tests show what the store sends and how it reads answers. It does not chunk: it only computes
// the raw-leaf CID that Kubo gives files of one chunk, which is all these tests add.
// ---------------------------------------------------------------------------------------------

interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
}

class FakeKubo {
  readonly requests: RecordedRequest[] = [];
  readonly files = new Map<string, Buffer>();
  failWith: string | null = null;
  private receivedFirstBytes!: () => void;
  readonly firstBytes = new Promise<void>((resolve) => (this.receivedFirstBytes = resolve));
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
  }

  lastRequest(command: string): RecordedRequest {
    const found = this.requests.filter((r) => r.path === `/api/v0/${command}`).at(-1);
    if (!found) throw new Error(`no ${command} request`);
    return found;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, "http://kubo");
    this.requests.push({ method: req.method!, path: url.pathname, query: url.searchParams });
    const arg = url.searchParams.get("arg") ?? "";
    if (this.failWith) return this.error(res, this.failWith);
    switch (url.pathname) {
      case "/api/v0/add":
        return this.add(req, res);
      case "/api/v0/cat": {
        const file = this.files.get(arg);
        if (!file) return this.notFound(res, arg);
        const offset = Number(url.searchParams.get("offset") ?? 0);
        const length = Number(url.searchParams.get("length") ?? file.length);
        res.writeHead(200, { "Content-Type": "text/plain", "X-Stream-Output": "1" });
        res.end(file.subarray(offset, offset + length));
        return;
      }
      case "/api/v0/files/stat": {
        const cid = arg.replace(/^\/ipfs\//, "");
        const file = this.files.get(cid);
        if (!file) return this.notFound(res, cid);
        return this.json(res, {
          Hash: cid,
          Size: file.length,
          CumulativeSize: file.length,
          Blocks: 0,
          Type: "file",
        });
      }
      case "/api/v0/block/stat": {
        const file = this.files.get(arg);
        if (!file) return this.notFound(res, arg);
        return this.json(res, { Key: arg, Size: file.length });
      }
      case "/api/v0/version":
        return this.json(res, {
          Version: "0.38.1",
          Commit: "",
          Repo: "16",
          System: "amd64/linux",
          Golang: "go1.24.6",
        });
      default:
        return this.error(res, `unknown command "${url.pathname}"`);
    }
  }

  private add(req: IncomingMessage, res: ServerResponse): void {
    const busboy = Busboy({ headers: req.headers });
    busboy.on("file", (_name, file) => {
      const parts: Buffer[] = [];
      file.on("data", (part: Buffer) => {
        parts.push(part);
        this.receivedFirstBytes();
      });
      file.on("end", () => {
        const bytes = Buffer.concat(parts);
        const cid = base32Cid(cidV1(RAW_CODEC, sha256Of(bytes)));
        this.files.set(cid, bytes);
        res.writeHead(200, { "Content-Type": "application/json", "X-Chunked-Output": "1" });
        res.end(`${JSON.stringify({ Name: cid, Hash: cid, Size: String(bytes.length) })}\n`);
      });
    });
    req.pipe(busboy);
  }

  private json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private notFound(res: ServerResponse, cid: string): void {
    this.error(res, `block was not found locally (offline): ipld: could not find ${cid}`);
  }

  private error(res: ServerResponse, message: string): void {
    res.writeHead(500, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ Message: message, Code: 0, Type: "error" }));
  }
}

describe("Kubo IPFS store", () => {
  let kubo: FakeKubo;
  let store: KuboIpfsStore;

  beforeEach(async () => {
    kubo = new FakeKubo();
    store = KuboIpfsStore.connect(await kubo.start());
  });

  afterEach(async () => {
    await store.close();
    await kubo.stop();
  });

  it("adds with CIDv1, raw leaves, 256 KiB chunks, sha2-256, balanced layout and a pin", async () => {
    const bytes = new TextEncoder().encode("hello world");
    const added = await store.add(bytes);
    expect(added).to.deep.equal({ cid: HELLO_WORLD_CID, size: 11 });
    const { method, query } = kubo.lastRequest("add");
    expect(method).to.equal("POST");
    expect(query.get("cid-version")).to.equal("1");
    expect(query.get("raw-leaves")).to.equal("true");
    expect(query.get("chunker")).to.equal("size-262144");
    expect(query.get("hash")).to.equal("sha2-256");
    expect(query.get("trickle")).to.equal("false");
    expect(query.get("wrap-with-directory")).to.equal("false");
    expect(query.get("pin")).to.equal("true");
  });

  it("streams the upload: the node has bytes before the source ends", async () => {
    let sourceWaited = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      yield generated(0, 1000);
      await kubo.firstBytes;
      sourceWaited = true;
      yield generated(1000, 1000);
    }
    const added = await store.add(source());
    expect(sourceWaited).to.equal(true);
    expect(added.size).to.equal(2000);
    expect(kubo.files.get(added.cid)?.equals(generated(0, 2000))).to.equal(true);
  });

  it("reads a range with cat, from the node's own blocks only", async () => {
    const { cid } = await store.add(new TextEncoder().encode("0123456789"));
    expect((await collect(store.cat(cid, { offset: 2, length: 5 }))).toString()).to.equal("23456");
    const { query } = kubo.lastRequest("cat");
    expect([query.get("arg"), query.get("offset"), query.get("length"), query.get("offline")]).to.deep.equal([
      cid,
      "2",
      "5",
      "true",
    ]);
  });

  it("asks for nothing when the range is empty", async () => {
    const { cid } = await store.add(new TextEncoder().encode("0123456789"));
    expect((await collect(store.cat(cid, { offset: 3, length: 0 }))).length).to.equal(0);
    expect(kubo.requests.some((r) => r.path === "/api/v0/cat")).to.equal(false);
  });

  it("stats a file through files/stat on its /ipfs path, offline", async () => {
    const { cid } = await store.add(new TextEncoder().encode("twelve bytes"));
    expect(await store.stat(cid)).to.deep.equal({ size: 12 });
    const { query } = kubo.lastRequest("files/stat");
    expect([query.get("arg"), query.get("offline")]).to.deep.equal([`/ipfs/${cid}`, "true"]);
  });

  it("answers null and false when the node does not have the CID", async () => {
    expect(await store.stat(EMPTY_FILE_CID)).to.equal(null);
    expect(await store.has(EMPTY_FILE_CID)).to.equal(false);
    expect(kubo.lastRequest("block/stat").query.get("offline")).to.equal("true");
  });

  it("knows an added file through block/stat", async () => {
    const { cid } = await store.add(new TextEncoder().encode("kept"));
    expect(await store.has(cid)).to.equal(true);
    expect(kubo.lastRequest("block/stat").query.get("arg")).to.equal(cid);
  });

  it("passes on node failures other than a missing block", async () => {
    kubo.failWith = "failed to open repo: permission denied";
    let failure: unknown;
    try {
      await store.stat(EMPTY_FILE_CID);
    } catch (err) {
      failure = err;
    }
    expect((failure as Error).message).to.equal("failed to open repo: permission denied");
  });

  it("is ready when the node answers its version, and not when the node is down", async () => {
    await store.ready();
    expect(kubo.lastRequest("version").method).to.equal("POST");
    await kubo.stop();
    let failure: unknown;
    try {
      await store.ready();
    } catch (err) {
      failure = err;
    }
    expect(failure).to.be.instanceOf(Error);
    kubo = new FakeKubo();
    await kubo.start();
  });
});

describe("private originals on Kubo", () => {
  it("sends the node only the sealed file and opens ranges of it from the node's bytes", async () => {
    const kubo = new FakeKubo();
    const store = KuboIpfsStore.connect(await kubo.start());
    try {
      // Small files are kept in memory once read whole; none is here, so ranges go to the node.
      const originals = new Originals(store, new ContentKeys([{ id: "k", key: randomBytes(32) }]), {
        fileMaxBytes: 0,
        totalBytes: 0,
      });
      const original = randomBytes(150_000);
      const contentHash = `0x${createHash("sha256").update(original).digest("hex")}`;
      const added = await originals.add(
        contentHash,
        "private",
        (async function* () {
          yield original;
        })(),
      );
      const held = kubo.files.get(added.cid)!;
      expect(held.length).to.equal(added.storedSize);
      expect(holdsRunOf(held, original)).to.equal(false);
      const stored = {
        contentHash,
        cid: added.cid,
        size: original.length,
        visibility: "private" as const,
        sealing: added.sealing,
      };
      const range = await collect(originals.read(stored, { offset: 70_000, length: 70_000 }));
      expect(range.equals(original.subarray(70_000, 140_000))).to.equal(true);
      // Only the segments holding the range are read: the second (64 KiB) and the last, each with its tag.
      const { query } = kubo.lastRequest("cat");
      expect([Number(query.get("offset")), Number(query.get("length"))]).to.deep.equal([
        24 + 65_552,
        65_552 + (150_000 - 2 * 65_536) + 16,
      ]);
    } finally {
      await store.close();
      await kubo.stop();
    }
  });
});

describe("createIpfsStore", () => {
  it("opens the embedded store in the configured directory when no Kubo API is configured", async () => {
    const dir = await makeTempDir();
    const store: IpfsStore = await createIpfsStore({ apiUrl: undefined, dir: path.join(dir, "blocks") });
    try {
      expect(store).to.be.instanceOf(EmbeddedIpfsStore);
      expect((store as EmbeddedIpfsStore).directory).to.equal(path.join(dir, "blocks"));
      await store.ready();
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("talks to Kubo when an API URL is configured", async () => {
    const kubo = new FakeKubo();
    const url = await kubo.start();
    const store = await createIpfsStore({ apiUrl: url, dir: "unused" });
    try {
      expect(store).to.be.instanceOf(KuboIpfsStore);
      await store.ready();
      expect(kubo.lastRequest("version").method).to.equal("POST");
    } finally {
      await store.close();
      await kubo.stop();
    }
  });
});
