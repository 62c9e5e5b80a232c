import { writeSync } from "node:fs";

/**
 * Points of an order's life where the crash tests kill a process: before and after each commit,
 * broadcast and capture. Production code reaches them through a `Checkpoint`, which does nothing
 * unless the test-only CRASH_POINTS variable arms some (refused outside NODE_ENV=test).
 */
export const CRASH_POINTS = [
  /** API: a payment webhook, before its statement commits the payment. */
  "webhook:before-commit",
  /** API: the payment and its fulfilment job are committed; the job is not queued yet. */
  "webhook:after-commit",
  /** API or worker: committed jobs are queued but their outbox rows not yet deleted. */
  "outbox:after-queue",
  /** Worker: the relayer recorded transactions but has not broadcast them. */
  "relayer:after-record",
  /** Worker: the relayer broadcast transactions but has not closed its turn. */
  "relayer:after-broadcast",
  /** Worker: the mint is broadcast; the order does not record it yet. */
  "fulfil:after-mint-sent",
  /** Worker: the order records its minted license; the card is not captured yet. */
  "fulfil:after-minted",
  /** Worker: the mint is settled; the capture is about to be asked for. */
  "capture:before",
  /** Worker: the card is captured; the order is not marked fulfilled yet. */
  "capture:after",
  /** Worker: the order is fulfilled; its job has not completed yet. */
  "capture:after-commit",
  /** Worker: a settlement and its booking are committed; its transaction is not sent yet. */
  "settlement:after-prepare",
  /** Worker: the settlement's transaction is broadcast; the settlement does not record it yet. */
  "settlement:after-send",
  /** Worker: the SMTP server took DATA for a mail; the mail is not marked sending, no byte of it is sent. */
  "mail:before-send",
  /** Worker: the SMTP server accepted a mail; the mail is not marked sent yet. */
  "mail:after-send",
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Called as a process passes a crash point. */
export type Checkpoint = (point: CrashPoint) => void;

export const noCrashes: Checkpoint = () => undefined;

/** A point armed to kill the process the `hit`-th time it is passed. */
export interface ArmedCrash {
  point: CrashPoint;
  hit: number;
}

/** Parses CRASH_POINTS: `point[@hit]`, comma-separated (`relayer:after-record@2`). Null when malformed. */
export function parseCrashPoints(spec: string): ArmedCrash[] | null {
  const armed: ArmedCrash[] = [];
  for (const part of spec.split(",")) {
    const match = /^([a-z]+:[a-z-]+)(?:@([1-9][0-9]*))?$/.exec(part.trim());
    if (!match || !(CRASH_POINTS as readonly string[]).includes(match[1]!)) return null;
    armed.push({ point: match[1] as CrashPoint, hit: Number(match[2] ?? 1) });
  }
  return armed;
}

/**
 * A checkpoint that kills this process with SIGKILL, as `kill -9` would, the armed number of times
 * into each armed point; it says which on stderr first, synchronously, so the test can tell.
 */
export function crashAt(armed: ArmedCrash[]): Checkpoint {
  if (armed.length === 0) return noCrashes;
  const hits = new Map<CrashPoint, number>();
  return (point) => {
    const crash = armed.find((a) => a.point === point);
    if (!crash) return;
    const hit = (hits.get(point) ?? 0) + 1;
    hits.set(point, hit);
    if (hit !== crash.hit) return;
    writeSync(2, `crash point ${point}@${hit}: killing process ${process.pid}\n`);
    process.kill(process.pid, "SIGKILL");
  };
}
