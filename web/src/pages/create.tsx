import { useEffect, useId, useRef, useState } from "react";
import type { Registration, Upload, Work } from "../../../lib/api/works.ts";
import { api, ApiError } from "../api.ts";
import { Definition, Dropzone, ErrorNote, FinalityBadge, Mono, Steps, usePageTitle } from "../components.tsx";
import { formatBytes } from "../format.ts";
import { sha256File } from "../hash.ts";
import { Link, useLocation } from "../router.tsx";
import { ensureSession, useWallet } from "../wallet.tsx";

const STEPS = ["Fingerprint", "Upload to IPFS", "Sign", "Submitted", "Anchored"];

interface Draft {
  file: File;
  sha256: string | null;
  existing: Work | null;
  upload: Upload | null;
  registration: Registration | null;
}

function stepOf(draft: Draft | null): number {
  if (!draft?.sha256) return 0;
  if (!draft.upload) return 1;
  if (!draft.registration) return 2;
  if (draft.registration.status === "anchored") return 5;
  return draft.registration.status === "pending" ? 3 : 4;
}

/** Register a work: fingerprint and store the file, sign the registration, watch it anchor. */
export function CreatePage() {
  usePageTitle("Register a work");
  const wallet = useWallet();
  const { params } = useLocation();
  const titleId = useId();
  const descriptionId = useId();
  const parentInputId = useId();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [parentId, setParentId] = useState(params.get("parent") ?? "");
  const [isPublic, setIsPublic] = useState(false);
  const publicId = useId();
  const [draft, setDraft] = useState<Draft | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const polling = useRef<number | null>(null);

  useEffect(() => () => void (polling.current && clearTimeout(polling.current)), []);

  const upload = async (file: File, sha256: string) => {
    if (!wallet.address) return;
    try {
      // Uploads are for signed-in creators: each wallet has a storage quota.
      await ensureSession(wallet);
      setBusy("Uploading to IPFS");
      const form = new FormData();
      // Fields first: the server reads them before it streams the file.
      form.append("creator", wallet.address);
      form.append("title", title.trim() || file.name);
      if (description.trim()) form.append("description", description.trim());
      if (parentId.trim()) form.append("parentId", parentId.trim());
      form.append("visibility", isPublic ? "public" : "private");
      form.append("file", file, file.name);
      const result = await api<Upload>("/v1/works", { form });
      setDraft((d) => (d?.sha256 === sha256 ? { ...d, upload: result, existing: result.registration } : d));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const choose = async (file: File) => {
    if (polling.current) clearTimeout(polling.current);
    setError(null);
    if (!title.trim()) setTitle(file.name.replace(/\.[^.]+$/, ""));
    setDraft({ file, sha256: null, existing: null, upload: null, registration: null });
    setBusy("Computing the SHA-256 fingerprint");
    let sha256: string;
    try {
      sha256 = await sha256File(file);
    } catch (err) {
      setError(err);
      setBusy(null);
      return;
    }
    const existing = await api<Work>(`/v1/works/by-hash/${sha256}`).catch(() => null);
    setDraft({ file, sha256, existing, upload: null, registration: null });
    setBusy(null);
    if (!existing) await upload(file, sha256);
  };

  const follow = (sha256: string) => {
    polling.current = window.setTimeout(async () => {
      try {
        const registration = await api<Registration>(`/v1/works/by-hash/${sha256}/registration`);
        setDraft((d) => (d?.sha256 === sha256 ? { ...d, registration } : d));
        if (registration.status !== "anchored" && registration.status !== "failed") follow(sha256);
        else if (registration.work?.finality !== "final" && registration.status === "anchored")
          follow(sha256);
      } catch (err) {
        if (err instanceof ApiError && err.status >= 500) follow(sha256);
        else setError(err);
      }
    }, 1000);
  };

  const sign = async () => {
    const typedData = draft?.upload?.typedData;
    if (!draft?.sha256 || !typedData) return;
    setError(null);
    setBusy("Waiting for your signature");
    try {
      const signature = await wallet.signTypedData(typedData);
      setBusy("Submitting the registration");
      const registration = await api<Registration>(`/v1/works/${draft.sha256}/register`, {
        json: { ...typedData.message, signature },
      });
      setDraft((d) => (d ? { ...d, registration } : d));
      follow(draft.sha256);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const step = stepOf(draft);
  // The uploaded metadata carries the title and parent: they are fixed once the file is stored.
  const locked = Boolean(draft?.upload);
  const registration = draft?.registration;
  const failed = registration?.status === "failed" || error !== null;
  const anchoredWork = registration?.status === "anchored" ? registration.work : null;

  return (
    <>
      <h1>Register a work</h1>
      <p className="lead">
        Your file is fingerprinted with SHA-256 and stored on IPFS. You sign the registration with your
        wallet; the platform pays the gas and anchors it on chain.
      </p>

      {!wallet.address && (
        <div className="alert alert-info">
          <p>Connect a wallet to register works in your name. You can still fingerprint a file below.</p>
        </div>
      )}

      <div className="two-columns">
        <section className="card" aria-labelledby="details-heading">
          <h2 id="details-heading">1. Describe it</h2>
          <div className="field">
            <label htmlFor={titleId}>Title</label>
            <input
              id={titleId}
              value={title}
              maxLength={200}
              onChange={(e) => setTitle(e.target.value)}
              disabled={locked}
            />
          </div>
          <div className="field">
            <label htmlFor={descriptionId}>
              Description <span className="optional">(optional)</span>
            </label>
            <textarea
              id={descriptionId}
              rows={3}
              maxLength={2000}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
              disabled={locked}
            />
          </div>
          <div className="field">
            <label htmlFor={parentInputId}>
              New version of work # <span className="optional">(optional)</span>
            </label>
            <input
              id={parentInputId}
              inputMode="numeric"
              pattern="[0-9]*"
              value={parentId}
              onChange={(e) => setParentId(e.target.value.replace(/\D/g, ""))}
              aria-describedby={`${parentInputId}-hint`}
              disabled={locked}
            />
            <p id={`${parentInputId}-hint`} className="hint">
              Links this file as a later version of one of your works.
            </p>
          </div>
          <div className="field">
            <label className="checkbox">
              <input
                type="checkbox"
                checked={isPublic}
                onChange={(e) => setIsPublic(e.target.checked)}
                aria-describedby={`${publicId}-hint`}
                disabled={locked}
              />
              Public file
            </label>
            <p id={`${publicId}-hint`} className="hint">
              Unchecked, the file is stored encrypted and only holders of your licences can download it.
              Checked, anyone can download it from IPFS once it is anchored.
            </p>
          </div>
          <h2>2. Add the file</h2>
          <Dropzone
            label="Work file"
            onFile={choose}
            disabled={busy !== null}
            hint="Drop any file, or choose one"
          />
        </section>

        <section className="card" aria-labelledby="progress-heading">
          <h2 id="progress-heading">3. Sign and anchor</h2>
          <Steps steps={STEPS} current={step} failed={failed && step < 5} />
          <div aria-live="polite" className="live">
            {busy && (
              <p className="status-line">
                <span className="spinner" aria-hidden="true" /> {busy}…
              </p>
            )}
            {anchoredWork && (
              <div className="alert alert-success">
                <p>
                  Anchored as <Link href={`/works/${anchoredWork.workId}`}>work #{anchoredWork.workId}</Link>{" "}
                  <FinalityBadge finality={anchoredWork.finality} />
                </p>
              </div>
            )}
            {registration?.status === "failed" && (
              <div className="alert alert-error" role="alert">
                <p>The registration failed: {registration.error ?? "unknown reason"}</p>
              </div>
            )}
          </div>
          {error !== null && <ErrorNote error={error} />}

          {draft && (
            <dl className="facts">
              <Definition term="File">
                {draft.file.name} <span className="muted">({formatBytes(draft.file.size)})</span>
              </Definition>
              <Definition term="SHA-256">
                {draft.sha256 ? (
                  <Mono value={draft.sha256} label="SHA-256" />
                ) : (
                  <span className="muted">computing…</span>
                )}
              </Definition>
              <Definition term="CID">
                {draft.upload ? (
                  <>
                    <Mono value={draft.upload.cid} label="CID" />{" "}
                    <span className="muted">
                      {draft.upload.visibility === "private" ? "(stored encrypted)" : "(public)"}
                    </span>
                  </>
                ) : (
                  <span className="muted">
                    {draft.existing ? "—" : wallet.address ? "uploading…" : "after upload"}
                  </span>
                )}
              </Definition>
              {registration?.txHash && (
                <Definition term="Transaction">
                  <Mono value={registration.txHash} label="transaction hash" short />
                </Definition>
              )}
            </dl>
          )}

          {draft?.existing && !registration && (
            <div className="alert alert-warn">
              <p>
                This file is already registered as{" "}
                <Link href={`/works/${draft.existing.workId}`}>work #{draft.existing.workId}</Link>
                {draft.existing.creator.toLowerCase() === wallet.address?.toLowerCase()
                  ? " — by you."
                  : " by another creator."}
              </p>
            </div>
          )}

          {draft?.sha256 && !draft.existing && !draft.upload && wallet.address && busy === null && (
            <button
              type="button"
              className="button button-primary"
              onClick={() => upload(draft.file, draft.sha256!)}
            >
              Upload
            </button>
          )}
          {draft?.upload?.typedData && !registration && (
            <button type="button" className="button button-primary" onClick={sign} disabled={busy !== null}>
              Sign and register
            </button>
          )}
          {!draft && <p className="muted">Add a file to see its fingerprint here.</p>}
          {registration && registration.status !== "anchored" && registration.status !== "failed" && (
            <p className="hint">{describeStatus(registration)}</p>
          )}
        </section>
      </div>
    </>
  );
}

function describeStatus(registration: Registration): string {
  if (registration.status === "pending")
    return registration.mode === "batch"
      ? "Queued for the next Merkle batch."
      : "Queued: the relayer will submit it in a moment.";
  return "Submitted: waiting for the block to be indexed.";
}
