import type { Pool } from "pg";
import { finalityOf, type ChainHeads } from "../../lib/finality.ts";
import { ILicenseToken__factory } from "../../types/typechain/index.ts";
import type { OrderSecrets } from "../auth/order-secrets.ts";
import { AppError, notFound } from "../errors.ts";
import { checksum } from "../../lib/address.ts";
import type {
  BuyerOrdersPage,
  Order as OrderView,
  OrderEvent as OrderEventView,
  OrderLookup,
  OrderWithHistory,
  RevocationRequest,
} from "../../lib/api/orders.ts";
import { buyerOrders } from "./history.ts";
import { receiptFileName, renderReceiptPdf, type ReceiptIssuer } from "./receipt-pdf.ts";
import { findReceipt } from "./receipts.ts";
import { findOrder, orderEvents, type Order, type OrderEvent } from "./store.ts";

/** `ILicenseToken.RevocationReason` of an order's revoke reason: a chargeback, or else a card refund. */
export function revocationReasonOf(revokeReason: string): 0 | 1 {
  return revokeReason.startsWith("chargeback") ? 1 : 0;
}

export function toEventView(event: OrderEvent): OrderEventView {
  return { seq: event.seq, status: event.status, detail: event.detail, at: event.at.toISOString() };
}

/** Who asks for an order: a signed-in wallet, whether it is an admin, and the order secret given. */
export interface OrderReader {
  /** Lower case; null without a session. */
  wallet: string | null;
  admin: boolean;
  secret: string | undefined;
}

/** Orders as buyers and checkout pages see them. */
export interface OrdersServiceDeps {
  db: Pool;
  heads(): Promise<ChainHeads>;
  chainId: number;
  licenseTokenAddress: string;
  /** Holds LicenseToken's REVOKER_ROLE: signs revocations by hand when the workers hold no revoker key. */
  revokerAddress: string;
  secrets: OrderSecrets;
  /** The platform as its receipts name it. */
  issuer: ReceiptIssuer;
}

export class OrdersService {
  readonly #db: Pool;

  constructor(private readonly deps: OrdersServiceDeps) {
    this.#db = deps.db;
  }

  view(order: Order, heads: ChainHeads | null): OrderView {
    return {
      orderId: order.id,
      offerId: order.offerId,
      wallet: checksum(order.wallet),
      email: order.email,
      referrer: checksum(order.referrer),
      amount: order.amount,
      listAmount: order.listAmount,
      saleAmount: order.saleAmount,
      saleId: order.saleId,
      discount: order.discount,
      coupon: order.couponCode,
      currency: order.currency,
      status: order.status,
      failureReason: order.failureReason,
      checkoutUrl: order.status === "created" ? order.checkoutUrl : null,
      reservedUntil: order.reservedUntil.toISOString(),
      payableUntil: order.payableUntil.toISOString(),
      paymentRef: order.paymentRef,
      payment: order.paymentStatus,
      tokenId: order.tokenId,
      license: order.tokenId
        ? {
            tokenId: order.tokenId,
            txHash: order.mintTxHash,
            blockNumber: order.mintBlock,
            finality: order.mintBlock !== null && heads ? finalityOf(order.mintBlock, heads) : null,
          }
        : null,
      revocation: order.revokeReason
        ? {
            reason: order.revokeReason,
            txHash: order.revokeTxHash,
            revokedAt: order.revokedAt?.toISOString() ?? null,
          }
        : null,
      createdAt: order.createdAt.toISOString(),
      updatedAt: order.updatedAt.toISOString(),
    };
  }

  /**
   * Refuses with 404 — as if it did not exist — anyone but the order's buyer (a session of its
   * wallet, or the order secret from the checkout) and admins: an order names the buyer's wallet
   * and its payment.
   */
  async assertReadable(orderId: string, reader: OrderReader): Promise<void> {
    const order = await findOrder(this.#db, orderId);
    const allowed =
      order !== null &&
      (reader.admin ||
        (reader.wallet !== null && reader.wallet === order.wallet) ||
        this.deps.secrets.matches(orderId, reader.secret));
    if (!allowed) throw notFound("order", { orderId });
  }

  /**
   * A card order found by the email address given at checkout and its secret. One indexed probe by
   * the secret's hash, the email compared in the same row: a wrong email and a wrong secret cost the
   * same and get the same 404, so neither tells whether the other was right.
   */
  async lookup(email: string, secret: string): Promise<OrderLookup> {
    const { rows } = await this.#db.query<{ id: string; same: boolean }>(
      `SELECT id, lower(email) = lower($2) AS same FROM orders WHERE lookup_hash = $1`,
      [this.deps.secrets.lookupHash(secret), email],
    );
    const found = rows[0];
    if (!found?.same) throw notFound("order", {});
    return { ...(await this.withHistory(found.id)), orderSecret: secret };
  }

  /** The signed-in wallet's purchases, card and on chain, newest first. */
  history(wallet: string, cursor: string | undefined, limit: number): Promise<BuyerOrdersPage> {
    return buyerOrders(this.#db, wallet, cursor, limit);
  }

  async current(orderId: string): Promise<OrderView> {
    const [order, heads] = await Promise.all([findOrder(this.#db, orderId), this.deps.heads()]);
    if (!order) throw notFound("order", { orderId });
    return this.view(order, heads);
  }

  async withHistory(orderId: string): Promise<OrderWithHistory> {
    const view = await this.current(orderId);
    const history = await orderEvents(this.#db, orderId);
    return { ...view, history: history.map(toEventView) };
  }

  /** Events after `afterSeq`, oldest first. */
  async eventsAfter(orderId: string, afterSeq: string): Promise<OrderEventView[]> {
    return (await orderEvents(this.#db, orderId, afterSeq)).map(toEventView);
  }

  /** The order's receipt as a PDF, the same file its buyer was mailed; 409 while its payment is not captured. */
  async receiptPdf(orderId: string): Promise<{ fileName: string; pdf: Buffer }> {
    const receipt = await findReceipt(this.#db, orderId);
    if (!receipt) {
      throw new AppError("RECEIPT_NOT_READY", 409, "the order has no receipt: its payment is not captured", {
        orderId,
      });
    }
    return { fileName: receiptFileName(receipt), pdf: await renderReceiptPdf(receipt, this.deps.issuer) };
  }

  /**
   * The revocation a refunded or disputed order still needs, ready for the revoker's wallet to sign
   * (used when the workers hold no revoker key).
   */
  async revocationRequest(orderId: string): Promise<RevocationRequest> {
    const order = await findOrder(this.#db, orderId);
    if (!order) throw notFound("order", { orderId });
    if (!order.revokeReason || !order.tokenId) {
      throw new AppError("NOTHING_TO_REVOKE", 409, `order ${orderId} has no license to revoke`);
    }
    if (order.revokedAt)
      throw new AppError("ALREADY_REVOKED", 409, `the license of order ${orderId} is revoked`);
    return {
      reason: order.revokeReason,
      transaction: {
        description: `Revoke license ${order.tokenId} (${order.revokeReason})`,
        chainId: this.deps.chainId,
        from: checksum(this.deps.revokerAddress.toLowerCase())!,
        to: checksum(this.deps.licenseTokenAddress.toLowerCase())!,
        data: ILicenseToken__factory.createInterface().encodeFunctionData("revoke", [
          BigInt(order.tokenId),
          revocationReasonOf(order.revokeReason),
        ]),
        value: "0",
      },
    };
  }
}
