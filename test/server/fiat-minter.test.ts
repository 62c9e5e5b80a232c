import { expect } from "chai";
import { Wallet, id } from "ethers";
import { FiatMinter, type FiatMintRequest } from "../../server/chain/fiat-minter.ts";
import { TransactionRevertedError } from "../../server/chain/relayer.ts";
import { LicenseToken__factory, type LicenseToken } from "../../types/typechain/index.ts";
import { offerTerms, registerWork, soleSplit } from "../helpers/commerce.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

describe("fiat minter", function () {
  let stack: TestStack;
  let licenses: LicenseToken;
  let minter: FiatMinter;
  let offerId: string;
  let pausedOfferId: string;
  let refs = 0;

  const request = (offer = offerId): FiatMintRequest => ({
    offerId: offer,
    recipient: Wallet.createRandom().address,
    paymentRef: id(`fiat minter test ${++refs}`),
  });

  async function sentRows(hash: string) {
    const { rows } = await stack.db.pool.query<{ purpose: string; ref: string; item_refs: string[] }>(
      `SELECT purpose, ref, item_refs FROM relayer_transactions WHERE hash = $1`,
      [hash],
    );
    return rows;
  }

  before(async () => {
    stack = await startTestStack("fiat_minter", { workers: false });
    const creator = await stack.signer(5);
    const address = stack.deployment.contracts.LicenseToken.address;
    const asCreator = LicenseToken__factory.connect(address, creator);
    const params = {
      workId: await registerWork(stack, creator),
      ...offerTerms(await soleSplit(stack, creator)),
    };
    const create = async () => {
      const offer = await asCreator.createOffer.staticCall(params);
      await (await asCreator.createOffer(params)).wait();
      return offer.toString();
    };
    offerId = await create();
    pausedOfferId = await create();
    await (await asCreator.setOfferActive(pausedOfferId, false)).wait();
    licenses = LicenseToken__factory.connect(address, stack.provider);
    minter = new FiatMinter(stack.relayer, licenses);
  });
  after(async () => {
    await stack.stop();
  });

  it("sends the mints requested while one is on its way as one mintForFiatBatch, each under its reference", async () => {
    const alone = request();
    const together = [request(), request(), request()];
    const sent = await Promise.all([alone, ...together].map((r) => minter.mint(r)));
    expect(sent[0]!.hash).to.not.equal(sent[1]!.hash);
    expect(new Set(sent.slice(1).map((s) => s.hash)).size).to.equal(1);
    expect(await sentRows(sent[0]!.hash)).to.deep.equal([
      { purpose: "mintForFiat", ref: alone.paymentRef, item_refs: [] },
    ]);
    const [batch] = await sentRows(sent[1]!.hash);
    expect(batch!.purpose).to.equal("mintForFiatBatch");
    expect(batch!.item_refs).to.deep.equal(together.map((r) => r.paymentRef));
    expect((await stack.relayer.wait(sent[1]!.hash)).status).to.equal(1);
    for (const r of together) {
      expect(await licenses.paymentRefUsed(r.paymentRef)).to.equal(true);
      expect(await licenses.balanceOf(r.recipient)).to.equal(1n);
    }
  });

  it("sends a batch that would revert again mint by mint: only the mint that cannot be made fails, with its own error", async () => {
    const good = [request(), request()];
    const bad = request(pausedOfferId);
    const results = await Promise.allSettled([request(), good[0]!, bad, good[1]!].map((r) => minter.mint(r)));
    expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const err = (results[2] as PromiseRejectedResult).reason as unknown;
    expect(err).to.be.instanceOf(TransactionRevertedError);
    expect((err as TransactionRevertedError).errorName).to.equal("OfferInactive");
    for (const [i, r] of [
      [1, good[0]!],
      [3, good[1]!],
    ] as const) {
      const { hash } = (results[i] as PromiseFulfilledResult<{ hash: string }>).value;
      expect(await sentRows(hash)).to.deep.equal([
        { purpose: "mintForFiat", ref: r.paymentRef, item_refs: [] },
      ]);
      expect((await stack.relayer.wait(hash)).status).to.equal(1);
    }
    const { rows } = await stack.db.pool.query(
      `SELECT hash FROM relayer_transactions WHERE purpose = 'mintForFiatBatch' AND item_refs && $1::text[]`,
      [[bad.paymentRef, ...good.map((r) => r.paymentRef)]],
    );
    expect(rows).to.have.length(0);
    expect(await licenses.paymentRefUsed(bad.paymentRef)).to.equal(false);
  });
});
