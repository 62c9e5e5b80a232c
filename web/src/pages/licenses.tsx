import { useState } from "react";
import type { Page } from "../../../lib/api/primitives.ts";
import type { Work } from "../../../lib/api/works.ts";
import type { License } from "../../../lib/api/licenses.ts";
import { api, describeError, query } from "../api.ts";
import {
  Badge,
  Countdown,
  Empty,
  ErrorNote,
  FinalityBadge,
  Loading,
  Untrusted,
  useAsync,
  usePageTitle,
} from "../components.tsx";
import { Link } from "../router.tsx";
import { ensureSession, useWallet } from "../wallet.tsx";
import { renewLicense } from "../commerce.ts";
import { startDownload, workDownloadLink } from "../delivery.ts";

interface Row {
  license: License;
  work: Work | null;
}

function status(license: License): { tone: "ok" | "warn" | "bad"; text: string } {
  if (license.revoked) return { tone: "bad", text: "Revoked" };
  if (!license.valid) return { tone: "warn", text: "Expired" };
  return { tone: "ok", text: "Valid" };
}

/** The connected wallet's licenses with their time left and a renew action. */
export function LicensesPage() {
  usePageTitle("My licenses");
  const wallet = useWallet();
  const [renewing, setRenewing] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: "success" | "error"; text: string } | null>(null);

  const rows = useAsync(
    async (signal) => {
      if (!wallet.address) return [];
      const page = await api<Page<License>>(`/v1/licenses${query({ holder: wallet.address, limit: 100 })}`, {
        signal,
      });
      const ids = [...new Set(page.items.map((l) => l.workId))];
      const works = new Map(
        await Promise.all(
          ids.map(
            async (id) => [id, await api<Work>(`/v1/works/${id}`, { signal }).catch(() => null)] as const,
          ),
        ),
      );
      return page.items.map((license): Row => ({ license, work: works.get(license.workId) ?? null }));
    },
    [wallet.address],
  );

  const renew = async (license: License) => {
    setRenewing(license.tokenId);
    setMessage(null);
    try {
      await renewLicense(wallet, license);
      setMessage({ tone: "success", text: `License #${license.tokenId} renewed.` });
      rows.reload();
    } catch (err) {
      setMessage({ tone: "error", text: describeError(err) });
    } finally {
      setRenewing(null);
    }
  };

  const download = async (license: License) => {
    setRenewing(license.tokenId);
    setMessage(null);
    try {
      // The file is delivered to a signed-in holder only.
      await ensureSession(wallet);
      const link = await workDownloadLink(license.workId);
      startDownload(link);
      const left = link.entitlement.downloads.left;
      setMessage({
        tone: "success",
        text: `Downloading the file of work #${license.workId}${left === null ? "" : `; ${left} downloads left`}.`,
      });
    } catch (err) {
      setMessage({ tone: "error", text: describeError(err) });
    } finally {
      setRenewing(null);
    }
  };

  return (
    <>
      <h1>My licenses</h1>
      {!wallet.address ? (
        <Empty title="Connect a wallet to see your licenses">
          <p>Licenses are tokens held by your wallet; connect it with the button at the top.</p>
        </Empty>
      ) : rows.loading && !rows.data ? (
        <Loading label="Loading your licenses" />
      ) : rows.error ? (
        <ErrorNote error={rows.error} retry={rows.reload} />
      ) : rows.data?.length === 0 ? (
        <Empty title="No licenses yet">
          <p>
            Find a work on <Link href="/">Explore</Link> and buy a license by card or with your wallet.
          </p>
        </Empty>
      ) : (
        <>
          <div aria-live="polite">
            {message && (
              <p
                className={`alert alert-${message.tone}`}
                role={message.tone === "error" ? "alert" : undefined}
              >
                {message.text}
              </p>
            )}
          </div>
          <table className="table responsive-table">
            <caption className="visually-hidden">Licenses held by {wallet.address}</caption>
            <thead>
              <tr>
                <th scope="col">Work</th>
                <th scope="col">License</th>
                <th scope="col">Status</th>
                <th scope="col">Time left</th>
                <th scope="col">Proof</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.data!.map(({ license, work }) => {
                const s = status(license);
                return (
                  <tr key={license.tokenId}>
                    <td data-label="Work">
                      <Link href={`/works/${license.workId}`}>
                        {work?.title ? <Untrusted text={work.title} /> : `Work #${license.workId}`}
                      </Link>
                    </td>
                    <td data-label="License">
                      #{license.tokenId}
                      {license.renewals > 0 && <span className="muted"> · renewed {license.renewals}×</span>}
                    </td>
                    <td data-label="Status">
                      <Badge tone={s.tone}>{s.text}</Badge>
                    </td>
                    <td data-label="Time left">
                      {license.perpetual || !license.expiresAt ? (
                        "Perpetual"
                      ) : (
                        <Countdown iso={license.expiresAt} />
                      )}
                    </td>
                    <td data-label="Proof">
                      <FinalityBadge finality={license.finality} />
                    </td>
                    <td data-label="Actions" className="actions">
                      {license.valid && work?.visibility != null && (
                        <button
                          type="button"
                          className="button button-small"
                          onClick={() => download(license)}
                          disabled={renewing !== null}
                          aria-label={`Download the file of license #${license.tokenId}`}
                        >
                          Download
                        </button>
                      )}
                      {!license.perpetual && !license.revoked && (
                        <button
                          type="button"
                          className="button button-small"
                          onClick={() => renew(license)}
                          disabled={renewing !== null}
                          aria-label={`Renew license #${license.tokenId}`}
                        >
                          {renewing === license.tokenId ? "Renewing…" : "Renew"}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
