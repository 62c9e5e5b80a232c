import type { Notification, NotificationKind, Notifications } from "../../lib/api/notifications.ts";
import type { EscrowEventRow, NotificationStore, SeenMarks } from "./notification-store.ts";

/** Notifications of each source a list carries. */
const PER_SOURCE = 30;
/** The most a list shows. */
const SHOWN = 40;

type Role = "buyer" | "seller";

/** Per escrow event: its kind, who of the two parties is told, and what. */
const ESCROW: Record<
  string,
  { kind: NotificationKind; to: Role[]; text: (id: string, row: EscrowEventRow) => string }
> = {
  Bought: {
    kind: "bought",
    to: ["seller"],
    text: (id) => `Your listing #${id} was bought; the payment is in escrow`,
  },
  Disputed: {
    kind: "disputed",
    to: ["seller"],
    text: (id) => `The buyer disputed trade #${id}: add your evidence for the arbiter`,
  },
  Completed: {
    kind: "completed",
    to: ["seller", "buyer"],
    text: (id, row) =>
      row.settled
        ? `Trade #${id} was settled after its confirmation window`
        : row.role === "seller"
          ? `Trade #${id} is complete: your proceeds can be claimed`
          : `Trade #${id} is complete: your items can be claimed`,
  },
  Refunded: {
    kind: "refunded",
    to: ["seller", "buyer"],
    text: (id, row) =>
      row.role === "buyer"
        ? `Trade #${id} was refunded: claim your payment back`
        : `Trade #${id} was refunded: claim your items back`,
  },
  DisputeRejected: {
    kind: "dispute_rejected",
    to: ["seller", "buyer"],
    text: (id) => `The arbiter rejected the dispute of trade #${id}; the sale goes through`,
  },
  Expired: {
    kind: "expired",
    to: ["seller"],
    text: (id) => `Listing #${id} passed its deadline unsold; the items are back in your inventory`,
  },
  ArbiterAssigned: {
    kind: "arbiter_assigned",
    to: ["seller", "buyer"],
    text: (id) => `The dispute of trade #${id} was handed to another arbiter`,
  },
};

const OUTCOME_TEXT = {
  refund_buyer: "refund the buyer",
  complete_sale: "complete the sale",
  reassign: "hand the dispute to another arbiter",
} as const;

/**
 * What happened to a player's trades and disputes, newest first, from the escrow's indexed events and
 * the platform's dispute records; unread past what the player last marked seen.
 */
export class NotificationsService {
  constructor(private readonly store: NotificationStore) {}

  async list(wallet: string): Promise<Notifications> {
    const { items } = await this.#collect(wallet);
    return { items, unread: items.filter((i) => i.unread).length };
  }

  /** Marks everything listed now as seen. */
  async markSeen(wallet: string): Promise<{ unread: 0 }> {
    const { latest } = await this.#collect(wallet);
    await this.store.markSeen(wallet, latest);
    return { unread: 0 };
  }

  async #collect(wallet: string): Promise<{ items: Notification[]; latest: SeenMarks }> {
    const [escrow, evidence, decisions, seen] = await Promise.all([
      this.store.escrowEvents(wallet, Object.keys(ESCROW), PER_SOURCE),
      this.store.evidenceEvents(wallet, PER_SOURCE),
      this.store.decisionEvents(wallet, PER_SOURCE),
      this.store.seen(wallet),
    ]);
    const items: Notification[] = [];
    for (const row of escrow) {
      const spec = ESCROW[row.event]!;
      if (!spec.to.includes(row.role)) continue;
      const newer =
        BigInt(row.block_number) > BigInt(seen.chainBlock) ||
        (BigInt(row.block_number) === BigInt(seen.chainBlock) && row.log_index > seen.chainLog);
      items.push({
        id: `chain:${row.block_number}.${row.log_index}`,
        kind: spec.kind,
        listingId: row.listing_id,
        role: row.role,
        text: spec.text(row.listing_id, row),
        at: row.block_time?.toISOString() ?? null,
        unread: newer,
      });
    }
    for (const row of evidence) {
      items.push({
        id: `evidence:${row.id}`,
        kind: "evidence",
        listingId: row.listing_id,
        role: row.role,
        text: `The ${row.party} of trade #${row.listing_id} added ${row.kind === "file" ? "a file" : "a statement"} to the dispute`,
        at: row.submitted_at.toISOString(),
        unread: BigInt(row.id) > BigInt(seen.evidenceId),
      });
    }
    for (const row of decisions) {
      items.push({
        id: `decision:${row.id}`,
        kind: "decision",
        listingId: row.listing_id,
        role: row.role,
        text: `The arbiter decided to ${OUTCOME_TEXT[row.outcome]} in trade #${row.listing_id}: ${row.reason}`,
        at: row.decided_at.toISOString(),
        unread: BigInt(row.id) > BigInt(seen.decisionId),
      });
    }
    items.sort((a, b) => (b.at ?? "").localeCompare(a.at ?? ""));
    const latest: SeenMarks = {
      chainBlock: escrow[0]?.block_number ?? seen.chainBlock,
      chainLog: escrow[0]?.log_index ?? seen.chainLog,
      evidenceId: evidence[0]?.id ?? seen.evidenceId,
      decisionId: decisions[0]?.id ?? seen.decisionId,
    };
    return { items: items.slice(0, SHOWN), latest };
  }
}
