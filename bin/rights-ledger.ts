import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { isAddress } from "ethers";
import type { Certificate } from "pkijs";
import { parseCertificates } from "../lib/evidence/timestamp.ts";
import type { VerificationCheck } from "../lib/api/evidence.ts";
import { DEFAULT_MIN_CONFIRMATIONS, verifyBundle, type VerifyResult } from "../lib/evidence/verify.ts";
import { ZipLimitError } from "../lib/evidence/zip.ts";

export const USAGE = `Usage: rights-ledger verify <bundle.zip> [options]

Verifies a Rights Ledger evidence bundle: the hashes of its files, the original file, the block
header and receipt, the registry's event, the Merkle proof of a batch, the platform's signature and
the RFC 3161 timestamp; with --rpc also that the block is canonical and the registry holds the work.

Options:
  --rpc URL             JSON-RPC node of the registration's chain (online checks)
  --confirmations N     confirmations the block needs on that node (default ${DEFAULT_MIN_CONFIRMATIONS})
  --file PATH           the original file, checked against the work's SHA-256
  --ca PATH             PEM certificate(s) of the time-stamping authority's root CA (repeatable)
  --signer ADDRESS      the platform's signing address the signature must come from
  -h, --help            show this help

Exit status: 0 when every check passes, 1 when one fails, 2 on a usage error.`;

/** Output streams, replaceable in tests. */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

class UsageError extends Error {}

const STATUS = (c: VerificationCheck) => (c.skipped ? "SKIP" : c.ok ? "PASS" : "FAIL");

async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new UsageError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        rpc: { type: "string" },
        confirmations: { type: "string" },
        file: { type: "string" },
        ca: { type: "string", multiple: true },
        signer: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  const [command, bundle, ...rest] = positionals;
  if (command !== "verify")
    throw new UsageError(command ? `unknown command "${command}"` : "missing command");
  if (!bundle) throw new UsageError("missing <bundle.zip>");
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  let minConfirmations: number | undefined;
  if (values.confirmations !== undefined) {
    if (!/^\d+$/.test(values.confirmations)) throw new UsageError("--confirmations must be a whole number");
    minConfirmations = Number(values.confirmations);
  }
  if (values.signer !== undefined && !isAddress(values.signer))
    throw new UsageError("--signer must be an 0x address");
  if (values.rpc !== undefined && !/^https?:\/\//.test(values.rpc))
    throw new UsageError("--rpc must be an http(s) URL");
  return { help: false as const, bundle, ...values, minConfirmations };
}

/** Runs the CLI; returns the exit status. */
export async function main(
  argv: string[],
  io: Io = { out: console.log, err: console.error },
): Promise<number> {
  let args;
  let zip: Buffer;
  let file: Buffer | undefined;
  const trustedCerts: Certificate[] = [];
  try {
    args = parse(argv);
    if (args.help) {
      io.out(USAGE);
      return 0;
    }
    zip = await readInput(args.bundle, "bundle");
    if (args.file) file = await readInput(args.file, "file");
    for (const path of args.ca ?? []) {
      try {
        trustedCerts.push(...parseCertificates(await readInput(path, "CA certificate")));
      } catch (err) {
        throw err instanceof UsageError ? err : new UsageError(`${path} holds no certificate`);
      }
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`rights-ledger: ${err.message}\n\n${USAGE}`);
    return 2;
  }

  let result: VerifyResult;
  try {
    result = await verifyBundle(zip, {
      file,
      rpcUrl: args.rpc,
      minConfirmations: args.minConfirmations,
      trustedCerts,
      expectedSigner: args.signer,
    });
  } catch (err) {
    if (!(err instanceof ZipLimitError)) throw err;
    io.err(`rights-ledger: ${args.bundle}: ${err.message}`);
    return 1;
  }

  io.out(`Rights Ledger evidence bundle ${args.bundle}`);
  const m = result.manifest;
  if (m) {
    io.out(`  work   ${m.work.contentHash} by ${m.work.creator}`);
    const reg = m.registration;
    io.out(
      `  block  ${reg.blockNumber} ${reg.blockHash} on chain ${reg.chainId}, ${new Date(reg.blockTimestamp * 1000).toISOString()}`,
    );
  }
  io.out("");
  const width = Math.max(...result.checks.map((c) => c.name.length));
  for (const check of result.checks) io.out(`${STATUS(check)}  ${check.name.padEnd(width)}  ${check.detail}`);
  io.out("");
  const failed = result.checks.filter((c) => !c.ok);
  const skipped = result.checks.filter((c) => c.skipped).length;
  const passed = result.checks.length - failed.length - skipped;
  const tail = skipped > 0 ? `, ${skipped} not checked` : "";
  if (failed.length > 0) {
    io.out(
      `FAIL: ${failed.length} of ${result.checks.length} checks failed (${failed.map((c) => c.name).join(", ")})${tail}`,
    );
    return 1;
  }
  io.out(`PASS: ${passed} checks passed${tail}`);
  return 0;
}
