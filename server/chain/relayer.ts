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
  IWorkRegistry__factory,
} from "../../types/typechain/index.ts";
import { Batcher } from "../../lib/batcher.ts";
import { GroupQueue } from "../../lib/group-queue.ts";
import { RedisLock } from "./redis-lock.ts";

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
}

const GAS_HEADROOM_PERCENT = 20n;
/** Most transactions signed and broadcast in one turn of the lock. */
const MAX_GROUP = 100;

interface PendingSend {
  request: RelayRequest;
  gasLimit: bigint;
  resolve(sent: SentTransaction): void;
  reject(err: unknown): void;
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
 * The platform's transaction sender, shared by every worker process. A Redis lock serializes nonce
 * assignment across processes so no two transactions ever carry the same nonce; within a process,
 * concurrent requests are sent as a group per turn of the lock, so a burst of mints costs one lock
 * and one database write rather than one each. Every signed transaction is recorded before it is
 * broadcast, and stuck ones are replaced with higher fees.
 */
export class Relayer {
  readonly address: string;
  readonly #lock: RedisLock;
  readonly #nonceKey: string;
  readonly #o: RelayerOptions;
  readonly #interfaces: Interface[];
  readonly #queue = new GroupQueue<PendingSend>(MAX_GROUP, (group) =>
    this.#sendGroup(group).catch((err: unknown) => {
      for (const pending of group) pending.reject(err);
    }),
  );
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

  constructor(options: RelayerOptions) {
    this.#o = options;
    this.#interfaces = options.interfaces ?? [
      IWorkRegistry__factory.createInterface(),
      ILicenseToken__factory.createInterface(),
      IItemEscrow__factory.createInterface(),
    ];
    this.address = options.wallet.address.toLowerCase();
    this.#key = getBytes(options.wallet.privateKey);
    this.#lock = new RedisLock(options.redis, `${options.redisPrefix}:relayer:${this.address}:lock`);
    this.#nonceKey = `${options.redisPrefix}:relayer:${this.address}:nonce`;
  }

  /**
   * Estimates, signs, records and broadcasts a transaction; throws TransactionRevertedError if it
   * would revert. Requests that arrive while a group is being sent go out together in the next one.
   */
  async send(request: RelayRequest): Promise<SentTransaction> {
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
    return new Promise((resolve, reject) => this.#queue.push({ request, gasLimit, resolve, reject }));
  }

  /**
   * Under the lock: consecutive nonces, one signature each, one INSERT recording the group, then
   * one broadcast of them all. A broadcast that fails fails its own request: its nonce is filled
   * when later ones went out, and when none did, they go back to the front of the queue.
   */
  async #sendGroup(group: PendingSend[]): Promise<void> {
    const { provider, wallet, db } = this.#o;
    // Fees and the chain id need no lock; inside it only the nonce is read, from Redis when known.
    const [fees, network] = await Promise.all([provider.getFeeData(), provider.getNetwork()]);
    const caps = feeCaps(fees);
    const { maxFeePerGas, maxPriorityFeePerGas } = caps;
    const outcomes = await this.#lock.withLock(async () => {
      const stored = await this.#o.redis.get(this.#nonceKey);
      const first =
        stored === null ? await provider.getTransactionCount(wallet.address, "pending") : Number(stored);
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
      const hashes = signed.map((tx) => tx.hash);
      await db.query(
        `INSERT INTO relayer_transactions
           (hash, sender, nonce, to_address, data, value, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, purpose, ref, item_refs, status)
         SELECT u.hash, $1, u.nonce, u.to_address, u.data, u.value, u.gas_limit, $2, $3, u.purpose, u.ref,
                string_to_array(u.item_refs, ','), 'sent'
           FROM unnest($4::text[], $5::bigint[], $6::text[], $7::text[], $8::numeric[], $9::numeric[], $10::text[], $11::text[], $12::text[])
             AS u(hash, nonce, to_address, data, value, gas_limit, purpose, ref, item_refs)`,
        [
          this.address,
          maxFeePerGas.toString(),
          maxPriorityFeePerGas.toString(),
          hashes,
          group.map((_, i) => first + i),
          group.map(({ request }) => request.to.toLowerCase()),
          group.map(({ request }) => request.data),
          group.map(({ request }) => (request.value ?? 0n).toString()),
          group.map(({ gasLimit }) => gasLimit.toString()),
          group.map(({ request }) => request.purpose),
          group.map(({ request }) => request.ref),
          group.map(({ request }) => (request.itemRefs ?? []).join(",")),
        ],
      );
      // Broadcast together (one JSON-RPC batch over HTTP); the node orders them by nonce.
      const results = await Promise.allSettled(signed.map((tx) => this.#broadcast(tx.raw)));
      const failures = new Map<number, unknown>();
      for (const [i, result] of results.entries()) {
        if (result.status === "fulfilled") continue;
        // A timeout or "already known" may hide a transaction that went out: keep its record then.
        if (!(await provider.getTransaction(hashes[i]!).catch(() => null))) failures.set(i, result.reason);
      }
      // Everything before the first failure went out; nonces of later successes must not stay a gap.
      const sent = failures.size === 0 ? group.length : Math.min(...failures.keys());
      const failure = failures.get(sent) ?? null;
      const lastOut = results.findLastIndex((r, i) => r.status === "fulfilled" || !failures.has(i));
      for (let i = sent; i <= lastOut; i++) {
        if (failures.has(i)) await this.#fillGap(first + i, caps, network.chainId, hashes[i]!);
      }
      const out = Math.max(sent, lastOut + 1);
      if (out < group.length) {
        // Not broadcast: their nonces stay free for the next transactions.
        await db.query(`DELETE FROM relayer_transactions WHERE hash = ANY($1::text[]) AND status = 'sent'`, [
          hashes.slice(out),
        ]);
      }
      // Another sender used the key: read the nonce from the chain next time.
      if (failure && isError(failure, "NONCE_EXPIRED")) await this.#o.redis.del(this.#nonceKey);
      else await this.#o.redis.set(this.#nonceKey, String(first + out));
      return { first, hashes, failures, out };
    });
    const { first, hashes, failures, out } = outcomes;
    for (let i = 0; i < out; i++) {
      if (failures.has(i)) {
        group[i]!.reject(failures.get(i));
        continue;
      }
      const { request } = group[i]!;
      this.#o.logger.info(
        { hash: hashes[i], nonce: first + i, purpose: request.purpose, ref: request.ref },
        "relayer sent transaction",
      );
      group[i]!.resolve({ hash: hashes[i]!, nonce: first + i });
    }
    if (out < group.length) {
      // The first of them failed; the others were not sent and go out with the next group.
      group[out]!.reject(failures.get(out));
      this.#queue.requeue(group.slice(out + 1));
    }
  }

  /**
   * A transaction that failed to broadcast while later ones went out leaves its nonce empty and
   * them stuck: an empty transfer to the relayer itself takes the nonce (its request fails and is
   * retried with a new one).
   */
  async #fillGap(nonce: number, caps: FeeCaps, chainId: bigint, failedHash: string): Promise<void> {
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
    await db.query(`DELETE FROM relayer_transactions WHERE hash = $1 AND status = 'sent'`, [failedHash]);
    await db.query(
      `INSERT INTO relayer_transactions
         (hash, sender, nonce, to_address, data, value, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, purpose, ref, status)
       VALUES ($1, $2, $3, $2, '0x', 0, 21000, $4, $5, 'nonceGap', $6, 'sent')`,
      [hash, this.address, nonce, maxFeePerGas.toString(), maxPriorityFeePerGas.toString(), failedHash],
    );
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
    return this.#lock.withLock(async () => {
      const { rows } = await db.query<{
        hash: string;
        nonce: string;
        to_address: string;
        data: string;
        value: string;
        gas_limit: string;
        max_fee_per_gas: string;
        max_priority_fee_per_gas: string;
        purpose: string;
        ref: string;
        item_refs: string[];
      }>(
        `SELECT hash, nonce, to_address, data, value, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, purpose, ref,
                item_refs
           FROM relayer_transactions
          WHERE sender = $1 AND status = 'sent' AND sent_at < now() - make_interval(secs => $2)
          ORDER BY nonce`,
        [this.address, olderThanMs / 1000],
      );
      const replaced: string[] = [];
      const [latestNonce, fees, network] = await Promise.all([
        provider.getTransactionCount(wallet.address, "latest"),
        provider.getFeeData(),
        provider.getNetwork(),
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
        const client = await db.connect();
        try {
          await client.query("BEGIN");
          await client.query(
            `UPDATE relayer_transactions SET status = 'replaced', settled_at = now() WHERE hash = $1`,
            [tx.hash],
          );
          await client.query(
            `INSERT INTO relayer_transactions
               (hash, sender, nonce, to_address, data, value, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, purpose, ref, item_refs, status, replaces)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13, 'sent', $12)`,
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
            ],
          );
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK");
          throw err;
        } finally {
          client.release();
        }
        await this.#broadcast(raw);
        this.#o.logger.warn(
          { replaced: tx.hash, hash, nonce: Number(tx.nonce) },
          "relayer replaced a stuck transaction",
        );
        replaced.push(hash);
      }
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
