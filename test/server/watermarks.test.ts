import { PDFDocument, StandardFonts } from "@pdfme/pdf-lib";
import { expect } from "chai";
import { ethers, type JsonRpcSigner } from "ethers";
import sharp from "sharp";
import request from "supertest";
import { ApiKeys } from "../../server/auth/api-keys.ts";
import { Watermarks } from "../../server/delivery/watermarks.ts";
import { LicenseToken__factory } from "../../types/typechain/index.ts";
import { mine, offerTerms, publishOffer, soleSplit } from "../helpers/commerce.ts";
import { readPdf, squeeze } from "../helpers/pdf.ts";
import { sessionToken, startTestStack, type TestStack } from "../helpers/stack.ts";

/** A photograph-like picture: gradients and ripples, so blocks differ as in real images. */
async function picture(width: number, height: number, format: "jpeg" | "png"): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      raw[o] = (x * 255) / width;
      raw[o + 1] = (y * 255) / height;
      raw[o + 2] = 128 + 90 * Math.sin(x / 7) * Math.cos(y / 11);
    }
  }
  const image = sharp(raw, { raw: { width, height, channels: 3 } });
  return format === "png" ? image.png().toBuffer() : image.jpeg({ quality: 90 }).toBuffer();
}

async function onePagePdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const page = pdf.addPage([400, 300]);
  page.drawText("Night score, movement I", {
    x: 40,
    y: 200,
    size: 14,
    font: await pdf.embedFont(StandardFonts.Helvetica),
  });
  return Buffer.from(await pdf.save());
}

const reencode = (bytes: Buffer, quality: number) => sharp(bytes).jpeg({ quality }).toBuffer();

describe("watermarks (traceable copies)", function () {
  this.timeout(180_000);
  const marks = new Watermarks("a-session-secret-a-session-secret-!!");
  const holder = "0x00000000000000000000000000000000000000b1";

  it("marks a JPEG invisibly with its license id, read back after re-encoding at quality 80", async () => {
    const original = await picture(320, 240, "jpeg");
    const marked = await marks.mark(original, "image/jpeg", "4242", holder);
    expect(marked.equals(original)).to.equal(false);
    expect(await marks.mark(original, "image/jpeg", "4242", holder)).to.deep.equal(marked);
    expect(await marks.read(marked)).to.deep.equal({ tokenId: "4242" });
    expect(await marks.read(await reencode(marked, 80))).to.deep.equal({ tokenId: "4242" });
    const [a, b] = await Promise.all([sharp(marked).raw().toBuffer(), sharp(original).raw().toBuffer()]);
    let total = 0;
    for (let i = 0; i < a.length; i++) total += Math.abs(a[i]! - b[i]!);
    expect(total / a.length, "mean change per channel").to.be.below(2);
  });

  it("marks a PNG, which stays a PNG and also survives a JPEG re-encoding", async () => {
    const marked = await marks.mark(await picture(256, 256, "png"), "image/png", "7", holder);
    expect((await sharp(marked).metadata()).format).to.equal("png");
    expect(await marks.read(await reencode(marked, 80))).to.deep.equal({ tokenId: "7" });
  });

  it("finds no mark in an unmarked picture, in a mark another platform's key made, or in bytes that are no picture", async () => {
    const original = await picture(320, 240, "jpeg");
    expect(await marks.read(original)).to.equal(null);
    const foreign = await new Watermarks("another-platform-secret-another-one").mark(
      original,
      "image/jpeg",
      "99",
      holder,
    );
    expect(await marks.read(foreign)).to.equal(null);
    expect(await marks.read(Buffer.from("not a picture"))).to.equal(null);
  });

  it("marks every page of a PDF with visible text naming the holder and license, read back from the file", async () => {
    const pdf = await onePagePdf();
    const marked = await marks.mark(pdf, "application/pdf", "31", holder);
    // The same bytes on every request, so ranges of a marked copy fit together.
    expect(await marks.mark(pdf, "application/pdf", "31", holder)).to.deep.equal(marked);
    const text = await readPdf(marked);
    expect(squeeze(text.pages[0]!)).to.include(squeeze(`Licensed to ${holder} · license #31`));
    expect(await marks.read(marked)).to.deep.equal({ tokenId: "31" });
    expect(await new Watermarks("another-platform-secret-another-one").read(marked)).to.equal(null);
  });

  describe("through delivery and evidence", () => {
    let stack: TestStack;
    let creator: JsonRpcSigner;
    let buyer: JsonRpcSigner;
    let workId: string;
    let offerId: string;
    let original: Buffer;

    before(async () => {
      stack = await startTestStack("watermarks");
      creator = await stack.signer(5);
      buyer = await stack.signer(6);
      original = await picture(480, 320, "jpeg");
      const upload = await request(stack.app)
        .post("/v1/works")
        .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
        .field({ creator: creator.address, title: "Harbour photograph" })
        .attach("file", original, { filename: "harbour.jpg", contentType: "image/jpeg" });
      const typed = upload.body.typedData;
      const signature = await creator.signTypedData(
        typed.domain,
        { Register: typed.types.Register },
        typed.message,
      );
      await request(stack.app)
        .post(`/v1/works/${upload.body.sha256}/register`)
        .send({ ...typed.message, signature })
        .expect(202);
      workId = (
        await stack.waitFor(async () => {
          const r = await request(stack.app).get(`/v1/works/by-hash/${upload.body.sha256}/registration`);
          return r.body.status === "anchored" ? r.body.work : null;
        })
      ).workId;
      const price = ethers.parseEther("0.01");
      offerId = await publishOffer(
        stack,
        creator,
        workId,
        offerTerms(await soleSplit(stack, creator), { price: price.toString() }),
      );
      await request(stack.app)
        .put(`/v1/offers/${offerId}/delivery-terms`)
        .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
        .send({ maxDownloads: null, maxDevices: null, windowSeconds: null, watermark: true })
        .expect(200);
      const licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, buyer);
      await (await licenses.purchase(offerId, buyer.address, ethers.ZeroAddress, { value: price })).wait();
      await mine(stack);
      await stack.waitFor(async () => {
        const r = await request(stack.app).get(
          `/v1/licenses/verify?workId=${workId}&holder=${buyer.address}`,
        );
        return r.body.valid && r.body.finality !== "pending";
      });
    });
    after(async () => stack?.stop());

    it("delivers the holder a copy marked with its license, whose re-encoded copy evidence traces back to it", async () => {
      const link = await request(stack.app)
        .post(`/v1/works/${workId}/downloads`)
        .set("Authorization", `Bearer ${await sessionToken(buyer.address)}`)
        .send({});
      expect(link.status, JSON.stringify(link.body)).to.equal(201);
      const tokenId = link.body.entitlement.tokenId as string;
      const copy = await request(stack.app)
        .get(link.body.url)
        .buffer(true)
        .parse((res, done) => {
          const parts: Buffer[] = [];
          res.on("data", (p: Buffer) => parts.push(p));
          res.on("end", () => done(null, Buffer.concat(parts)));
        });
      const delivered = copy.body as Buffer;
      expect(copy.status).to.equal(200);
      expect(delivered.equals(original)).to.equal(false);
      const half = await request(stack.app)
        .get(link.body.url)
        .set("Range", `bytes=0-${Math.floor(delivered.length / 2)}`)
        .buffer(true)
        .parse((res, done) => {
          const parts: Buffer[] = [];
          res.on("data", (p: Buffer) => parts.push(p));
          res.on("end", () => done(null, Buffer.concat(parts)));
        });
      expect(
        (half.body as Buffer).equals(delivered.subarray(0, Math.floor(delivered.length / 2) + 1)),
      ).to.equal(true);

      const suspect = await reencode(delivered, 80);
      const legal = (await new ApiKeys(stack.db.pool).create("legal team", ["legal"])).key;
      const traced = await request(stack.app)
        .post("/v1/evidence/watermarks")
        .set("X-Api-Key", legal)
        .attach("file", suspect, "found-online.jpg");
      expect(traced.status, JSON.stringify(traced.body)).to.equal(200);
      expect(traced.body.found).to.equal(true);
      expect(traced.body.license).to.deep.include({ tokenId, offerId, workId, holder: buyer.address });
      const byCreator = await request(stack.app)
        .post("/v1/evidence/watermarks")
        .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
        .attach("file", suspect, "found-online.jpg");
      expect(byCreator.body.license.tokenId).to.equal(tokenId);
      const byOther = await request(stack.app)
        .post("/v1/evidence/watermarks")
        .set("Authorization", `Bearer ${await sessionToken(buyer.address)}`)
        .attach("file", suspect, "found-online.jpg");
      expect([byOther.status, byOther.body.error.code]).to.deep.equal([403, "NOT_WORK_CREATOR"]);
      const clean = await request(stack.app)
        .post("/v1/evidence/watermarks")
        .set("X-Api-Key", legal)
        .attach("file", original, "clean.jpg");
      expect(clean.body).to.deep.equal({ found: false, license: null });
      expect(
        (await request(stack.app).post("/v1/evidence/watermarks").attach("file", suspect, "x.jpg")).status,
      ).to.equal(401);
      const { rows } = await stack.db.pool.query("SELECT watermarked FROM deliveries WHERE token_id = $1", [
        tokenId,
      ]);
      expect(rows.map((r) => r.watermarked)).to.deep.equal([true]);
    });
  });
});
