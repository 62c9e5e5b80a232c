import type { RpcCall } from "../lib/fetch-json-rpc-provider.ts";
import type { ChainLog } from "./decode.ts";

/**
 * What the indexer needs of an ethers provider: raw JSON-RPC calls. JsonRpcProvider, WebSocketProvider,
 * BrowserProvider and Hardhat's provider all have it.
 */
export interface ChainProvider {
  send(method: string, params: unknown[]): Promise<unknown>;
  /** Many calls at once, results in order; the client uses it for headers when the provider has it. */
  sendBatch?(calls: RpcCall[]): Promise<unknown[]>;
}

export interface BlockHeader {
  number: number;
  hash: string;
  parentHash: string;
  /** Unix seconds. */
  timestamp: number;
}

/** The provider refused a log query for its range or result size; retry with `suggestedSize` blocks or fewer. */
export class RangeTooLargeError extends Error {
  override name = "RangeTooLargeError";
  constructor(
    message: string,
    readonly suggestedSize: number | undefined,
  ) {
    super(message);
  }
}

/** The provider answered something that is not valid JSON-RPC data of the expected shape. */
export class ProviderDataError extends Error {
  override name = "ProviderDataError";
}

/** Most addresses in one eth_getLogs filter; more are split over several calls. */
const ADDRESSES_PER_QUERY = 500;

const RANGE_ERROR =
  /block range|range (is )?too (large|wide|big)|too many (results|logs|blocks)|more than \d+ (results|logs)|limit exceeded|response (size|is too)|exceed(s|ed)? .*(range|limit|results|logs)|query timeout|-32005/i;
const RANGE_HINT = /\[\s*(0x[0-9a-f]+)\s*,\s*(0x[0-9a-f]+)\s*\]/i;

/** Whether the node answered with a JSON-RPC error (a numeric code), rather than failing to answer. */
export function isRpcRejection(error: unknown, depth = 0): boolean {
  if (depth > 4 || error === null || typeof error !== "object") return false;
  const e = error as Record<string, unknown>;
  if (typeof e.code === "number") return true;
  return [e.error, e.info, e.cause].some((inner) => isRpcRejection(inner, depth + 1));
}

/** Every message and code found in an error and its nested causes (ethers wraps JSON-RPC errors). */
function errorText(error: unknown, depth = 0): string {
  if (depth > 4 || error === null || typeof error !== "object") return typeof error === "string" ? error : "";
  const e = error as Record<string, unknown>;
  const own = [e.message, e.shortMessage, e.code].filter(
    (v) => typeof v === "string" || typeof v === "number",
  );
  const nested = [e.error, e.info, e.cause, e.data].map((inner) => errorText(inner, depth + 1));
  return [...own, ...nested].filter(Boolean).join(" | ");
}

/** Whether a failed eth_getLogs asks for a smaller range, and the size it suggests. */
export function rangeErrorOf(error: unknown): RangeTooLargeError | null {
  const text = errorText(error);
  if (!RANGE_ERROR.test(text)) return null;
  const hint = RANGE_HINT.exec(text);
  const suggested = hint ? Number(BigInt(hint[2]!) - BigInt(hint[1]!)) + 1 : undefined;
  return new RangeTooLargeError(text, suggested !== undefined && suggested > 0 ? suggested : undefined);
}

function quantity(value: unknown, field: string): number {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]+$/.test(value)) {
    throw new ProviderDataError(`${field} is not a hex quantity: ${JSON.stringify(value)}`);
  }
  return Number.parseInt(value, 16);
}

function hexString(value: unknown, field: string): string {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]*$/.test(value)) {
    throw new ProviderDataError(`${field} is not hex data: ${JSON.stringify(value)}`);
  }
  return value.toLowerCase();
}

function toHeader(raw: unknown): BlockHeader | null {
  if (raw === null) return null;
  if (typeof raw !== "object") throw new ProviderDataError(`block is not an object: ${JSON.stringify(raw)}`);
  const block = raw as Record<string, unknown>;
  return {
    number: quantity(block.number, "block.number"),
    hash: hexString(block.hash, "block.hash"),
    parentHash: hexString(block.parentHash, "block.parentHash"),
    timestamp: quantity(block.timestamp, "block.timestamp"),
  };
}

function toLog(raw: unknown): ChainLog {
  if (raw === null || typeof raw !== "object")
    throw new ProviderDataError(`log is not an object: ${JSON.stringify(raw)}`);
  const log = raw as Record<string, unknown>;
  if (!Array.isArray(log.topics)) throw new ProviderDataError("log.topics is not an array");
  return {
    blockNumber: quantity(log.blockNumber, "log.blockNumber"),
    blockHash: hexString(log.blockHash, "log.blockHash"),
    txHash: hexString(log.transactionHash, "log.transactionHash"),
    txIndex: quantity(log.transactionIndex, "log.transactionIndex"),
    logIndex: quantity(log.logIndex, "log.logIndex"),
    address: hexString(log.address, "log.address"),
    topics: log.topics.map((topic, i) => hexString(topic, `log.topics[${i}]`)),
    data: hexString(log.data, "log.data"),
    removed: log.removed === true,
    // Recent nodes include the block time in each log; older ones need the header.
    blockTimestamp:
      log.blockTimestamp === undefined ? null : quantity(log.blockTimestamp, "log.blockTimestamp"),
  };
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** Typed JSON-RPC calls over a provider. */
export function createChainClient(provider: ChainProvider) {
  async function block(tag: number | "latest" | "safe" | "finalized"): Promise<BlockHeader | null> {
    return toHeader(
      await provider.send("eth_getBlockByNumber", [typeof tag === "number" ? hex(tag) : tag, false]),
    );
  }

  return {
    block,

    async chainId(): Promise<number> {
      return quantity(await provider.send("eth_chainId", []), "chainId");
    },

    /** Headers of `numbers`, fetched concurrently; null for any the provider does not have (yet). */
    async headers(numbers: number[]): Promise<(BlockHeader | null)[]> {
      if (!provider.sendBatch || numbers.length < 2) return Promise.all(numbers.map((n) => block(n)));
      const blocks = await provider.sendBatch(
        numbers.map((n) => ({ method: "eth_getBlockByNumber", params: [hex(n), false] })),
      );
      return blocks.map(toHeader);
    },

    /** Logs of `addresses` in `fromBlock..toBlock`, in chain order. Throws RangeTooLargeError when refused for size. */
    async logs(fromBlock: number, toBlock: number, addresses: string[]): Promise<ChainLog[]> {
      const chunks: string[][] = [];
      for (let i = 0; i < addresses.length; i += ADDRESSES_PER_QUERY) {
        chunks.push(addresses.slice(i, i + ADDRESSES_PER_QUERY));
      }
      const results = await Promise.all(
        chunks.map(async (address) => {
          let raw: unknown;
          try {
            raw = await provider.send("eth_getLogs", [
              { fromBlock: hex(fromBlock), toBlock: hex(toBlock), address },
            ]);
          } catch (error) {
            throw rangeErrorOf(error) ?? error;
          }
          if (!Array.isArray(raw)) throw new ProviderDataError(`eth_getLogs returned ${JSON.stringify(raw)}`);
          return raw.map(toLog);
        }),
      );
      const logs = results.flat();
      if (chunks.length > 1) logs.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
      return logs;
    },
  };
}

export type ChainClient = ReturnType<typeof createChainClient>;
