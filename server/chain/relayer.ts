import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import {
  Transaction,
  isCallException,
  isError,
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
import { RedisLock } from "./redis-lock.ts";

export interface RelayRequest {
  to: string;
  data: string;
  value?: bigint;
  /** What the transaction is for (`registerFor`, `anchorBatch`, `mintForFiat`…). */
  purpose: string;
  /** The key that makes its effect unique (content hash, payment reference…). */
  ref: string;
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

/**
 * The platform's transaction sender, shared by every worker process. A Redis lock serializes nonce
 * assignment across processes so no two transactions ever carry the same nonce; every signed
 * transaction is recorded before it is broadcast, and stuck ones are replaced with higher fees.
 */
export class Relayer {
  readonly address: string;
  readonly #lock: RedisLock;
  readonly #nonceKey: string;
  readonly #o: RelayerOptions;
  readonly #interfaces: Interface[];

  constructor(options: RelayerOptions) {
    this.#o = options;
    this.#interfaces = options.interfaces ?? [
      IWorkRegistry__factory.createInterface(),
      ILicenseToken__factory.createInterface(),
      IItemEscrow__factory.createInterface(),
    ];
    this.address = options.wallet.address.toLowerCase();
    this.#lock = new RedisLock(options.redis, `${options.redisPrefix}:relayer:${this.address}:lock`);
    this.#nonceKey = `${options.redisPrefix}:relayer:${this.address}:nonce`;
  }

  /** Estimates, signs, records and broadcasts a transaction; throws TransactionRevertedError if it would revert. */
  async send(request: RelayRequest): Promise<SentTransaction> {
    const { provider, wallet, db } = this.#o;
    const value = request.value ?? 0n;
    let gasLimit: bigint;
    try {
      gasLimit = await provider.estimateGas({
        from: wallet.address,
        to: request.to,
        data: request.data,
        value,
      });
    } catch (err) {
      throw this.#explain(err);
    }
    gasLimit = (gasLimit * (100n + GAS_HEADROOM_PERCENT)) / 100n;
    // Fees and the chain id need no lock; inside it only the nonce is read, from Redis when known.
    const [fees, network] = await Promise.all([provider.getFeeData(), provider.getNetwork()]);
    return this.#lock.withLock(async () => {
      const stored = await this.#o.redis.get(this.#nonceKey);
      const nonce =
        stored === null ? await provider.getTransactionCount(wallet.address, "pending") : Number(stored);
      const maxPriorityFeePerGas = fees.maxPriorityFeePerGas ?? 1_000_000_000n;
      const maxFeePerGas = fees.maxFeePerGas ?? (fees.gasPrice ?? 1_000_000_000n) * 2n;
      const signed = await wallet.signTransaction({
        type: 2,
        chainId: network.chainId,
        to: request.to,
        data: request.data,
        value,
        nonce,
        gasLimit,
        maxFeePerGas,
        maxPriorityFeePerGas,
      });
      const hash = Transaction.from(signed).hash!;
      await db.query(
        `INSERT INTO relayer_transactions
           (hash, sender, nonce, to_address, data, value, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, purpose, ref, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'sent')`,
        [
          hash,
          this.address,
          nonce,
          request.to.toLowerCase(),
          request.data,
          value.toString(),
          gasLimit.toString(),
          maxFeePerGas.toString(),
          maxPriorityFeePerGas.toString(),
          request.purpose,
          request.ref,
        ],
      );
      try {
        await provider.broadcastTransaction(signed);
      } catch (err) {
        // A timeout or "already known" may hide a transaction that went out: keep its record then.
        const known = await provider.getTransaction(hash).catch(() => null);
        if (known) {
          await this.#o.redis.set(this.#nonceKey, String(nonce + 1));
          return { hash, nonce };
        }
        // Not broadcast: the nonce stays free for the next transaction.
        await db.query(`DELETE FROM relayer_transactions WHERE hash = $1 AND status = 'sent'`, [hash]);
        // Another sender used the key: read the nonce from the chain next time.
        if (isError(err, "NONCE_EXPIRED")) await this.#o.redis.del(this.#nonceKey);
        throw err;
      }
      await this.#o.redis.set(this.#nonceKey, String(nonce + 1));
      this.#o.logger.info(
        { hash, nonce, purpose: request.purpose, ref: request.ref },
        "relayer sent transaction",
      );
      return { hash, nonce };
    });
  }

  /**
   * Waits for the transaction with `hash`'s nonce to be mined — the original or a replacement —
   * and records the outcome. Resolves with the receipt of the one that was mined.
   */
  async wait(hash: string, timeoutMs = 120_000): Promise<TransactionReceipt> {
    const deadline = Date.now() + timeoutMs;
    const { db, provider } = this.#o;
    const { rows } = await db.query<{ nonce: string }>(
      `SELECT nonce FROM relayer_transactions WHERE hash = $1 AND sender = $2`,
      [hash, this.address],
    );
    if (!rows[0]) throw new Error(`transaction ${hash} was not sent by this relayer`);
    const nonce = rows[0].nonce;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      const { rows: candidates } = await db.query<{ hash: string }>(
        `SELECT hash FROM relayer_transactions WHERE sender = $1 AND nonce = $2 ORDER BY sent_at DESC`,
        [this.address, nonce],
      );
      for (const candidate of candidates) {
        const receipt = await provider.getTransactionReceipt(candidate.hash);
        if (receipt) {
          await this.#settle(candidate.hash, receipt);
          return receipt;
        }
      }
      if (Date.now() > deadline) throw new Error(`transaction ${hash} not mined after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

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
      }>(
        `SELECT hash, nonce, to_address, data, value, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, purpose, ref
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
          await this.#settle(tx.hash, receipt);
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
        const signed = await wallet.signTransaction({
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
        const hash = Transaction.from(signed).hash!;
        const client = await db.connect();
        try {
          await client.query("BEGIN");
          await client.query(
            `UPDATE relayer_transactions SET status = 'replaced', settled_at = now() WHERE hash = $1`,
            [tx.hash],
          );
          await client.query(
            `INSERT INTO relayer_transactions
               (hash, sender, nonce, to_address, data, value, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, purpose, ref, status, replaces)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'sent', $12)`,
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
            ],
          );
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK");
          throw err;
        } finally {
          client.release();
        }
        await provider.broadcastTransaction(signed);
        this.#o.logger.warn(
          { replaced: tx.hash, hash, nonce: Number(tx.nonce) },
          "relayer replaced a stuck transaction",
        );
        replaced.push(hash);
      }
      return replaced;
    });
  }

  async #settle(hash: string, receipt: TransactionReceipt): Promise<void> {
    await this.#o.db.query(
      `UPDATE relayer_transactions SET status = $2, block_number = $3, settled_at = now()
        WHERE hash = $1 AND status IN ('sent', 'replaced')`,
      [hash, receipt.status === 1 ? "mined" : "reverted", receipt.blockNumber],
    );
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
