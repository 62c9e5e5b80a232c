/**
 * The relayer: the platform's wallet sending transactions for creators, buyers and jobs. One file,
 * though long, because its parts share one invariant — a nonce is recorded in `relayer_transactions`
 * before its transaction is broadcast, under one Redis lock — and splitting the turn (group, record,
 * broadcast, fill gaps), the resynchronization after a crash and the stuck-transaction replacement
 * across files would spread that invariant where no reader sees it whole.
 */
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import * as secp256k1 from "tiny-secp256k1";
import {
  JsonRpcApiProvider,
  Signature,
  Transaction,
  getBytes,
  hexlify,
  isCallException,
  isError,
  type FeeData,
  type TransactionLike,
  type Interface,
  type Provider,
  type TransactionReceipt,
  type Wallet,
} from "ethers";
import {
  IItemEscrow__factory,
  ILicenseToken__factory,
  IPayoutSettlement__factory,
  ICodeCommitments__factory,
  IWorkRegistry__factory,
} from "../../types/typechain/index.ts";
import { Batcher } from "../../lib/batcher.ts";
import { GroupQueue } from "../../lib/group-queue.ts";
import { noCrashes, type Checkpoint } from "../crash-points.ts";
import { DeferredError } from "../errors.ts";
import { RECOVERY_KINDS, Recoveries } from "../recoveries.ts";
import { LockTimeoutError, RedisLock } from "./redis-lock.ts";

export interface RelayRequest {
  to: string;
  data: string;
  value?: bigint;
  /** What the transaction is for (`registerFor`, `anchorBatch`, `mintForFiat`…). */
  purpose: string;
  /** The key that makes its effect unique (content hash, payment reference…). */
  ref: string;
  /** For a transaction serving several requests at once, each one's key. */
  itemRefs?: string[];
}

export interface SentTransaction {
  hash: string;
  nonce: number;
}

/** The transaction would revert; retrying cannot help. */
export class TransactionRevertedError extends Error {
  constructor(
    readonly errorName: string | null,
    readonly errorArgs: readonly unknown[],
    readonly revertData: string | null,
  ) {
    super(
      errorName
        ? `transaction would revert with ${errorName}(${errorArgs.map(String).join(", ")})`
        : "transaction would revert",
    );
    this.name = "TransactionRevertedError";
  }
}

/**
 * The relayer could not send for a reason of its own that passes by itself (its lock is busy, it
 * lost a turn to another process, a nonce it was about to use was taken): not the job's failure.
 */
export class RelayerBusyError extends DeferredError {
  constructor(message: string) {
    super(message, 500);
    this.name = "RelayerBusyError";
  }
}

export interface RelayerOptions {
  wallet: Wallet;
  provider: Provider;
  db: Pool;
  redis: Redis;
  redisPrefix: string;
  logger: Logger;
  /** Interfaces whose custom errors explain reverts; the platform's contracts by default. */
  interfaces?: Interface[];
  /** Percentage added to both fee caps when replacing a stuck transaction (at least 10 for most nodes). */
  feeBumpPercent?: number;
  /** Lease of the relayer's lock: how long a process that dies holding it stops the others at most. */
  lockLeaseMs?: number;
  checkpoint?: Checkpoint;
}

const GAS_HEADROOM_PERCENT = 20n;
/** Most transactions signed and broadcast in one turn of the lock. */
const MAX_GROUP = 100;
/** Turns a request may be put back for because its nonce was taken, before it fails as busy. */
const MAX_REQUEUES = 3;
/**
 * How long a turn's fee caps serve later turns. A burst sends a turn every few hundred
 * milliseconds; the caps leave twice the base fee, which takes six full blocks to outgrow, and a
 * transaction that still gets stuck is replaced with fresh fees.
 */
const FEE_CAPS_TTL_MS = 2_000;
/** How long a wait goes without a receipt before it asks the node whether the transaction is there at all. */
const LOST_CHECK_MS = 2_000;

interface PendingSend {
  request: RelayRequest;
  gasLimit: bigint;
  requeues: number;
  resolve(sent: SentTransaction): void;
  reject(err: unknown): void;
}

/** A turn of the lock: its fencing token, and the sender's next nonce as the database has it. */
interface Turn {
  fence: string;
  nextNonce: number | null;
  /** The lowest nonce a turn recorded without confirming its broadcast (it died); null when none. */
  unsentFrom: number | null;
}

interface RecordedTransaction {
  hash: string;
  nonce: string;
  to_address: string;
  data: string;
  value: string;
  gas_limit: string;
  max_fee_per_gas: string;
  max_priority_fee_per_gas: string;
}

/** The node refused a transaction because its nonce is used (mined, or pending with another transaction). */
function nonceTaken(err: unknown): boolean {
  return isError(err, "NONCE_EXPIRED") || isError(err, "REPLACEMENT_UNDERPRICED");
}

interface FeeCaps {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** EIP-1559 caps from the node's fee data, with 1 gwei tips where it has none. */
function feeCaps(fees: FeeData): FeeCaps {
  return {
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 1_000_000_000n,
    maxFeePerGas: fees.maxFeePerGas ?? (fees.gasPrice ?? 1_000_000_000n) * 2n,
  };
}

/**
 * Signs `tx` with libsecp256k1 (WebAssembly): several times faster than ethers' JavaScript signer,
 * and a burst of mints signs hundreds of transactions at once.
 */
function sign(privateKey: Uint8Array, tx: TransactionLike): { raw: string; hash: string } {
  const unsigned = Transaction.from(tx);
  const { signature, recoveryId } = secp256k1.signRecoverable(getBytes(unsigned.unsignedHash), privateKey);
  unsigned.signature = Signature.from({
    r: hexlify(signature.subarray(0, 32)),
    s: hexlify(signature.subarray(32)),
    yParity: recoveryId === 1 ? 1 : 0,
  });
  return { raw: unsigned.serialized, hash: unsigned.hash! };
}

/**
 * The platform's transaction sender, shared by every worker process. A Redis lock on a short renewed
 * lease serializes nonce assignment across processes; each turn of it takes a fencing token from
 * the database, so a holder that stalled past its lease cannot record anything once another has
 * taken a turn. Within a process, concurrent requests are sent as a group per turn, so a burst of
 * mints costs one lock and one database write rather than one each. Every signed transaction is
 * recorded before it is broadcast; a turn that died between the two is noticed by the next one,
 * which broadcasts what was recorded before sending anything new. The next nonce is kept in the
 * database with the transactions and derived again from them and the chain's pending count after
 * any conflict. Stuck transactions are replaced with higher fees.
 */
export class Relayer {
  readonly address: string;
  readonly #lock: RedisLock;
  readonly #o: RelayerOptions;
  readonly #interfaces: Interface[];
  readonly #checkpoint: Checkpoint;
  readonly #recoveries: Recoveries;
  readonly #queue = new GroupQueue<PendingSend>(MAX_GROUP, (group) => this.#turn(group));
  /** Records mined (or reverted) transactions, those settling together in one statement. */
  readonly #settler = new Batcher<{ hash: string; receipt: TransactionReceipt }, void>(
    MAX_GROUP,
    async (settled) => {
      await this.#o.db.query(
        `UPDATE relayer_transactions t SET status = u.status, block_number = u.block_number, settled_at = now()
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(hash, status, block_number)
        WHERE t.hash = u.hash AND t.status IN ('sent', 'replaced')`,
        [
          settled.map((s) => s.hash),
          settled.map((s) => (s.receipt.status === 1 ? "mined" : "reverted")),
          settled.map((s) => s.receipt.blockNumber),
        ],
      );
      return settled.map(() => undefined);
    },
  );

  readonly #blockWaiters: (() => void)[] = [];
  readonly #waits = new Map<string, Promise<TransactionReceipt>>();
  readonly #key: Uint8Array;
  #recovering: Promise<void> | null = null;
  #feeCaps: { askedAt: number; caps: Promise<FeeCaps> } | null = null;
  #sending: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: RelayerOptions) {
    this.#o = options;
    this.#interfaces = options.interfaces ?? [
      IWorkRegistry__factory.createInterface(),
      ILicenseToken__factory.createInterface(),
      IItemEscrow__factory.createInterface(),
      IPayoutSettlement__factory.createInterface(),
      ICodeCommitments__factory.createInterface(),
    ];
    this.address = options.wallet.address.toLowerCase();
    this.#key = getBytes(options.wallet.privateKey);
    this.#lock = new RedisLock(options.redis, `${options.redisPrefix}:relayer:${this.address}:lock`, {
      leaseMs: options.lockLeaseMs ?? 3_000,
    });
    this.#checkpoint = options.checkpoint ?? noCrashes;
    this.#recoveries = new Recoveries(options.redis, options.redisPrefix, options.logger);
  }

  /**
   * Estimates, signs, records and broadcasts a transaction; throws TransactionRevertedError if it
   * would revert, RelayerBusyError when the relayer cannot send for now for reasons of its own.
   * Requests that arrive while a group is being sent go out together in the next one.
   */
  async send(request: RelayRequest): Promise<SentTransaction> {
    if (this.#closed) throw new RelayerBusyError("the relayer of this process is stopping");
    let gasLimit: bigint;
    try {
      gasLimit = await this.#o.provider.estimateGas({
        from: this.#o.wallet.address,
        to: request.to,
        data: request.data,
        value: request.value ?? 0n,
      });
    } catch (err) {
      throw this.#explain(err);
    }
    gasLimit = (gasLimit * (100n + GAS_HEADROOM_PERCENT)) / 100n;
    return new Promise((resolve, reject) =>
      this.#queue.push({ request, gasLimit, requeues: 0, resolve, reject }),
    );
  }

  /**
   * The transaction sent earlier for (purpose, ref) that is pending or mined, from the ledger every
   * send is recorded in before its broadcast: a retried job waits for it instead of sending again.
   * A transaction serving several requests at once is found by any of its item refs.
   */
  async sentFor(purpose: string | readonly string[], ref: string): Promise<string | null> {
    const { rows } = await this.#o.db.query<{ hash: string }>(
      `SELECT hash FROM relayer_transactions
        WHERE purpose = ANY($1::text[]) AND (ref = $2 OR item_refs @> ARRAY[$2]) AND status IN ('sent', 'mined')
        ORDER BY sent_at DESC LIMIT 1`,
      [typeof purpose === "string" ? [purpose] : purpose, ref],
    );
    return rows[0]?.hash ?? null;
  }

  /** Sends `request` once for its (purpose, ref): the earlier transaction if one was sent, else a new one. */
  async sendOnce(request: RelayRequest): Promise<{ hash: string; earlier: boolean }> {
    const earlier = await this.sentFor(request.purpose, request.ref);
    if (earlier) return { hash: earlier, earlier: true };
    return { hash: (await this.send(request)).hash, earlier: false };
  }

  /**
   * Broadcasts what a turn that died recorded but may not have sent, and derives the nonce again if
   * needed (or always, with `force`). Worker processes run it as they start; a wait that finds its
   * transaction unknown to the node runs it too.
   */
  recover(force = false): Promise<void> {
    this.#recovering ??= (async () => {
      const network = await this.#o.provider.getNetwork();
      await this.#lock.withLock(async () => {
        const turn = await this.#beginTurn();
        if (force || turn.nextNonce === null || turn.unsentFrom !== null) {
          await this.#resync(
            turn,
            network.chainId,
            force ? "a transaction it waits for is not on the node" : "an interrupted turn",
          );
        }
      });
    })().finally(() => {
      this.#recovering = null;
    });
    return this.#recovering;
  }

  /** Stops taking requests; resolves once the group being sent, if any, is recorded and broadcast. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#sending;
  }

  #turn(group: PendingSend[]): Promise<void> {
    this.#sending = this.#sendGroup(group).catch((err: unknown) => {
      const reason =
        err instanceof LockTimeoutError
          ? new RelayerBusyError(`the relayer's lock is busy: ${err.message}`)
          : err;
      for (const pending of group) pending.reject(reason);
    });
    return this.#sending;
  }

  /** The fee caps asked for at most FEE_CAPS_TTL_MS ago, or new ones; a failed ask is not kept. */
  #currentFeeCaps(): Promise<FeeCaps> {
    const now = Date.now();
    if (this.#feeCaps && now - this.#feeCaps.askedAt < FEE_CAPS_TTL_MS) return this.#feeCaps.caps;
    const caps = this.#o.provider.getFeeData().then(feeCaps);
    const entry = { askedAt: now, caps };
    caps.catch(() => {
      if (this.#feeCaps === entry) this.#feeCaps = null;
    });
    this.#feeCaps = entry;
    return caps;
  }

  /** Takes the next fencing token for a turn of the lock and reads the sender's nonce state. */
  async #beginTurn(): Promise<Turn> {
    const { rows } = await this.#o.db.query<{
      fence: string;
      next_nonce: string | null;
      unsent_from: string | null;
    }>(
      `INSERT INTO relayer_senders (sender, fence) VALUES ($1, 1)
       ON CONFLICT (sender) DO UPDATE SET fence = relayer_senders.fence + 1
       RETURNING fence::text, next_nonce::text, unsent_from::text`,
      [this.address],
    );
    const row = rows[0]!;
    return {
      fence: row.fence,
      nextNonce: row.next_nonce === null ? null : Number(row.next_nonce),
      unsentFrom: row.unsent_from === null ? null : Number(row.unsent_from),
    };
  }

  /**
   * Brings the sender back in step with the chain, under the lock: every live transaction recorded
   * at or above the chain's mined count that the node does not know is broadcast again, a recorded
   * nonce with no live transaction is filled, and the next nonce becomes the larger of the chain's
   * pending count and the highest recorded one plus one.
   */
  async #resync(turn: Turn, chainId: bigint, reason: string): Promise<number> {
    const { db, provider, wallet } = this.#o;
    const [mined, pending, caps] = await Promise.all([
      provider.getTransactionCount(wallet.address, "latest"),
      provider.getTransactionCount(wallet.address, "pending"),
      this.#currentFeeCaps(),
    ]);
    const { rows } = await db.query<RecordedTransaction>(
      `SELECT hash, nonce::text, to_address, data, value::text, gas_limit::text, max_fee_per_gas::text,
              max_priority_fee_per_gas::text
         FROM relayer_transactions WHERE sender = $1 AND status = 'sent' AND nonce >= $2 ORDER BY nonce`,
      [this.address, mined],
    );
    let rebroadcast = 0;
    for (const tx of rows) {
      if (await provider.getTransaction(tx.hash)) continue;
      if (await this.#rebroadcast(tx, chainId)) rebroadcast += 1;
    }
    const recorded = new Set(rows.map((tx) => Number(tx.nonce)));
    const highest = rows.length > 0 ? Number(rows.at(-1)!.nonce) : mined - 1;
    let filled = 0;
    for (let nonce = mined; nonce < highest; nonce++) {
      if (recorded.has(nonce)) continue;
      await this.#fillGap(nonce, caps, chainId, null, turn.fence).then(
        () => (filled += 1),
        (err: unknown) => this.#o.logger.warn({ err, nonce }, "relayer could not fill a nonce gap"),
      );
    }
    const next = Math.max(pending, highest + 1);
    const stored = await db.query(
      `UPDATE relayer_senders SET next_nonce = $3, unsent_from = NULL WHERE sender = $1 AND fence = $2`,
      [this.address, turn.fence, next],
    );
    if (stored.rowCount === 0) throw new RelayerBusyError("another process took the relayer's turn");
    if (next !== turn.nextNonce || rebroadcast > 0 || filled > 0) {
      this.#recoveries.record(
        RECOVERY_KINDS.relayerResync,
        1,
        { reason, stored: turn.nextNonce, next, mined, pending, rebroadcast, filled },
        "relayer derived its nonce again from the database and the chain",
      );
    }
    if (rebroadcast > 0) {
      this.#recoveries.record(
        RECOVERY_KINDS.relayerRebroadcast,
        rebroadcast,
        { reason },
        "relayer broadcast transactions it had recorded but not sent",
      );
    }
    return next;
  }

  /** Broadcasts a recorded transaction again, signed anew from its record (the same bytes, the same hash). */
  async #rebroadcast(tx: RecordedTransaction, chainId: bigint): Promise<boolean> {
    const { raw, hash } = sign(this.#key, {
      type: 2,
      chainId,
      to: tx.to_address,
      data: tx.data,
      value: BigInt(tx.value),
      nonce: Number(tx.nonce),
      gasLimit: BigInt(tx.gas_limit),
      maxFeePerGas: BigInt(tx.max_fee_per_gas),
      maxPriorityFeePerGas: BigInt(tx.max_priority_fee_per_gas),
    });
    if (hash !== tx.hash) {
      this.#o.logger.error({ hash: tx.hash, signed: hash }, "relayer record does not sign to its hash");
      return false;
    }
    try {
      await this.#broadcast(raw);
      return true;
    } catch (err) {
      // Mined meanwhile, or replaced: waits settle it. Anything else, the stuck-transaction job retries.
      if (!nonceTaken(err))
        this.#o.logger.warn({ err, hash }, "relayer could not broadcast a recorded transaction");
      return false;
    }
  }

  /**
   * Under the lock: the sender's next nonce (derived again when a turn died or a conflict arose),
   * consecutive nonces and one signature each, one statement recording the group and the next
   * nonce, then one broadcast of them all. A broadcast that fails fails its own request: its nonce
   * is filled when later ones went out, and when none did, they go back to the front of the queue.
   * A nonce the node says is taken is not the request's failure: it goes back to the queue.
   */
  async #sendGroup(group: PendingSend[]): Promise<void> {
    if (this.#closed) throw new RelayerBusyError("the relayer of this process is stopping");
    const { provider } = this.#o;
    // Fees and the chain id need no lock: the fees are asked for while the lock is taken.
    const fees = this.#currentFeeCaps();
    const network = await provider.getNetwork();
    const outcome = await this.#lock.withLock(async () => {
      const [turn, caps] = await Promise.all([this.#beginTurn(), fees]);
      const { maxFeePerGas, maxPriorityFeePerGas } = caps;
      let first =
        turn.nextNonce === null || turn.unsentFrom !== null
          ? await this.#resync(turn, network.chainId, "an interrupted turn")
          : turn.nextNonce;
      for (let attempt = 0; ; attempt++) {
        const signed = group.map(({ request, gasLimit }, i) =>
          sign(this.#key, {
            type: 2,
            chainId: network.chainId,
            to: request.to,
            data: request.data,
            value: request.value ?? 0n,
            nonce: first + i,
            gasLimit,
            maxFeePerGas,
            maxPriorityFeePerGas,
          }),
        );
        const recorded = await this.#record(turn, first, group, signed, caps);
        if (recorded === "lost") return null;
        if (recorded === "recorded")
          return this.#broadcastGroup(turn, first, group, signed, caps, network.chainId);
        if (attempt > 0) return null;
        first = await this.#resync(turn, network.chainId, "a nonce conflict");
      }
    });
    if (!outcome) {
      // Another process holds the nonces now; the whole group tries again next turn.
      this.#requeue(group, "lost its turn to another process");
      return;
    }
    const { first, hashes, failures, out, answered } = outcome;
    const later: PendingSend[] = [];
    for (const [i, pending] of group.entries()) {
      if (i < answered) continue;
      const failure = failures.get(i);
      if (i > out || (failure !== undefined && nonceTaken(failure))) later.push(pending);
      else if (failure !== undefined || i === out) pending.reject(failure);
      else this.#answerSent(pending, hashes[i]!, first + i);
    }
    if (later.length > 0) this.#requeue(later, "a nonce was taken");
  }

  #answerSent({ request, resolve }: PendingSend, hash: string, nonce: number): void {
    this.#o.logger.info(
      { hash, nonce, purpose: request.purpose, ref: request.ref },
      "relayer sent transaction",
    );
    resolve({ hash, nonce });
  }

  /** Puts requests back at the front of the queue for the next turn; one put back too often fails as busy. */
  #requeue(pending: PendingSend[], why: string): void {
    const again = pending.filter((p) => {
      p.requeues += 1;
      if (p.requeues <= MAX_REQUEUES) return true;
      p.reject(new RelayerBusyError(`relayer could not send: ${why}`));
      return false;
    });
    this.#queue.requeue(again);
  }

  /**
   * Records the group and the sender's next nonce in one statement, fenced by the turn: "lost" when
   * another turn has begun since, "conflict" when a nonce already has a live transaction.
   */
  async #record(
    turn: Turn,
    first: number,
    group: PendingSend[],
    signed: { hash: string }[],
    { maxFeePerGas, maxPriorityFeePerGas }: FeeCaps,
  ): Promise<"recorded" | "lost" | "conflict"> {
    try {
      const { rowCount } = await this.#o.db.query(
        `WITH turn AS (
           UPDATE relayer_senders SET next_nonce = $13, unsent_from = $14
            WHERE sender = $1 AND fence = $12
           RETURNING 1
         )
         INSERT INTO relayer_transactions
           (hash, sender, nonce, to_address, data, value, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, purpose, ref, item_refs, status)
         SELECT u.hash, $1, u.nonce, u.to_address, u.data, u.value, u.gas_limit, $2, $3, u.purpose, u.ref,
                string_to_array(u.item_refs, ','), 'sent'
           FROM unnest($4::text[], $5::bigint[], $6::text[], $7::text[], $8::numeric[], $9::numeric[], $10::text[], $11::text[], $15::text[])
             AS u(hash, nonce, to_address, data, value, gas_limit, purpose, ref, item_refs)
          WHERE EXISTS (SELECT 1 FROM turn)`,
        [
          this.address,
          maxFeePerGas.toString(),
          maxPriorityFeePerGas.toString(),
          signed.map((tx) => tx.hash),
          group.map((_, i) => first + i),
          group.map(({ request }) => request.to.toLowerCase()),
          group.map(({ request }) => request.data),
          group.map(({ request }) => (request.value ?? 0n).toString()),
          group.map(({ gasLimit }) => gasLimit.toString()),
          group.map(({ request }) => request.purpose),
          group.map(({ request }) => request.ref),
          turn.fence,
          first + group.length,
          first,
          group.map(({ request }) => (request.itemRefs ?? []).join(",")),
        ],
      );
      return rowCount === group.length ? "recorded" : "lost";
    } catch (err) {
      if ((err as { code?: string }).code === "23505") return "conflict";
      throw err;
    }
  }

  /** Broadcasts a recorded group (see #sendGroup) and closes the turn; answers what went out. */
  async #broadcastGroup(
    turn: Turn,
    first: number,
    group: PendingSend[],
    signed: { raw: string; hash: string }[],
    caps: FeeCaps,
    chainId: bigint,
  ) {
    const { provider, db } = this.#o;
    this.#checkpoint("relayer:after-record");
    const hashes = signed.map((tx) => tx.hash);
    // Broadcast together (one JSON-RPC batch over HTTP); the node orders them by nonce.
    const results = await Promise.allSettled(signed.map((tx) => this.#broadcast(tx.raw)));
    this.#checkpoint("relayer:after-broadcast");
    const failures = new Map<number, unknown>();
    for (const [i, result] of results.entries()) {
      if (result.status === "fulfilled") continue;
      // A timeout or "already known" may hide a transaction that went out: keep its record then.
      if (!(await provider.getTransaction(hashes[i]!).catch(() => null))) failures.set(i, result.reason);
    }
    // Everything before the first failure went out, recorded and broadcast: its requests are
    // answered now, so their callers go on while the turn is closed.
    const sent = failures.size === 0 ? group.length : Math.min(...failures.keys());
    for (let i = 0; i < sent; i++) this.#answerSent(group[i]!, hashes[i]!, first + i);
    // Nonces of later successes must not stay a gap.
    const lastOut = results.findLastIndex((r, i) => r.status === "fulfilled" || !failures.has(i));
    for (let i = sent; i <= lastOut; i++) {
      const failure = failures.get(i);
      if (failure === undefined) continue;
      // A nonce another transaction holds is no gap; this one's record just goes.
      if (nonceTaken(failure)) {
        await db.query(`DELETE FROM relayer_transactions WHERE hash = $1 AND status = 'sent'`, [hashes[i]]);
      } else await this.#fillGap(first + i, caps, chainId, hashes[i]!, turn.fence);
    }
    const out = Math.max(sent, lastOut + 1);
    if (out < group.length) {
      // Not broadcast: their nonces stay free for the next transactions.
      await db.query(`DELETE FROM relayer_transactions WHERE hash = ANY($1::text[]) AND status = 'sent'`, [
        hashes.slice(out),
      ]);
    }
    // A nonce the node says is taken means another sender used the key: derive the nonce again next turn.
    const taken = [...failures.values()].some(nonceTaken);
    await db.query(
      `UPDATE relayer_senders SET next_nonce = $3, unsent_from = NULL WHERE sender = $1 AND fence = $2`,
      [this.address, turn.fence, taken ? null : first + out],
    );
    return { first, hashes, failures, out, answered: sent };
  }

  /**
   * A transaction that failed to broadcast while later ones went out leaves its nonce empty and
   * them stuck: an empty transfer to the relayer itself takes the nonce (its request fails and is
   * retried with a new one).
   */
  async #fillGap(
    nonce: number,
    caps: FeeCaps,
    chainId: bigint,
    failedHash: string | null,
    fence: string,
  ): Promise<void> {
    const { wallet, db } = this.#o;
    const { maxFeePerGas, maxPriorityFeePerGas } = caps;
    const { raw, hash } = sign(this.#key, {
      type: 2,
      chainId,
      to: wallet.address,
      value: 0n,
      nonce,
      gasLimit: 21_000n,
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    if (failedHash) {
      await db.query(`DELETE FROM relayer_transactions WHERE hash = $1 AND status = 'sent'`, [failedHash]);
    }
    const { rowCount } = await db.query(
      `INSERT INTO relayer_transactions
         (hash, sender, nonce, to_address, data, value, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, purpose, ref, status)
       SELECT $1, $2, $3, $2, '0x', 0, 21000, $4, $5, 'nonceGap', $6, 'sent'
        WHERE EXISTS (SELECT 1 FROM relayer_senders WHERE sender = $2 AND fence = $7)`,
      [
        hash,
        this.address,
        nonce,
        maxFeePerGas.toString(),
        maxPriorityFeePerGas.toString(),
        failedHash ?? "",
        fence,
      ],
    );
    if (rowCount === 0) throw new RelayerBusyError("another process took the relayer's turn");
    await this.#broadcast(raw);
    this.#o.logger.warn({ hash, nonce, failed: failedHash }, "relayer filled a nonce gap");
  }

  /**
   * Waits for the transaction with `hash`'s nonce to be mined — the original or a replacement —
   * and records the outcome. Resolves with the receipt of the one that was mined. Concurrent waits
   * for one hash share the first one's timeout.
   */
  wait(hash: string, timeoutMs = 120_000): Promise<TransactionReceipt> {
    // Mints sent in one batch are awaited by as many jobs: they share one wait.
    let waiting = this.#waits.get(hash);
    if (!waiting) {
      waiting = this.#wait(hash, timeoutMs).finally(() => this.#waits.delete(hash));
      this.#waits.set(hash, waiting);
    }
    return waiting;
  }

  async #wait(hash: string, timeoutMs: number): Promise<TransactionReceipt> {
    const deadline = Date.now() + timeoutMs;
    const { db, provider } = this.#o;
    let lostCheck = Date.now() + LOST_CHECK_MS;
    // The original is looked for first: it is almost always the one mined, and needs no query.
    let candidates = [hash];
    for (;;) {
      for (const candidate of candidates) {
        const receipt = await provider.getTransactionReceipt(candidate);
        if (!receipt) continue;
        if (receipt.from.toLowerCase() !== this.address) {
          throw new Error(`transaction ${hash} was not sent by this relayer`);
        }
        await this.#settler.call({ hash: candidate, receipt });
        return receipt;
      }
      // The original and its replacements: every transaction this relayer recorded with its nonce.
      const { rows } = await db.query<{ hash: string }>(
        `SELECT t.hash FROM relayer_transactions t
           JOIN relayer_transactions original ON original.sender = t.sender AND original.nonce = t.nonce
          WHERE original.hash = $1 AND original.sender = $2
          ORDER BY t.sent_at DESC`,
        [hash, this.address],
      );
      if (rows.length === 0) throw new Error(`transaction ${hash} was not sent by this relayer`);
      candidates = rows.map((r) => r.hash);
      if (Date.now() > deadline) throw new Error(`transaction ${hash} not mined after ${timeoutMs} ms`);
      if (Date.now() > lostCheck) {
        lostCheck = Date.now() + LOST_CHECK_MS;
        // Recorded by a process that died before broadcasting it: nobody else will send it.
        const known = await Promise.all(candidates.map((c) => provider.getTransaction(c)));
        if (known.every((tx) => tx === null)) await this.recover(true);
      }
      await this.#nextBlock();
    }
  }

  /**
   * Resolves when the provider sees a new block (or after a second at most): waiting transactions
   * look for their receipts once per block, however many of them wait.
   */
  #nextBlock(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const index = this.#blockWaiters.indexOf(done);
        if (index >= 0) this.#blockWaiters.splice(index, 1);
        resolve();
      }, 1000);
      this.#blockWaiters.push(done);
      if (this.#blockWaiters.length === 1) void this.#o.provider.on("block", this.#onBlock);
    });
  }

  readonly #onBlock = () => {
    const waiters = this.#blockWaiters.splice(0);
    void this.#o.provider.off("block", this.#onBlock);
    for (const done of waiters) done();
  };

  /** Rebroadcasts, with higher fees, every transaction still unmined after `olderThanMs`. Returns the new hashes. */
  async replaceStuck(olderThanMs: number): Promise<string[]> {
    const { db, provider, wallet } = this.#o;
    const bump = BigInt(100 + (this.#o.feeBumpPercent ?? 15));
    const network = await provider.getNetwork();
    return this.#lock.withLock(async () => {
      const turn = await this.#beginTurn();
      // What a dead turn recorded goes out first, as it was: it may be all that is stuck.
      if (turn.nextNonce === null || turn.unsentFrom !== null) {
        await this.#resync(turn, network.chainId, "an interrupted turn");
      }
      const { rows } = await db.query<
        RecordedTransaction & { purpose: string; ref: string; item_refs: string[] }
      >(
        `SELECT hash, nonce::text, to_address, data, value::text, gas_limit::text, max_fee_per_gas::text,
                max_priority_fee_per_gas::text, purpose, ref, item_refs
           FROM relayer_transactions
          WHERE sender = $1 AND status = 'sent' AND sent_at < now() - make_interval(secs => $2)
          ORDER BY nonce`,
        [this.address, olderThanMs / 1000],
      );
      const replaced: string[] = [];
      const [latestNonce, fees] = await Promise.all([
        provider.getTransactionCount(wallet.address, "latest"),
        provider.getFeeData(),
      ]);
      for (const tx of rows) {
        const receipt = await provider.getTransactionReceipt(tx.hash);
        if (receipt) {
          await this.#settler.call({ hash: tx.hash, receipt });
          continue;
        }
        if (Number(tx.nonce) < latestNonce) continue; // another transaction with this nonce was mined; wait() settles it
        const maxFeePerGas = [(BigInt(tx.max_fee_per_gas) * bump) / 100n, fees.maxFeePerGas ?? 0n].reduce(
          (a, b) => (a > b ? a : b),
        );
        const maxPriorityFeePerGas = [
          (BigInt(tx.max_priority_fee_per_gas) * bump) / 100n,
          fees.maxPriorityFeePerGas ?? 0n,
        ].reduce((a, b) => (a > b ? a : b));
        const { raw, hash } = sign(this.#key, {
          type: 2,
          chainId: network.chainId,
          to: tx.to_address,
          data: tx.data,
          value: BigInt(tx.value),
          nonce: Number(tx.nonce),
          gasLimit: BigInt(tx.gas_limit),
          maxFeePerGas,
          maxPriorityFeePerGas,
        });
        // Recorded, and marked unsent until broadcast, only while this turn is the latest. The insert
        // reads the retired row, so the original leaves the live nonce before its replacement takes it.
        const { rowCount } = await db.query(
          `WITH turn AS (
             UPDATE relayer_senders SET unsent_from = LEAST(coalesce(unsent_from, $3), $3)
              WHERE sender = $2 AND fence = $14
             RETURNING 1
           ), retired AS (
             UPDATE relayer_transactions SET status = 'replaced', settled_at = now()
              WHERE hash = $12 AND status = 'sent' AND EXISTS (SELECT 1 FROM turn)
             RETURNING hash
           )
           INSERT INTO relayer_transactions
             (hash, sender, nonce, to_address, data, value, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, purpose, ref, item_refs, status, replaces)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13, 'sent', retired.hash FROM retired`,
          [
            hash,
            this.address,
            tx.nonce,
            tx.to_address,
            tx.data,
            tx.value,
            tx.gas_limit,
            maxFeePerGas.toString(),
            maxPriorityFeePerGas.toString(),
            tx.purpose,
            tx.ref,
            tx.hash,
            tx.item_refs,
            turn.fence,
          ],
        );
        if (rowCount === 0) throw new RelayerBusyError("another process took the relayer's turn");
        await this.#broadcast(raw);
        this.#o.logger.warn(
          { replaced: tx.hash, hash, nonce: Number(tx.nonce) },
          "relayer replaced a stuck transaction",
        );
        replaced.push(hash);
      }
      await db.query(`UPDATE relayer_senders SET unsent_from = NULL WHERE sender = $1 AND fence = $2`, [
        this.address,
        turn.fence,
      ]);
      return replaced;
    });
  }

  /** Sends a signed transaction; over JSON-RPC without re-reading its sender, which ethers would recover in JavaScript. */
  async #broadcast(raw: string): Promise<void> {
    const { provider } = this.#o;
    if (provider instanceof JsonRpcApiProvider) await provider.send("eth_sendRawTransaction", [raw]);
    else await provider.broadcastTransaction(raw);
  }

  #explain(err: unknown): Error {
    if (!isCallException(err)) return err instanceof Error ? err : new Error(String(err));
    const data = err.data ?? null;
    if (data) {
      for (const iface of this.#interfaces) {
        const parsed = iface.parseError(data);
        if (parsed) return new TransactionRevertedError(parsed.name, [...parsed.args], data);
      }
    }
    return new TransactionRevertedError(null, [], data);
  }
}
