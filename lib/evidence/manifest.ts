import { z } from "zod";

/** Format tag of manifest.json; a verifier refuses formats it does not know. */
export const MANIFEST_FORMAT = "rights-ledger-evidence/1";

/** Where each part of an evidence bundle lives inside the zip. */
export const BUNDLE_PATHS = {
  manifest: "manifest.json",
  signature: "signature.json",
  timestamp: "timestamp.tsr",
  receipt: "chain/receipt.json",
  blockHeader: "chain/block-header.json",
  report: "report.pdf",
  originalDir: "original/",
} as const;

/** Files that attest manifest.json itself and therefore cannot be listed in it. */
export const ATTESTATION_PATHS: readonly string[] = [BUNDLE_PATHS.signature, BUNDLE_PATHS.timestamp];

/** How the bundle's parts cover each other; written into every manifest. */
export const MANIFEST_ABOUT =
  "Evidence bundle of a work registered on Rights Ledger. manifest.json states the facts and lists every " +
  "other file of the bundle with its size, SHA-256 and SHA3-512 (two unrelated hash functions, so the " +
  "listing holds even if one is broken), except signature.json and timestamp.tsr, which attest " +
  "manifest.json itself and so cannot be listed in it: signature.json is the platform's EIP-191 " +
  "personal_sign signature over the 32-byte SHA-256 digest of manifest.json, and timestamp.tsr (present " +
  "when a time-stamping authority is configured) is an RFC 3161 time-stamp response over that same " +
  "digest. Checking either attestation against manifest.json, then each listed file against its hashes, " +
  "covers the whole bundle. chain/block-header.json hashes (RLP, keccak-256) to registration.blockHash, " +
  "and chain/receipt.json is that block's receipt of registration.txHash, holding the registry's event " +
  "at registration.logIndex. Hashes of files are lowercase hex as sha256sum and sha3sum print them; " +
  "on-chain values (content hash, addresses, transaction and block hashes) are 0x-prefixed.";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an 0x-prefixed 20-byte address");
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "an 0x-prefixed 32-byte hex value");
const uint = z.string().regex(/^(0|[1-9][0-9]*)$/, "a decimal integer string");
const isoTime = z.iso.datetime({ offset: true });
const unixSeconds = z.number().int().nonnegative();
const bundlePath = z
  .string()
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, "a relative path of safe characters")
  .refine((p) => !p.split("/").some((part) => part === "." || part === ".."), "no . or .. segments");

/** One version in a work's chain of versions, oldest first. */
export const workVersionSchema = z.object({
  workId: uint,
  contentHash: bytes32,
  parentId: uint,
  txHash: bytes32.optional(),
  registeredAt: isoTime.optional(),
});

export const workSchema = z.object({
  /** Absent for a work anchored only in a Merkle batch. */
  workId: uint.optional(),
  title: z.string().optional(),
  /** SHA-256 of the work's file, as registered. */
  contentHash: bytes32,
  cid: z.string().optional(),
  metadataURI: z.string().optional(),
  creator: address,
  coAuthors: z.array(address),
  versions: z.array(workVersionSchema),
});

const registrationFacts = {
  chainId: z.number().int().positive(),
  registry: address,
  txHash: bytes32,
  /** Block-wide index of the registry's event, as in the receipt. */
  logIndex: z.number().int().nonnegative(),
  blockNumber: z.number().int().nonnegative(),
  blockHash: bytes32,
  blockTimestamp: unixSeconds,
};

export const registrationSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("direct"), ...registrationFacts }),
  z.object({
    kind: z.literal("batch"),
    ...registrationFacts,
    batchId: uint,
    merkleRoot: bytes32,
    /** OpenZeppelin standard-tree leaf of (uint256 leafIndex, address creator, bytes32 contentHash, bytes32 registrationDigest). */
    leaf: bytes32,
    /** The leaf's index; the batch reserved work id `firstWorkId + leafIndex` for it. */
    leafIndex: z.number().int().nonnegative(),
    /** EIP-712 digest of the Register message the creator signed. */
    registrationDigest: bytes32,
    proof: z.array(bytes32),
  }),
]);

export const licenseSchema = z.object({
  tokenId: uint,
  offerId: uint,
  holder: address,
  /** Unix seconds; 0 for a perpetual license. */
  expiresAt: unixSeconds,
  revoked: z.boolean(),
  issuedAt: isoTime.optional(),
  txHash: bytes32.optional(),
  commercialUse: z.boolean().optional(),
  territory: z.string().optional(),
});

export const infringementSchema = z
  .object({
    url: z.url().optional(),
    observedAt: isoTime,
    notes: z.string().optional(),
    /** SHA-256 of the suspect copy, when one was obtained. */
    suspectSha256: bytes32.optional(),
    /** Whether suspectSha256 equals the work's content hash; present exactly when suspectSha256 is. */
    suspectMatchesWork: z.boolean().optional(),
  })
  .refine((i) => (i.suspectSha256 === undefined) === (i.suspectMatchesWork === undefined), {
    message: "suspectMatchesWork must be given exactly when suspectSha256 is",
  });

export const fileEntrySchema = z.object({
  path: bundlePath,
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits"),
  sha3_512: z.string().regex(/^[0-9a-f]{128}$/, "128 lowercase hex digits"),
});

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    about: z.string(),
    generator: z.object({ name: z.string(), version: z.string() }),
    generatedAt: isoTime,
    work: workSchema,
    registration: registrationSchema,
    licenses: z.array(licenseSchema),
    infringement: infringementSchema,
    files: z.array(fileEntrySchema),
  })
  .superRefine((m, ctx) => {
    const { suspectSha256, suspectMatchesWork } = m.infringement;
    const matches = suspectSha256?.toLowerCase() === m.work.contentHash.toLowerCase();
    if (suspectSha256 !== undefined && suspectMatchesWork !== undefined && suspectMatchesWork !== matches) {
      ctx.addIssue({
        code: "custom",
        path: ["infringement", "suspectMatchesWork"],
        message: "contradicts suspectSha256",
      });
    }
    const paths = m.files.map((f) => f.path);
    if (new Set(paths).size !== paths.length) {
      ctx.addIssue({ code: "custom", path: ["files"], message: "a path is listed twice" });
    }
    for (const p of paths) {
      if (p === BUNDLE_PATHS.manifest || ATTESTATION_PATHS.includes(p)) {
        ctx.addIssue({
          code: "custom",
          path: ["files"],
          message: `${p} cannot list itself or its attestations`,
        });
      }
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type WorkFacts = z.infer<typeof workSchema>;
export type WorkVersion = z.infer<typeof workVersionSchema>;
export type RegistrationFacts = z.infer<typeof registrationSchema>;
export type LicenseFact = z.infer<typeof licenseSchema>;
export type InfringementRecord = z.infer<typeof infringementSchema>;
export type FileEntry = z.infer<typeof fileEntrySchema>;

/** How signature.json signs: EIP-191 personal_sign over the raw 32-byte digest, not its hex text. */
export const SIGNATURE_SCHEME = "EIP-191 personal_sign of the 32-byte SHA-256 digest of manifest.json";

/** signature.json: the platform's signature over manifest.json. */
export const signatureFileSchema = z.object({
  scheme: z.literal(SIGNATURE_SCHEME),
  manifestSha256: bytes32,
  signer: address,
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte 0x-prefixed signature"),
});

export type SignatureFile = z.infer<typeof signatureFileSchema>;
