import { expect } from "chai";
import JSZip from "jszip";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import {
  DeflatedPiece,
  readZip,
  writeZip,
  ZipLimitError,
  ZipWriter,
  type ZipLimits,
} from "../../lib/evidence/zip.ts";
import { zipBomb } from "../helpers/zip-bomb.ts";

const MiB = 1024 * 1024;
const LIMITS: ZipLimits = {
  maxEntries: 8,
  maxEntryBytes: 4 * MiB,
  maxTotalBytes: 6 * MiB,
  maxRatio: 100,
  ratioFloorBytes: 64 * 1024,
};

async function limitOf(promise: Promise<unknown>): Promise<keyof ZipLimits> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(ZipLimitError);
    return (err as ZipLimitError).limit;
  }
  throw new Error("expected a ZipLimitError");
}

describe("readZip", function () {
  it("reads stored and deflated files as JSZip wrote them, skipping directories", async function () {
    const zip = new JSZip();
    zip.file("a.json", '{"a":1}');
    zip.file("dir/b.bin", new Uint8Array([0, 1, 2, 255]), { compression: "STORE" });
    zip.folder("empty");
    const files = await readZip(
      await zip.generateAsync({ type: "uint8array", compression: "DEFLATE" }),
      LIMITS,
    );
    expect([...files.keys()].sort()).to.deep.equal(["a.json", "dir/b.bin"]);
    expect(new TextDecoder().decode(files.get("a.json"))).to.equal('{"a":1}');
    expect([...files.get("dir/b.bin")!]).to.deep.equal([0, 1, 2, 255]);
  });

  it("stops a file inflating past the per-file limit although its header declares 10 bytes", async function () {
    const bomb = await zipBomb([{ name: "bomb", inflatedBytes: 64 * MiB, declaredBytes: 10 }]);
    expect(await limitOf(readZip(bomb, { ...LIMITS, maxRatio: 1_000_000 }))).to.equal("maxEntryBytes");
  });

  it("stops a file inflating more than the ratio allows", async function () {
    const bomb = await zipBomb([{ name: "bomb", inflatedBytes: 2 * MiB }]);
    expect(await limitOf(readZip(bomb, LIMITS))).to.equal("maxRatio");
  });

  it("lets a small file compress better than the ratio", async function () {
    const files = await readZip(await zipBomb([{ name: "zeros", inflatedBytes: 60 * 1024 }]), LIMITS);
    expect(files.get("zeros")!.byteLength).to.equal(60 * 1024);
  });

  it("stops files that each pass but together inflate past the total", async function () {
    const bomb = await zipBomb([1, 2, 3].map((i) => ({ name: `part${i}`, inflatedBytes: 3 * MiB })));
    expect(await limitOf(readZip(bomb, { ...LIMITS, maxRatio: 1_000_000 }))).to.equal("maxTotalBytes");
  });

  it("refuses more entries than allowed before inflating any", async function () {
    const many = await zipBomb(Array.from({ length: 9 }, (_, i) => ({ name: `f${i}`, inflatedBytes: 1 })));
    expect(await limitOf(readZip(many, LIMITS))).to.equal("maxEntries");
  });

  it("refuses a file whose bytes do not match its CRC-32", async function () {
    const zip = await new JSZip()
      .file("a.txt", "hello", { compression: "STORE" })
      .generateAsync({ type: "uint8array" });
    const at = Buffer.from(zip).indexOf("hello");
    zip[at] = "j".charCodeAt(0);
    await readZip(zip, LIMITS).then(
      () => expect.fail("expected an error"),
      (err: Error) => expect(err.message).to.match(/CRC-32/),
    );
  });

  it("refuses bytes that are not a zip", async function () {
    await readZip(new TextEncoder().encode("not a zip at all, just text"), LIMITS).then(
      () => expect.fail("expected an error"),
      (err: Error) => expect(err).not.to.be.instanceOf(ZipLimitError),
    );
  });
});

describe("writeZip", function () {
  const modified = new Date("2026-03-14T15:09:26Z");
  const entries = [
    { name: "manifest.json", bytes: new TextEncoder().encode(`${JSON.stringify({ a: 1 }, null, 2)}\n`) },
    { name: "chain/receipt.json", bytes: new TextEncoder().encode("x".repeat(60_000)) },
    { name: "original/été.bin", bytes: Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256) },
    { name: "empty.txt", bytes: new Uint8Array(0) },
  ];

  it("writes deflated files that readZip reads back byte for byte", async function () {
    const zip = await writeZip(entries, modified);
    const files = await readZip(zip, LIMITS);
    expect([...files.keys()]).to.deep.equal(entries.map((e) => e.name));
    for (const entry of entries)
      expect(Buffer.from(files.get(entry.name)!).equals(entry.bytes)).to.equal(true);
    expect(zip.byteLength).to.be.lessThan(60_000 / 10);
  });

  it("writes an archive another zip tool reads, with UTF-8 names and the given date", async function () {
    const zip = await JSZip.loadAsync(await writeZip(entries, modified));
    const file = zip.file("original/été.bin")!;
    expect(Buffer.from(await file.async("uint8array")).equals(entries[2]!.bytes)).to.equal(true);
    expect(await zip.file("empty.txt")!.async("string")).to.equal("");
    // MS-DOS times have a resolution of two seconds.
    expect(file.date.toISOString()).to.equal("2026-03-14T15:09:26.000Z");
  });

  it("lays out the files it is told first ahead of the others, which keep the order they were added in", async function () {
    const zip = new ZipWriter();
    for (const name of ["c", "d", "a", "e", "b"]) zip.add(name, new TextEncoder().encode(name));
    const files = await readZip(await zip.finish(modified, ["a", "b", "absent"]), LIMITS);
    expect([...files.keys()]).to.deep.equal(["a", "b", "c", "d", "e"]);
  });

  it("writes a file added in pieces as one file, byte for byte, that readZip, JSZip and unzip read", async function () {
    const pieces = [
      new TextEncoder().encode('{\n  "licenses": [\n'),
      new TextEncoder().encode(
        Array.from({ length: 5000 }, (_, i) => `    {"tokenId":"${i * 7919}"},\n`).join(""),
      ),
      new Uint8Array(0),
      Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256),
      new TextEncoder().encode("\n  ]\n}\n"),
    ];
    const whole = Buffer.concat(pieces);
    const zip = new ZipWriter();
    zip.addPieces(
      "manifest.json",
      pieces.map((bytes, i) => new DeflatedPiece(bytes, i === pieces.length - 1)),
    );
    zip.add("whole.json", whole);
    const bytes = await zip.finish(modified);
    const files = await readZip(bytes, LIMITS);
    expect(Buffer.from(files.get("manifest.json")!).equals(whole)).to.equal(true);
    const other = await JSZip.loadAsync(bytes);
    expect(Buffer.from(await other.file("manifest.json")!.async("uint8array")).equals(whole)).to.equal(true);
    const dir = await mkdtemp(path.join(tmpdir(), "rl-zip-pieces-"));
    try {
      await writeFile(path.join(dir, "bundle.zip"), bytes);
      const { stdout } = await promisify(execFile)(
        "unzip",
        ["-p", path.join(dir, "bundle.zip"), "manifest.json"],
        {
          encoding: "buffer",
          maxBuffer: 4 * MiB,
        },
      );
      expect(stdout.equals(whole)).to.equal(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses pieces whose last is not the one that ends the file", function () {
    const bytes = new Uint8Array(1);
    for (const lasts of [[], [false], [true, true], [true, false], [false, true, false]]) {
      expect(() =>
        new ZipWriter().addPieces(
          "f",
          lasts.map((last) => new DeflatedPiece(bytes, last)),
        ),
      ).to.throw(/only the last/);
    }
  });

  it("refuses more entries than a zip without zip64 can list", async function () {
    const many = Array.from({ length: 65_536 }, (_, i) => ({ name: `f${i}`, bytes: new Uint8Array(0) }));
    await writeZip(many, modified).then(
      () => expect.fail("expected an error"),
      (err: Error) => expect(err.message).to.match(/65,535 entries/),
    );
  });
});
