import { expect } from "chai";
import JSZip from "jszip";
import { readZip, ZipLimitError, type ZipLimits } from "../../lib/evidence/zip.ts";
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
