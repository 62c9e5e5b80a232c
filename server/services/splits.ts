import { AppError } from "../errors.ts";
import { checksum } from "../../lib/address.ts";
import type { PreparedSplit } from "../../lib/api/splits.ts";
import type { SplitFactory } from "../../types/typechain/index.ts";

const TOTAL_BPS = 10_000;
const MAX_RECIPIENTS = 50;

/** Revenue splits: the address a set of shares maps to, and the transaction that creates it. */
export class SplitsService {
  constructor(
    private readonly factory: SplitFactory,
    private readonly chainId: number,
  ) {}

  async prepare(from: string, recipients: string[], sharesBps: number[]): Promise<PreparedSplit> {
    if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS) {
      throw new AppError("INVALID_SPLIT", 400, `a split has 1 to ${MAX_RECIPIENTS} recipients`);
    }
    if (recipients.length !== sharesBps.length) {
      throw new AppError("INVALID_SPLIT", 400, "recipients and sharesBps must have the same length");
    }
    if (new Set(recipients).size !== recipients.length || recipients.some((r) => /^0x0{40}$/.test(r))) {
      throw new AppError("INVALID_SPLIT", 400, "recipients must be distinct non-zero addresses");
    }
    const total = sharesBps.reduce((a, b) => a + b, 0);
    if (total !== TOTAL_BPS) {
      throw new AppError("INVALID_SPLIT", 400, `shares must sum to ${TOTAL_BPS} basis points (got ${total})`);
    }
    const split = (await this.factory.predictSplit(recipients, sharesBps)).toLowerCase();
    const exists = await this.factory.isSplit(split);
    return {
      split: checksum(split)!,
      exists,
      transaction: exists
        ? null
        : {
            description: `Create the revenue split ${checksum(split)} for ${recipients.length} recipients`,
            chainId: this.chainId,
            from: checksum(from)!,
            to: checksum((await this.factory.getAddress()).toLowerCase())!,
            data: this.factory.interface.encodeFunctionData("createSplit", [recipients, sharesBps]),
            value: "0",
          },
    };
  }
}
