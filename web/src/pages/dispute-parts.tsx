/** A dispute's evidence and decisions, as both parties and the arbiter see them. */
import { useId, useState } from "react";
import type { Decision, Dispute, DisputeReason, Evidence, Party } from "../../../lib/api/disputes.ts";
import { describeError } from "../api.ts";
import { Mono, Time, Untrusted } from "../components.tsx";
import { formatBytes, shortHex } from "../format.ts";
import { sha256File } from "../hash.ts";
import { evidenceFile } from "../market.ts";

export const REASONS: { value: DisputeReason; label: string }[] = [
  { value: "not_received", label: "I did not receive the items" },
  { value: "not_as_described", label: "The items are not as described" },
  { value: "wrong_amount", label: "I received the wrong amount" },
  { value: "other", label: "Something else" },
];

export const reasonText = (reason: DisputeReason | null) =>
  REASONS.find((r) => r.value === reason)?.label ?? "No reason given";

const OUTCOME_TEXT: Record<Decision["outcome"], string> = {
  refund_buyer: "Refund the buyer",
  complete_sale: "Complete the sale",
  reassign: "Hand to another arbiter",
};

function DownloadButton({ listingId, evidence }: { listingId: string; evidence: Evidence }) {
  const [error, setError] = useState<string | null>(null);
  const download = async () => {
    setError(null);
    try {
      const url = URL.createObjectURL(await evidenceFile(listingId, evidence.id));
      const link = document.createElement("a");
      link.href = url;
      link.download = evidence.filename ?? `evidence-${evidence.id}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <>
      <button type="button" className="button button-small" onClick={download}>
        Download
      </button>
      {error && <span className="field-error">{error}</span>}
    </>
  );
}

/** One party's evidence, oldest first, each with its SHA-256. */
export function EvidenceColumn({ dispute, party }: { dispute: Dispute; party: Party }) {
  const evidence = dispute.evidence[party];
  const title = party === "buyer" ? "Buyer's evidence" : "Seller's evidence";
  return (
    <section className="evidence-column" aria-label={title}>
      <h3>
        {title} <span className="muted">({evidence.length})</span>
      </h3>
      {evidence.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ol className="evidence-list">
          {evidence.map((e) => (
            <li key={e.id} className="evidence">
              {e.kind === "statement" ? (
                <blockquote className="statement">
                  <Untrusted text={e.text ?? ""} />
                </blockquote>
              ) : (
                <p className="evidence-file">
                  <strong>
                    <Untrusted text={e.filename ?? `file ${e.id}`} />
                  </strong>{" "}
                  <span className="muted">{formatBytes(e.size)}</span>{" "}
                  <DownloadButton listingId={dispute.listingId} evidence={e} />
                </p>
              )}
              <p className="evidence-meta">
                SHA-256 <Mono value={e.sha256} label="SHA-256" short /> · <Time iso={e.submittedAt} /> by{" "}
                <code title={e.submittedBy}>{shortHex(e.submittedBy)}</code>
              </p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function Decisions({ decisions }: { decisions: Decision[] }) {
  if (decisions.length === 0) return null;
  return (
    <section aria-label="Decisions">
      <h3>Decisions</h3>
      <ol className="plain-list decisions">
        {decisions.map((d) => (
          <li key={d.id}>
            <strong>{OUTCOME_TEXT[d.outcome]}</strong>
            {d.arbiter && (
              <>
                {" "}
                to <code>{shortHex(d.arbiter)}</code>
              </>
            )}
            : <Untrusted text={d.reason} />{" "}
            <span className="muted">
              — <Time iso={d.decidedAt} />, to be signed by <code title={d.signer}>{shortHex(d.signer)}</code>
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

export interface EvidenceDraft {
  reason: DisputeReason | "";
  statement: string;
  files: File[];
}

/** A statement and files to give as evidence; each file's SHA-256 is shown before it is sent. */
export function EvidenceFields({
  draft,
  onChange,
  withReason,
  disabled,
}: {
  draft: EvidenceDraft;
  onChange(next: EvidenceDraft): void;
  withReason: boolean;
  disabled: boolean;
}) {
  const id = useId();
  const [hashes, setHashes] = useState<Record<string, string>>({});
  const addFiles = async (list: FileList | null) => {
    const files = [...(list ?? [])];
    onChange({ ...draft, files: [...draft.files, ...files] });
    for (const file of files) {
      const hash = await sha256File(file);
      setHashes((h) => ({ ...h, [`${file.name}:${file.size}`]: hash }));
    }
  };
  return (
    <>
      {withReason && (
        <div className="field">
          <label htmlFor={`${id}-reason`}>Reason</label>
          <select
            id={`${id}-reason`}
            value={draft.reason}
            disabled={disabled}
            onChange={(e) => onChange({ ...draft, reason: e.target.value as DisputeReason })}
          >
            <option value="">Choose a reason…</option>
            {REASONS.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-statement`}>Statement</label>
        <textarea
          id={`${id}-statement`}
          rows={4}
          maxLength={10_000}
          value={draft.statement}
          disabled={disabled}
          onChange={(e) => onChange({ ...draft, statement: e.target.value })}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-files`}>
          Files <span className="optional">(screenshots, logs; each is hashed with SHA-256 and kept)</span>
        </label>
        <input
          id={`${id}-files`}
          type="file"
          multiple
          disabled={disabled}
          onChange={(e) => {
            void addFiles(e.target.files);
            e.target.value = "";
          }}
        />
        {draft.files.length > 0 && (
          <ul className="plain-list file-list">
            {draft.files.map((file, i) => (
              <li key={`${file.name}-${i}`}>
                <Untrusted text={file.name} /> <span className="muted">{formatBytes(file.size)}</span>{" "}
                {hashes[`${file.name}:${file.size}`] && (
                  <code title={hashes[`${file.name}:${file.size}`]}>
                    SHA-256 {shortHex(hashes[`${file.name}:${file.size}`]!, 6)}
                  </code>
                )}{" "}
                <button
                  type="button"
                  className="button button-small button-ghost"
                  disabled={disabled}
                  onClick={() => onChange({ ...draft, files: draft.files.filter((_, j) => j !== i) })}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </>
  );
}
