import { isAddress } from "ethers";
import { useId } from "react";

export interface SplitRow {
  address: string;
  percent: string;
}

/** Basis points of a percentage typed with up to two decimals ("12.5" → 1250); NaN when malformed. */
export function percentToBps(percent: string): number {
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(percent.trim())) return NaN;
  return Math.round(Number(percent) * 100);
}

/** What is wrong with the split, or null: valid addresses, no duplicates, shares summing to exactly 100%. */
export function splitProblem(rows: SplitRow[]): string | null {
  if (rows.length === 0) return "Add at least one recipient.";
  const seen = new Set<string>();
  let total = 0;
  for (const [index, row] of rows.entries()) {
    if (!isAddress(row.address.trim())) return `Recipient ${index + 1} is not a valid address.`;
    const key = row.address.trim().toLowerCase();
    if (seen.has(key)) return `Recipient ${index + 1} appears twice.`;
    seen.add(key);
    const bps = percentToBps(row.percent);
    if (!Number.isFinite(bps) || bps <= 0) return `Recipient ${index + 1} needs a share above 0%.`;
    total += bps;
  }
  if (total !== 10_000) return `Shares add up to ${(total / 100).toFixed(2)}%; they must add up to 100%.`;
  return null;
}

/** Recipients and their shares of an offer's revenue. */
export function SplitEditor({ rows, onChange }: { rows: SplitRow[]; onChange(rows: SplitRow[]): void }) {
  const id = useId();
  const total = rows.reduce((sum, row) => sum + (percentToBps(row.percent) || 0), 0);
  const problem = splitProblem(rows);
  const update = (index: number, patch: Partial<SplitRow>) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));

  return (
    <fieldset className="split-editor" aria-describedby={`${id}-total`}>
      <legend>Revenue split</legend>
      <ul className="split-rows">
        {rows.map((row, index) => (
          <li key={index} className="split-row">
            <div className="field">
              <label htmlFor={`${id}-address-${index}`}>Recipient {index + 1} address</label>
              <input
                id={`${id}-address-${index}`}
                className="mono-input"
                value={row.address}
                placeholder="0x…"
                spellCheck={false}
                autoComplete="off"
                onChange={(e) => update(index, { address: e.target.value })}
              />
            </div>
            <div className="field field-narrow">
              <label htmlFor={`${id}-share-${index}`}>
                Share <span className="visually-hidden">of recipient {index + 1} </span>(%)
              </label>
              <input
                id={`${id}-share-${index}`}
                inputMode="decimal"
                value={row.percent}
                onChange={(e) => update(index, { percent: e.target.value })}
              />
            </div>
            <button
              type="button"
              className="icon-button split-remove"
              aria-label={`Remove recipient ${index + 1}`}
              disabled={rows.length === 1}
              onClick={() => onChange(rows.filter((_, i) => i !== index))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <div className="split-footer">
        <button
          type="button"
          className="button button-small"
          onClick={() => onChange([...rows, { address: "", percent: "" }])}
          disabled={rows.length >= 20}
        >
          Add recipient
        </button>
        <p
          id={`${id}-total`}
          className={`split-total${total === 10_000 ? " split-total-ok" : ""}`}
          aria-live="polite"
        >
          Total {(total / 100).toFixed(2)}% {total === 10_000 ? "✓" : "of 100%"}
        </p>
      </div>
      {problem && rows.some((r) => r.address || r.percent) && <p className="field-error">{problem}</p>}
    </fieldset>
  );
}
