import { randomUUID } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import type { Queryable } from "../../lib/transaction.ts";
import type { CreateSale, Sale } from "../../lib/api/promotions.ts";
import type { FiatPrice } from "../../lib/api/offers.ts";
import { withTransaction } from "../../lib/transaction.ts";
import { AppError, notFound } from "../errors.ts";
import { lockFiatPrice } from "../repositories/offer-stock.ts";
import {
  activeSalePlaces,
  currentSales,
  endSale,
  findSale,
  insertSale,
  offerCreator,
  overlappingSales,
  type SaleRow,
} from "./sale-store.ts";

function saleView(row: SaleRow): Sale {
  return {
    id: row.id,
    offerId: row.offer_id,
    amount: Number(row.amount),
    currency: row.currency,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    maxPerWallet: row.max_per_wallet,
    maxTotal: row.max_total,
    status: row.status,
    sold: row.sold,
  };
}

/** Refuses an unknown offer (404) and another creator's (403). */
async function assertCreator(db: Queryable, offerId: string, caller: string): Promise<void> {
  const creator = await offerCreator(db, offerId);
  if (creator === null) throw notFound("offer", { offerId });
  if (creator !== caller) {
    throw new AppError("NOT_OFFER_CREATOR", 403, `offer ${offerId} belongs to another creator`);
  }
}

export interface AppliedSale {
  saleId: string;
  amount: number;
}

/**
 * The sale price a checkout starts from, read under the offer's card price lock (held by the
 * caller): null when the offer is not on sale now — or the sale no longer undercuts a card price the
 * creator changed since — and refused when the wallet took its places at the sale's price (403
 * SALE_LIMIT_REACHED) or everyone took them all (409 SALE_SOLD_OUT).
 */
export async function applySale(
  client: PoolClient,
  input: { offerId: string; wallet: string },
  price: FiatPrice,
): Promise<AppliedSale | null> {
  const places = await activeSalePlaces(client, input.offerId, input.wallet);
  if (!places) return null;
  const { sale } = places;
  const amount = Number(sale.amount);
  if (sale.currency !== price.currency || amount >= price.amount) return null;
  const details = { saleId: sale.id, endsAt: sale.ends_at.toISOString() };
  if (places.byWallet >= sale.max_per_wallet) {
    throw new AppError(
      "SALE_LIMIT_REACHED",
      403,
      `this wallet bought offer ${input.offerId} at the sale price as often as the sale allows`,
      { ...details, maxPerWallet: sale.max_per_wallet },
    );
  }
  if (sale.max_total !== null && places.sold >= sale.max_total) {
    throw new AppError("SALE_SOLD_OUT", 409, `the sale on offer ${input.offerId} is sold out`, {
      ...details,
      maxTotal: sale.max_total,
    });
  }
  return { saleId: sale.id, amount };
}

/** Sale windows: the creator of an offer sets, and ends, sales of it; everyone reads them. */
export class SalesService {
  constructor(private readonly deps: { db: Pool; minFiatPrice: number }) {}

  /**
   * Sets a sale window on the creator's offer, under the offer's card price lock so the price it
   * undercuts cannot change meanwhile; a window overlapping another of the offer's is 409.
   */
  async create(offerId: string, caller: string, input: CreateSale): Promise<Sale> {
    return withTransaction(this.deps.db, async (client) => {
      await assertCreator(client, offerId, caller);
      const price = await lockFiatPrice(client, offerId);
      if (!price) throw new AppError("NO_CARD_PRICE", 409, `offer ${offerId} is not for sale by card`);
      if (input.amount >= price.amount) {
        throw new AppError("SALE_PRICE_NOT_BELOW", 400, "a sale price must be below the offer's card price", {
          amount: input.amount,
          fiatPrice: price,
        });
      }
      if (input.amount < this.deps.minFiatPrice) {
        throw new AppError(
          "PRICE_BELOW_FLOOR",
          400,
          `a sale price must be at least ${this.deps.minFiatPrice} minor units, which covers the mint's gas`,
          { amount: input.amount, minAmount: this.deps.minFiatPrice },
        );
      }
      const overlapping = await overlappingSales(client, offerId, input.startsAt ?? null, input.endsAt);
      const row =
        overlapping.length === 0
          ? await insertSale(client, {
              id: randomUUID(),
              offerId,
              amount: input.amount,
              currency: price.currency,
              startsAt: input.startsAt ?? null,
              endsAt: input.endsAt,
              maxPerWallet: input.maxPerWallet,
              maxTotal: input.maxTotal ?? null,
              createdBy: caller,
            })
          : null;
      if (!row) {
        throw new AppError("SALE_OVERLAPS", 409, `offer ${offerId} has a sale in that window already`, {
          sales: overlapping.map(saleView),
        });
      }
      return saleView(row);
    });
  }

  /** The offer's sales on now or still to come. */
  async list(offerId: string): Promise<{ items: Sale[] }> {
    if ((await offerCreator(this.deps.db, offerId)) === null) throw notFound("offer", { offerId });
    return { items: (await currentSales(this.deps.db, offerId)).map(saleView) };
  }

  /** Ends a sale now, or removes one still to come; only the offer's creator may. */
  async end(offerId: string, saleId: string, caller: string): Promise<Sale> {
    await assertCreator(this.deps.db, offerId, caller);
    const ended = await endSale(this.deps.db, offerId, saleId);
    if (ended) return { ...saleView(ended.sale), status: "ended" };
    if (!(await findSale(this.deps.db, offerId, saleId))) throw notFound("sale", { offerId, saleId });
    throw new AppError("SALE_ENDED", 409, `the sale ${saleId} has ended already`);
  }
}
