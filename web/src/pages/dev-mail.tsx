import type { CaughtMail, CaughtMailList } from "../../../lib/api/mail.ts";
import { api, ApiError } from "../api.ts";
import { Empty, ErrorNote, Loading, Time, useAsync, usePageTitle } from "../components.tsx";
import { Link } from "../router.tsx";

/** The API answers 404 here when no catcher runs: a production deployment, or SMTP_URL set. */
function NoCatcher() {
  return (
    <Empty title="No caught mail here">
      <p>
        Mail is caught and shown here only while <code>npm start</code> runs its local SMTP server (with no{" "}
        <code>SMTP_URL</code> of its own).
      </p>
    </Empty>
  );
}

const noCatcher = (error: unknown) => error instanceof ApiError && error.status === 404;

/** The development stack's caught mail: the list, or one mail with its HTML in a sandboxed frame. */
export function DevMailPage({ id }: { id: string | null }) {
  usePageTitle(id ? `Caught mail ${id}` : "Caught mail");
  return id ? <OneMail id={id} /> : <MailList />;
}

function MailList() {
  const mails = useAsync((signal) => api<CaughtMailList>("/v1/dev/mail", { signal }), []);
  return (
    <>
      <h1>Caught mail</h1>
      <p>
        <button type="button" className="button button-small" onClick={mails.reload}>
          Refresh
        </button>
      </p>
      {mails.loading && !mails.data ? (
        <Loading />
      ) : mails.error ? (
        noCatcher(mails.error) ? (
          <NoCatcher />
        ) : (
          <ErrorNote error={mails.error} retry={mails.reload} />
        )
      ) : mails.data!.mails.length === 0 ? (
        <Empty title="No mail caught yet" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">To</th>
              <th scope="col">Subject</th>
              <th scope="col">Attachments</th>
            </tr>
          </thead>
          <tbody>
            {mails.data!.mails.map((mail) => (
              <tr key={mail.id}>
                <td>
                  <Time iso={mail.receivedAt} />
                </td>
                <td>{mail.to.join(", ")}</td>
                <td>
                  <Link href={`/dev/mail/${mail.id}`}>{mail.subject || "(no subject)"}</Link>
                </td>
                <td>{mail.attachments.map((a) => a.filename).join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function OneMail({ id }: { id: string }) {
  const mail = useAsync((signal) => api<CaughtMail>(`/v1/dev/mail/${id}`, { signal }), [id]);
  return (
    <>
      <p>
        <Link href="/dev/mail">← Caught mail</Link>
      </p>
      {mail.loading && !mail.data ? (
        <Loading />
      ) : mail.error ? (
        noCatcher(mail.error) ? (
          <NoCatcher />
        ) : (
          <ErrorNote error={mail.error} retry={mail.reload} />
        )
      ) : (
        <>
          <h1>{mail.data!.subject || "(no subject)"}</h1>
          <dl className="card-meta">
            <div>
              <dt>From</dt>
              <dd>{mail.data!.from}</dd>
            </div>
            <div>
              <dt>To</dt>
              <dd>{mail.data!.to.join(", ")}</dd>
            </div>
            <div>
              <dt>Message-ID</dt>
              <dd>{mail.data!.messageId ?? "—"}</dd>
            </div>
            <div>
              <dt>Attachments</dt>
              <dd>
                {mail
                  .data!.attachments.map((a) => `${a.filename} (${a.contentType}, ${a.size} bytes)`)
                  .join(", ") || "none"}
              </dd>
            </div>
          </dl>
          {mail.data!.html !== null && (
            <iframe
              title="The mail's HTML"
              sandbox=""
              src={`/v1/dev/mail/${id}/html`}
              className="mail-frame"
            />
          )}
          <h2>Text</h2>
          <pre className="mail-text">{mail.data!.text}</pre>
        </>
      )}
    </>
  );
}
