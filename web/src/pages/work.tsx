import { useState } from "react";
import type { Delivery } from "../../../lib/api/deliveries.ts";
import type { Page } from "../../../lib/api/primitives.ts";
import type { Work } from "../../../lib/api/works.ts";
import { api, ApiError } from "../api.ts";
import {
  Definition,
  ErrorNote,
  FinalityBadge,
  Loading,
  Mono,
  Time,
  Untrusted,
  useAsync,
  usePageTitle,
} from "../components.tsx";
import { formatDate, visible } from "../format.ts";
import { Link } from "../router.tsx";
import { ensureSession, useWallet } from "../wallet.tsx";
import { Offers } from "./offers.tsx";
import { NotFoundPage } from "./not-found.tsx";

/** One work: its proof, its versions, its offers and how many licenses were sold. */
export function WorkPage({ id }: { id: string }) {
  const wallet = useWallet();
  const work = useAsync((signal) => api<Work>(`/v1/works/${id}`, { signal }), [id]);
  const versions = useAsync((signal) => api<{ items: Work[] }>(`/v1/works/${id}/versions`, { signal }), [id]);
  usePageTitle(work.data?.title ? visible(work.data.title) : `Work #${id}`);

  if (work.loading && !work.data) return <Loading label="Loading the work" />;
  if (work.error instanceof ApiError && work.error.status === 404)
    return <NotFoundPage what={`Work #${id}`} />;
  if (work.error || !work.data) return <ErrorNote error={work.error} retry={work.reload} />;
  const w = work.data;
  const mine = wallet.address?.toLowerCase() === w.creator.toLowerCase();

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/">Explore</Link> <span aria-hidden="true">/</span> <span>Work #{w.workId}</span>
      </nav>
      <div className="page-title">
        <h1>{w.title === null ? "Untitled work" : <Untrusted text={w.title} />}</h1>
        <FinalityBadge finality={w.finality} />
      </div>
      {w.supersededBy === null ? (
        <p className="lead">
          Registered <Time iso={w.registeredAt} /> by <code>{w.creator}</code>
          {mine && <span className="badge badge-info">you</span>}
        </p>
      ) : (
        <p className="lead" role="alert">
          A later claim of this file by <code>{w.creator}</code>, superseded: the file was claimed earlier as{" "}
          <Link href={`/works/${w.supersededBy}`}>work #{w.supersededBy}</Link>, whose creator is its author.
        </p>
      )}

      <div className="two-columns">
        <section className="card" aria-labelledby="proof-heading">
          <h2 id="proof-heading">Proof of registration</h2>
          <dl className="facts">
            <Definition term="SHA-256">
              <Mono value={w.contentHash} label="SHA-256" />
            </Definition>
            <Definition term="CID">
              <span className="mono-value">
                {w.visibility === "private" ? (
                  <code>
                    <Untrusted text={w.cid} cut={w.valueNotes?.cid?.cut} />
                  </code>
                ) : (
                  <a href={`/ipfs/${encodeURIComponent(w.cid)}`} className="mono-link">
                    <code>
                      <Untrusted text={w.cid} cut={w.valueNotes?.cid?.cut} />
                    </code>
                  </a>
                )}
              </span>
            </Definition>
            {w.visibility !== null && (
              <Definition term="File">
                {w.visibility === "private"
                  ? "Stored encrypted: delivered only to licence holders"
                  : "Public: anyone may download it"}
              </Definition>
            )}
            {w.preview && (
              <Definition term="Preview">
                <a href={w.preview.url} className="mono-link">
                  {w.preview.filename ?? "Download the preview"}
                </a>
              </Definition>
            )}
            <Definition term={w.supersededBy === null ? "Creator" : "Claimed by (superseded)"}>
              <Mono value={w.creator} label="creator address" />
            </Definition>
            {w.coAuthors.length > 0 && (
              <Definition term="Co-authors">
                {w.coAuthors.map((a) => (
                  <Mono key={a} value={a} label="co-author address" />
                ))}
              </Definition>
            )}
            <Definition term="Registered at">{formatDate(w.registeredAt)}</Definition>
            <Definition term="Block">
              {w.blockNumber} <FinalityBadge finality={w.finality} />
            </Definition>
            <Definition term="Transaction">
              <Mono value={w.txHash} label="transaction hash" short />
            </Definition>
          </dl>
        </section>

        <section className="card" aria-labelledby="versions-heading">
          <h2 id="versions-heading">Versions</h2>
          {versions.loading && !versions.data ? (
            <Loading label="Loading versions" />
          ) : versions.error ? (
            <ErrorNote error={versions.error} retry={versions.reload} />
          ) : (
            <ol className="versions">
              {(versions.data?.items ?? []).map((v, index) => (
                <li key={v.workId} aria-current={v.workId === w.workId ? "true" : undefined}>
                  <span className="version-number">v{v.version ?? index + 1}</span>
                  {v.workId === w.workId ? (
                    <strong>
                      {v.title === null ? `Work #${v.workId}` : <Untrusted text={v.title} />} (this page)
                    </strong>
                  ) : (
                    <Link href={`/works/${v.workId}`}>
                      {v.title === null ? `Work #${v.workId}` : <Untrusted text={v.title} />}
                    </Link>
                  )}
                  <span className="muted">
                    {" "}
                    · <Time iso={v.registeredAt} />
                  </span>
                </li>
              ))}
            </ol>
          )}
          {mine && (
            <Link href={`/create?parent=${w.workId}`} className="button button-small">
              Register a new version
            </Link>
          )}
        </section>
      </div>

      <Offers work={w} mine={mine} />
      {mine && w.visibility !== null && <DeliveryLog workId={w.workId} />}
    </>
  );
}

/** The work's deliveries for its creator: who downloaded it, when, with which license and device. */
function DeliveryLog({ workId }: { workId: string }) {
  const wallet = useWallet();
  const [page, setPage] = useState<Page<Delivery> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    setBusy(true);
    setError(null);
    try {
      await ensureSession(wallet);
      setPage(await api<Page<Delivery>>(`/v1/works/${workId}/deliveries?limit=50`));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="deliveries-heading">
      <h2 id="deliveries-heading">Deliveries</h2>
      <p className="muted">Every download link given to a holder of a license to this work.</p>
      <button type="button" className="button button-small" onClick={load} disabled={busy}>
        {page ? "Refresh" : "Show deliveries"}
      </button>
      {error !== null && <ErrorNote error={error} />}
      {page && page.items.length === 0 && <p>No deliveries yet.</p>}
      {page && page.items.length > 0 && (
        <table className="table responsive-table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Holder</th>
              <th scope="col">License</th>
              <th scope="col">Through</th>
              <th scope="col">Device</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((d) => (
              <tr key={d.id}>
                <td data-label="When">
                  <Time iso={d.at} />
                </td>
                <td data-label="Holder">
                  <Mono value={d.holder} label="holder address" short />
                </td>
                <td data-label="License">#{d.tokenId}</td>
                <td data-label="Through">{d.via === "order" ? "card order" : "wallet"}</td>
                <td data-label="Device">{d.device === null ? "—" : <Untrusted text={d.device} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
