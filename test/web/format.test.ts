import { expect } from "chai";
import { formatUnits, visible } from "../../web/src/format.ts";

describe("web app text from untrusted sources", () => {
  it("shows bidirectional overrides, isolates and marks as markers, so a name cannot be spoofed", () => {
    expect(visible("invoice\u202Efdp.exe")).to.equal("invoice⟨U+202E⟩fdp.exe");
    expect(visible("\u2066a\u2069\u200F\u061C")).to.equal("⟨U+2066⟩a⟨U+2069⟩⟨U+200F⟩⟨U+061C⟩");
  });

  it("shows control characters and zero-width spaces as markers", () => {
    expect(visible("a\u0007\u001b[2J\nb\u200B\uFEFF\u0085")).to.equal(
      "a⟨U+0007⟩⟨U+001B⟩[2J⟨U+000A⟩b⟨U+200B⟩⟨U+FEFF⟩⟨U+0085⟩",
    );
  });

  it("leaves ordinary text, emoji sequences and replacement characters as they are", () => {
    for (const text of ["Ünïcödé title", "👩‍💻 code", "a\uFFFDb", "שלום עולם"])
      expect(visible(text)).to.equal(text);
  });
});

describe("web app amounts", () => {
  it("shows integer amounts in their currency's unit exactly, however large, negative ones too", () => {
    expect(formatUnits("123456", 2)).to.equal("1,234.56");
    expect(formatUnits("-65", 2)).to.equal("-0.65");
    expect(formatUnits("5000000", 6)).to.equal("5.00");
    expect(formatUnits("1234567", 6)).to.equal("1.234567");
    expect(formatUnits("10000000000000000", 18)).to.equal("0.01");
    expect(
      formatUnits("115792089237316195423570985008687907853269984665640564039457584007913129639935", 18),
    ).to.equal(
      "115,792,089,237,316,195,423,570,985,008,687,907,853,269,984,665,640,564,039,457.584007913129639935",
    );
    expect(formatUnits("1500", 0)).to.equal("1,500");
    expect(formatUnits("42", null)).to.equal("42");
  });
});
