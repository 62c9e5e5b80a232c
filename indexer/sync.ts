/**
 * The indexer's sync loop: backfill, live following, reorg rollback, chain identity and quarantine of
 * refused rows. Kept in one file, though long, because each step decides on the same checkpoint row
 * inside the same transaction; the pure parts (decoding, handlers, finality, fetching) live apart.
 */
import type { Pool, PoolClient } from "pg";
import type { Logger } from "pino";
import type { ChainHeads } from "../lib/finality.ts";
import { firstDeployBlock, CONTRACT_NAMES, type Deployment } from "../lib/deployment.ts";
import { contractInterfaces, type ContractKind } from "./abi.ts";
import { applyEvents, isRefusal, neededRows } from "./apply.ts";
import { untrustedText } from "./untrusted.ts";
import { RangeTooLargeError, type BlockHeader, type ChainClient } from "./chain.ts";
import { KeyCollector } from "./changes.ts";
import type { IndexerConfig } from "./config.ts";
import { eventsAbove } from "./db/chain-events.ts";
import { CURRENT_TABLES, HISTORY_TABLES } from "./db/derived.ts";
import {
  blockRow,
  dropAbove,
  indexerBlocks,
  initState,
  lockCheckpoint,
  pruneBelow,
  saveCheckpoint,
  saveHeads,
  storedAnchor,
  storedHashes,
  type ChainAnchor,
  type Checkpoint,
} from "./db/indexer-state.ts";
import { quarantine, quarantinedCount, type QuarantineRow } from "./db/quarantine.ts";
import { deleteAbove, insertRows, restoreFromUndo } from "./db/rows.ts";
import { splitAddresses } from "./db/splits.ts";
import { createDecoder, type ChainEvent, type ChainLog } from "./decode.ts";
import type { HeadTracker } from "./finality.ts";
import type { IndexerMetrics } from "./metrics.ts";
import type { ChangePublisher } from "./notify.ts";
import { withTransaction } from "../lib/transaction.ts";

/** The chain reorganised below its finalized block; indexing stops and the database is left as it was. */
export class DeepReorgError extends Error {
  override name = "DeepReorgError";
}

/** The node serves another chain than the one this database mirrors; indexing stops, the database untouched. */
export class ChainIdentityError extends Error {
  override name = "ChainIdentityError";
}

/** The chain changed between the calls that fetched one range; the range is fetched again. */
export class ChainMovedError extends Error {
  override name = "ChainMovedError";
}

/** The first block of a range does not extend the checkpoint: a reorg to look into. */
class ForkDetected extends Error {}

/** Most blocks above the finalized block indexed in one range (each needs its header). */
const MAX_TRACKED_BLOCKS = 100;
/** Blocks whose hashes are fetched at once while looking for a fork point. */
const FORK_SEARCH_BATCH = 10;
/** Distinct skipped-log warnings logged before further ones go to debug. */
const MAX_WARNED = 1000;
const UNTOUCHED =
  "Indexing stopped and the database was left untouched: re-index from a block below the fork.";

export interface SyncDeps {
  config: IndexerConfig;
  db: Pool;
  chain: ChainClient;
  deployment: Deployment;
  heads: HeadTracker;
  metrics: IndexerMetrics;
  publisher: ChangePublisher;
  logger: Logger;
}

/** A block range being fetched: its headers and decoded events. */
interface FetchedRange {
  from: number;
  to: number;
  tracked: boolean;
  /** The followed-address version the logs were asked for with. */
  followed: number;
  result: Promise<{
    numbers: number[];
    headers: (BlockHeader | null)[];
    events: ChainEvent[];
    undecodable: RejectedLog[];
  }>;
}

/** A log of a followed contract whose known event does not decode, or an event whose rows were refused. */
export interface RejectedLog {
  contract: ContractKind;
  address: string;
  name: string;
  blockNumber: number;
  blockHash: string;
  blockTime: number | null;
  txHash: string;
  txIndex: number;
  logIndex: number;
  topics: string[];
  data: string;
  error: string;
  code: string | null;
}

/** The rows of quarantined logs. */
function quarantineRows(chainId: number, rejected: RejectedLog[], reason: QuarantineRow["reason"]) {
  return rejected.map((r): QuarantineRow => ({
    chain_id: chainId,
    block_number: r.blockNumber,
    log_index: r.logIndex,
    block_hash: r.blockHash,
    block_time: r.blockTime === null ? null : new Date(r.blockTime * 1000),
    tx_hash: r.txHash,
    tx_index: r.txIndex,
    contract: r.address,
    contract_name: r.contract,
    event_name: r.name,
    topics: r.topics,
    data: `\\x${r.data.slice(2)}`,
    reason,
    // Error texts can quote the refused value; they are stored as untrusted text too.
    error: untrustedText(Buffer.from(r.error).toString("hex")).text,
    error_code: r.code,
    quarantined_at: new Date(),
  }));
}

/** What one step did; after anything but `idle` the next step follows at once. */
export type StepResult = "indexed" | "rolledBack" | "retry" | "idle";

/** The indexing engine: each step indexes one block range, rolls back a reorg, or finds nothing to do. */
export function createSync(deps: SyncDeps) {
  const { config, db, chain, deployment, heads, metrics, publisher, logger } = deps;
  const chainId = deployment.chainId;
  const decode = createDecoder(contractInterfaces());
  const fixedContracts = new Map<string, ContractKind>(
    CONTRACT_NAMES.map((name) => [deployment.contracts[name].address.toLowerCase(), name]),
  );
  let splits = new Set<string>();
  let checkpoint: Checkpoint = { number: -1, hash: null };
  let savedHeads: ChainHeads = { head: 0, safe: 0, finalized: 0 };
  let rangeSize = config.blockRange;
  /** Changes whenever the set of followed addresses does, so a prefetched range is not used stale. */
  let followedVersion = 0;
  let prefetched: FetchedRange | null = null;
  let anchor: ChainAnchor | null = null;
  const warned = new Set<string>();

  /**
   * Checks that the node serves the chain this database mirrors: its block at the recorded anchor's
   * height (on first run, at `start`) must have the recorded hash. Returns the anchor to keep.
   */
  async function checkChainIdentity(start: number): Promise<ChainAnchor> {
    const stored = anchor ?? (await storedAnchor(db, chainId));
    const number = stored?.number ?? start;
    const [header] = await chain.headers([number]);
    if (!header) {
      if (stored)
        throw new ChainMovedError(`the node has no block ${number} yet; waiting for it to catch up`);
      throw new ChainMovedError(`the node has no block ${number}, the first block to index, yet`);
    }
    if (stored && header.hash !== stored.hash) {
      throw new ChainIdentityError(
        `the node at ${config.chainRpcUrl} serves another chain than the one this database mirrors: ` +
          `block ${number} of chain ${chainId} is ${stored.hash} in the database but ${header.hash} on the node ` +
          `(a restarted development chain, or a different network with the same chain id). Indexing stopped ` +
          `and the database was left untouched: point CHAIN_RPC_URL at the chain this database mirrors, or ` +
          `index this chain into an empty database (another DATABASE_URL, or drop this one's tables).`,
      );
    }
    return { number, hash: header.hash };
  }

  function kindAt(address: string, newSplits?: Set<string>): ContractKind | undefined {
    return (
      fixedContracts.get(address) ??
      (splits.has(address) || newSplits?.has(address) ? "RevenueSplit" : undefined)
    );
  }

  function skip(reason: string, detail: string): void {
    metrics.skippedLogs.inc({ reason });
    const key = `${reason}:${detail.split(" at ")[0]}`;
    if (warned.has(key) || warned.size >= MAX_WARNED) {
      logger.debug({ reason, detail }, "log skipped");
      return;
    }
    warned.add(key);
    logger.warn({ reason, detail }, "log skipped");
  }

  /** Decodes `logs`; known events that do not decode go to `undecodable`, to be quarantined. */
  function decodeAll(logs: ChainLog[], undecodable: RejectedLog[], newSplits?: Set<string>): ChainEvent[] {
    const events: ChainEvent[] = [];
    for (const log of logs) {
      if (log.removed)
        throw new ChainMovedError(`provider returned a removed log in block ${log.blockNumber}`);
      const result = decode(log, kindAt(log.address, newSplits));
      if ("event" in result) {
        events.push(result.event);
        continue;
      }
      skip(result.skipped, result.detail);
      if (result.skipped === "undecodable") {
        undecodable.push({
          contract: result.kind!,
          address: log.address,
          name: result.name!,
          blockNumber: log.blockNumber,
          blockHash: log.blockHash,
          blockTime: log.blockTimestamp,
          txHash: log.txHash,
          txIndex: log.txIndex,
          logIndex: log.logIndex,
          topics: log.topics,
          data: log.data,
          error: result.error!,
          code: null,
        });
      }
    }
    return events;
  }

  /** Logs of every followed contract, including splits created within the range itself. */
  async function fetchEvents(
    from: number,
    to: number,
  ): Promise<{ events: ChainEvent[]; undecodable: RejectedLog[] }> {
    const undecodable: RejectedLog[] = [];
    const logs = await chain.logs(from, to, [...fixedContracts.keys(), ...splits]);
    const events = decodeAll(logs, undecodable);
    const created = events.filter((e) => e.contract === "SplitFactory" && e.name === "SplitCreated");
    const newSplits = new Set(created.map((e) => String(e.args.split)).filter((split) => !splits.has(split)));
    if (newSplits.size === 0) return { events, undecodable };
    const firstBlock = Math.min(...created.map((e) => e.blockNumber));
    const more = decodeAll(await chain.logs(firstBlock, to, [...newSplits]), undecodable, newSplits);
    return {
      events: [...events, ...more].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex),
      undecodable,
    };
  }

  /** Sets the block time of events whose logs did not carry it, from headers already fetched or fetched now. */
  async function fillBlockTimes(
    events: { blockNumber: number; blockHash: string; blockTime: number | null }[],
    known: Map<number, BlockHeader>,
  ): Promise<void> {
    const hashes = new Map<number, string>();
    for (const e of events) {
      if (e.blockTime === null && !known.has(e.blockNumber)) hashes.set(e.blockNumber, e.blockHash);
    }
    if (hashes.size === 0) return;
    const missing = [...hashes.keys()];
    const fetched = await chain.headers(missing);
    fetched.forEach((header, i) => {
      if (!header) throw new ChainMovedError(`provider has no block ${missing[i]} yet`);
      if (header.hash !== hashes.get(header.number)) {
        throw new ChainMovedError(`block ${header.number} changed while fetching`);
      }
      known.set(header.number, header);
    });
    for (const event of events) event.blockTime ??= known.get(event.blockNumber)!.timestamp;
  }

  /**
   * Applies the events of `from..to`, quarantines the logs that cannot be indexed and moves the checkpoint
   * to `to`, all in one transaction. When PostgreSQL refuses a row (or a handler fails), the range is
   * applied again event by event, each under a savepoint, and the refused events are quarantined.
   */
  async function commitRange(
    to: BlockHeader,
    events: ChainEvent[],
    undecodable: RejectedLog[],
    blocks: BlockHeader[],
    tracked: boolean,
    view: ChainHeads,
  ): Promise<RejectedLog[]> {
    const needed = neededRows(events);
    const finish = async (client: PoolClient, rejected: RejectedLog[]) => {
      await insertRows(client, quarantine, [
        ...quarantineRows(chainId, undecodable, "undecodable"),
        ...quarantineRows(chainId, rejected, "refused"),
      ]);
      await insertRows(client, indexerBlocks, blocks.map(blockRow));
      await pruneBelow(client, view.finalized, to.number);
      await saveCheckpoint(client, chainId, { number: to.number, hash: to.hash }, view);
    };
    try {
      await withTransaction(db, async (client) => {
        await lockCheckpoint(client, chainId, checkpoint);
        await applyEvents(client, events, { chainId, trackUndo: tracked, needed });
        await finish(client, []);
      });
      return [];
    } catch (error) {
      if (!isRefusal(error)) throw error;
      logger.warn({ err: error, to: to.number }, "a row was refused; applying the range event by event");
    }
    return withTransaction(db, async (client) => {
      await lockCheckpoint(client, chainId, checkpoint);
      const refused: RejectedLog[] = [];
      let undoSeq = 0;
      for (const event of events) {
        await client.query("SAVEPOINT event");
        try {
          undoSeq = await applyEvents(client, [event], { chainId, trackUndo: tracked, undoSeq });
          await client.query("RELEASE SAVEPOINT event");
        } catch (error) {
          if (!isRefusal(error)) throw error;
          await client.query("ROLLBACK TO SAVEPOINT event");
          const { code } = error as { code?: string };
          refused.push({ ...event, error: (error as Error).message, code: code ?? null });
          logger.error(
            {
              err: error,
              block: event.blockNumber,
              logIndex: event.logIndex,
              event: `${event.contract}.${event.name}`,
            },
            "event quarantined: its rows were refused",
          );
        }
      }
      await finish(client, refused);
      return refused;
    });
  }

  /** Starts fetching a range's headers and events; errors surface when the result is awaited. */
  function fetchRange(from: number, to: number, tracked: boolean): FetchedRange {
    const numbers = tracked
      ? Array.from({ length: to - from + 1 }, (_, i) => from + i)
      : [...new Set([from, to])];
    // Headers before logs: a reorg in between then shows as a log whose block hash differs from its
    // header, or as a parent mismatch on the next range; fetched the other way round, a block whose
    // logs appeared only on the new fork could be committed without them.
    // Block times that logs lack are fetched here too, so a prefetched range arrives complete.
    const result = chain.headers(numbers).then(async (headers) => {
      const { events, undecodable } = await fetchEvents(from, to);
      const known = new Map<number, BlockHeader>();
      for (const header of headers) if (header) known.set(header.number, header);
      await fillBlockTimes([...events, ...undecodable], known);
      return { numbers, headers, events, undecodable };
    });
    result.catch(() => undefined);
    return { from, to, tracked, followed: followedVersion, result };
  }

  async function indexRange(range: FetchedRange, view: ChainHeads): Promise<void> {
    const { from, to, tracked } = range;
    const started = performance.now();
    const { numbers, headers, events, undecodable } = await range.result;
    const byNumber = new Map<number, BlockHeader>();
    headers.forEach((header, i) => {
      if (!header) throw new ChainMovedError(`provider has no block ${numbers[i]} yet`);
      byNumber.set(header.number, header);
    });
    if (checkpoint.hash && byNumber.get(from)!.parentHash !== checkpoint.hash) throw new ForkDetected();
    if (tracked) {
      for (let n = from + 1; n <= to; n++) {
        if (byNumber.get(n)!.parentHash !== byNumber.get(n - 1)!.hash) {
          throw new ChainMovedError(`blocks ${n - 1} and ${n} do not link: the chain moved while fetching`);
        }
      }
      const stale = events.find((e) => byNumber.get(e.blockNumber)?.hash !== e.blockHash);
      if (stale) throw new ChainMovedError(`log of block ${stale.blockNumber} is from another fork`);
    }
    const last = byNumber.get(to)!;
    const refused = await commitRange(
      last,
      events,
      undecodable,
      tracked ? headers.map((h) => h!) : [last],
      tracked,
      view,
    );
    if (undecodable.length + refused.length > 0) metrics.quarantined(await quarantinedCount(db, chainId));

    checkpoint = { number: to, hash: last.hash };
    savedHeads = view;
    for (const e of events) {
      if (
        e.contract === "SplitFactory" &&
        e.name === "SplitCreated" &&
        !refused.some((r) => r.logIndex === e.logIndex && r.blockNumber === e.blockNumber)
      ) {
        splits.add(String(e.args.split));
        followedVersion += 1;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.rangeSeconds.observe(seconds);
    metrics.committed(to, view.head, events.length);
    if (to - from + 1 === rangeSize) adaptRange(events.length, seconds);
    const keys = new KeyCollector();
    for (const e of events) keys.addEvent(e.contract, e.address, e.args);
    publisher.publish({
      kind: "indexed",
      chainId,
      fromBlock: from,
      toBlock: to,
      events: events.length,
      ...keys.result(),
      heads: view,
    });
    logger.debug({ from, to, events: events.length, ms: Math.round(seconds * 1000) }, "range indexed");
  }

  function adaptRange(logs: number, seconds: number): void {
    if (logs > config.targetLogsPerRange) rangeSize = Math.max(1, Math.floor(rangeSize / 2));
    else if (logs < config.targetLogsPerRange / 2 && seconds < 2)
      rangeSize = Math.min(config.maxBlockRange, rangeSize * 2);
  }

  /**
   * Walks down from block `top` comparing stored hashes with the provider's, and returns the highest
   * block both agree on; null when the provider lacks a block at or below its head (it is behind).
   */
  async function findFork(view: ChainHeads, top: number): Promise<Checkpoint | null> {
    const stored = await storedHashes(db, view.finalized, checkpoint.number);
    if (checkpoint.hash) stored.set(checkpoint.number, checkpoint.hash);
    for (let high = top; ; high -= FORK_SEARCH_BATCH) {
      const numbers = Array.from(
        { length: Math.max(0, Math.min(FORK_SEARCH_BATCH, high + 1)) },
        (_, i) => high - i,
      );
      if (numbers.length === 0) throw new DeepReorgError("the chain shares no stored block with the index");
      const blocks = await chain.headers(numbers);
      for (const [i, n] of numbers.entries()) {
        const ours = stored.get(n);
        const theirs = blocks[i];
        if (!theirs) {
          logger.warn({ block: n }, "provider lacks a block below its head; assuming it is behind");
          return null;
        }
        if (ours === theirs.hash) return { number: n, hash: ours };
        if (ours === undefined) {
          throw new DeepReorgError(
            `the chain reorganised below block ${n + 1}, deeper than the block hashes kept for ` +
              `unfinalized blocks (finalized block ${view.finalized}). ${UNTOUCHED}`,
          );
        }
        if (n <= view.finalized) {
          throw new DeepReorgError(
            `the chain replaced block ${n}, which is final (finalized block ${view.finalized}, finality by ` +
              `${config.finality === "tags" ? "the chain's block tags" : `${config.confirmations} confirmations`}): ` +
              `stored hash ${ours}, chain hash ${theirs.hash}. ${UNTOUCHED}`,
          );
        }
      }
    }
  }

  async function rollBack(view: ChainHeads, top: number): Promise<StepResult> {
    prefetched = null;
    // What looks like a reorg may be another chain behind the same URL: never roll back into it.
    await checkChainIdentity(anchor!.number);
    const fork = await findFork(view, top);
    if (fork === null || fork.number === checkpoint.number) return "idle";
    const removed = await withTransaction(db, async (client) => {
      await lockCheckpoint(client, chainId, checkpoint);
      const rows = await eventsAbove(client, fork.number);
      for (const table of CURRENT_TABLES) await restoreFromUndo(client, table, fork.number);
      for (const table of HISTORY_TABLES) await deleteAbove(client, table, fork.number);
      await dropAbove(client, fork.number);
      await saveCheckpoint(client, chainId, fork, view);
      return rows;
    });
    const previous = checkpoint.number;
    checkpoint = fork;
    savedHeads = view;
    splits = new Set(await splitAddresses(db));
    followedVersion += 1;
    metrics.reorgs.inc();
    metrics.quarantined(await quarantinedCount(db, chainId));
    const keys = new KeyCollector();
    for (const row of removed) keys.addEvent(row.contract_name, row.contract, row.args);
    publisher.publish({
      kind: "rolledBack",
      chainId,
      forkBlock: fork.number,
      toBlock: previous,
      events: removed.length,
      ...keys.result(),
      heads: view,
    });
    logger.warn(
      { fork: fork.number, previous, depth: previous - fork.number, events: removed.length },
      "chain reorganised; rolled back above the fork",
    );
    return "rolledBack";
  }

  async function idle(view: ChainHeads): Promise<StepResult> {
    if (
      view.safe !== savedHeads.safe ||
      view.finalized !== savedHeads.finalized ||
      view.head !== savedHeads.head
    ) {
      await saveHeads(db, chainId, view);
      if (view.safe !== savedHeads.safe || view.finalized !== savedHeads.finalized) {
        publisher.publish({ kind: "heads", chainId, heads: view });
      }
      savedHeads = view;
    }
    return "idle";
  }

  return {
    /** Loads (or creates) the checkpoint and the set of known splits. */
    async init(): Promise<void> {
      const start = config.startBlock ?? firstDeployBlock(deployment);
      anchor = await checkChainIdentity(start);
      const state = await initState(db, chainId, start, anchor);
      checkpoint = state.checkpoint;
      savedHeads = state.heads;
      splits = new Set(await splitAddresses(db));
      metrics.quarantined(await quarantinedCount(db, chainId));
      logger.info({ chainId, checkpoint: checkpoint.number, splits: splits.size }, "indexer state loaded");
    },

    checkpoint(): Checkpoint {
      return checkpoint;
    },

    /** Indexes the next range, rolls back a reorg, or reports that there is nothing new. */
    async step(): Promise<StepResult> {
      const seen = await heads.refresh();
      if (!seen) return "idle";
      const { latest, heads: view } = seen;
      metrics.head(latest.number, checkpoint.number);
      if (latest.number <= checkpoint.number) {
        const ours =
          latest.number === checkpoint.number
            ? checkpoint.hash
            : (await storedHashes(db, latest.number, latest.number)).get(latest.number);
        // A lower head whose block we hold unchanged is a provider that is behind, not a reorg.
        if (!ours || ours === latest.hash) return idle(view);
        return rollBack(view, latest.number);
      }
      const from = checkpoint.number + 1;
      let range = prefetched?.from === from && prefetched.followed === followedVersion ? prefetched : null;
      prefetched = null;
      if (!range) {
        let to = Math.min(latest.number, from + rangeSize - 1);
        let tracked = to > view.finalized;
        if (tracked && from <= view.finalized) {
          to = view.finalized;
          tracked = false;
        }
        if (tracked) to = Math.min(to, from + MAX_TRACKED_BLOCKS - 1);
        range = fetchRange(from, to, tracked);
      }
      // While backfilling final blocks, the next range is fetched as this one is applied and committed.
      if (!range.tracked && range.to < view.finalized) {
        prefetched = fetchRange(range.to + 1, Math.min(view.finalized, range.to + rangeSize), false);
      }
      try {
        await indexRange(range, view);
        return "indexed";
      } catch (error) {
        prefetched = null;
        if (error instanceof ForkDetected) return rollBack(view, checkpoint.number);
        if (error instanceof RangeTooLargeError && range.to > from) {
          const size = range.to - from + 1;
          rangeSize = Math.max(1, Math.min(Math.floor(size / 2), error.suggestedSize ?? size));
          logger.info(
            { from, to: range.to, rangeSize },
            "provider refused the log range; retrying with a smaller one",
          );
          return "retry";
        }
        throw error;
      }
    },
  };
}

export type Sync = ReturnType<typeof createSync>;
