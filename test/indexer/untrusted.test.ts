import { expect } from "chai";
import { keccak256 } from "ethers";
import fc from "fast-check";
import {
  MAX_STORED_ITEMS,
  MAX_TEXT_BYTES,
  storedArgs,
  untrustedArray,
  untrustedText,
} from "../../indexer/untrusted.ts";

const hexOf = (bytes: number[] | Buffer) => Buffer.from(bytes).toString("hex");
const text = (bytes: number[] | Buffer) => untrustedText(hexOf(bytes));

describe("untrusted event values", () => {
  it("keeps valid UTF-8 as it is, control and bidirectional characters included, with no note", () => {
    const value = "ipfs://bafy \u202Egnp.exe\u202C \u0007\u001b[31m \u{1F600}";
    expect(text(Buffer.from(value))).to.deep.equal({ text: value, note: null });
  });

  it("replaces NUL by U+FFFD and notes the original bytes' length and hash", () => {
    const raw = Buffer.from("a\0b");
    expect(text(raw)).to.deep.equal({
      text: "a\uFFFDb",
      note: { length: 3, keccak256: keccak256(raw), cut: false, replaced: true },
    });
  });

  it("replaces lone continuation bytes, overlong forms, encoded surrogates and truncated sequences", () => {
    for (const bytes of [
      [0x61, 0x80],
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf0, 0x9f, 0x98],
    ]) {
      const { text: stored, note } = text(bytes);
      expect(stored, hexOf(bytes)).to.include("\uFFFD");
      expect(stored, hexOf(bytes)).to.not.match(/[\uD800-\uDFFF]/);
      expect(note?.replaced, hexOf(bytes)).to.equal(true);
    }
  });

  it("cuts a long string at a character boundary within the limit and notes the whole value", () => {
    const raw = Buffer.from("é".repeat(MAX_TEXT_BYTES));
    const { text: stored, note } = text(raw);
    expect(Buffer.byteLength(stored)).to.be.at.most(MAX_TEXT_BYTES);
    expect(stored).to.equal("é".repeat(MAX_TEXT_BYTES / 2));
    expect(note).to.deep.equal({ length: raw.length, keccak256: keccak256(raw), cut: true, replaced: false });
  });

  it("stores any byte string as text PostgreSQL accepts, never longer than the limit", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: MAX_TEXT_BYTES + 8 }), (bytes) => {
        const { text: stored, note } = untrustedText(Buffer.from(bytes).toString("hex"));
        expect(stored).to.not.include("\0");
        expect(Buffer.byteLength(stored)).to.be.at.most(MAX_TEXT_BYTES + 2);
        expect(Buffer.from(stored).toString(), "well-formed UTF-16").to.equal(stored);
        if (note === null) expect(Buffer.from(stored)).to.deep.equal(Buffer.from(bytes));
        else expect(note.keccak256).to.equal(keccak256(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it("cuts arrays beyond the stored limit in the raw log only, with the hash of all their words", () => {
    const words = Array.from({ length: MAX_STORED_ITEMS + 1 }, (_, i) => i.toString(16).padStart(64, "0"));
    const note = untrustedArray(words)!;
    expect(note).to.deep.equal({
      length: MAX_STORED_ITEMS + 1,
      keccak256: keccak256(`0x${words.join("")}`),
      cut: true,
      replaced: false,
    });
    expect(untrustedArray(words.slice(1))).to.equal(null);
    const ids = words.map((w) => BigInt(`0x${w}`).toString());
    const stored = storedArgs({ ids, to: "0x01" }, { ids: note });
    expect(stored.ids).to.deep.equal(ids.slice(0, MAX_STORED_ITEMS));
    expect(stored.to).to.equal("0x01");
  });
});
