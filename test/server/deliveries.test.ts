import { createHash, randomBytes } from "node:crypto";
import { expect } from "chai";
import { ethers, type JsonRpcSigner } from "ethers";
import request, { type Response } from "supertest";
import { DownloadLinks } from "../../server/delivery/links.ts";
import { LicenseToken__factory, type LicenseToken } from "../../types/typechain/index.ts";
import { mine, offerTerms, publishOffer, soleSplit } from "../helpers/commerce.ts";
import { startServedStack, type ServedStack } from "../helpers/served-stack.ts";
import { sessionToken, TEST_SESSION_SECRET, type TestStack } from "../helpers/stack.ts";

const KiB = 1024;
const DAY = 24 * 3600;

function sha256(bytes: Buffer): string {
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}

// Collects any body as bytes, whatever its Content-Type.
function binary(res: unknown, done: (err: Error | null, body: Buffer) => void): void {
  const stream = res as NodeJS.ReadableStream;
  const parts: Buffer[] = [];
  stream.on("data", (part: Buffer) => parts.push(part));
  stream.on("end", () => done(null, Buffer.concat(parts)));
}

describe("license-gated delivery", function () {
  this.timeout(180_000);
  let served: ServedStack;
  let stack: TestStack;
  let creator: JsonRpcSigner;
  let licenses: LicenseToken;
  let original: Buffer;
  let work: { workId: string; contentHash: string };
  let offerId: string;
  let revocableOfferId: string;
  const price = ethers.parseEther("0.01");

  const auth = async (signer: JsonRpcSigner | string) =>
    `Bearer ${await sessionToken(typeof signer === "string" ? signer : signer.address)}`;
  const download = (url: string) => request(stack.app).get(url).buffer(true).parse(binary);
  const askLink = async (signer: JsonRpcSigner, body: Record<string, unknown> = {}) =>
    request(stack.app)
      .post(`/v1/works/${work.workId}/downloads`)
      .set("Authorization", await auth(signer))
      .send(body);
  const expectRefused = (res: Response, status: number, code: string) => {
    expect(res.status, JSON.stringify(res.body)).to.equal(status);
    expect(res.body.error.code).to.equal(code);
    expect(res.body.error.message).to.be.a("string");
  };

  /** Buys a license of `offer` on chain for `buyer` and waits until delivery can see it, safe. */
  async function buy(buyer: JsonRpcSigner, offer = offerId): Promise<string> {
    const receipt = await (
      await licenses.connect(buyer).purchase(offer, buyer.address, ethers.ZeroAddress, { value: price })
    ).wait();
    const tokenId = licenses.interface
      .parseLog(receipt!.logs.find((l) => licenses.interface.parseLog(l)?.name === "LicenseIssued")!)!
      .args.tokenId.toString() as string;
    await mine(stack);
    await stack.waitFor(async () => {
      const res = await request(stack.app).get(
        `/v1/licenses/verify?workId=${work.workId}&holder=${buyer.address}`,
      );
      return res.body.valid && res.body.finality !== "pending";
    });
    return tokenId;
  }

  before(async () => {
    // Served on a port: the local card checkout posts its webhooks to PUBLIC_URL.
    served = await startServedStack("deliveries");
    stack = served.stack;
    creator = await stack.signer(5);
    licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, stack.provider);
    original = randomBytes(300 * KiB + 17);
    const upload = await request(stack.app)
      .post("/v1/works")
      .set("Authorization", await auth(creator))
      .field({ creator: creator.address, title: "Night score" })
      .attach("file", original, { filename: "night score.pdf", contentType: "application/pdf" });
    expect(upload.status, JSON.stringify(upload.body)).to.equal(201);
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
    const registered = await stack.waitFor(async () => {
      const r = await request(stack.app).get(`/v1/works/by-hash/${upload.body.sha256}/registration`);
      return r.body.status === "anchored" ? r.body.work : null;
    });
    work = { workId: registered.workId, contentHash: registered.contentHash };
    const split = await soleSplit(stack, creator);
    offerId = await publishOffer(stack, creator, work.workId, offerTerms(split, { price: price.toString() }));
    revocableOfferId = await publishOffer(
      stack,
      creator,
      work.workId,
      offerTerms(split, { price: price.toString(), revocable: true }),
    );
  });
  after(async () => served?.stop());

  it("gives a holder signed in with their wallet a short-lived link to the exact bytes of the registered file", async () => {
    const buyer = await stack.signer(6);
    const tokenId = await buy(buyer);
    const link = await askLink(buyer);
    expect(link.status, JSON.stringify(link.body)).to.equal(201);
    expect(link.body.url).to.match(/^\/v1\/downloads\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(Date.parse(link.body.expiresAt) - Date.now()).to.be.within(800_000, 900_000);
    expect(link.body.entitlement).to.deep.include({ workId: work.workId, tokenId, offerId });
    expect(link.body.entitlement.file).to.deep.equal({
      filename: "night score.pdf",
      size: original.length,
      contentType: "application/pdf",
    });
    const file = await download(link.body.url);
    expect(file.status).to.equal(200);
    expect(sha256(file.body as Buffer)).to.equal(work.contentHash);
    expect(file.headers["content-length"]).to.equal(String(original.length));
    expect(file.headers["content-type"]).to.equal("application/pdf");
    expect(file.headers["content-disposition"]).to.equal(
      `attachment; filename="night score.pdf"; filename*=UTF-8''night%20score.pdf`,
    );
    expect(file.headers["cache-control"]).to.equal("private, no-store");
    expect(file.headers["x-content-type-options"]).to.equal("nosniff");
  });

  it("serves ranges and resumes an interrupted download under the same delivery without counting it again", async () => {
    const buyer = await stack.signer(7);
    await buy(buyer);
    const link = (await askLink(buyer)).body;
    const part = await download(link.url).set("Range", "bytes=70000-200000");
    expect(part.status).to.equal(206);
    expect(part.headers["content-range"]).to.equal(`bytes 70000-200000/${original.length}`);
    expect((part.body as Buffer).equals(original.subarray(70_000, 200_001))).to.equal(true);
    const tail = await download(link.url).set("Range", "bytes=-100").set("If-Range", `"${work.contentHash}"`);
    expect((tail.body as Buffer).equals(original.subarray(-100))).to.equal(true);
    const changed = await download(link.url).set("Range", "bytes=0-9").set("If-Range", '"another"');
    expect([changed.status, (changed.body as Buffer).length]).to.deep.equal([200, original.length]);
    expect((await download(link.url).set("Range", `bytes=${original.length}-`)).status).to.equal(416);
    const head = await request(stack.app).head(link.url);
    expect([head.status, head.headers["content-length"]]).to.deep.equal([200, String(original.length)]);

    const resumed = await askLink(buyer, { resume: link.deliveryId });
    expect(resumed.status, JSON.stringify(resumed.body)).to.equal(201);
    expect(resumed.body.deliveryId).to.equal(link.deliveryId);
    expect(resumed.body.entitlement.downloads.used).to.equal(1);
    const rest = await download(resumed.body.url).set("Range", "bytes=200001-");
    expect((rest.body as Buffer).equals(original.subarray(200_001))).to.equal(true);
    const other = await stack.signer(6);
    expectRefused(await askLink(other, { resume: link.deliveryId }), 404, "NOT_FOUND");
  });

  it("answers a link ahead of the router exactly as the router does: whole, ranges at every edge, HEAD, If-Range, 416", async () => {
    const holder = await stack.signer(6);
    const { url } = (await askLink(holder)).body as { url: string };
    const size = original.length;
    const segment = 65_536;
    // With a session the request goes through Express's router; without one it is answered ahead of it.
    const both = async (headers: Record<string, string>, method: "get" | "head" = "get") => {
      const ask = (routed: boolean) => {
        const req = method === "get" ? download(url) : request(stack.app).head(url);
        for (const [name, value] of Object.entries(headers)) req.set(name, value);
        return routed ? auth(holder).then((a) => req.set("Authorization", a)) : req;
      };
      const hot = await ask(false);
      const routed = await ask(true);
      const comparable = (res: Response) => {
        const {
          date: _date,
          "ratelimit-remaining": _remaining,
          "ratelimit-reset": _reset,
          "x-request-id": _id,
          ...rest
        } = res.headers;
        return { status: res.status, headers: rest, body: method === "get" ? res.body : null };
      };
      expect(comparable(hot)).to.deep.equal(comparable(routed));
      return hot;
    };
    const cases: [string | undefined, number, number, number][] = [
      [undefined, 200, 0, size],
      ["bytes=0-0", 206, 0, 1],
      ["bytes=-1", 206, size - 1, size],
      [`bytes=${size - 1}-`, 206, size - 1, size],
      ["bytes=0-", 206, 0, size],
      [`bytes=${segment - 1}-${segment}`, 206, segment - 1, segment + 1],
      [`bytes=${segment}-${2 * segment - 1}`, 206, segment, 2 * segment],
      [`bytes=${segment - 3}-${3 * segment + 5}`, 206, segment - 3, 3 * segment + 6],
      [`bytes=100-${size * 4}`, 206, 100, size],
      [`bytes=-${size + 10}`, 206, 0, size],
      ["bytes=10-5", 200, 0, size],
      ["bytes=0-1,5-6", 200, 0, size],
      ["items=0-1", 200, 0, size],
    ];
    for (const [range, status, from, to] of cases) {
      const res = await both(range === undefined ? {} : { Range: range });
      expect(res.status, range).to.equal(status);
      expect((res.body as Buffer).equals(original.subarray(from, to)), range).to.equal(true);
      expect(res.headers["content-length"], range).to.equal(String(to - from));
      if (status === 206) expect(res.headers["content-range"]).to.equal(`bytes ${from}-${to - 1}/${size}`);
      expect(res.headers).to.include({ "x-content-type-options": "nosniff", "accept-ranges": "bytes" });
      expect(res.headers["content-security-policy"]).to.equal("sandbox; default-src 'none'");
    }
    for (const range of [`bytes=${size}-`, "bytes=-0", `bytes=${size + 1}-${size + 9}`]) {
      const res = await both({ Range: range });
      expect(res.status, range).to.equal(416);
      expect(JSON.parse((res.body as Buffer).toString())).to.deep.equal({
        error: { code: "RANGE_NOT_SATISFIABLE", message: `the file has ${size} bytes`, details: { size } },
      });
      expect(res.headers["content-range"]).to.equal(`bytes */${size}`);
    }
    const stale = await both({ Range: "bytes=0-9", "If-Range": '"0xstale"' });
    expect([stale.status, (stale.body as Buffer).length]).to.deep.equal([200, size]);
    const current = await both({ Range: "bytes=0-9", "If-Range": `"${work.contentHash}"` });
    expect([current.status, (current.body as Buffer).length]).to.deep.equal([206, 10]);
    const head = await both({}, "head");
    expect([head.status, head.headers["content-length"]]).to.deep.equal([200, String(size)]);
    const headRange = await both({ Range: "bytes=5-14" }, "head");
    expect([headRange.status, headRange.headers["content-length"]]).to.deep.equal([206, "10"]);
    expect(headRange.headers["content-range"]).to.equal(`bytes 5-14/${size}`);
  });

  it("refuses hostile link URLs with the router's answers, and a link whose license was revoked between two ranges", async () => {
    const holder = await stack.signer(12);
    const tokenId = await buy(holder, revocableOfferId);
    const { url } = (await askLink(holder)).body as { url: string };
    const token = url.replace("/v1/downloads/", "");
    const [payload, mac] = token.split(".") as [string, string];
    expectRefused(await request(stack.app).get(`/v1/downloads/${payload}`), 403, "LINK_INVALID");
    expectRefused(await request(stack.app).get(`/v1/downloads/${payload}.`), 403, "LINK_INVALID");
    expectRefused(await request(stack.app).get(`/v1/downloads/.${mac}`), 403, "LINK_INVALID");
    expectRefused(await request(stack.app).get(`/v1/downloads/${token}.${mac}`), 403, "LINK_INVALID");
    expectRefused(await request(stack.app).get(`/v1/downloads/${payload}.${mac}x`), 403, "LINK_INVALID");
    expectRefused(
      await request(stack.app).get(`/v1/downloads/${"A".repeat(1025)}`),
      400,
      "VALIDATION_FAILED",
    );
    const bogusMac = Buffer.from(mac, "base64url");
    bogusMac[0] = bogusMac[0]! ^ 1;
    const flipped = `/v1/downloads/${payload}.${bogusMac.toString("base64url")}`;
    expectRefused(await request(stack.app).get(flipped), 403, "LINK_INVALID");
    // Spelled otherwise, the same link reaches the same file through the router.
    const encoded = `/v1/downloads/${payload}%2E${mac}`;
    expect(sha256((await download(encoded)).body as Buffer)).to.equal(work.contentHash);
    expect(sha256((await download(`${url}?x=1`)).body as Buffer)).to.equal(work.contentHash);
    expect((await request(stack.app).post(url).send({})).status).to.equal(404);
    const odd = await download(url).set("X-Request-Id", "<script>").set("Range", "bytes=0-3");
    expect(odd.status).to.equal(206);
    expect(odd.headers["x-request-id"]).to.match(/^[0-9a-f-]{36}$/);

    const first = await download(url).set("Range", "bytes=0-99999");
    expect((first.body as Buffer).equals(original.subarray(0, 100_000))).to.equal(true);
    const token721 = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, creator);
    await (await token721.revoke(tokenId, 2)).wait();
    await stack.waitFor(
      async () => (await request(stack.app).get(url).set("Range", "bytes=100000-")).status === 403,
    );
    const rest = await request(stack.app).get(url).set("Range", "bytes=100000-");
    expectRefused(rest, 403, "LICENSE_REVOKED");
    expect(rest.body.error.details).to.deep.equal({ tokenId });
    expect(rest.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect((await request(stack.app).head(url)).status).to.equal(403);
  });

  it("refuses a link whose own license was revoked or transferred after it was issued, though its holder holds another", async () => {
    const holder = await stack.signer(13);
    const kept = await buy(holder);
    const revocable = await buy(holder, revocableOfferId);
    // The license a link is issued for is the one that lasts longest: the later purchase.
    const linkFor = (tokenId: string) =>
      stack.waitFor(async () => {
        const res = await askLink(holder);
        return res.body.entitlement?.tokenId === tokenId ? (res.body.url as string) : null;
      });
    const revokedLink = await linkFor(revocable);
    expect(sha256((await download(revokedLink)).body as Buffer)).to.equal(work.contentHash);
    const token721 = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, creator);
    await (await token721.revoke(revocable, 2)).wait();
    await stack.waitFor(async () => (await request(stack.app).get(revokedLink)).status === 403);
    const revoked = await request(stack.app).get(revokedLink);
    expectRefused(revoked, 403, "LICENSE_REVOKED");
    expect(revoked.body.error.details).to.deep.equal({ tokenId: revocable });

    const keptLink = await linkFor(kept);
    expect(sha256((await download(keptLink)).body as Buffer)).to.equal(work.contentHash);
    const other = await stack.signer(14);
    await (await licenses.connect(holder).transferFrom(holder.address, other.address, kept)).wait();
    await stack.waitFor(async () => (await request(stack.app).get(keptLink)).status === 403);
    const transferred = await request(stack.app).get(keptLink).set("Range", "bytes=0-9");
    expectRefused(transferred, 403, "NOT_LICENSE_HOLDER");
    expect(transferred.body.error.details).to.deep.equal({ tokenId: kept });
  });

  it("refuses a wallet without a license, and links that are forged, altered or expired, with 403 and the reason", async () => {
    const stranger = await stack.signer(9);
    expectRefused(await askLink(stranger), 403, "NOT_LICENSE_HOLDER");
    const entitlement = await request(stack.app)
      .get(`/v1/works/${work.workId}/delivery`)
      .set("Authorization", await auth(stranger));
    expectRefused(entitlement, 403, "NOT_LICENSE_HOLDER");
    expectRefused(
      await request(stack.app).post(`/v1/works/${work.workId}/downloads`).send({}),
      401,
      "AUTH_REQUIRED",
    );

    const holder = await stack.signer(6);
    const { url } = (await askLink(holder)).body as { url: string };
    const [payload, mac] = url.replace("/v1/downloads/", "").split(".") as [string, string];
    const fields = JSON.parse(Buffer.from(payload, "base64url").toString()) as unknown[];
    fields[3] = stranger.address.toLowerCase();
    const altered = `/v1/downloads/${Buffer.from(JSON.stringify(fields)).toString("base64url")}.${mac}`;
    expectRefused(await request(stack.app).get(altered), 403, "LINK_INVALID");
    const forged = new DownloadLinks("another-secret-another-secret-another").sign({
      deliveryId: "00000000-0000-4000-8000-000000000000",
      workId: work.workId,
      tokenId: "1",
      holder: stranger.address.toLowerCase(),
      contentHash: work.contentHash,
      expiresAt: Math.floor(Date.now() / 1000) + 600,
      watermark: false,
    });
    expectRefused(await request(stack.app).get(`/v1/downloads/${forged}`), 403, "LINK_INVALID");
    const expired = new DownloadLinks(TEST_SESSION_SECRET).sign({
      deliveryId: "00000000-0000-4000-8000-000000000000",
      workId: work.workId,
      tokenId: "1",
      holder: holder.address.toLowerCase(),
      contentHash: work.contentHash,
      expiresAt: Math.floor(Date.now() / 1000) - 1,
      watermark: false,
    });
    expectRefused(await request(stack.app).get(`/v1/downloads/${expired}`), 403, "LINK_EXPIRED");
    expectRefused(await request(stack.app).get("/v1/downloads/nonsense"), 403, "LINK_INVALID");
  });

  it("holds a license to the offer's limits: devices, downloads (also when asked at once), with what is left shown", async () => {
    const terms = { maxDownloads: 3, maxDevices: 1, windowSeconds: null, watermark: false };
    const put = async (signer: JsonRpcSigner | null, offer = revocableOfferId) => {
      const req = request(stack.app).put(`/v1/offers/${offer}/delivery-terms`);
      if (signer) req.set("Authorization", await auth(signer));
      return req.send(terms);
    };
    expectRefused(await put(null), 401, "AUTH_REQUIRED");
    expectRefused(await put(await stack.signer(9)), 403, "NOT_OFFER_CREATOR");
    expectRefused(await put(creator, "999999"), 404, "NOT_FOUND");
    const invalid = await request(stack.app)
      .put(`/v1/offers/${revocableOfferId}/delivery-terms`)
      .set("Authorization", await auth(creator))
      .send({ ...terms, maxDownloads: 0 });
    expectRefused(invalid, 400, "VALIDATION_FAILED");
    expect((await put(creator)).body).to.deep.equal(terms);
    expect(
      (await request(stack.app).get(`/v1/offers/${revocableOfferId}/delivery-terms`)).body,
    ).to.deep.equal(terms);

    const buyer = await stack.signer(10);
    await buy(buyer, revocableOfferId);
    expectRefused(await askLink(buyer), 400, "DEVICE_REQUIRED");
    const laptop = { device: randomBytes(16).toString("hex"), deviceLabel: "laptop" };
    const phone = { device: randomBytes(16).toString("hex"), deviceLabel: "phone" };
    const first = await askLink(buyer, laptop);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(first.body.entitlement.downloads).to.deep.equal({ used: 1, left: 2 });
    expect(first.body.entitlement.devices).to.deep.include({ used: 1, left: 0 });
    expect(first.body.entitlement.devices.registered[0].label).to.equal("laptop");
    expectRefused(await askLink(buyer, phone), 403, "DEVICE_LIMIT_REACHED");
    const asked = await Promise.all(Array.from({ length: 6 }, () => askLink(buyer, laptop)));
    expect(asked.filter((r) => r.status === 201)).to.have.length(2);
    for (const r of asked.filter((r) => r.status !== 201)) expectRefused(r, 403, "DOWNLOAD_LIMIT_REACHED");
    // A download is counted once, when its link is issued: fetching the links at once counts nothing more.
    const links = [first, ...asked.filter((r) => r.status === 201)].map((r) => r.body.url as string);
    const fetched = await Promise.all([...links, ...links, ...links].map((url) => download(url)));
    for (const res of fetched) expect(sha256(res.body as Buffer)).to.equal(work.contentHash);
    expectRefused(await askLink(buyer, laptop), 403, "DOWNLOAD_LIMIT_REACHED");
    const left = await request(stack.app)
      .get(`/v1/works/${work.workId}/delivery`)
      .set("Authorization", await auth(buyer));
    expect(left.body.downloads).to.deep.equal({ used: 3, left: 0 });
    expect(left.body.terms).to.deep.equal(terms);
  });

  it("lets a card buyer download from the order with its secret; a wrong secret is 404, a refunded order's license 403", async () => {
    const res = await request(stack.app)
      .post("/v1/checkout")
      .send({ offerId, wallet: ethers.Wallet.createRandom().address });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const { orderId, orderSecret } = res.body as { orderId: string; orderSecret: string };
    const pay = new URL(res.body.checkoutUrl as string).pathname;
    const orderLink = (secret: string) =>
      request(stack.app).post(`/v1/orders/${orderId}/downloads`).set("X-Order-Secret", secret).send({});
    expectRefused(await orderLink(orderSecret), 409, "LICENSE_NOT_ISSUED");
    await request(stack.app).post(`${pay}/pay`).expect(303);
    const license = async () =>
      (await request(stack.app).get(`/v1/orders/${orderId}`).set("X-Order-Secret", orderSecret)).body
        .license as {
        finality: string | null;
      } | null;
    await stack.waitFor(async () => (await license()) !== null);
    await mine(stack);
    await stack.waitFor(async () => ["safe", "final"].includes((await license())?.finality ?? ""));
    // Fulfilled: the payment is captured too, so it can be refunded below.
    await stack.waitFor(
      async () =>
        (await request(stack.app).get(`/v1/orders/${orderId}`).set("X-Order-Secret", orderSecret)).body
          .status === "fulfilled",
    );
    expectRefused(await orderLink("A".repeat(43)), 404, "NOT_FOUND");
    const link = await orderLink(orderSecret);
    expect(link.status, JSON.stringify(link.body)).to.equal(201);
    expect(sha256((await download(link.body.url)).body as Buffer)).to.equal(work.contentHash);
    const entitlement = await request(stack.app).get(`/v1/orders/${orderId}/delivery?secret=${orderSecret}`);
    expect(entitlement.body.downloads.used).to.equal(1);

    await request(stack.app).post(`${pay}/refund`).expect(303);
    await stack.waitFor(async () => (await licenses.getLicense(link.body.entitlement.tokenId)).revoked);
    await stack.waitFor(async () => (await request(stack.app).get(link.body.url)).status === 403);
    expectRefused(await request(stack.app).get(link.body.url), 403, "LICENSE_REVOKED");
    expectRefused(await orderLink(orderSecret), 403, "LICENSE_REVOKED");
  });

  it("shows the work's creator every delivery, and nobody else", async () => {
    const log = await request(stack.app)
      .get(`/v1/works/${work.workId}/deliveries?limit=3`)
      .set("Authorization", await auth(creator));
    expect(log.status, JSON.stringify(log.body)).to.equal(200);
    expect(log.body.items).to.have.length(3);
    expect(log.body.nextCursor).to.be.a("string");
    const { rows } = await stack.db.pool.query(
      "SELECT count(*)::int AS n FROM deliveries WHERE work_id = $1",
      [work.workId],
    );
    let seen = log.body.items.length;
    let cursor = log.body.nextCursor as string | null;
    while (cursor) {
      const page = await request(stack.app)
        .get(`/v1/works/${work.workId}/deliveries?cursor=${cursor}`)
        .set("Authorization", await auth(creator));
      seen += page.body.items.length;
      cursor = page.body.nextCursor;
    }
    expect(seen).to.equal(rows[0].n);
    expect(log.body.items[0]).to.have.all.keys([
      "id",
      "tokenId",
      "offerId",
      "workId",
      "holder",
      "via",
      "device",
      "watermarked",
      "at",
    ]);
    expect((log.body.items as { via: string }[]).map((d) => d.via)).to.include("order");
    const buyer = await stack.signer(6);
    expectRefused(
      await request(stack.app)
        .get(`/v1/works/${work.workId}/deliveries`)
        .set("Authorization", await auth(buyer)),
      403,
      "NOT_WORK_CREATOR",
    );
  });

  it("delivers a license only once it is as final as DELIVERY_FINALITY asks", async () => {
    const buyer = await stack.signer(11);
    await (
      await licenses.connect(buyer).purchase(offerId, buyer.address, ethers.ZeroAddress, { value: price })
    ).wait();
    await stack.waitFor(async () => {
      const res = await request(stack.app).get(
        `/v1/licenses/verify?workId=${work.workId}&holder=${buyer.address}`,
      );
      return res.body.valid;
    });
    const early = await askLink(buyer);
    expectRefused(early, 409, "LICENSE_NOT_FINAL");
    expect(early.body.error.details).to.deep.equal({ finality: "pending", required: "safe" });
    await mine(stack);
    await stack.waitFor(async () => (await askLink(buyer)).status === 201);
  });

  it("closes the download window after its time, and refuses an expired license, also on a link issued before", async () => {
    await request(stack.app)
      .put(`/v1/offers/${offerId}/delivery-terms`)
      .set("Authorization", await auth(creator))
      .send({ maxDownloads: null, maxDevices: null, windowSeconds: DAY, watermark: false })
      .expect(200);
    const buyer = await stack.signer(6);
    const before = (await askLink(buyer)).body as { url: string; entitlement: { windowEndsAt: string } };
    expect(Date.parse(before.entitlement.windowEndsAt)).to.be.greaterThan(Date.now());
    await stack.provider.send("evm_increaseTime", [2 * DAY]);
    await mine(stack);
    await stack.waitFor(async () => (await askLink(buyer)).status === 403);
    expectRefused(await askLink(buyer), 403, "DOWNLOAD_WINDOW_CLOSED");
    await stack.provider.send("evm_increaseTime", [30 * DAY]);
    await mine(stack);
    await stack.waitFor(async () => (await request(stack.app).get(before.url)).status === 403);
    expectRefused(await request(stack.app).get(before.url), 403, "LICENSE_EXPIRED");
    expectRefused(await askLink(buyer), 403, "LICENSE_EXPIRED");
  });
});
