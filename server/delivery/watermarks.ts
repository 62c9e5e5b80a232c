import { createHmac } from "node:crypto";
import { PDFDocument, rgb, StandardFonts } from "@pdfme/pdf-lib";
import sharp, { type OutputInfo } from "sharp";

/** The kinds of file a delivery can mark, by content type. */
const MARKABLE = new Set(["image/jpeg", "image/png", "application/pdf"]);
/** Bits of the mark: the license id (48) and a keyed tag (16) that tells a mark from noise. */
const ID_BITS = 48;
const TAG_BITS = 16;
const BITS = ID_BITS + TAG_BITS;
/** The quantization step of the marked DCT coefficient: JPEG at quality 80 moves it by far less than half. */
const STEP = 28;
/** The mid-frequency coefficient of each 8×8 luma block that carries a bit. */
const U = 2;
const V = 1;
const KEYWORD = /^rights-ledger-license:(\d+):([0-9a-f]{4})$/;

const COS = Array.from({ length: 8 }, (_, x) => [
  Math.cos(((2 * x + 1) * U * Math.PI) / 16),
  Math.cos(((2 * x + 1) * V * Math.PI) / 16),
]);
/** The basis of coefficient (U, V) at (x, y), scaled as the 2-D DCT-II with orthonormal factors. */
const BASIS = Array.from({ length: 64 }, (_, i) => (1 / 4) * COS[i % 8]![0]! * COS[Math.floor(i / 8)]![1]!);

/** What a mark names. */
export interface Mark {
  tokenId: string;
}

/**
 * Traceable copies: a delivery of an image carries its license id as an invisible mark in the
 * luma of every 8×8 block (quantization index modulation of one mid-frequency DCT coefficient,
 * each of the 64 bits repeated over the picture and read back by majority), which survives
 * re-encoding as JPEG at quality 80; a PDF carries it as visible text on every page and in its
 * keywords. A keyed 16-bit tag beside the id tells a mark this platform made from noise.
 */
export class Watermarks {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = createHmac("sha256", secret).update("watermark").digest();
  }

  /** Whether deliveries of this content type can be marked. */
  static markable(contentType: string | null): boolean {
    return contentType !== null && MARKABLE.has(contentType);
  }

  /** `bytes` marked for the license `tokenId` held by `holder`; the same input always gives the same bytes. */
  async mark(bytes: Buffer, contentType: string, tokenId: string, holder: string): Promise<Buffer> {
    if (BigInt(tokenId) >= 2n ** BigInt(ID_BITS))
      throw new RangeError(`license ${tokenId} is beyond what a mark holds`);
    if (contentType === "application/pdf") return this.#markPdf(bytes, tokenId, holder);
    return this.#markImage(bytes, contentType === "image/png" ? "png" : "jpeg", tokenId);
  }

  /** The license a suspect copy names, or null when it carries no mark of this platform. */
  async read(bytes: Buffer): Promise<Mark | null> {
    if (bytes.subarray(0, 5).toString("latin1") === "%PDF-") return this.#readPdf(bytes);
    return this.#readImage(bytes);
  }

  #tag(tokenId: bigint): number {
    return createHmac("sha256", this.#key).update(tokenId.toString()).digest().readUInt16BE(0);
  }

  #bits(tokenId: bigint): number[] {
    const word = (tokenId << BigInt(TAG_BITS)) | BigInt(this.#tag(tokenId));
    return Array.from({ length: BITS }, (_, i) => Number((word >> BigInt(BITS - 1 - i)) & 1n));
  }

  async #markImage(bytes: Buffer, format: "jpeg" | "png", tokenId: string): Promise<Buffer> {
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    const { width, height, channels } = info;
    const bits = this.#bits(BigInt(tokenId));
    forEachBlock(width, height, (bx, by, index) => {
      const coefficient = coefficientOf(data, width, channels, bx, by);
      const bit = bits[index % BITS]!;
      // The nearest multiple of STEP whose index has the bit's parity.
      let q = Math.round(coefficient / STEP);
      if (((q % 2) + 2) % 2 !== bit) q += coefficient / STEP > q ? 1 : -1;
      const delta = q * STEP - coefficient;
      for (let i = 0; i < 64; i++) {
        const offset = ((by * 8 + Math.floor(i / 8)) * width + bx * 8 + (i % 8)) * channels;
        const change = delta * BASIS[i]!;
        for (let c = 0; c < Math.min(3, channels); c++) {
          data[offset + c] = Math.max(0, Math.min(255, Math.round(data[offset + c]! + change)));
        }
      }
    });
    const image = sharp(data, { raw: { width, height, channels } });
    return format === "png"
      ? image.png().toBuffer()
      : image.jpeg({ quality: 95, chromaSubsampling: "4:4:4" }).toBuffer();
  }

  async #readImage(bytes: Buffer): Promise<Mark | null> {
    let decoded: { data: Buffer; info: OutputInfo };
    try {
      decoded = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    } catch {
      return null;
    }
    const { data, info } = decoded;
    const votes = new Array<number>(BITS).fill(0);
    let blocks = 0;
    forEachBlock(info.width, info.height, (bx, by, index) => {
      const q = Math.round(coefficientOf(data, info.width, info.channels, bx, by) / STEP);
      votes[index % BITS]! += ((q % 2) + 2) % 2 === 1 ? 1 : -1;
      blocks++;
    });
    if (blocks < BITS) return null;
    let word = 0n;
    for (const vote of votes) word = (word << 1n) | (vote > 0 ? 1n : 0n);
    const tokenId = word >> BigInt(TAG_BITS);
    if (Number(word & 0xffffn) !== this.#tag(tokenId)) return null;
    return { tokenId: tokenId.toString() };
  }

  async #markPdf(bytes: Buffer, tokenId: string, holder: string): Promise<Buffer> {
    const pdf = await PDFDocument.load(bytes, { updateMetadata: false });
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    const text = `Licensed to ${holder} · license #${tokenId} · Rights Ledger`;
    for (const page of pdf.getPages()) {
      page.drawText(text, { x: 18, y: 10, size: 7, font, color: rgb(0.45, 0.45, 0.45) });
    }
    const tag = this.#tag(BigInt(tokenId)).toString(16).padStart(4, "0");
    pdf.setKeywords([`rights-ledger-license:${tokenId}:${tag}`]);
    return Buffer.from(await pdf.save({ useObjectStreams: false }));
  }

  async #readPdf(bytes: Buffer): Promise<Mark | null> {
    let keywords: string | undefined;
    try {
      keywords = (await PDFDocument.load(bytes, { updateMetadata: false })).getKeywords();
    } catch {
      return null;
    }
    for (const keyword of (keywords ?? "").split(/\s+/)) {
      const match = KEYWORD.exec(keyword);
      if (match && Number.parseInt(match[2]!, 16) === this.#tag(BigInt(match[1]!)))
        return { tokenId: match[1]! };
    }
    return null;
  }
}

/** Calls `visit` for every whole 8×8 block, row by row, with its running index. */
function forEachBlock(
  width: number,
  height: number,
  visit: (bx: number, by: number, index: number) => void,
): void {
  let index = 0;
  for (let by = 0; by < Math.floor(height / 8); by++) {
    for (let bx = 0; bx < Math.floor(width / 8); bx++) visit(bx, by, index++);
  }
}

/** The (U, V) DCT coefficient of the luma of block (bx, by). */
function coefficientOf(data: Buffer, width: number, channels: number, bx: number, by: number): number {
  let sum = 0;
  for (let i = 0; i < 64; i++) {
    const offset = ((by * 8 + Math.floor(i / 8)) * width + bx * 8 + (i % 8)) * channels;
    const luma =
      channels >= 3
        ? 0.299 * data[offset]! + 0.587 * data[offset + 1]! + 0.114 * data[offset + 2]!
        : data[offset]!;
    sum += luma * BASIS[i]!;
  }
  return sum;
}
