import { randomBytes } from "node:crypto";
import { expect } from "chai";
import fc from "fast-check";
import {
  HEADER_BYTES,
  newHeader,
  open,
  parseHeader,
  plainSizeOf,
  seal,
  SealedFileError,
  sealedSize,
  spanOf,
  TAG_BYTES,
  type SealedHeader,
} from "../../server/content/sealed-file.ts";

const SEGMENT = 64;

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

/** `bytes` as a stream of pieces of the given sizes (cycled), as a store hands them out. */
async function* inPieces(bytes: Buffer, sizes: number[] = [bytes.length || 1]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]!);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

async function sealed(key: Buffer, plain: Buffer, header = newHeader(SEGMENT), sizes?: number[]) {
  return { header, bytes: await collect(seal(key, header, inPieces(plain, sizes))) };
}

/** Opens bytes `offset`…`offset + length - 1` of a sealed file held in memory. */
function read(
  key: Buffer,
  file: { header: SealedHeader; bytes: Buffer },
  plainSize: number,
  offset = 0,
  length = plainSize,
  sizes?: number[],
): Promise<Buffer> {
  const span = spanOf(plainSize, file.header.segmentSize, offset, length);
  const source = file.bytes.subarray(span.sealedOffset, span.sealedOffset + span.sealedLength);
  return collect(open(key, file.header, plainSize, span, length, inPieces(source, sizes)));
}

async function refused(promise: Promise<unknown>): Promise<SealedFileError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(SealedFileError);
    return err as SealedFileError;
  }
  throw new Error("expected the sealed file to be refused");
}

describe("sealed files (segmented AES-256-GCM)", () => {
  const key = randomBytes(32);

  it("seals to the size it predicts and opens to the same bytes, for every size around segment edges", async () => {
    for (const size of [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT, 5 * SEGMENT + 17]) {
      const plain = randomBytes(size);
      const file = await sealed(key, plain);
      expect(file.bytes.length, `size ${size}`).to.equal(sealedSize(size, SEGMENT));
      expect(plainSizeOf(file.bytes.length, SEGMENT)).to.equal(size);
      expect((await read(key, file, size)).equals(plain), `size ${size}`).to.equal(true);
    }
  });

  it("holds no run of the plaintext and differs between two seals of the same bytes", async () => {
    const plain = Buffer.alloc(10 * SEGMENT, 0x41);
    const [a, b] = [await sealed(key, plain), await sealed(key, plain)];
    expect(a.bytes.includes(Buffer.alloc(16, 0x41))).to.equal(false);
    expect(a.bytes.subarray(HEADER_BYTES).equals(b.bytes.subarray(HEADER_BYTES))).to.equal(false);
  });

  it("opens any byte range by reading only the segments it touches, however the bytes arrive", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 9 * SEGMENT }),
        fc.nat(),
        fc.nat(),
        fc.array(fc.integer({ min: 1, max: 3 * SEGMENT }), { minLength: 1, maxLength: 4 }),
        async (size, a, b, sizes) => {
          const plain = randomBytes(size);
          const file = await sealed(key, plain, newHeader(SEGMENT), sizes);
          const offset = size === 0 ? 0 : a % size;
          const length = size === 0 ? 0 : b % (size - offset + 1);
          const span = spanOf(size, SEGMENT, offset, length);
          expect(span.sealedLength).to.be.at.most((Math.ceil(length / SEGMENT) + 1) * (SEGMENT + TAG_BYTES));
          const got = await read(key, file, size, offset, length, sizes);
          expect(got.equals(plain.subarray(offset, offset + length))).to.equal(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("refuses a flipped bit in any segment, its tag or the header", async () => {
    const plain = randomBytes(3 * SEGMENT + 5);
    const file = await sealed(key, plain);
    for (const at of [
      HEADER_BYTES,
      HEADER_BYTES + SEGMENT + 3,
      file.bytes.length - 1,
      file.bytes.length - 20,
    ]) {
      const altered = Buffer.from(file.bytes);
      altered[at]! ^= 1;
      await refused(read(key, { header: file.header, bytes: altered }, plain.length));
    }
    const header = Buffer.from(file.header.bytes);
    header[13]! ^= 1;
    await refused(read(key, { header: parseHeader(header), bytes: file.bytes }, plain.length));
  });

  it("refuses the wrong key, swapped segments, and a file cut at a segment boundary", async () => {
    const plain = randomBytes(4 * SEGMENT);
    const file = await sealed(key, plain);
    await refused(read(randomBytes(32), file, plain.length));

    const stride = SEGMENT + TAG_BYTES;
    const swapped = Buffer.from(file.bytes);
    file.bytes.copy(swapped, HEADER_BYTES, HEADER_BYTES + stride, HEADER_BYTES + 2 * stride);
    file.bytes.copy(swapped, HEADER_BYTES + stride, HEADER_BYTES, HEADER_BYTES + stride);
    await refused(read(key, { header: file.header, bytes: swapped }, plain.length));

    // Cut after three segments and claimed to be three segments long: the third is not marked last.
    const cut = { header: file.header, bytes: file.bytes.subarray(0, HEADER_BYTES + 3 * stride) };
    await refused(read(key, cut, 3 * SEGMENT));
    // Served shorter than its size says.
    const span = spanOf(plain.length, SEGMENT, 0, plain.length);
    const short = file.bytes.subarray(span.sealedOffset, span.sealedOffset + span.sealedLength - 1);
    await refused(collect(open(key, file.header, plain.length, span, plain.length, inPieces(short))));
  });

  it("reads its header back and refuses bytes that are no sealed file", () => {
    const header = newHeader(SEGMENT);
    expect(parseHeader(header.bytes).segmentSize).to.equal(SEGMENT);
    expect(parseHeader(header.bytes).prefix.equals(header.prefix)).to.equal(true);
    expect(() => parseHeader(Buffer.alloc(HEADER_BYTES))).to.throw(SealedFileError);
    expect(() => parseHeader(header.bytes.subarray(0, 10))).to.throw(SealedFileError);
    const reserved = Buffer.from(header.bytes);
    reserved[23] = 1;
    expect(() => parseHeader(reserved)).to.throw(SealedFileError);
    expect(plainSizeOf(HEADER_BYTES + 3, SEGMENT)).to.equal(null);
  });
});
