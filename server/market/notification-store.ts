import type { Pool } from "pg";
import type { DecisionOutcome } from "../../lib/api/disputes.ts";

/** What a player has seen: the newest notification of each source. */
export interface SeenMarks {
  chainBlock: string;
  chainLog: number;
  evidenceId: string;
  decisionId: string;
}

export interface EscrowEventRow {
  listing_id: string;
  event: string;
  role: "buyer" | "seller";
  settled: boolean | null;
  arbiter: string | null;
  block_number: string;
  log_index: number;
  block_time: Date | null;
}

export interface EvidenceEventRow {
  id: string;
  listing_id: string;
  role: "buyer" | "seller";
  party: "buyer" | "seller";
  kind: "statement" | "file";
  submitted_at: Date;
}

export interface DecisionEventRow {
  id: string;
  listing_id: string;
  role: "buyer" | "seller";
  outcome: DecisionOutcome;
  reason: string;
  decided_at: Date;
}

const ROLE = `CASE WHEN l.seller = $1 THEN 'seller' ELSE 'buyer' END AS role`;
const OF_WALLET = `(l.seller = $1 OR l.buyer = $1)`;

/** The events of a wallet's trades and disputes (indexer and server tables), and what it has seen of them. */
export class NotificationStore {
  constructor(private readonly db: Pool) {}

  /** The latest escrow events of trades the wallet sold or bought in, newest first. */
  async escrowEvents(wallet: string, events: string[], limit: number): Promise<EscrowEventRow[]> {
    const { rows } = await this.db.query<EscrowEventRow>(
      `SELECT s.listing_id::text, s.event, ${ROLE}, l.settled, l.arbiter, s.block_number::text, s.log_index,
              e.block_time
         FROM listings l JOIN listing_states s ON s.listing_id = l.listing_id
         LEFT JOIN event_blocks e ON e.block_number = s.block_number AND e.log_index = s.log_index
        WHERE ${OF_WALLET} AND s.event = ANY($2::text[])
        ORDER BY s.block_number DESC, s.log_index DESC LIMIT $3`,
      [wallet, events, limit],
    );
    return rows;
  }

  /** The latest evidence the other party of the wallet's trades gave, newest first. */
  async evidenceEvents(wallet: string, limit: number): Promise<EvidenceEventRow[]> {
    const { rows } = await this.db.query<EvidenceEventRow>(
      `SELECT d.id::text, d.listing_id::text, ${ROLE}, d.party, d.kind, d.submitted_at
         FROM dispute_evidence d JOIN listings l ON l.listing_id = d.listing_id
        WHERE ${OF_WALLET} AND d.submitted_by <> $1
        ORDER BY d.id DESC LIMIT $2`,
      [wallet, limit],
    );
    return rows;
  }

  /** The latest decisions on disputes of the wallet's trades, newest first. */
  async decisionEvents(wallet: string, limit: number): Promise<DecisionEventRow[]> {
    const { rows } = await this.db.query<DecisionEventRow>(
      `SELECT c.id::text, c.listing_id::text, ${ROLE}, c.outcome, c.reason, c.decided_at
         FROM dispute_decisions c JOIN listings l ON l.listing_id = c.listing_id
        WHERE ${OF_WALLET}
        ORDER BY c.id DESC LIMIT $2`,
      [wallet, limit],
    );
    return rows;
  }

  async seen(wallet: string): Promise<SeenMarks> {
    const { rows } = await this.db.query<{
      chain_block: string;
      chain_log: number;
      evidence_id: string;
      decision_id: string;
    }>(
      `SELECT chain_block::text, chain_log, evidence_id::text, decision_id::text
         FROM notification_reads WHERE wallet = $1`,
      [wallet],
    );
    const r = rows[0];
    return r
      ? {
          chainBlock: r.chain_block,
          chainLog: r.chain_log,
          evidenceId: r.evidence_id,
          decisionId: r.decision_id,
        }
      : { chainBlock: "0", chainLog: -1, evidenceId: "0", decisionId: "0" };
  }

  /** Raises the wallet's marks to `marks` (never lowers them). */
  async markSeen(wallet: string, marks: SeenMarks): Promise<void> {
    await this.db.query(
      `INSERT INTO notification_reads (wallet, chain_block, chain_log, evidence_id, decision_id)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (wallet) DO UPDATE SET
         chain_block = CASE WHEN (EXCLUDED.chain_block, EXCLUDED.chain_log) > (notification_reads.chain_block, notification_reads.chain_log)
                            THEN EXCLUDED.chain_block ELSE notification_reads.chain_block END,
         chain_log = CASE WHEN (EXCLUDED.chain_block, EXCLUDED.chain_log) > (notification_reads.chain_block, notification_reads.chain_log)
                          THEN EXCLUDED.chain_log ELSE notification_reads.chain_log END,
         evidence_id = greatest(notification_reads.evidence_id, EXCLUDED.evidence_id),
         decision_id = greatest(notification_reads.decision_id, EXCLUDED.decision_id)`,
      [wallet, marks.chainBlock, marks.chainLog, marks.evidenceId, marks.decisionId],
    );
  }
}
