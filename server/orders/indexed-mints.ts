/**
 * What the indexer saw of card orders: the license minted for a payment reference, the fulfilment
 * state of an order, and the chain's heads read with them.
 */
import { headsOf, type ChainHeads } from "../../lib/finality.ts";
import type { Queryable } from "../../lib/transaction.ts";
import { orderColumns, toOrder, type Order, type OrderRow } from "./store.ts";
import { CODE_STATE_SQL, type KeptCode } from "../codes/code-store.ts";

/** The license the indexer saw minted for a payment reference. */
export interface IndexedMint {
  tokenId: string;
  blockNumber: number;
  txHash: string;
}

export async function mintOf(db: Queryable, paymentRef: string): Promise<IndexedMint | null> {
  const { rows } = await db.query<{ token_id: string; block_number: string; tx_hash: string }>(
    `SELECT token_id::text, block_number::text, tx_hash FROM payments WHERE payment_ref = $1`,
    [paymentRef],
  );
  const row = rows[0];
  return row ? toMint(row.token_id, row.block_number, row.tx_hash) : null;
}

/** What fulfilling an order starts from: the order, its mint if indexed, and a mint transaction already sent. */
export interface FulfilmentState {
  order: Order;
  mint: IndexedMint | null;
  /** The latest transaction sent to mint the order's payment reference (alone or in a batch), mined or pending. */
  sentHash: string | null;
  /** Whether the order's redemption code is kept, or its offer sells none; null when one must be kept. */
  code: Exclude<KeptCode, "none"> | null;
}

/** The fulfilment state of each order, in input order (null for an unknown id). */
export async function fulfilmentsOf(db: Queryable, orderIds: string[]): Promise<(FulfilmentState | null)[]> {
  const { rows } = await db.query<
    OrderRow & {
      p_token_id: string | null;
      p_block_number: string | null;
      p_tx_hash: string | null;
      sent_hash: string | null;
      code: Exclude<KeptCode, "none"> | null;
    }
  >(
    `SELECT ${orderColumns("o")}, p.token_id::text AS p_token_id, p.block_number::text AS p_block_number,
            p.tx_hash AS p_tx_hash,
            (SELECT t.hash FROM relayer_transactions t
              WHERE ((t.purpose = 'mintForFiat' AND t.ref = o.payment_ref)
                     OR (t.purpose = 'mintForFiatBatch' AND t.item_refs @> ARRAY[o.payment_ref]))
                AND t.status IN ('sent', 'mined')
              ORDER BY t.sent_at DESC LIMIT 1) AS sent_hash,
            ${CODE_STATE_SQL} AS code
       FROM orders o LEFT JOIN payments p ON p.payment_ref = o.payment_ref
      WHERE o.id = ANY($1::uuid[])`,
    [orderIds],
  );
  const byId = new Map(
    rows.map((row) => [
      row.id,
      {
        order: toOrder(row),
        mint: toMint(row.p_token_id, row.p_block_number, row.p_tx_hash),
        sentHash: row.sent_hash,
        code: row.code,
      },
    ]),
  );
  return orderIds.map((id) => byId.get(id) ?? null);
}

function toMint(
  tokenId: string | null,
  blockNumber: string | null,
  txHash: string | null,
): IndexedMint | null {
  return tokenId === null ? null : { tokenId, blockNumber: Number(blockNumber), txHash: txHash! };
}

export interface MintAndHeads {
  mint: IndexedMint | null;
  heads: ChainHeads;
}

/** Each payment reference's mint as indexed, with the chain's heads as the indexer last saw them, in one read. */
export async function mintsAndHeads(
  db: Queryable,
  chainId: number,
  paymentRefs: string[],
): Promise<MintAndHeads[]> {
  const { rows } = await db.query<{
    n: number;
    token_id: string | null;
    block_number: string | null;
    tx_hash: string | null;
    head: string | null;
    safe: string | null;
    finalized: string | null;
  }>(
    `SELECT r.n::int AS n, p.token_id::text, p.block_number::text, p.tx_hash,
            s.head_block::text AS head, s.safe_block::text AS safe, s.finalized_block::text AS finalized
       FROM unnest($2::text[]) WITH ORDINALITY AS r(ref, n)
       LEFT JOIN payments p ON p.payment_ref = r.ref
       LEFT JOIN chain_heads s ON s.chain_id = $1`,
    [chainId, paymentRefs],
  );
  const found: MintAndHeads[] = [];
  for (const row of rows) {
    found[row.n - 1] = { mint: toMint(row.token_id, row.block_number, row.tx_hash), heads: headsOf(row) };
  }
  return found;
}
