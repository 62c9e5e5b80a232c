import { useEffect, useId, useState } from "react";
import type { Page } from "../../../lib/api/primitives.ts";
import type { Work } from "../../../lib/api/works.ts";
import { api, query } from "../api.ts";
import {
  Empty,
  ErrorNote,
  FinalityBadge,
  Loading,
  Time,
  Untrusted,
  useAsync,
  usePageTitle,
} from "../components.tsx";
import { shortHex } from "../format.ts";
import { Link } from "../router.tsx";

/** Registered works, newest first, searchable by title. */
export function ExplorePage() {
  usePageTitle("Explore");
  const searchId = useId();
  const [text, setText] = useState("");
  const [q, setQ] = useState("");
  const [more, setMore] = useState<Work[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);

  // Search as the user types, once they pause.
  useEffect(() => {
    const timer = setTimeout(() => setQ(text.trim()), 250);
    return () => clearTimeout(timer);
  }, [text]);

  const first = useAsync((signal) => api<Page<Work>>(`/v1/works${query({ q, limit: 24 })}`, { signal }), [q]);
  useEffect(() => {
    setMore([]);
    setCursor(first.data?.nextCursor ?? null);
  }, [first.data]);

  const loadMore = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await api<Page<Work>>(`/v1/works${query({ q, limit: 24, cursor })}`);
      setMore((items) => [...items, ...page.items]);
      setCursor(page.nextCursor ?? null);
    } catch (err) {
      setMoreError(err);
    } finally {
      setLoadingMore(false);
    }
  };

  const works = [...(first.data?.items ?? []), ...more];

  return (
    <>
      <section className="hero">
        <h1>Registered works</h1>
        <p className="lead">
          Every work here has its SHA-256 fingerprint anchored on chain: proof of who registered it, and when.
        </p>
        <form className="search" role="search" onSubmit={(e) => e.preventDefault()}>
          <label htmlFor={searchId} className="visually-hidden">
            Search works by title
          </label>
          <input
            id={searchId}
            type="search"
            placeholder="Search by title or description"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </form>
      </section>

      {first.loading && works.length === 0 ? (
        <Loading label="Loading works" />
      ) : first.error ? (
        <ErrorNote error={first.error} retry={first.reload} />
      ) : works.length === 0 ? (
        q ? (
          <Empty title={`No works match “${q}”`}>
            <p>Try another word, or clear the search.</p>
          </Empty>
        ) : (
          <Empty title="No works registered yet">
            <p>
              <Link href="/create" className="button button-primary">
                Register the first work
              </Link>
            </p>
          </Empty>
        )
      ) : (
        <>
          <p className="visually-hidden" role="status">
            {works.length} works shown
          </p>
          <ul className="card-grid">
            {works.map((work) => (
              <li key={work.workId}>
                <WorkCard work={work} />
              </li>
            ))}
          </ul>
          {moreError !== null && <ErrorNote error={moreError} retry={loadMore} />}
          {cursor && (
            <div className="center">
              <button type="button" className="button" onClick={loadMore} disabled={loadingMore}>
                {loadingMore ? "Loading…" : "Load more"}
              </button>
            </div>
          )}
        </>
      )}
    </>
  );
}

function WorkCard({ work }: { work: Work }) {
  return (
    <article className="card work-card">
      <div className="card-top">
        <span className="work-id">#{work.workId}</span>
        <FinalityBadge finality={work.finality} />
      </div>
      <h2 className="card-title">
        <Link href={`/works/${work.workId}`}>
          {work.title === null ? "Untitled work" : <Untrusted text={work.title} />}
        </Link>
      </h2>
      <dl className="card-meta">
        <div>
          <dt>Creator</dt>
          <dd>
            <code title={work.creator}>{shortHex(work.creator)}</code>
          </dd>
        </div>
        <div>
          <dt>Registered</dt>
          <dd>
            <Time iso={work.registeredAt} />
          </dd>
        </div>
        <div>
          <dt>SHA-256</dt>
          <dd>
            <code title={work.contentHash}>{shortHex(work.contentHash, 6)}</code>
          </dd>
        </div>
      </dl>
    </article>
  );
}
