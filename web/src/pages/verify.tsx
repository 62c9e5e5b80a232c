import { useEffect, useId, useState, type FormEvent } from "react";
import type { BundleVerification, EvidenceRequest, RequestEvidenceBody } from "../../../lib/api/evidence.ts";
import type { Work } from "../../../lib/api/works.ts";
import { api, ApiError, raw } from "../api.ts";
import {
  Badge,
  Definition,
  Dropzone,
  ErrorNote,
  FinalityBadge,
  Loading,
  Mono,
  Time,
  Untrusted,
  usePageTitle,
} from "../components.tsx";
import { formatBytes, formatDate } from "../format.ts";
import { sha256File } from "../hash.ts";
import { Link } from "../router.tsx";
import { useWallet } from "../wallet.tsx";

interface Lookup {
  file: File;
  sha256: string | null;
  work: Work | null;
  error: unknown;
}

/** Public: is a file registered, by whom, since when; evidence bundles and the verifier's checks. */
export function VerifyPage() {
  usePageTitle("Verify a file");
  const [lookup, setLookup] = useState<Lookup | null>(null);

  const check = async (file: File) => {
    setLookup({ file, sha256: null, work: null, error: null });
    try {
      const sha256 = await sha256File(file);
      setLookup({ file, sha256, work: null, error: null });
      const work = await api<Work>(`/v1/works/by-hash/${sha256}`).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      });
      setLookup({ file, sha256, work, error: null });
    } catch (error) {
      setLookup((l) => (l ? { ...l, error } : l));
    }
  };

  const done = lookup?.sha256 && lookup.error === null;

  return (
    <>
      <h1>Verify a file</h1>
      <p className="lead">
        Drop any file to learn whether it is registered, by whom and since when. The file never leaves your
        browser: only its SHA-256 fingerprint is looked up.
      </p>
      <section className="card" aria-labelledby="check-heading">
        <h2 id="check-heading">Check a file</h2>
        <Dropzone label="File to verify" onFile={check} />
        <div aria-live="polite" className="live">
          {lookup && !lookup.sha256 && !lookup.error && <Loading label="Computing the fingerprint" />}
          {lookup?.error !== null && lookup?.error !== undefined && <ErrorNote error={lookup.error} />}
          {done && <Result lookup={lookup} />}
        </div>
      </section>
      {done && lookup.work && <EvidencePanel work={lookup.work} original={lookup.file} />}
      <BundleCheck original={lookup?.work ? lookup.file : null} />
    </>
  );
}

function Result({ lookup }: { lookup: Lookup }) {
  const { work, file, sha256 } = lookup;
  if (!work) {
    return (
      <div className="result result-neutral">
        <p className="result-title">
          <span aria-hidden="true">○</span> <span>Not registered</span>
        </p>
        <p>
          No work with this fingerprint is registered. <span className="muted">{file.name}</span>
        </p>
        <dl className="facts">
          <Definition term="SHA-256">
            <Mono value={sha256!} label="SHA-256" />
          </Definition>
        </dl>
      </div>
    );
  }
  return (
    <div className="result result-ok">
      <p className="result-title">
        <span aria-hidden="true">✓</span> <span>Registered</span>
      </p>
      <p>
        <strong>{file.name}</strong> is registered as{" "}
        <Link href={`/works/${work.workId}`}>
          {work.title === null ? `work #${work.workId}` : <Untrusted text={work.title} />}
        </Link>{" "}
        since {formatDate(work.registeredAt)} (<Time iso={work.registeredAt} />
        ).
      </p>
      <dl className="facts">
        <Definition term="Registered by">
          <Mono value={work.creator} label="creator address" />
        </Definition>
        <Definition term="SHA-256">
          <Mono value={work.contentHash} label="SHA-256" />
        </Definition>
        <Definition term="Block">
          {work.blockNumber} <FinalityBadge finality={work.finality} />
        </Definition>
        <Definition term="Transaction">
          <Mono value={work.txHash} label="transaction hash" short />
        </Definition>
      </dl>
    </div>
  );
}

function localNow(): string {
  const now = new Date();
  now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
  return now.toISOString().slice(0, 16);
}

/** Request an evidence bundle with a legal API key (or as the work's signed-in creator), download and check it. */
function EvidencePanel({ work, original }: { work: Work; original: File }) {
  const wallet = useWallet();
  const id = useId();
  const isCreator = wallet.session?.address.toLowerCase() === work.creator.toLowerCase();
  const [apiKey, setApiKey] = useState("");
  const [url, setUrl] = useState("");
  const [observedAt, setObservedAt] = useState(localNow);
  const [notes, setNotes] = useState("");
  const [request, setRequest] = useState<EvidenceRequest | null>(null);
  const [bundle, setBundle] = useState<{ href: string; bytes: Blob } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => () => void (bundle && URL.revokeObjectURL(bundle.href)), [bundle]);

  const headers = (): Record<string, string> => (apiKey.trim() ? { "x-api-key": apiKey.trim() } : {});

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBundle(null);
    setBusy(true);
    try {
      let current = await api<EvidenceRequest>("/v1/evidence", {
        headers: headers(),
        json: {
          workId: work.workId,
          infringement: {
            ...(url.trim() ? { url: url.trim() } : {}),
            observedAt: new Date(observedAt).toISOString(),
            ...(notes.trim() ? { notes: notes.trim() } : {}),
          },
        } satisfies RequestEvidenceBody,
      });
      setRequest(current);
      while (current.status === "queued" || current.status === "building") {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        current = await api<EvidenceRequest>(`/v1/evidence/${current.id}`, { headers: headers() });
        setRequest(current);
      }
      if (current.status === "failed") throw new Error(current.error ?? "the bundle could not be built");
      const response = await raw(`/v1/evidence/${current.id}/bundle.zip`, {
        headers: { ...headers(), accept: "application/zip" },
      });
      const bytes = await response.blob();
      setBundle({ href: URL.createObjectURL(bytes), bytes });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Evidence bundle</h2>
      <p className="muted">
        A signed, self-contained zip of the chain facts behind this registration, for lawyers and courts. It
        needs an API key with the legal scope{isCreator ? ", or your creator session" : ""}.
      </p>
      <form onSubmit={submit} className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-key`}>
            Legal API key {isCreator && <span className="optional">(optional for you)</span>}
          </label>
          <input
            id={`${id}-key`}
            type="password"
            autoComplete="off"
            value={apiKey}
            onChange={(e) => setApiKey(e.target.value)}
            required={!isCreator}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-observed`}>Infringement observed at</label>
          <input
            id={`${id}-observed`}
            type="datetime-local"
            value={observedAt}
            max={localNow()}
            onChange={(e) => setObservedAt(e.target.value)}
            required
          />
        </div>
        <div className="field field-wide">
          <label htmlFor={`${id}-url`}>
            Where the copy was found <span className="optional">(optional)</span>
          </label>
          <input
            id={`${id}-url`}
            type="url"
            placeholder="https://"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
          />
        </div>
        <div className="field field-wide">
          <label htmlFor={`${id}-notes`}>
            Notes <span className="optional">(optional)</span>
          </label>
          <textarea
            id={`${id}-notes`}
            rows={2}
            maxLength={4000}
            value={notes}
            onChange={(e) => setNotes(e.target.value)}
          />
        </div>
        <div className="field-wide">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? "Building…" : "Create evidence bundle"}
          </button>
        </div>
      </form>
      <div aria-live="polite" className="live">
        {busy && request && <p className="status-line">Bundle {request.status}…</p>}
        {error !== null && <ErrorNote error={error} />}
        {bundle && request && (
          <div className="alert alert-success">
            <p>
              Bundle ready ({formatBytes(bundle.bytes.size)}).{" "}
              <a className="button button-small" href={bundle.href} download={`evidence-${request.id}.zip`}>
                Download bundle.zip
              </a>
            </p>
          </div>
        )}
      </div>
      {bundle && <Checks bundle={bundle.bytes} original={original} />}
    </section>
  );
}

/** Anyone can check a bundle they hold: drop it here. */
function BundleCheck({ original }: { original: File | null }) {
  const [bundle, setBundle] = useState<File | null>(null);
  return (
    <section className="card" aria-labelledby="bundle-heading">
      <h2 id="bundle-heading">Check an evidence bundle</h2>
      <p className="muted">
        Runs the same verifier as <code>npx rights-ledger verify</code>: file hash, block header, receipt,
        event, Merkle proof, signature, timestamp, and the chain itself.
      </p>
      <Dropzone label="Evidence bundle (.zip)" accept=".zip,application/zip" onFile={setBundle} />
      {bundle && <Checks key={`${bundle.name}-${bundle.lastModified}`} bundle={bundle} original={original} />}
    </section>
  );
}

function Checks({ bundle, original }: { bundle: Blob; original: File | null }) {
  const [result, setResult] = useState<BundleVerification | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const controller = new AbortController();
    const form = new FormData();
    if (original) form.append("file", original, original.name);
    form.append("bundle", bundle, "bundle.zip");
    setResult(null);
    setError(null);
    api<BundleVerification>("/v1/evidence/verify", { form, signal: controller.signal }).then(
      setResult,
      (err: unknown) => {
        if (!controller.signal.aborted) setError(err);
      },
    );
    return () => controller.abort();
  }, [bundle, original]);

  if (error) return <ErrorNote error={error} />;
  if (!result) return <Loading label="Verifying the bundle" />;
  const failed = result.checks.filter((c) => !c.ok && !c.skipped).length;
  return (
    <div className="checks" aria-live="polite">
      <p className={`result-title ${result.ok ? "text-ok" : "text-bad"}`}>
        {result.ok
          ? `All ${result.checks.filter((c) => c.ok).length} checks passed`
          : `${failed} check${failed === 1 ? "" : "s"} failed`}
      </p>
      <ul className="check-list">
        {result.checks.map((check) => (
          <li
            key={check.name}
            className={check.skipped ? "check-skipped" : check.ok ? "check-ok" : "check-bad"}
          >
            <Badge tone={check.skipped ? "muted" : check.ok ? "ok" : "bad"}>
              {check.skipped ? "skipped" : check.ok ? "pass" : "fail"}
            </Badge>
            <span className="check-name">{check.name}</span>
            <span className="check-detail">{check.detail}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
