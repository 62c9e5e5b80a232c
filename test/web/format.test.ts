import { expect } from "chai";
import { visible } from "../../web/src/format.ts";

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
