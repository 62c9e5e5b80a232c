import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ChainHeads } from "../../lib/finality.ts";
import { checksum } from "../../lib/address.ts";
import {
  disputeReasonSchema,
  type AllowedOutcome,
  type AssignArbiterBody,
  type Decision,
  type Dispute,
  type DisputeQueue,
  type DisputeQueueQuery,
  type DisputeReason,
  type Evidence,
  type Party,
  type ResolveTradeBody,
  type StatementBody,
} from "../../lib/api/disputes.ts";
import type { TransactionRequest } from "../../lib/api/transactions.ts";
import type { TradeWithHistory } from "../../lib/api/trades.ts";
import { AppError, notFound } from "../errors.ts";
import { bodyTooLarge, closeAfterAnswer } from "../http/body-limit.ts";
import { toTrade, type TradesRepository } from "../repositories/trades.ts";
import type { ChainListing, TradesService } from "../services/trades.ts";
import { discardStaged, receiveUpload } from "../services/uploads.ts";
import type { DisputeStore } from "./dispute-store.ts";
import type { EvidenceFiles } from "./evidence-files.ts";
import type { TradeEvents } from "./trade-events.ts";

export interface DisputeLimits {
  /** Pieces of evidence (statements and files) each party may give in one dispute. */
  maxPieces: number;
  /** The largest file. */
  maxFileBytes: number;
  /** What one party's files in one dispute may add up to. */
  quotaBytes: number;
}

/** Who is asking: a signed-in wallet, an admin (session or API key), and how decisions name them. */
export interface DisputeViewer {
  wallet: string | null;
  admin: boolean;
  /** `wallet:<address>` or `key:<id>`. */
  actor: string | null;
}

export interface DisputesServiceDeps {
  store: DisputeStore;
  trades: TradesService;
  indexed: TradesRepository;
  files: EvidenceFiles;
  events: TradeEvents;
  limits: DisputeLimits;
  admin: string;
  heads(): Promise<ChainHeads>;
}

/** An evidence file to send: where it is kept and how to name it. */
export interface EvidenceDownload {
  evidence: Evidence;
  open(): NodeJS.ReadableStream;
}

/** A wallet allowed to give evidence now, as which party, and whether its evidence must give the reason. */
interface Submitter {
  party: Party;
  chain: ChainListing;
  needsReason: boolean;
}

const partyOf = (listing: ChainListing, wallet: string | null): Party | null =>
  wallet === null ? null : wallet === listing.buyer ? "buyer" : wallet === listing.seller ? "seller" : null;

/**
 * Disputes beside the escrow's: the buyer's reason and both parties' evidence (statements and files,
 * each hashed with SHA-256 and kept), what the arbiter sees and may decide, and every decision with
 * its reason, recorded before its transaction is handed to the arbiter's or the admin's wallet.
 * Only the trade's two parties and admins read a dispute; the escrow on chain says who the parties
 * are and what is allowed, not the mirror, which may lag.
 */
export class DisputesService {
  constructor(private readonly deps: DisputesServiceDeps) {}

  /** The dispute of a trade, for its parties and admins. */
  async get(listingId: string, viewer: DisputeViewer): Promise<Dispute> {
    const chain = await this.#readable(listingId, viewer);
    const heads = await this.deps.heads();
    const [row, record, evidence, decisions, now] = await Promise.all([
      this.deps.indexed.find(listingId, heads),
      this.deps.store.record(listingId),
      this.deps.store.evidence(listingId),
      this.deps.store.decisions(listingId),
      this.deps.trades.now(),
    ]);
    if (!row) throw notFound("trade", { listingId });
    const disputed = row.resolveBy !== null;
    if (!record && !disputed) throw notFound("dispute", { listingId });
    const lapsed = row.state === "disputed" && now > BigInt(Date.parse(row.resolveBy!) / 1000);
    return {
      listingId,
      trade: row,
      status:
        row.state === "disputed"
          ? lapsed
            ? "lapsed"
            : "open"
          : row.state === "paid"
            ? "opening"
            : "resolved",
      reason: record?.reason ?? null,
      openedBy: record?.openedBy ?? null,
      openedAt: record?.openedAt ?? null,
      evidence: {
        buyer: evidence.filter((e) => e.party === "buyer"),
        seller: evidence.filter((e) => e.party === "seller"),
      },
      evidenceHashes: evidence.map((e) => e.sha256),
      decisions,
      resolveBy: row.resolveBy,
      arbiter: chain.state === "disputed" ? checksum(chain.arbiter) : null,
      allowedOutcomes: this.#allowed(chain, now),
    };
  }

  /** A party's written statement; the buyer's first evidence gives the dispute's reason. */
  async addStatement(listingId: string, wallet: string, body: StatementBody): Promise<Evidence> {
    const { party, chain } = await this.#submitter(listingId, wallet, body.reason);
    const bytes = Buffer.from(body.text, "utf8");
    const added = await this.deps.store.addEvidence(
      {
        listingId,
        party,
        submittedBy: wallet,
        kind: "statement",
        sha256: `0x${createHash("sha256").update(bytes).digest("hex")}`,
        size: bytes.length,
        body: body.text,
        filename: null,
        mediaType: "text/plain; charset=utf-8",
      },
      { reason: body.reason ?? null, openedBy: chain.buyer },
      this.deps.limits,
    );
    return this.#accepted(listingId, party, added);
  }

  /**
   * A party's file, streamed to staging while hashed, then kept under its SHA-256 with its record.
   * The party is checked before a byte of the body is read; a `reason` field opens the buyer's dispute.
   */
  async addFile(
    listingId: string,
    wallet: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<Evidence> {
    let checked: Submitter;
    try {
      checked = await this.#submitter(listingId, wallet, undefined, true);
    } catch (err) {
      closeAfterAnswer(req, res);
      throw err;
    }
    const { maxFileBytes } = this.deps.limits;
    await this.deps.files.ready();
    const staged = await receiveUpload(req, {
      stagingDir: this.deps.files.stagingDir,
      limitBytes: maxFileBytes,
      tooLarge: () => bodyTooLarge(maxFileBytes),
    });
    try {
      const reason =
        staged.fields.reason === undefined ? undefined : disputeReasonSchema.safeParse(staged.fields.reason);
      if (reason && !reason.success)
        throw new AppError(
          "VALIDATION_FAILED",
          400,
          `reason must be one of ${disputeReasonSchema.options.join(", ")}`,
        );
      if (checked.needsReason && !reason)
        throw new AppError("REASON_REQUIRED", 400, "the buyer's first evidence gives the dispute's reason");
      if (checked.party === "seller" && reason)
        throw new AppError("VALIDATION_FAILED", 400, "only the buyer gives the dispute's reason");
      const added = await this.deps.store.addEvidence(
        {
          listingId,
          party: checked.party,
          submittedBy: wallet,
          kind: "file",
          sha256: staged.contentHash,
          size: staged.size,
          body: null,
          filename: staged.filename,
          mediaType: staged.contentType,
        },
        { reason: reason?.data ?? null, openedBy: checked.chain.buyer },
        this.deps.limits,
        () => this.deps.files.keep(staged.path, staged.contentHash),
      );
      return this.#accepted(listingId, checked.party, added);
    } finally {
      await discardStaged(staged.path);
    }
  }

  /** An evidence file, for the trade's parties and admins. */
  async file(listingId: string, evidenceId: string, viewer: DisputeViewer): Promise<EvidenceDownload> {
    await this.#readable(listingId, viewer);
    const evidence = await this.deps.store.evidenceById(listingId, evidenceId);
    if (!evidence || evidence.kind !== "file") throw notFound("evidence file", { listingId, evidenceId });
    return { evidence, open: () => this.deps.files.open(evidence.sha256) };
  }

  /** Disputed trades for arbiters: open (soonest deadline first), lapsed, or resolved. */
  async queue(query: DisputeQueueQuery): Promise<DisputeQueue> {
    const [resolveBy, listingId] = query.cursor?.split(".") ?? [];
    const after = query.cursor ? { resolveBy: resolveBy!, listingId: listingId! } : null;
    const [heads, now] = await Promise.all([this.deps.heads(), this.deps.trades.now()]);
    const rows = await this.deps.store.queue(query.status, Number(now), after, query.limit);
    const more = rows.length > query.limit;
    if (more) rows.pop();
    const last = rows.at(-1);
    return {
      items: rows.map((r) => ({
        listingId: r.listing_id,
        trade: toTrade(r, heads),
        reason: r.reason,
        evidenceCount: { buyer: r.buyer_evidence, seller: r.seller_evidence },
        lastEvidenceAt: r.last_evidence_at?.toISOString() ?? null,
        decisions: r.decisions,
      })),
      nextCursor: more && last ? `${last.resolve_by}.${last.listing_id}` : null,
    };
  }

  /** Records the arbiter's resolution with its reason and answers its transaction for the arbiter's wallet. */
  async resolve(
    listingId: string,
    actor: string,
    body: ResolveTradeBody,
  ): Promise<{ transactions: TransactionRequest[]; decision: Decision }> {
    const transactions = await this.deps.trades.prepareResolve(listingId, body.refundBuyer);
    const decision = await this.deps.store.addDecision({
      listingId,
      outcome: body.refundBuyer ? "refund_buyer" : "complete_sale",
      reason: body.reason,
      decidedBy: actor,
      signer: transactions[0]!.from.toLowerCase(),
      arbiter: null,
    });
    this.deps.events.publish(listingId);
    return { transactions, decision };
  }

  /** Records an admin's handing of a dispute to another arbiter with its reason, and answers its transaction. */
  async reassign(
    listingId: string,
    actor: string,
    body: AssignArbiterBody,
  ): Promise<{ transactions: TransactionRequest[]; decision: Decision }> {
    const transactions = await this.deps.trades.prepareAssignArbiter(listingId, body.arbiter);
    const decision = await this.deps.store.addDecision({
      listingId,
      outcome: "reassign",
      reason: body.reason,
      decidedBy: actor,
      signer: transactions[0]!.from.toLowerCase(),
      arbiter: body.arbiter,
    });
    this.deps.events.publish(listingId);
    return { transactions, decision };
  }

  activity(listingId: string): Promise<{ evidence: number; decisions: number }> {
    return this.deps.store.activity(listingId);
  }

  /** The trade as indexed, with its history, for event streams. */
  async trade(listingId: string): Promise<TradeWithHistory> {
    const heads = await this.deps.heads();
    const trade = await this.deps.indexed.find(listingId, heads);
    if (!trade) throw notFound("trade", { listingId });
    return { ...trade, history: await this.deps.indexed.history(listingId, heads) };
  }

  /** The listing on chain, if the viewer is one of its parties or an admin: 404 unknown, 401/403 otherwise. */
  async #readable(listingId: string, viewer: DisputeViewer): Promise<ChainListing> {
    const chain = await this.deps.trades.chainListing(listingId);
    if (viewer.admin || partyOf(chain, viewer.wallet)) return chain;
    if (viewer.wallet === null)
      throw new AppError("AUTH_REQUIRED", 401, "sign in with the wallet of a party to this trade");
    throw new AppError(
      "NOT_A_PARTY",
      403,
      `only the buyer and the seller of trade ${listingId} see its dispute`,
    );
  }

  /**
   * The party a wallet is to a trade that takes evidence now: the buyer of a paid trade within its
   * window (the dispute is being opened), either party of a dispute before its deadline.
   */
  async #submitter(
    listingId: string,
    wallet: string,
    reason: DisputeReason | undefined,
    reasonLater = false,
  ): Promise<Submitter> {
    const chain = await this.deps.trades.chainListing(listingId);
    const party = partyOf(chain, wallet);
    if (!party)
      throw new AppError(
        "NOT_A_PARTY",
        403,
        `only the buyer and the seller of trade ${listingId} give evidence`,
      );
    const now = await this.deps.trades.now();
    if (chain.state === "paid") {
      if (party !== "buyer")
        throw new AppError(
          "NOT_DISPUTED",
          409,
          `trade ${listingId} is not disputed; only its buyer can open a dispute`,
        );
      if (now > chain.confirmBy)
        throw new AppError("WINDOW_CLOSED", 409, `the confirmation window of trade ${listingId} has closed`);
    } else if (chain.state === "disputed") {
      if (now > chain.resolveBy)
        throw new AppError("DISPUTE_LAPSED", 409, `the dispute of trade ${listingId} passed its deadline`);
    } else {
      throw new AppError("NOT_DISPUTED", 409, `trade ${listingId} is ${chain.state}: it takes no evidence`, {
        state: chain.state,
      });
    }
    if (party === "seller" && reason !== undefined)
      throw new AppError("VALIDATION_FAILED", 400, "only the buyer gives the dispute's reason");
    const needsReason = party === "buyer" && (await this.deps.store.record(listingId))?.reason == null;
    if (needsReason && reason === undefined && !reasonLater)
      throw new AppError("REASON_REQUIRED", 400, "the buyer's first evidence gives the dispute's reason");
    return { party, chain, needsReason };
  }

  #accepted(
    listingId: string,
    party: Party,
    added: Awaited<ReturnType<DisputeStore["addEvidence"]>>,
  ): Evidence {
    if ("refused" in added) {
      const { maxPieces, quotaBytes } = this.deps.limits;
      throw added.refused === "pieces"
        ? new AppError("EVIDENCE_LIMIT", 409, `each party gives at most ${maxPieces} pieces of evidence`, {
            maxPieces,
          })
        : new AppError("EVIDENCE_QUOTA", 413, `each party's files add up to at most ${quotaBytes} bytes`, {
            quotaBytes,
            party,
          });
    }
    this.deps.events.publish(listingId);
    return added.evidence;
  }

  #allowed(chain: ChainListing, now: bigint): AllowedOutcome[] {
    if (chain.state !== "disputed") return [];
    if (now > chain.resolveBy)
      return [
        {
          outcome: "unwind",
          signer: null,
          description: "Unwind: the buyer takes the price back, the seller the items (anyone may send it)",
        },
      ];
    const arbiter = checksum(chain.arbiter);
    return [
      {
        outcome: "refund_buyer",
        signer: arbiter,
        description: "Refund the buyer; the items go back to the seller",
      },
      { outcome: "complete_sale", signer: arbiter, description: "Reject the dispute and complete the sale" },
      {
        outcome: "reassign",
        signer: checksum(this.deps.admin),
        description: "Hand the dispute to another arbiter",
      },
    ];
  }
}
