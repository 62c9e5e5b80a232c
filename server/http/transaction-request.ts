import { z } from "zod";

/** A transaction for the user's own wallet to sign and send (EIP-1193 `eth_sendTransaction` fields). */
export interface TransactionRequest {
  /** What the transaction does, for the wallet's confirmation screen. */
  description: string;
  chainId: number;
  /** The wallet expected to send it. */
  from: string;
  to: string;
  data: string;
  /** Wei, as a decimal string. */
  value: string;
}

export const transactionRequestSchema = z
  .object({
    description: z.string(),
    chainId: z.number(),
    from: z.string(),
    to: z.string(),
    data: z.string(),
    value: z.string().describe("wei, decimal"),
  })
  .meta({ id: "TransactionRequest" });
