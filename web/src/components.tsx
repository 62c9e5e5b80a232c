import { useCallback, useEffect, useId, useRef, useState, type DragEvent, type ReactNode } from "react";
import type { Finality } from "../../lib/finality.ts";
import { describeError } from "./api.ts";
import { formatDate, fromNow, shortHex, visible } from "./format.ts";

/** Runs `load` when `deps` change; answers its data, error and a reload function. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [version, setVersion] = useState(0);
  // The caller's deps decide when to reload, as with useEffect.
  const run = useCallback(load, deps);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    run(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, error: null, loading: false }),
      (error: unknown) => !controller.signal.aborted && setState({ data: null, error, loading: false }),
    );
    return () => controller.abort();
  }, [run, version]);
  return { ...state, reload: () => setVersion((v) => v + 1) };
}

/** Sets the document title for the page. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Rights Ledger` : "Rights Ledger";
  }, [title]);
}

const ICON = {
  width: 16,
  height: 16,
  viewBox: "0 0 24 24",
  fill: "none",
  stroke: "currentColor",
  strokeWidth: 2,
  strokeLinecap: "round",
  strokeLinejoin: "round",
  "aria-hidden": true,
} as const;

function CopyIcon() {
  return (
    <svg {...ICON}>
      <rect x="9" y="9" width="12" height="12" rx="2" />
      <path d="M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1" />
    </svg>
  );
}

function CheckIcon() {
  return (
    <svg {...ICON}>
      <path d="M20 6 9 17l-5-5" />
    </svg>
  );
}

function UploadIcon() {
  return (
    <svg {...ICON} width={28} height={28} className="dropzone-icon">
      <path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4" />
      <path d="m17 8-5-5-5 5" />
      <path d="M12 3v12" />
    </svg>
  );
}

export function CopyButton({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return (
    <button
      type="button"
      className="icon-button"
      onClick={copy}
      aria-label={`Copy ${label}`}
      title={`Copy ${label}`}
    >
      {copied ? <CheckIcon /> : <CopyIcon />}
      <span className="visually-hidden" role="status">
        {copied ? "Copied" : ""}
      </span>
    </button>
  );
}

/**
 * Text someone chose (a title, a CID or territory from the chain): controls and bidirectional characters as
 * visible markers, isolated from the text around it, wrapped anywhere; `cut` says only a prefix is shown.
 */
export function Untrusted({ text, cut = false }: { text: string; cut?: boolean }) {
  return (
    <span className="untrusted">
      {visible(text)}
      {cut && <span className="badge badge-muted">cut</span>}
    </span>
  );
}

/** A hash, CID or address in monospace with a copy button; `short` elides the middle. */
export function Mono({ value, label, short = false }: { value: string; label: string; short?: boolean }) {
  return (
    <span className="mono-value">
      <code title={value}>{short ? shortHex(value, 6) : value}</code>
      <CopyButton value={value} label={label} />
    </span>
  );
}

const FINALITY_TEXT: Record<Finality, string> = {
  pending: "Pending",
  safe: "Safe",
  final: "Final",
};

const FINALITY_HELP: Record<Finality, string> = {
  pending: "In a recent block that could still be reorganized",
  safe: "In a block the network considers safe",
  final: "In a finalized block: irreversible",
};

export function FinalityBadge({ finality }: { finality: Finality }) {
  return (
    <span className={`badge badge-${finality}`} title={FINALITY_HELP[finality]}>
      <span aria-hidden="true" className="badge-dot" />
      {FINALITY_TEXT[finality]}
    </span>
  );
}

export function Badge({
  tone,
  children,
}: {
  tone: "ok" | "warn" | "bad" | "info" | "muted";
  children: ReactNode;
}) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function Time({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={formatDate(iso)}>
      {fromNow(iso)}
    </time>
  );
}

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function ErrorNote({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="alert alert-error" role="alert">
      <p>{describeError(error)}</p>
      {retry && (
        <button type="button" className="button button-small" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A file drop area that is also a labelled file input, usable by keyboard and screen readers. */
export function Dropzone({
  label,
  hint,
  accept,
  disabled,
  onFile,
}: {
  label: string;
  hint?: string;
  accept?: string;
  disabled?: boolean;
  onFile(file: File): void;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const file = event.dataTransfer.files[0];
    if (file && !disabled) onFile(file);
  };
  return (
    <div
      className={`dropzone${over ? " dropzone-over" : ""}${disabled ? " dropzone-disabled" : ""}`}
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <label htmlFor={id}>
        <UploadIcon />
        <span className="dropzone-label">{label}</span>
        <span className="dropzone-hint">{hint ?? "Drop a file here, or choose one"}</span>
      </label>
      <input
        ref={input}
        id={id}
        type="file"
        accept={accept}
        disabled={disabled}
        className="dropzone-input"
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) onFile(file);
          event.target.value = "";
        }}
      />
    </div>
  );
}

/** Time left until `iso`, ticking every second; "expired" once past. */
export function Countdown({ iso }: { iso: string }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = Math.max(0, Math.floor((new Date(iso).getTime() - now) / 1000));
  if (left === 0) return <span className="countdown countdown-expired">Expired</span>;
  const days = Math.floor(left / 86400);
  const hours = Math.floor((left % 86400) / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  const text = days > 0 ? `${days} d ${hours} h ${minutes} min` : `${hours} h ${minutes} min ${seconds} s`;
  return (
    <time className={`countdown${days < 7 ? " countdown-soon" : ""}`} dateTime={iso} title={formatDate(iso)}>
      {text}
    </time>
  );
}

/** Numbered progress steps; the current one is announced to assistive technology. */
export function Steps({ steps, current, failed }: { steps: string[]; current: number; failed?: boolean }) {
  return (
    <ol className="steps">
      {steps.map((step, index) => {
        const state = index < current ? "done" : index === current ? (failed ? "failed" : "current") : "todo";
        return (
          <li
            key={step}
            className={`step step-${state}`}
            aria-current={state === "current" ? "step" : undefined}
          >
            <span className="step-marker" aria-hidden="true">
              {state === "done" ? "✓" : state === "failed" ? "!" : index + 1}
            </span>
            <span>{step}</span>
            <span className="visually-hidden">
              {state === "done"
                ? " (done)"
                : state === "failed"
                  ? " (failed)"
                  : state === "current"
                    ? " (in progress)"
                    : ""}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

export function Definition({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="definition">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
