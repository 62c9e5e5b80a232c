/**
 * A wallet's purchases, newest first: its card orders (this server's table) and the licenses it
 * holds that were bought on chain (the indexer's `licenses`, with their mint's time, and `revenue_payments`).
 * One cursor walks both: (time, key) where the key is `card:<orderId>` or `chain:<tokenId padded>`.
 */
import type { Queryable } from "../../lib/transaction.ts";
import type { BuyerOrder, BuyerOrdersPage } from "../../lib/api/orders.ts";
import { AppError } from "../errors.ts";

/** A row's place: its time as PostgreSQL writes it (exact to the microsecond) and its key. */
interface Position {
  at: string;
  key: string;
}

interface Row {
  key: string;
  kind: "card" | "crypto";
  id: string;
  offer_id: string;
  work_id: string | null;
  token_id: string | null;
  amount: string | null;
  currency: string | null;
  status: string;
  tx_hash: string | null;
  at: Date;
  at_text: string;
  /** Microseconds since the epoch, for ordering the two sources' rows together. */
  at_us: string;
}

/** Before every purchase: the first page. */
const START: Position = { at: "infinity", key: "~" };

function encode(p: Position): string {
  return Buffer.from(JSON.stringify([p.at, p.key])).toString("base64url");
}

function decode(cursor: string): Position {
  try {
    const [at, key] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (
      typeof at === "string" &&
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d)?$/.test(at) &&
      typeof key === "string" &&
      /^(card|chain):[0-9a-f-]{1,80}$/.test(key)
    )
      return { at, key };
  } catch {
    // Answered below like any other cursor this server did not make.
  }
  throw new AppError("INVALID_CURSOR", 400, "the cursor is not one this list gave");
}

/** Orders that never got paid in time are left out: nothing was bought. */
const CARD = `
  SELECT 'card:' || o.id::text AS key, 'card' AS kind, o.id::text AS id, o.offer_id::text, f.work_id::text,
         o.token_id::text, o.amount::text, o.currency, o.status, o.mint_tx_hash AS tx_hash, o.created_at AS at,
         o.created_at::text AS at_text, (extract(epoch FROM o.created_at) * 1000000)::bigint::text AS at_us
    FROM orders o LEFT JOIN offers f ON f.offer_id = o.offer_id
   WHERE o.wallet = $1 AND o.status <> 'expired'
     AND (o.created_at, ('card:' || o.id::text) COLLATE "C") < ($2::timestamptz, $3::text COLLATE "C")
   ORDER BY o.created_at DESC, ('card:' || o.id::text) COLLATE "C" DESC
   LIMIT $4`;

/** Licenses minted by a purchase on chain (card mints carry a payment reference) the wallet holds. */
const CHAIN = `
  SELECT k.key, 'crypto' AS kind, 'chain:' || l.token_id::text AS id, l.offer_id::text, l.work_id::text,
         l.token_id::text, p.amount::text, p.currency,
         CASE WHEN l.revoked THEN 'revoked' ELSE 'fulfilled' END AS status, l.tx_hash, k.at,
         k.at::text AS at_text, (extract(epoch FROM k.at) * 1000000)::bigint::text AS at_us
    FROM licenses l
    CROSS JOIN LATERAL (
      SELECT 'chain:' || lpad(l.token_id::text, 78, '0') AS key, coalesce(l.issued_at, 'epoch'::timestamptz) AS at
    ) k
    LEFT JOIN LATERAL (
      SELECT r.amount, r.currency FROM revenue_payments r
       WHERE r.token_id = l.token_id AND r.block_number = l.block_number ORDER BY r.log_index LIMIT 1
    ) p ON true
   WHERE l.holder = $1 AND l.payment_ref IS NULL AND (k.at, k.key COLLATE "C") < ($2::timestamptz, $3::text COLLATE "C")
   ORDER BY k.at DESC, k.key COLLATE "C" DESC
   LIMIT $4`;

const newestFirst = (a: Row, b: Row) => {
  const [x, y] = [BigInt(a.at_us), BigInt(b.at_us)];
  if (x !== y) return x < y ? 1 : -1;
  return a.key < b.key ? 1 : a.key > b.key ? -1 : 0;
};

function toItem(row: Row): BuyerOrder {
  return {
    kind: row.kind,
    id: row.id,
    offerId: row.offer_id,
    workId: row.work_id,
    tokenId: row.token_id,
    amount: row.amount ?? "0",
    currency: row.currency ?? "",
    status: row.status,
    txHash: row.tx_hash,
    at: row.at.toISOString(),
  };
}

/** One page of `wallet`'s purchases (lower case), `limit` long, after `cursor`. */
export async function buyerOrders(
  db: Queryable,
  wallet: string,
  cursor: string | undefined,
  limit: number,
): Promise<BuyerOrdersPage> {
  const after = cursor ? decode(cursor) : START;
  const params = [wallet, after.at, after.key, limit + 1];
  const [card, chain] = await Promise.all([db.query<Row>(CARD, params), db.query<Row>(CHAIN, params)]);
  const rows = [...card.rows, ...chain.rows].sort(newestFirst);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toItem),
    nextCursor: rows.length > limit && last ? encode({ at: last.at_text, key: last.key }) : null,
  };
}
