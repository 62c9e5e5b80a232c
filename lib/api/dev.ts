/** The development chain on the wire: its unlocked accounts, for the web app's account picker. */
import { z } from "zod";

export const devAccountSchema = z.object({
  index: z.number(),
  address: z.string(),
  role: z.string().nullable(),
});

export const devConfigSchema = z.object({
  chainId: z.number(),
  rpcUrl: z.string(),
  accounts: z.array(devAccountSchema),
});

export type DevAccount = z.infer<typeof devAccountSchema>;
export type DevConfig = z.infer<typeof devConfigSchema>;
