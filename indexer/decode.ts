import type { EventFragment, Interface } from "ethers";
import type { ContractKind, JsonArgs } from "./abi.ts";
import { compileEventDecoder } from "./abi-decode.ts";
import type { ValueNotes } from "./untrusted.ts";

type ArgsDecoder = ReturnType<typeof compileEventDecoder>;

/** A log as returned by eth_getLogs, with quantities as numbers and hex in lowercase. */
export interface ChainLog {
  blockNumber: number;
  blockHash: string;
  txHash: string;
  txIndex: number;
  logIndex: number;
  address: string;
  topics: string[];
  data: string;
  removed: boolean;
  /** Unix seconds, when the provider includes it in logs. */
  blockTimestamp: number | null;
}

/** A log of a followed contract, decoded. */
export interface ChainEvent<A = JsonArgs> {
  contract: ContractKind;
  address: string;
  name: string;
  /** Strings and arrays as `untrusted.ts` stores them (arrays still whole). */
  args: A;
  /** The arguments that had to be changed or cut to be stored; null for almost every event. */
  notes: ValueNotes | null;
  /** The log's topics and data as emitted: what a quarantined or noted event keeps. */
  topics: string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  /** Unix seconds; null until filled from the block header when the log did not carry it. */
  blockTime: number | null;
  txHash: string;
  txIndex: number;
  logIndex: number;
}

/** Why a log was not turned into an event. */
export type SkipReason = "unlisted_address" | "unknown_event" | "undecodable";

export type DecodeResult =
  | { event: ChainEvent }
  | { skipped: SkipReason; detail: string; kind?: ContractKind; name?: string; error?: string };

/** Decodes logs of followed contracts with their kind's ABI. */
export function createDecoder(interfaces: Record<ContractKind, Interface>) {
  const events = new Map<string, { fragment: EventFragment; decodeArgs: ArgsDecoder } | null>();

  function eventFor(kind: ContractKind, topic: string) {
    const cacheKey = `${kind}:${topic}`;
    let event = events.get(cacheKey);
    if (event === undefined) {
      const fragment = interfaces[kind].getEvent(topic);
      event = fragment ? { fragment, decodeArgs: compileEventDecoder(fragment) } : null;
      events.set(cacheKey, event);
    }
    return event;
  }

  /** Decodes `log`, emitted by a contract of `kind` (undefined when its address is not followed). */
  return function decode(log: ChainLog, kind: ContractKind | undefined): DecodeResult {
    if (!kind)
      return {
        skipped: "unlisted_address",
        detail: `log ${log.blockNumber}/${log.logIndex} from ${log.address}`,
      };
    const topic = log.topics[0];
    const known = topic ? eventFor(kind, topic) : null;
    if (!known) {
      return { skipped: "unknown_event", detail: `${kind} ${log.address} topic ${topic ?? "(none)"}` };
    }
    const { fragment, decodeArgs } = known;
    let decoded: { args: JsonArgs; notes: ValueNotes | null };
    try {
      decoded = decodeArgs(log.topics, log.data);
    } catch (error) {
      return {
        skipped: "undecodable",
        detail: `${kind}.${fragment.name} at ${log.blockNumber}/${log.logIndex}: ${(error as Error).message}`,
        kind,
        name: fragment.name,
        error: (error as Error).message,
      };
    }
    return {
      event: {
        contract: kind,
        address: log.address,
        name: fragment.name,
        args: decoded.args,
        notes: decoded.notes,
        topics: log.topics,
        data: log.data,
        blockNumber: log.blockNumber,
        blockHash: log.blockHash,
        blockTime: log.blockTimestamp,
        txHash: log.txHash,
        txIndex: log.txIndex,
        logIndex: log.logIndex,
      },
    };
  };
}

export type Decoder = ReturnType<typeof createDecoder>;
