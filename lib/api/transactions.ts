import { z } from "zod";

/** A transaction for the user's own wallet to sign and send (EIP-1193 `eth_sendTransaction` fields). */
export const transactionRequestSchema = z
  .object({
    description: z.string().describe("what the transaction does, for the wallet's confirmation screen"),
    chainId: z.number(),
    from: z.string().describe("the wallet expected to send it"),
    to: z.string(),
    data: z.string(),
    value: z.string().describe("wei, decimal"),
  })
  .meta({ id: "TransactionRequest" });

/** Transactions to send in order, from the `from` wallet. */
export const transactionRequestsSchema = z
  .object({
    transactions: z.array(transactionRequestSchema).describe("send in order, from the `from` wallet"),
  })
  .meta({ id: "TransactionRequests" });

export type TransactionRequest = z.infer<typeof transactionRequestSchema>;
export type TransactionRequests = z.infer<typeof transactionRequestsSchema>;
