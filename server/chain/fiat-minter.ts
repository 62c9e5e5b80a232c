import { concat, keccak256 } from "ethers";
import { Batcher } from "../../lib/batcher.ts";
import type { LicenseToken } from "../../types/typechain/index.ts";
import type { Relayer, SentTransaction } from "./relayer.ts";

export interface FiatMintRequest {
  offerId: string;
  recipient: string;
  paymentRef: string;
}

/** Most licenses minted by one transaction (about 6 M gas). */
export const MAX_MINT_BATCH = 50;

/**
 * Mints card-paid licenses. Mints requested while a transaction is being sent go out together as
 * one `mintForFiatBatch`: one gas estimate, one signature and one transaction for the group, each
 * mint recorded under its payment reference. A batch that would revert (one of its mints is sold
 * out, paused or already minted) is sent again mint by mint with `mintForFiat`, so only that mint
 * fails, with its own error.
 */
export class FiatMinter {
  readonly #batcher: Batcher<FiatMintRequest, SentTransaction>;

  constructor(
    private readonly relayer: Relayer,
    private readonly licenses: LicenseToken,
  ) {
    this.#batcher = new Batcher(
      MAX_MINT_BATCH,
      (mints) => this.#send(mints),
      (mint) => mint.paymentRef,
    );
  }

  /** Sends the mint (alone or in a batch); resolves once its transaction is broadcast. */
  mint(request: FiatMintRequest): Promise<SentTransaction> {
    return this.#batcher.call(request);
  }

  async #send(mints: FiatMintRequest[]): Promise<SentTransaction[]> {
    const to = await this.licenses.getAddress();
    const iface = this.licenses.interface;
    if (mints.length === 1) {
      const [mint] = mints as [FiatMintRequest];
      const sent = await this.relayer.send({
        to,
        data: iface.encodeFunctionData("mintForFiat", [
          BigInt(mint.offerId),
          mint.recipient,
          mint.paymentRef,
        ]),
        purpose: "mintForFiat",
        ref: mint.paymentRef,
      });
      return [sent];
    }
    const paymentRefs = mints.map((m) => m.paymentRef);
    const sent = await this.relayer.send({
      to,
      data: iface.encodeFunctionData("mintForFiatBatch", [
        mints.map((m) => ({ offerId: BigInt(m.offerId), recipient: m.recipient, paymentRef: m.paymentRef })),
      ]),
      purpose: "mintForFiatBatch",
      ref: keccak256(concat(paymentRefs)),
      itemRefs: paymentRefs,
    });
    return mints.map(() => sent);
  }
}
