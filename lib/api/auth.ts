/** Sign-In with Ethereum on the wire: nonce, signed message, session. */
import { z } from "zod";
import { addressSchema } from "./primitives.ts";

// 65 bytes for a wallet key; contract wallets (EIP-1271) may need more, never this much.
const MAX_SIGNATURE_BYTES = 1024;

export const nonceSchema = z.object({ nonce: z.string(), expiresIn: z.number() });

export const verifySiweBody = z.object({
  message: z.string().min(1).max(4096),
  signature: z
    .string()
    .max(2 + MAX_SIGNATURE_BYTES * 2)
    .regex(/^0x[0-9a-fA-F]+$/, "must be 0x-prefixed hex"),
});

export const sessionSchema = z
  .object({
    token: z.string(),
    address: z.string(),
    isAdmin: z.boolean(),
    expiresAt: z.string().describe("ISO 8601"),
  })
  .meta({ id: "Session" });

export const revokeSessionsBody = z.object({ address: addressSchema });

export const signedOutSchema = z.object({ signedOut: z.literal(true) });

/** The answer of a revocation: sessions of a wallet, an API key. */
export const revokedSchema = z.object({ revoked: z.literal(true) });

export type Nonce = z.infer<typeof nonceSchema>;
export type VerifySiweRequest = z.input<typeof verifySiweBody>;
export type Session = z.infer<typeof sessionSchema>;
