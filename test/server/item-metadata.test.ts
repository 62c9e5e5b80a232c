import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { EmbeddedIpfsStore } from "../../server/ipfs/embedded-store.ts";
import {
  MAX_DOCUMENT_BYTES,
  MAX_INLINE_IMAGE_BYTES,
  parseDocument,
  resolveMetadata,
  substituteId,
  type MetadataSources,
} from "../../server/market/item-metadata.ts";
import { metadataUri, svgImage } from "../helpers/market.ts";

describe("item metadata", () => {
  let dir: string;
  let ipfs: EmbeddedIpfsStore;
  const privateCids = new Set<string>();
  let sources: MetadataSources;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "rl-metadata-"));
    ipfs = await EmbeddedIpfsStore.open(dir);
    sources = { ipfs, isPrivate: async (cid) => privateCids.has(cid) };
  });
  after(async () => {
    await ipfs.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("substitutes {id} with the id as 64 lower-case hex digits, as ERC-1155 says", () => {
    expect(substituteId("ipfs://x/{id}.json", "255")).to.equal(`ipfs://x/${"0".repeat(62)}ff.json`);
    expect(substituteId("data:,{}", "1")).to.equal("data:,{}");
  });

  it("reads inline documents, base64 or percent-encoded", async () => {
    const image = svgImage("#123456");
    expect(
      await resolveMetadata(metadataUri({ name: "Axe", description: "Sharp", image }), "1", sources),
    ).to.deep.equal({
      status: "resolved",
      name: "Axe",
      description: "Sharp",
      image,
    });
    const plain = `data:application/json,${encodeURIComponent(JSON.stringify({ name: "Bow" }))}`;
    expect((await resolveMetadata(plain, "1", sources)).name).to.equal("Bow");
  });

  it("reads ipfs:// documents from the platform's store, never a private upload", async () => {
    const { cid } = await ipfs.add(
      Buffer.from(
        JSON.stringify({
          name: "Helm",
          image: "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        }),
      ),
    );
    expect(await resolveMetadata(`ipfs://${cid}`, "1", sources)).to.deep.include({
      status: "resolved",
      name: "Helm",
      image: "/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    });
    privateCids.add(cid);
    expect((await resolveMetadata(`ipfs://${cid}`, "1", sources)).status).to.equal("failed");
    expect(
      (
        await resolveMetadata(
          "ipfs://bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "1",
          sources,
        )
      ).status,
    ).to.equal("failed");
    const { cid: big } = await ipfs.add(Buffer.alloc(MAX_DOCUMENT_BYTES + 1, 32));
    expect(
      (await resolveMetadata(`ipfs://${big}`, "1", sources)).status,
      "too large to be metadata",
    ).to.equal("failed");
  });

  it("fetches no URL a studio chose: http and unknown schemes are unsupported", async () => {
    for (const uri of [
      "https://studio.example/1.json",
      "http://127.0.0.1:6379/",
      "ar://abc",
      "file:///etc/passwd",
    ])
      expect((await resolveMetadata(uri, "1", sources)).status, uri).to.equal("unsupported");
  });

  it("keeps hostile documents harmless: NUL removed, text cut, only same-origin or inline images", () => {
    const bytes = (doc: unknown) => Buffer.from(JSON.stringify(doc));
    const doc = parseDocument(
      bytes({ name: `Ev\u0000il ${"x".repeat(500)}`, description: 42, image: "javascript:alert(1)" }),
    );
    expect(doc.name).to.have.length(200);
    expect(doc.name!.startsWith("Evil ")).to.equal(true);
    expect(doc.description).to.equal(null);
    expect(doc.image).to.equal(null);
    expect(parseDocument(bytes({ image: "data:text/html;base64,PHNjcmlwdD4=" })).image).to.equal(null);
    expect(
      parseDocument(bytes({ image: `data:image/png;base64,${"A".repeat(MAX_INLINE_IMAGE_BYTES)}` })).image,
    ).to.equal(null);
    expect(parseDocument(bytes([1, 2])).status).to.equal("failed");
    expect(parseDocument(Buffer.from("{not json")).status).to.equal("failed");
    expect(parseDocument(bytes({})).status, "a document with nothing to show").to.equal("resolved");
  });
});
