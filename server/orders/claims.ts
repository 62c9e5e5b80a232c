/**
 * Claim links of held licenses: a card order paid without a wallet keeps its license for the buyer's
 * email, and the link mailed there lets one signed-in wallet take it, once.
 */
import type { Pool, PoolClient } from "pg";
import { withTransaction, type Queryable } from "../../lib/transaction.ts";
import { AppError } from "../errors.ts";
import { recordMail } from "../mail/mails.ts";
import type { MailData } from "../mail/templates/index.ts";
import type { Outbox, OutboxJob } from "../queues/outbox.ts";
import { orderJob } from "../queues/queues.ts";
import { claimToken, claimTokenHash, newClaimId } from "./claim-tokens.ts";
import type { OrderEvents } from "./events.ts";
import { transition, type Order } from "./store.ts";

/**
 * Records a fresh claim for a held order under a new random id, keeping only the SHA-256 of its
 * token (the HMAC of the id under the claim key). An order has one claim; issuing again replaces an
 * unused one. Answers the claim's id and how many links the order was issued, this one included.
 */
export async function issueClaim(
  db: Queryable,
  settings: Pick<ClaimSettings, "key" | "ttlSeconds">,
  orderId: string,
): Promise<{ claimId: string; issued: number }> {
  const claimId = newClaimId();
  const { rows } = await db.query<{ issued: number }>(
    `INSERT INTO order_claims (order_id, token_hash, expires_at)
     VALUES ($1, $2, now() + make_interval(secs => $3))
     ON CONFLICT (order_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at,
                                          issued = order_claims.issued + 1
      WHERE order_claims.claimed_at IS NULL
     RETURNING issued`,
    [orderId, claimTokenHash(claimToken(settings.key, claimId)), settings.ttlSeconds],
  );
  if (!rows[0]) throw new AppError("CLAIM_USED", 410, "the license was claimed already");
  return { claimId, issued: rows[0].issued };
}

export interface ClaimSettings {
  /** How long a claim link can be used. */
  ttlSeconds: number;
  /** CLAIM_KEY, of which claim tokens are HMACs. */
  key: Buffer;
}

/**
 * Issues a claim for a held order and records, in the caller's transaction, the mail that carries
 * its link: `claim:<orderId>` for the first, `claim:<orderId>:<n>` for the n-th. The mail records
 * the claim's id; its worker derives the token when it renders the link. Answers the mail's send jobs.
 */
export async function mailClaimLink(
  client: PoolClient,
  settings: ClaimSettings,
  order: Pick<Order, "id" | "offerId" | "amount" | "currency" | "email">,
): Promise<OutboxJob[]> {
  const { claimId, issued } = await issueClaim(client, settings, order.id);
  return recordMail(client, {
    key: issued === 1 ? `claim:${order.id}` : `claim:${order.id}:${issued}`,
    to: order.email!,
    template: "claim-link",
    data: {
      orderId: order.id,
      offerId: order.offerId,
      amount: order.amount,
      currency: order.currency,
      claimId,
      expiresInDays: Math.max(1, Math.round(settings.ttlSeconds / 86_400)),
    } satisfies MailData<"claim-link">,
  });
}

export interface ClaimsDeps {
  db: Pool;
  outbox: Outbox;
  events: OrderEvents;
  settings: ClaimSettings;
}

interface ClaimRow {
  order_id: string;
  expired: boolean;
  claimed_by: string | null;
  status: string;
}

/**
 * Claims a held license for a signed-in wallet. Under the claim's row lock, so concurrent claims of
 * one link — replays, a second wallet — see each other: the first moves the order to `minting` with
 * the wallet and its fulfilment job (in one transaction), every later one is refused.
 */
export class ClaimsService {
  constructor(private readonly deps: ClaimsDeps) {}

  async claim(token: string, wallet: string): Promise<Order> {
    const moved = await withTransaction(this.deps.db, async (client) => {
      const { rows } = await client.query<ClaimRow>(
        `SELECT c.order_id, c.expires_at <= now() AS expired, c.claimed_by, o.status
           FROM order_claims c JOIN orders o ON o.id = c.order_id
          WHERE c.token_hash = $1 FOR UPDATE OF c`,
        [claimTokenHash(token)],
      );
      const claim = rows[0];
      if (!claim) {
        throw new AppError(
          "CLAIM_NOT_FOUND",
          404,
          "this claim link is not valid; check the link in your mail",
        );
      }
      if (claim.claimed_by !== null) {
        throw new AppError(
          "CLAIM_USED",
          410,
          "this claim link was used already; the license went to a wallet",
          {
            claimedByYou: claim.claimed_by === wallet,
          },
        );
      }
      if (claim.expired) {
        throw new AppError(
          "CLAIM_EXPIRED",
          410,
          "this claim link has expired; find the order with your email and order secret to have a new one mailed",
        );
      }
      if (claim.status !== "held") {
        throw new AppError(
          "CLAIM_UNAVAILABLE",
          409,
          `the order is ${claim.status}; there is no license to claim`,
          {
            status: claim.status,
          },
        );
      }
      await client.query(`UPDATE order_claims SET claimed_by = $2, claimed_at = now() WHERE order_id = $1`, [
        claim.order_id,
        wallet,
      ]);
      const claimed = await transition(client, claim.order_id, {
        from: ["held"],
        to: "minting",
        set: { wallet },
        detail: { claimedBy: wallet },
        jobs: [orderJob("claimed", claim.order_id)],
      });
      // Refunded between the read and the move: the transaction (and the claim's use) rolls back.
      if (!claimed)
        throw new AppError(
          "CLAIM_UNAVAILABLE",
          409,
          "the order is no longer held; there is no license to claim",
        );
      return claimed;
    });
    await this.deps.outbox.deliver(moved.jobs);
    this.deps.events.publish(moved.event);
    return moved.order;
  }

  /**
   * Mails a new claim link for a held order whose link expired unused (the order secret's holder
   * asks: POST /v1/orders/:id/claim-link). A link still valid is not replaced, so the mailbox cannot
   * be flooded; each new link is a mail of its own key.
   */
  async reissue(orderId: string): Promise<{ expiresAt: string }> {
    const result = await withTransaction(this.deps.db, async (client) => {
      const { rows } = await client.query<
        ClaimRow & { expires_at: Date; offer_id: string; amount: string; currency: string; email: string }
      >(
        `SELECT c.order_id, c.expires_at <= now() AS expired, c.expires_at, c.claimed_by, o.status,
                o.offer_id::text, o.amount::text, o.currency, o.email
           FROM order_claims c JOIN orders o ON o.id = c.order_id
          WHERE c.order_id = $1 FOR UPDATE OF c`,
        [orderId],
      );
      const claim = rows[0];
      if (!claim || claim.status !== "held") {
        throw new AppError("CLAIM_UNAVAILABLE", 409, "the order holds no license to claim");
      }
      if (claim.claimed_by !== null) throw new AppError("CLAIM_USED", 410, "the license was claimed already");
      if (!claim.expired) {
        throw new AppError(
          "CLAIM_LINK_LIVE",
          409,
          "the link mailed to you still works; look for it in your mail",
          {
            expiresAt: claim.expires_at.toISOString(),
          },
        );
      }
      const order = {
        id: orderId,
        offerId: claim.offer_id,
        amount: Number(claim.amount),
        currency: claim.currency,
        email: claim.email,
      };
      const jobs = await mailClaimLink(client, this.deps.settings, order);
      const { rows: fresh } = await client.query<{ expires_at: Date }>(
        `SELECT expires_at FROM order_claims WHERE order_id = $1`,
        [orderId],
      );
      return { jobs, expiresAt: fresh[0]!.expires_at.toISOString() };
    });
    await this.deps.outbox.deliver(result.jobs);
    return { expiresAt: result.expiresAt };
  }
}
