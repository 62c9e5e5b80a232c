import { withTransaction } from "../../lib/transaction.ts";
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { OrderSecrets } from "../auth/order-secrets.ts";
import type { Config } from "../config.ts";
import type { GasBudget } from "../services/gas-budget.ts";
import { AppError, notFound } from "../errors.ts";
import type { PaymentProvider } from "../payments/provider.ts";
import {
  available,
  lockBuyerHolds,
  lockFiatPrice,
  stockOf,
  type BuyerHolds,
} from "../repositories/offer-stock.ts";
import { hasStock, holdCode } from "../codes/code-store.ts";
import { applyCoupon } from "../promotions/coupons.ts";
import { applySale } from "../promotions/sales.ts";
import { insertOrder, transition, updateOrder, type Order } from "./store.ts";
import { paymentRefOf } from "./fulfilment.ts";
import type { OrderEvents } from "./events.ts";
import type { CheckoutRequest } from "../../lib/api/orders.ts";

export interface CheckoutDeps {
  db: Pool;
  redis: Redis;
  redisPrefix: string;
  payments: PaymentProvider;
  events: OrderEvents;
  settings: Config["checkout"];
  gasBudget: GasBudget;
  secrets: OrderSecrets;
  /** Lower-case addresses that must never receive a license: the deployment's own contracts. */
  unpayable: ReadonlySet<string>;
}

/** A checkout refused by a risk rule: logged with its rule and answered 403 or 429. */
function refuse(
  log: Logger,
  status: 403 | 429,
  rule: string,
  message: string,
  details: Record<string, unknown>,
) {
  log.warn({ rule, ...details }, "checkout refused");
  return new AppError(status === 429 ? "RATE_LIMITED" : "PURCHASE_LIMIT", status, message, {
    rule,
    ...details,
  });
}

/** The caps on a buyer's live holds, by the rule that names each in a refusal. */
const HOLD_RULES: { rule: string; scope: keyof BuyerHolds; cap: keyof Config["checkout"]["holds"] }[] = [
  { rule: "holds-per-wallet-per-offer", scope: "walletOnOffer", cap: "perWalletPerOffer" },
  { rule: "holds-per-wallet", scope: "wallet", cap: "perWallet" },
  { rule: "holds-per-ip-per-offer", scope: "ipOnOffer", cap: "perIpPerOffer" },
  { rule: "holds-per-ip", scope: "ip", cap: "perIp" },
];

/**
 * Card checkout: holds one unit of the offer for a short while (CHECKOUT_HOLD_SECONDS), creates
 * the order, payable for longer (ORDER_TTL_SECONDS), and a checkout session with the payment
 * provider. Risk rules refuse a checkout before anything is held: creation velocity per IP and per
 * wallet (429), purchases per offer per wallet and per IP (403), and unpaid holds per wallet and
 * per IP, on the offer and overall (429 until the first lapses) — counted under the buyer's and the
 * offer's locks so concurrent checkouts cannot slip past them. An offer selling redemption codes
 * also holds one code for the order, for as long as its unit. During a sale window the order starts
 * from the sale's price, within the sale's per-wallet and total limits (403 / 409 past them). A
 * buyer without a wallet gives an email address: the paid order's license is held for it until a
 * wallet claims it.
 */
export class CheckoutService {
  constructor(private readonly deps: CheckoutDeps) {}

  async checkout(input: CheckoutRequest, ip: string, log: Logger): Promise<Order> {
    const { settings, secrets } = this.deps;
    if (input.wallet && this.deps.unpayable.has(input.wallet)) {
      throw new AppError(
        "INVALID_RECIPIENT",
        400,
        "the license cannot go to one of the platform's contracts; give your own wallet's address",
        { wallet: input.wallet },
      );
    }
    if (input.referrer && input.referrer === input.wallet) {
      throw new AppError("SELF_REFERRAL", 400, "a buyer cannot refer themselves");
    }
    // A buyer without a wallet is counted by their email address for velocity and gas; the
    // per-wallet purchase and hold caps count wallets' orders, so it meets the per-network ones.
    const buyer = input.wallet ?? `email:${input.email!}`;
    await this.#velocity(log, "checkout-velocity-ip", ip);
    await this.#velocity(log, "checkout-velocity-wallet", buyer);

    // The relayer pays the mint: counted for the buyer's wallet before a unit is held for it.
    const refund = await this.deps.gasBudget.reserve("cardMint", buyer);
    const { order, event, workId } = await withTransaction(this.deps.db, async (client) => {
      const holds = await lockBuyerHolds(client, input.offerId, buyer, ip);
      const price = await lockFiatPrice(client, input.offerId);
      const { rows } = await client.query<{ work_id: string; superseded_by: string | null }>(
        `SELECT o.work_id::text, w.superseded_by::text
           FROM offers o LEFT JOIN works w ON w.work_id = o.work_id WHERE o.offer_id = $1`,
        [input.offerId],
      );
      if (!rows[0]) throw notFound("offer", { offerId: input.offerId });
      // The chain refuses to mint on a superseded work: a card paid now could never be served.
      if (rows[0].superseded_by !== null) {
        throw new AppError(
          "WORK_SUPERSEDED",
          409,
          `offer ${input.offerId} is on claim ${rows[0].work_id}, which lost to the earlier claim ${rows[0].superseded_by} of the same file; its licenses are not for sale`,
          { offerId: input.offerId, workId: rows[0].work_id, supersededBy: rows[0].superseded_by },
        );
      }
      if (!price) {
        throw new AppError("NO_CARD_PRICE", 409, `offer ${input.offerId} is not for sale by card`);
      }
      const stock = (await stockOf(client, input.offerId, buyer, ip))!;
      if (!stock.active) throw new AppError("OFFER_INACTIVE", 409, `offer ${input.offerId} is paused`);
      if (stock.byWallet >= settings.limits.perWalletPerOffer) {
        throw refuse(
          log,
          403,
          "purchases-per-wallet-per-offer",
          "this wallet reached its purchase limit for the offer",
          {
            limit: settings.limits.perWalletPerOffer,
            offerId: input.offerId,
            wallet: buyer,
          },
        );
      }
      if (stock.byIp >= settings.limits.perIpPerOffer) {
        throw refuse(
          log,
          403,
          "purchases-per-ip-per-offer",
          "this network reached its purchase limit for the offer",
          {
            limit: settings.limits.perIpPerOffer,
            offerId: input.offerId,
            ip,
          },
        );
      }
      for (const { rule, scope, cap } of HOLD_RULES) {
        const limit = settings.holds[cap];
        const { count, firstLapse } = holds[scope];
        if (count < limit) continue;
        const retryAfterSeconds = Math.max(1, Math.ceil((firstLapse!.getTime() - Date.now()) / 1000));
        throw refuse(
          log,
          429,
          rule,
          `too many unpaid checkouts; pay one or retry in ${retryAfterSeconds} s`,
          { limit, holdSeconds: settings.holdSeconds, retryAfterSeconds, offerId: input.offerId },
        );
      }
      if (available(stock) === 0) {
        throw new AppError("SOLD_OUT", 409, `offer ${input.offerId} is sold out`, {
          maxSupply: stock.maxSupply,
          sold: stock.sold,
          reserved: stock.holding,
        });
      }
      const sellsCodes = await hasStock(client, input.offerId);
      // During a sale window (by PostgreSQL's clock) the sale's price replaces the list price; its
      // per-wallet places are counted under the card price lock taken above, so concurrent checkouts
      // cannot pass them.
      const sale = await applySale(client, { offerId: input.offerId, wallet: buyer }, price);
      const startingPrice = sale ? { amount: sale.amount, currency: price.currency } : price;
      // The buyer pays that price less the coupon's discount; the payout ledger books what was paid.
      const coupon = input.coupon
        ? await applyCoupon(
            client,
            { code: input.coupon, offerId: input.offerId, wallet: buyer },
            startingPrice,
            settings.minFiatPrice,
          )
        : null;
      const id = randomUUID();
      const created = await insertOrder(client, {
        id,
        offerId: input.offerId,
        wallet: input.wallet ?? null,
        email: input.email ?? null,
        lookupHash: input.email ? secrets.lookupHash(secrets.of(id)) : null,
        referrer: input.referrer ?? null,
        amount: startingPrice.amount - (coupon?.discount ?? 0),
        listAmount: price.amount,
        saleId: sale?.saleId ?? null,
        saleAmount: sale?.amount ?? null,
        discount: coupon?.discount ?? 0,
        couponId: coupon?.couponId ?? null,
        couponCode: input.coupon ?? null,
        currency: price.currency,
        ip,
        holdSeconds: settings.holdSeconds,
        ttlSeconds: settings.orderTtlSeconds,
      });
      // An offer selling codes is sold out when they are, however many licenses it has left.
      if (sellsCodes && !(await holdCode(client, input.offerId, created.order.id))) {
        throw new AppError("SOLD_OUT", 409, `offer ${input.offerId} is sold out: no redemption codes left`, {
          codes: 0,
        });
      }
      return { ...created, workId: rows[0].work_id };
    }).catch(async (err: unknown) => {
      await refund();
      throw err;
    });
    this.deps.events.publish(event);

    let session;
    try {
      session = await this.deps.payments.createCheckout({
        orderId: order.id,
        offerId: order.offerId,
        workId,
        amount: order.amount,
        currency: order.currency,
        returnUrl: this.#returnUrl(order.id),
      });
    } catch (err) {
      log.error({ err, orderId: order.id }, "payment provider refused to create a checkout session");
      const failed = await transition(this.deps.db, order.id, {
        from: ["created"],
        to: "failed",
        set: { failureReason: "the payment provider could not be reached" },
      });
      if (failed) this.deps.events.publish(failed.event);
      throw new AppError(
        "PAYMENTS_UNAVAILABLE",
        503,
        "card payments are unavailable right now; try again shortly",
      );
    }
    const fields = {
      sessionId: session.sessionId,
      checkoutUrl: session.url,
      paymentRef: paymentRefOf(session.sessionId),
    };
    await updateOrder(this.deps.db, order.id, fields);
    return { ...order, ...fields };
  }

  /** Where the buyer comes back to: the order's page, with the secret that lets it read the order. */
  #returnUrl(orderId: string): string {
    const url = new URL(this.deps.settings.returnUrl);
    url.searchParams.set("secret", this.deps.secrets.of(orderId));
    return url.toString();
  }

  /** A fixed one-minute window per key, shared by every API process through Redis. */
  async #velocity(log: Logger, rule: string, key: string): Promise<void> {
    const limit = this.deps.settings.limits.velocityPerMinute;
    const minute = Math.floor(Date.now() / 60_000);
    const redisKey = `${this.deps.redisPrefix}:checkout:${rule}:${key}:${minute}`;
    const [[, count]] = (await this.deps.redis.multi().incr(redisKey).expire(redisKey, 61).exec()) as [
      [Error | null, number],
    ];
    if (count > limit) {
      const retryAfterSeconds = 60 - (Math.floor(Date.now() / 1000) % 60);
      throw refuse(log, 429, rule, `too many checkouts; retry in ${retryAfterSeconds} s`, {
        limit,
        windowSeconds: 60,
        retryAfterSeconds,
      });
    }
  }
}
