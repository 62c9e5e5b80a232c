/** The chain on the wire: its id, the platform's contract addresses and settings. */
import { z } from "zod";
import { CONTRACT_NAMES } from "../deployment.ts";

export const chainSchema = z
  .object({
    chainId: z.number(),
    contracts: z.record(z.enum(CONTRACT_NAMES), z.string()).describe("deployed addresses, checksummed"),
    settings: z.object({
      platformFeeBps: z.number(),
      escrowCommissionBps: z.number(),
      confirmationWindowSeconds: z.number(),
      disputeWindowSeconds: z.number(),
      adminDelaySeconds: z.number(),
    }),
  })
  .meta({ id: "Chain" });

export type Chain = z.infer<typeof chainSchema>;
