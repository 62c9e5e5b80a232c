import type { Pool } from "pg";
import { withTransaction } from "../../lib/transaction.ts";
import { checksum } from "../../lib/address.ts";
import type { Decision, DecisionOutcome, DisputeReason, Evidence, Party } from "../../lib/api/disputes.ts";
import { LISTING_COLUMNS, type ListingRow } from "../repositories/trades.ts";

export interface DisputeRecord {
  listingId: string;
  reason: DisputeReason | null;
  openedBy: string;
  openedAt: string;
}

export interface NewEvidence {
  listingId: string;
  party: Party;
  submittedBy: string;
  kind: "statement" | "file";
  sha256: string;
  size: number;
  body: string | null;
  filename: string | null;
  mediaType: string | null;
}

/** What one party may still add to a dispute. */
export interface EvidenceLimits {
  maxPieces: number;
  /** What the party's files may add up to. */
  quotaBytes: number;
}

export interface NewDecision {
  listingId: string;
  outcome: DecisionOutcome;
  reason: string;
  decidedBy: string;
  signer: string;
  arbiter: string | null;
}

export interface QueueRow extends ListingRow {
  reason: DisputeReason | null;
  buyer_evidence: number;
  seller_evidence: number;
  last_evidence_at: Date | null;
  decisions: number;
}

interface EvidenceRow {
  id: string;
  party: Party;
  submitted_by: string;
  kind: "statement" | "file";
  sha256: string;
  size: string;
  body: string | null;
  filename: string | null;
  media_type: string | null;
  submitted_at: Date;
}

const toEvidence = (r: EvidenceRow): Evidence => ({
  id: r.id,
  party: r.party,
  submittedBy: checksum(r.submitted_by)!,
  kind: r.kind,
  sha256: r.sha256,
  size: Number(r.size),
  text: r.body,
  filename: r.filename,
  mediaType: r.media_type,
  submittedAt: r.submitted_at.toISOString(),
});

/** The decision's author as stored (`wallet:<address>` or `key:<id>`) as the API shows it. */
const authorOf = (stored: string) =>
  stored.startsWith("wallet:") ? checksum(stored.slice("wallet:".length))! : stored;

/** Dispute records, their evidence and decisions (server tables), and the queue of disputed trades. */
export class DisputeStore {
  constructor(private readonly db: Pool) {}

  async record(listingId: string): Promise<DisputeRecord | null> {
    const { rows } = await this.db.query<{
      reason: DisputeReason | null;
      opened_by: string;
      opened_at: Date;
    }>(`SELECT reason, opened_by, opened_at FROM trade_disputes WHERE listing_id = $1`, [listingId]);
    const r = rows[0];
    return r
      ? { listingId, reason: r.reason, openedBy: checksum(r.opened_by)!, openedAt: r.opened_at.toISOString() }
      : null;
  }

  /**
   * Adds a piece of evidence, opening the dispute's record if it has none (with `reason`, which a
   * record without one also takes), under the record's lock so concurrent uploads cannot pass the
   * party's limits together; `beforeCommit` runs last inside the transaction (a file is kept there).
   * Answers what was refused, adding nothing, when the party is at a limit.
   */
  async addEvidence(
    evidence: NewEvidence,
    opening: { reason: DisputeReason | null; openedBy: string },
    limits: EvidenceLimits,
    beforeCommit: () => Promise<void> = async () => {},
  ): Promise<{ evidence: Evidence; reason: DisputeReason | null } | { refused: "pieces" | "bytes" }> {
    return withTransaction(this.db, async (client) => {
      const { rows: opened } = await client.query<{ reason: DisputeReason | null }>(
        `INSERT INTO trade_disputes (listing_id, reason, opened_by) VALUES ($1, $2, $3)
         ON CONFLICT (listing_id) DO UPDATE SET reason = coalesce(trade_disputes.reason, EXCLUDED.reason)
         RETURNING reason`,
        [evidence.listingId, opening.reason, opening.openedBy],
      );
      const { rows: used } = await client.query<{ pieces: number; bytes: string }>(
        `SELECT count(*)::int AS pieces, coalesce(sum(size) FILTER (WHERE kind = 'file'), 0)::text AS bytes
           FROM dispute_evidence WHERE listing_id = $1 AND party = $2`,
        [evidence.listingId, evidence.party],
      );
      if (used[0]!.pieces >= limits.maxPieces) return { refused: "pieces" as const };
      if (evidence.kind === "file" && Number(used[0]!.bytes) + evidence.size > limits.quotaBytes)
        return { refused: "bytes" as const };
      const { rows } = await client.query<EvidenceRow>(
        `INSERT INTO dispute_evidence (listing_id, party, submitted_by, kind, sha256, size, body, filename, media_type)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING id::text, party, submitted_by, kind, sha256, size::text, body, filename, media_type, submitted_at`,
        [
          evidence.listingId,
          evidence.party,
          evidence.submittedBy,
          evidence.kind,
          evidence.sha256,
          evidence.size,
          evidence.body,
          evidence.filename,
          evidence.mediaType,
        ],
      );
      await beforeCommit();
      return { evidence: toEvidence(rows[0]!), reason: opened[0]!.reason };
    });
  }

  /** Every piece of a dispute's evidence, in submission order. */
  async evidence(listingId: string): Promise<Evidence[]> {
    const { rows } = await this.db.query<EvidenceRow>(
      `SELECT id::text, party, submitted_by, kind, sha256, size::text, body, filename, media_type, submitted_at
         FROM dispute_evidence WHERE listing_id = $1 ORDER BY id`,
      [listingId],
    );
    return rows.map(toEvidence);
  }

  async evidenceById(listingId: string, evidenceId: string): Promise<Evidence | null> {
    const { rows } = await this.db.query<EvidenceRow>(
      `SELECT id::text, party, submitted_by, kind, sha256, size::text, body, filename, media_type, submitted_at
         FROM dispute_evidence WHERE listing_id = $1 AND id = $2`,
      [listingId, evidenceId],
    );
    return rows[0] ? toEvidence(rows[0]) : null;
  }

  async addDecision(decision: NewDecision): Promise<Decision> {
    const { rows } = await this.db.query<{ id: string; decided_at: Date }>(
      `INSERT INTO dispute_decisions (listing_id, outcome, reason, decided_by, signer, arbiter)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text, decided_at`,
      [
        decision.listingId,
        decision.outcome,
        decision.reason,
        decision.decidedBy,
        decision.signer,
        decision.arbiter,
      ],
    );
    return {
      id: rows[0]!.id,
      outcome: decision.outcome,
      reason: decision.reason,
      decidedBy: authorOf(decision.decidedBy),
      signer: checksum(decision.signer)!,
      arbiter: checksum(decision.arbiter),
      decidedAt: rows[0]!.decided_at.toISOString(),
    };
  }

  async decisions(listingId: string): Promise<Decision[]> {
    const { rows } = await this.db.query<{
      id: string;
      outcome: DecisionOutcome;
      reason: string;
      decided_by: string;
      signer: string;
      arbiter: string | null;
      decided_at: Date;
    }>(
      `SELECT id::text, outcome, reason, decided_by, signer, arbiter, decided_at
         FROM dispute_decisions WHERE listing_id = $1 ORDER BY id`,
      [listingId],
    );
    return rows.map((r) => ({
      id: r.id,
      outcome: r.outcome,
      reason: r.reason,
      decidedBy: authorOf(r.decided_by),
      signer: checksum(r.signer)!,
      arbiter: checksum(r.arbiter),
      decidedAt: r.decided_at.toISOString(),
    }));
  }

  /**
   * Disputed trades as the indexer has them: `open` (deadline not passed, soonest first), `lapsed`
   * (past it, unresolved) or `resolved` (latest deadline first); `after` is `<resolve_by>.<listing id>`.
   */
  async queue(
    status: "open" | "lapsed" | "resolved",
    now: number,
    after: { resolveBy: string; listingId: string } | null,
    limit: number,
  ): Promise<QueueRow[]> {
    const params: unknown[] = [limit + 1];
    const where = ["l.resolve_by IS NOT NULL"];
    if (status === "resolved") {
      where.push("l.state IN ('completed', 'refunded')");
    } else {
      params.push(now);
      where.push(`l.state = 'disputed'`, `l.resolve_by ${status === "open" ? ">=" : "<"} $2`);
    }
    const desc = status === "resolved";
    if (after) {
      params.push(after.resolveBy, after.listingId);
      where.push(
        `(l.resolve_by, l.listing_id) ${desc ? "<" : ">"} ($${params.length - 1}, $${params.length})`,
      );
    }
    const direction = desc ? "DESC" : "ASC";
    const { rows } = await this.db.query<QueueRow>(
      `SELECT ${LISTING_COLUMNS}, d.reason,
              (SELECT count(*)::int FROM dispute_evidence e WHERE e.listing_id = l.listing_id AND e.party = 'buyer') AS buyer_evidence,
              (SELECT count(*)::int FROM dispute_evidence e WHERE e.listing_id = l.listing_id AND e.party = 'seller') AS seller_evidence,
              (SELECT max(e.submitted_at) FROM dispute_evidence e WHERE e.listing_id = l.listing_id) AS last_evidence_at,
              (SELECT count(*)::int FROM dispute_decisions c WHERE c.listing_id = l.listing_id) AS decisions
         FROM listings l LEFT JOIN trade_disputes d ON d.listing_id = l.listing_id
        WHERE ${where.join(" AND ")}
        ORDER BY l.resolve_by ${direction}, l.listing_id ${direction} LIMIT $1`,
      params,
    );
    return rows;
  }

  /** How many pieces of evidence and decisions a dispute holds. */
  async activity(listingId: string): Promise<{ evidence: number; decisions: number }> {
    const { rows } = await this.db.query<{ evidence: number; decisions: number }>(
      `SELECT (SELECT count(*)::int FROM dispute_evidence WHERE listing_id = $1) AS evidence,
              (SELECT count(*)::int FROM dispute_decisions WHERE listing_id = $1) AS decisions`,
      [listingId],
    );
    return rows[0]!;
  }
}
