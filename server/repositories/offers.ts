import type { Pool, PoolClient } from "pg";
import { finalityOf, type ChainHeads } from "../../lib/finality.ts";
import type { Page } from "../../lib/api/primitives.ts";
import type { FiatPrice, ListOffersQuery, Offer, PublicationStatus } from "../../lib/api/offers.ts";
import { checksum } from "../../lib/address.ts";
import { outboxJobs, recordJobsSql, type OutboxJob } from "../queues/outbox.ts";
import { QUEUE_NAMES } from "../queues/queues.ts";
import { withTransaction } from "../../lib/transaction.ts";
import { HOLDING } from "./offer-stock.ts";
import type { Queryable } from "../../lib/transaction.ts";

/** The terms of an offer as signed (`OfferParams`), numbers as decimal strings. */
export interface OfferTerms {
  workId: string;
  currency: string;
  price: string;
  duration: string;
  maxSupply: number;
  transferable: boolean;
  commercialUse: boolean;
  referrerBps: number;
  royaltyBps: number;
  split: string;
  territory: string;
  /** Whether the creator may revoke licenses for breach of the offer's terms. */
  revocable: boolean;
}

interface OfferRow {
  offer_id: string;
  work_id: string;
  creator: string;
  currency: string;
  price: string;
  duration: string;
  max_supply: string;
  sold: string;
  transferable: boolean;
  commercial_use: boolean;
  referrer_bps: number;
  royalty_bps: number;
  split: string;
  territory: string;
  active: boolean;
  work_superseded: boolean;
  revocable: boolean;
  platform_fee_bps: number | null;
  block_number: string;
  tx_hash: string;
  updated_block: string;
  fiat_amount: string | null;
  fiat_currency: string | null;
  reserved: number;
  sale_id: string | null;
  sale_amount: string | null;
  sale_currency: string | null;
  sale_ends_at: Date | null;
  sale_max_per_wallet: number | null;
}

const SELECT = `SELECT o.offer_id::text, o.work_id::text, o.creator, o.currency, o.price::text, o.duration::text,
  o.max_supply::text, o.sold::text, o.transferable, o.commercial_use, o.referrer_bps, o.royalty_bps, o.split,
  o.territory, o.active, o.revocable, o.platform_fee_bps, o.block_number::text, o.tx_hash, o.updated_block::text,
  f.amount::text AS fiat_amount, f.currency AS fiat_currency,
  s.id AS sale_id, s.amount::text AS sale_amount, s.currency AS sale_currency, s.ends_at AS sale_ends_at,
  s.max_per_wallet AS sale_max_per_wallet,
  (SELECT count(*) FROM orders r WHERE r.offer_id = o.offer_id AND ${HOLDING})::int AS reserved,
  EXISTS (SELECT 1 FROM works w WHERE w.work_id = o.work_id AND w.superseded_by IS NOT NULL) AS work_superseded
  FROM offers o LEFT JOIN fiat_prices f ON f.offer_id = o.offer_id
  LEFT JOIN sales s ON s.offer_id = o.offer_id AND s.starts_at <= now() AND s.ends_at > now()`;

/** The sale an offer is on now, as checkout applies it: in the card price's currency and below it. */
function activeSale(row: OfferRow): Offer["sale"] {
  if (row.sale_id === null || row.fiat_amount === null) return null;
  if (row.sale_currency !== row.fiat_currency || Number(row.sale_amount) >= Number(row.fiat_amount))
    return null;
  return {
    id: row.sale_id,
    amount: Number(row.sale_amount),
    endsAt: row.sale_ends_at!.toISOString(),
    maxPerWallet: row.sale_max_per_wallet!,
  };
}

function toOffer(row: OfferRow, heads: ChainHeads): Offer {
  const maxSupply = Number(row.max_supply);
  const sold = Number(row.sold);
  return {
    offerId: row.offer_id,
    workId: row.work_id,
    creator: checksum(row.creator)!,
    currency: checksum(row.currency)!,
    price: row.price,
    duration: row.duration,
    perpetual: row.duration === "0",
    maxSupply,
    sold,
    reserved: row.reserved,
    remaining: maxSupply === 0 ? null : Math.max(0, maxSupply - sold - row.reserved),
    active: row.active,
    workSuperseded: row.work_superseded,
    transferable: row.transferable,
    commercialUse: row.commercial_use,
    referrerBps: row.referrer_bps,
    royaltyBps: row.royalty_bps,
    split: checksum(row.split)!,
    territory: row.territory,
    revocable: row.revocable,
    platformFeeBps: row.platform_fee_bps ?? 0,
    fiatPrice:
      row.fiat_amount === null ? null : { amount: Number(row.fiat_amount), currency: row.fiat_currency! },
    sale: activeSale(row),
    blockNumber: row.block_number,
    txHash: row.tx_hash,
    finality: finalityOf(row.updated_block, heads),
  };
}

export async function listOffers(
  db: Queryable,
  query: ListOffersQuery,
  heads: ChainHeads,
): Promise<Page<Offer>> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (query.workId) {
    params.push(query.workId);
    where.push(`o.work_id = $${params.length}`);
  }
  if (query.creator) {
    params.push(query.creator);
    where.push(`o.creator = $${params.length}`);
  }
  if (query.cursor) {
    params.push(query.cursor);
    where.push(`o.offer_id > $${params.length}`);
  }
  params.push(query.limit + 1);
  const { rows } = await db.query<OfferRow>(
    `${SELECT} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY o.offer_id LIMIT $${params.length}`,
    params,
  );
  const more = rows.length > query.limit;
  if (more) rows.pop();
  return { items: rows.map((r) => toOffer(r, heads)), nextCursor: more ? rows.at(-1)!.offer_id : null };
}

export async function findOffer(db: Queryable, offerId: string, heads: ChainHeads): Promise<Offer | null> {
  const { rows } = await db.query<OfferRow>(`${SELECT} WHERE o.offer_id = $1`, [offerId]);
  return rows[0] ? toOffer(rows[0], heads) : null;
}

/** Sets (or changes) the card price of an offer. */
export async function setFiatPrice(db: Queryable, offerId: string, price: FiatPrice): Promise<void> {
  await db.query(
    `INSERT INTO fiat_prices (offer_id, amount, currency) VALUES ($1, $2, $3)
     ON CONFLICT (offer_id) DO UPDATE SET amount = EXCLUDED.amount, currency = EXCLUDED.currency, updated_at = now()`,
    [offerId, price.amount, price.currency],
  );
}

export interface Publication {
  id: string;
  creator: string;
  nonce: string;
  workId: string;
  terms: OfferTerms;
  deadline: string;
  signature: string;
  fiatPrice: FiatPrice | null;
  status: PublicationStatus;
  txHash: string | null;
  offerId: string | null;
  error: string | null;
  createdAt: Date;
}

interface PublicationRow {
  id: string;
  creator: string;
  nonce: string;
  work_id: string;
  params: Omit<OfferTerms, "revocable"> & { revocable?: boolean };
  deadline: string;
  signature: string;
  fiat_amount: string | null;
  fiat_currency: string | null;
  status: PublicationStatus;
  tx_hash: string | null;
  offer_id: string | null;
  error: string | null;
  created_at: Date;
}

const PUBLICATION_COLUMNS = `id, creator, nonce::text, work_id::text, params, deadline::text, signature,
  fiat_amount::text, fiat_currency, status, tx_hash, offer_id::text, error, created_at`;

function toPublication(row: PublicationRow): Publication {
  return {
    id: row.id,
    creator: row.creator,
    nonce: row.nonce,
    workId: row.work_id,
    // Publications signed before offers could be revocable carry no such term.
    terms: { ...row.params, revocable: row.params.revocable ?? false },
    deadline: row.deadline,
    signature: row.signature,
    fiatPrice:
      row.fiat_amount === null ? null : { amount: Number(row.fiat_amount), currency: row.fiat_currency! },
    status: row.status,
    txHash: row.tx_hash,
    offerId: row.offer_id,
    error: row.error,
    createdAt: row.created_at,
  };
}

export async function findPublication(db: Queryable, id: string): Promise<Publication | null> {
  const { rows } = await db.query<PublicationRow>(
    `SELECT ${PUBLICATION_COLUMNS} FROM offer_publications WHERE id = $1`,
    [id],
  );
  return rows[0] ? toPublication(rows[0]) : null;
}

/**
 * Inserts a publication, with its `publish-offer` job, unless the creator already used the nonce;
 * returns the one stored either way, and the job recorded.
 */
export async function insertPublication(
  db: Queryable,
  p: Omit<Publication, "status" | "txHash" | "offerId" | "error" | "createdAt">,
): Promise<{ publication: Publication; created: boolean; jobs: OutboxJob[] }> {
  const { rows } = await db.query<PublicationRow & { outbox_jobs: OutboxJob[] }>(
    `WITH inserted AS (
       INSERT INTO offer_publications
         (id, creator, nonce, work_id, params, deadline, signature, fiat_amount, fiat_currency, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending')
       ON CONFLICT (creator, nonce) DO NOTHING
       RETURNING *
     ), queued AS (
       ${recordJobsSql(`SELECT $10, 'publish-offer-' || id, jsonb_build_object('publicationId', id) FROM inserted`)}
     )
     SELECT ${PUBLICATION_COLUMNS}, ${outboxJobs("queued")} FROM inserted`,
    [
      p.id,
      p.creator,
      p.nonce,
      p.workId,
      JSON.stringify(p.terms),
      p.deadline,
      p.signature,
      p.fiatPrice?.amount ?? null,
      p.fiatPrice?.currency ?? null,
      QUEUE_NAMES.publishOffer,
    ],
  );
  if (rows[0]) return { publication: toPublication(rows[0]), created: true, jobs: rows[0].outbox_jobs };
  const existing = await db.query<PublicationRow>(
    `SELECT ${PUBLICATION_COLUMNS} FROM offer_publications WHERE creator = $1 AND nonce = $2`,
    [p.creator, p.nonce],
  );
  return { publication: toPublication(existing.rows[0]!), created: false, jobs: [] };
}

export async function markPublicationSubmitted(db: Queryable, id: string, txHash: string): Promise<void> {
  await db.query(
    `UPDATE offer_publications SET status = 'submitted', tx_hash = $2, updated_at = now()
      WHERE id = $1 AND status IN ('pending', 'submitted')`,
    [id, txHash],
  );
}

export async function markPublicationFailed(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(
    `UPDATE offer_publications SET status = 'failed', error = $2, updated_at = now() WHERE id = $1`,
    [id, error],
  );
}

/**
 * Links the publication to its on-chain offer and puts its card price on sale, together — unless
 * the offer has a price already: a publication linked late (or replayed) never changes a price.
 */
export async function markPublished(
  db: Pool,
  publication: Publication,
  offerId: string,
  txHash: string | null,
): Promise<void> {
  await withTransaction(db, async (client: PoolClient) => {
    await client.query(
      `UPDATE offer_publications SET status = 'published', offer_id = $2, tx_hash = COALESCE($3, tx_hash),
              error = NULL, updated_at = now()
        WHERE id = $1`,
      [publication.id, offerId, txHash],
    );
    if (publication.fiatPrice) {
      await client.query(
        `INSERT INTO fiat_prices (offer_id, amount, currency) VALUES ($1, $2, $3) ON CONFLICT (offer_id) DO NOTHING`,
        [offerId, publication.fiatPrice.amount, publication.fiatPrice.currency],
      );
    }
  });
}

/**
 * The earliest indexed offer of the creator with exactly these terms that no publication claims:
 * how a publication the creator sent on chain themselves is found.
 */
export async function findOfferByTerms(
  db: Queryable,
  creator: string,
  t: OfferTerms,
): Promise<string | null> {
  const { rows } = await db.query<{ offer_id: string }>(
    `SELECT o.offer_id::text FROM offers o
      WHERE o.creator = $1 AND o.work_id = $2 AND o.currency = $3 AND o.price = $4 AND o.duration = $5
        AND o.max_supply = $6 AND o.transferable = $7 AND o.commercial_use = $8 AND o.referrer_bps = $9
        AND o.royalty_bps = $10 AND o.split = $11 AND o.territory = $12 AND o.revocable = $13
        AND NOT EXISTS (SELECT 1 FROM offer_publications p WHERE p.offer_id = o.offer_id)
      ORDER BY o.offer_id LIMIT 1`,
    [
      creator,
      t.workId,
      t.currency,
      t.price,
      t.duration,
      t.maxSupply,
      t.transferable,
      t.commercialUse,
      t.referrerBps,
      t.royaltyBps,
      t.split,
      t.territory,
      t.revocable,
    ],
  );
  return rows[0]?.offer_id ?? null;
}
