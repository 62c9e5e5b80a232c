import { expect } from "chai";
import request from "supertest";
import { ethers, type JsonRpcSigner } from "ethers";
import {
  LicenseToken__factory,
  SplitFactory__factory,
  WorkRegistry__factory,
} from "../../types/typechain/index.ts";
import { commitAndReveal } from "../helpers/registry.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

const DAY = 24 * 3600;

describe("licenses API", function () {
  let stack: TestStack;
  let creator: JsonRpcSigner;
  let buyer: JsonRpcSigner;
  let other: JsonRpcSigner;
  let workId: bigint;
  let offerId: bigint;
  let price: bigint;

  async function verify(holder: string, work = workId) {
    const res = await request(stack.app).get(`/v1/licenses/verify?workId=${work}&holder=${holder}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as {
      valid: boolean;
      tokenId: string | null;
      validUntil: string | null;
      finality: string | null;
    };
  }

  async function indexed(): Promise<void> {
    const head = await stack.provider.getBlockNumber();
    await stack.waitFor(async () => stack.indexer.indexedBlock() >= head);
  }

  before(async () => {
    stack = await startTestStack("licenses");
    creator = await stack.signer(5);
    buyer = await stack.signer(6);
    other = await stack.signer(7);
    const c = stack.deployment.contracts;
    const registry = WorkRegistry__factory.connect(c.WorkRegistry.address, creator);
    await commitAndReveal(registry, creator, ethers.id("licensed work"), {
      cid: "bafkrei",
      metadataURI: "ipfs://meta",
    });
    workId = await registry.workCount();
    const splits = SplitFactory__factory.connect(c.SplitFactory.address, creator);
    await (await splits.createSplit([creator.address], [10_000])).wait();
    price = ethers.parseEther("0.01");
    const licenses = LicenseToken__factory.connect(c.LicenseToken.address, creator);
    await (
      await licenses.createOffer({
        workId,
        currency: ethers.ZeroAddress,
        price,
        duration: BigInt(30 * DAY),
        maxSupply: 0,
        transferable: true,
        commercialUse: true,
        referrerBps: 0,
        royaltyBps: 0,
        split: await splits.predictSplit([creator.address], [10_000]),
        territory: "WORLD",
        revocable: true,
      })
    ).wait();
    offerId = await licenses.offerCount();
  });
  after(async () => stack.stop());

  it("answers invalid for a wallet without a license", async () => {
    await indexed();
    expect(await verify(buyer.address)).to.deep.include({ valid: false, tokenId: null, validUntil: null });
  });

  it("answers valid with the token, expiry and finality once a purchase is indexed, even after a cached 'no'", async () => {
    const licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, buyer);
    const receipt = await (
      await licenses.purchase(offerId, buyer.address, ethers.ZeroAddress, { value: price })
    ).wait();
    await indexed();
    const answer = await stack.waitFor(async () => {
      const v = await verify(buyer.address);
      return v.valid ? v : null;
    });
    const block = await stack.provider.getBlock(receipt!.blockNumber);
    expect(answer.tokenId).to.equal("1");
    expect(Date.parse(answer.validUntil!) / 1000).to.equal(block!.timestamp + 30 * DAY);
    expect(answer.finality).to.be.oneOf(["pending", "safe", "final"]);
    const list = await request(stack.app).get(`/v1/licenses?holder=${buyer.address}`).expect(200);
    expect(list.body.items.map((l: { tokenId: string }) => l.tokenId)).to.deep.equal(["1"]);
    expect(list.body.items[0].holder).to.equal(buyer.address);
  });

  it("moves from pending to final as blocks are confirmed", async () => {
    for (let i = 0; i < 3; i++) await stack.provider.send("evm_mine", []);
    await indexed();
    const answer = await stack.waitFor(async () => {
      const v = await verify(buyer.address);
      return v.finality === "final" ? v : null;
    });
    expect(answer.valid).to.equal(true);
  });

  it("answers invalid once the chain's clock passes the expiry, though the answer was cached", async () => {
    expect((await verify(buyer.address)).valid).to.equal(true);
    await stack.provider.send("evm_increaseTime", [30 * DAY + 1]);
    await stack.provider.send("evm_mine", []);
    const expired = await stack.waitFor(async () => {
      const v = await verify(buyer.address);
      return v.valid ? null : v;
    }, 5_000);
    expect(expired.tokenId).to.equal(null);
    const detail = await request(stack.app).get(`/v1/licenses/1`).expect(200);
    expect(detail.body).to.deep.include({ valid: false, revoked: false });
  });

  it("follows a transfer: the new holder is valid and the old one is not", async () => {
    const licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, buyer);
    await (
      await licenses.connect(other).purchase(offerId, other.address, ethers.ZeroAddress, { value: price })
    ).wait();
    await indexed();
    const tokenId = (
      await stack.waitFor(async () => {
        const v = await verify(other.address);
        return v.valid ? v : null;
      })
    ).tokenId!;
    const third = await stack.signer(8);
    expect((await verify(third.address)).valid).to.equal(false);
    await (await licenses.connect(other).transferFrom(other.address, third.address, tokenId)).wait();
    await indexed();
    const moved = await stack.waitFor(async () => {
      const v = await verify(third.address);
      return v.valid ? v : null;
    });
    expect(moved.tokenId).to.equal(tokenId);
    expect((await verify(other.address)).valid).to.equal(false);
    const detail = await request(stack.app).get(`/v1/licenses/${tokenId}`).expect(200);
    expect(detail.body.history.map((h: { kind: string }) => h.kind)).to.include("transferred");
  });

  it("answers invalid immediately after a revocation is indexed, even though the answer was cached", async () => {
    const third = await stack.signer(8);
    const cached = await verify(third.address);
    expect(cached.valid).to.equal(true);
    const licenses = LicenseToken__factory.connect(stack.deployment.contracts.LicenseToken.address, creator);
    await (await licenses.revoke(cached.tokenId!, 2)).wait();
    await indexed();
    const after = await stack.waitFor(async () => {
      const v = await verify(third.address);
      return v.valid ? null : v;
    }, 5_000);
    expect(after).to.deep.include({ valid: false, tokenId: null });
    const detail = await request(stack.app).get(`/v1/licenses/${cached.tokenId}`).expect(200);
    expect(detail.body).to.deep.include({ revoked: true, revokedReason: "offer_terms", valid: false });
  });

  it("refuses a verify call with a forged session token or an unknown API key with 401, though anonymous calls pass", async () => {
    const path = `/v1/licenses/verify?workId=${workId}&holder=${other.address}`;
    const forged = await request(stack.app).get(path).set("Authorization", "Bearer forged.token");
    expect(forged.status).to.equal(401);
    const unknownKey = await request(stack.app).get(path).set("X-Api-Key", "rl_unknown");
    expect(unknownKey.status).to.equal(401);
    const anonymous = await request(stack.app).get(path).expect(200);
    expect(anonymous.headers).to.include({ "cache-control": "no-store", "x-frame-options": "SAMEORIGIN" });
    expect(anonymous.headers["ratelimit-limit"]).to.match(/^\d+$/);
  });

  it("rejects malformed queries with 400 and unknown tokens with 404", async () => {
    for (const path of [
      "/v1/licenses/verify?workId=1",
      "/v1/licenses/verify?workId=x&holder=0x0000000000000000000000000000000000000001",
      "/v1/licenses/verify?workId=1&holder=0xZZ",
      "/v1/licenses?holder=1' OR '1'='1",
      "/v1/licenses/0",
    ]) {
      const res = await request(stack.app).get(path);
      expect(res.status, path).to.equal(400);
      expect(res.body.error.code).to.equal("VALIDATION_FAILED");
    }
    const missing = await request(stack.app).get("/v1/licenses/424242");
    expect(missing.status).to.equal(404);
  });
});
