import { expect } from "chai";
import { ethers, type JsonRpcSigner, type Signer } from "ethers";
import request from "supertest";
import { CREATE_SPLIT_TYPES, splitFactoryDomain } from "../../lib/eip712.ts";
import { SplitFactory__factory, type SplitFactory } from "../../types/typechain/index.ts";
import { soleSplit } from "../helpers/commerce.ts";
import { devWallet, startTestStack, type TestStack } from "../helpers/stack.ts";

/** A wallet may spend 1,000,000 gas a day: four 2-recipient splits (250,000 gas each), never a 50-recipient one. */
const BUDGET = { RELAYER_GAS_PER_WALLET_PER_DAY: "1000000" };

describe("splits created by the relayer at a creator's signed request", function () {
  this.timeout(120_000);
  let stack: TestStack;
  let creator: JsonRpcSigner;
  let other: JsonRpcSigner;
  let factory: SplitFactory;

  const requests = async () =>
    Number((await stack.db.pool.query(`SELECT count(*) AS n FROM split_requests`)).rows[0].n);
  const sent = async (split: string) =>
    Number(
      (
        await stack.db.pool.query(
          `SELECT count(*) AS n FROM relayer_transactions WHERE purpose = 'createSplit' AND ref = $1`,
          [split.toLowerCase()],
        )
      ).rows[0].n,
    );

  /** The body of POST /v1/splits/requests for these terms, signed by `signer` in the name of `creator`. */
  async function signedSplit(
    signer: Signer,
    recipients: string[],
    sharesBps: number[],
    overrides: { creator?: string; deadline?: string } = {},
  ) {
    const creatorAddress = overrides.creator ?? (await signer.getAddress());
    const deadline =
      overrides.deadline ?? String((await stack.provider.getBlock("latest"))!.timestamp + 3600);
    const message = { creator: creatorAddress, recipients, sharesBps, deadline };
    const signature = await signer.signTypedData(
      splitFactoryDomain(BigInt(stack.chainId), await factory.getAddress()),
      { CreateSplit: [...CREATE_SPLIT_TYPES.CreateSplit] },
      message,
    );
    return { ...message, signature };
  }
  const post = (body: object) => request(stack.app).post("/v1/splits/requests").send(body);
  const created = (split: string) =>
    stack.waitFor(async () => {
      const res = await request(stack.app).get(`/v1/splits/requests/${split}`);
      if (res.body.status === "failed") throw new Error(`split creation failed: ${res.body.error}`);
      return res.body.status === "created" ? res.body : null;
    });

  before(async () => {
    stack = await startTestStack("splits", { env: BUDGET });
    creator = await stack.signer(5);
    other = await stack.signer(6);
    factory = SplitFactory__factory.connect(stack.deployment.contracts.SplitFactory.address, stack.provider);
  });
  after(async () => stack.stop());

  it("creates the split a creator signed for, the relayer paying gas, and sends it once", async () => {
    const recipients = [creator.address, other.address];
    const prepared = await request(stack.app)
      .post("/v1/splits")
      .send({ recipients, sharesBps: [7000, 3000], from: creator.address });
    expect(prepared.status, JSON.stringify(prepared.body)).to.equal(200);
    const typed = prepared.body.typedData;
    expect(typed).to.deep.include({ primaryType: "CreateSplit" });
    expect(typed.message).to.deep.include({ creator: creator.address, recipients, sharesBps: [7000, 3000] });
    const balance = await stack.provider.getBalance(creator.address);
    const signature = await creator.signTypedData(
      typed.domain,
      { CreateSplit: typed.types.CreateSplit },
      typed.message,
    );
    const body = { ...typed.message, signature };
    const res = await post(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body).to.deep.include({ split: prepared.body.split, creator: creator.address });
    expect(["pending", "submitted", "created"]).to.include(res.body.status);
    const done = await created(prepared.body.split);
    expect(done.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(await factory.isSplit(prepared.body.split)).to.equal(true);
    expect(await stack.provider.getBalance(creator.address)).to.equal(balance);

    const again = await post(body);
    expect(again.body).to.deep.include({
      split: prepared.body.split,
      status: "created",
      txHash: done.txHash,
    });
    expect(await sent(prepared.body.split)).to.equal(1);
    const now = await request(stack.app)
      .post("/v1/splits")
      .send({ recipients, sharesBps: [7000, 3000], from: creator.address });
    expect(now.body).to.deep.include({ exists: true, typedData: null, transaction: null });
  });

  it("answers a split that exists already as created, recording and spending nothing", async () => {
    const split = await soleSplit(stack, other);
    const before = await requests();
    const res = await post(await signedSplit(other, [other.address], [10_000]));
    expect(res.status).to.equal(202);
    expect(res.body).to.deep.equal({
      split,
      creator: null,
      status: "created",
      txHash: null,
      error: null,
      createdAt: null,
    });
    expect(await requests()).to.equal(before);
  });

  it("refuses invalid shares, 51 recipients, duplicates and the zero address with 400, recording nothing", async () => {
    const before = await requests();
    const a = ethers.Wallet.createRandom().address;
    const many = Array.from({ length: 51 }, () => ethers.Wallet.createRandom().address);
    const cases: [string[], number[], string][] = [
      [[creator.address, a], [7000, 2999], "INVALID_SPLIT"],
      [[creator.address, a], [10_000, 0], "VALIDATION_FAILED"],
      [[creator.address, a], [10_000], "INVALID_SPLIT"],
      [[creator.address, a], [5000, 5000, 0], "VALIDATION_FAILED"],
      [many, many.map((_, i) => (i === 0 ? 10_000 - 50 : 1)), "VALIDATION_FAILED"],
      [[a, a.toLowerCase()], [5000, 5000], "INVALID_SPLIT"],
      [[creator.address, ethers.ZeroAddress], [5000, 5000], "INVALID_SPLIT"],
    ];
    for (const [recipients, sharesBps, code] of cases) {
      const res = await post(await signedSplit(creator, recipients, sharesBps));
      expect(res.status, `${recipients.length} recipients, ${JSON.stringify(sharesBps)}`).to.equal(400);
      expect(res.body.error.code).to.equal(code);
      const prepared = await request(stack.app).post("/v1/splits").send({ recipients, sharesBps });
      expect(prepared.status).to.equal(400);
    }
    expect(await requests()).to.equal(before);
  });

  it("refuses a signature by another wallet or over other terms with 403, and an expired one with 400", async () => {
    const before = await requests();
    const recipients = [creator.address, ethers.Wallet.createRandom().address];
    const forged = await signedSplit(other, recipients, [5000, 5000], { creator: creator.address });
    const res = await post(forged);
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal("SIGNATURE_MISMATCH");
    const signed = await signedSplit(creator, recipients, [5000, 5000]);
    expect((await post({ ...signed, sharesBps: [6000, 4000] })).status).to.equal(403);
    expect((await post({ ...signed, recipients: [recipients[1], recipients[0]] })).status).to.equal(403);
    const past = String((await stack.provider.getBlock("latest"))!.timestamp - 1);
    const expired = await post(await signedSplit(creator, recipients, [5000, 5000], { deadline: past }));
    expect(expired.status).to.equal(400);
    expect(expired.body.error.code).to.equal("SIGNATURE_EXPIRED");
    expect((await post({ ...signed, signature: "0x1234" })).status).to.equal(400);
    expect(await requests()).to.equal(before);
  });

  it("counts a split's gas by its recipients and refuses a spammer past the wallet's budget with 429", async () => {
    const spammer = devWallet(15, stack.provider);
    const big = Array.from({ length: 50 }, () => ethers.Wallet.createRandom().address);
    const refusedBig = await post(
      await signedSplit(
        spammer,
        big,
        big.map((_, i) => (i === 0 ? 10_000 - 49 : 1)),
      ),
    );
    expect(refusedBig.status).to.equal(429);
    expect(refusedBig.body.error.details).to.include({ scope: "wallet", use: "split", usedGas: 0 });

    const before = await requests();
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) {
      const recipients = [spammer.address, ethers.Wallet.createRandom().address];
      answers.push((await post(await signedSplit(spammer, recipients, [5000 + i, 5000 - i]))).status);
    }
    expect(answers).to.deep.equal([202, 202, 202, 202, 429, 429]);
    expect(await requests()).to.equal(before + 4);
  });

  it("answers 404 for a split nobody asked for and 400 for a malformed address", async () => {
    const unknown = ethers.Wallet.createRandom().address;
    expect((await request(stack.app).get(`/v1/splits/requests/${unknown}`)).status).to.equal(404);
    expect((await request(stack.app).get(`/v1/splits/requests/0x1234`)).status).to.equal(400);
  });
});
