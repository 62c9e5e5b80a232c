import { useId, useState, type FormEvent } from "react";
import type { DeliveryTerms } from "../../../lib/api/deliveries.ts";
import type { Offer } from "../../../lib/api/offers.ts";
import { api, describeError } from "../api.ts";
import { ErrorNote, Loading, useAsync } from "../components.tsx";
import { ensureSession, useWallet } from "../wallet.tsx";

const DAY = 86_400;

/** A limit as a person reads it. */
function describe(terms: DeliveryTerms): string[] {
  return [
    terms.maxDownloads === null
      ? "Unlimited downloads"
      : `${terms.maxDownloads} download${terms.maxDownloads === 1 ? "" : "s"} per license`,
    terms.maxDevices === null ? "on any number of devices" : `on up to ${terms.maxDevices} devices`,
    terms.windowSeconds === null
      ? "for as long as the license is valid"
      : `within ${Math.round(terms.windowSeconds / DAY)} days of purchase`,
    terms.watermark ? "images and PDFs marked with the license" : "unmarked copies",
  ];
}

const limitOf = (text: string): number | null => (text.trim() === "" ? null : Number(text));

/** How an offer's licenses are delivered; its creator sets the limits here. */
export function DeliveryTermsSection({ offer, mine }: { offer: Offer; mine: boolean }) {
  const wallet = useWallet();
  const id = useId();
  const terms = useAsync(
    (signal) => api<DeliveryTerms>(`/v1/offers/${offer.offerId}/delivery-terms`, { signal }),
    [offer.offerId],
  );
  const [downloads, setDownloads] = useState("");
  const [devices, setDevices] = useState("");
  const [days, setDays] = useState("");
  const [watermark, setWatermark] = useState(false);
  const [editing, setEditing] = useState(false);
  const [message, setMessage] = useState<{ tone: "success" | "error"; text: string } | null>(null);

  const edit = (current: DeliveryTerms) => {
    setDownloads(current.maxDownloads?.toString() ?? "");
    setDevices(current.maxDevices?.toString() ?? "");
    setDays(current.windowSeconds === null ? "" : String(Math.round(current.windowSeconds / DAY)));
    setWatermark(current.watermark);
    setEditing(true);
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setMessage(null);
    try {
      await ensureSession(wallet);
      const windowDays = limitOf(days);
      await api<DeliveryTerms>(`/v1/offers/${offer.offerId}/delivery-terms`, {
        method: "PUT",
        json: {
          maxDownloads: limitOf(downloads),
          maxDevices: limitOf(devices),
          windowSeconds: windowDays === null ? null : windowDays * DAY,
          watermark,
        } satisfies DeliveryTerms,
      });
      setMessage({ tone: "success", text: "Delivery terms saved." });
      setEditing(false);
      terms.reload();
    } catch (err) {
      setMessage({ tone: "error", text: describeError(err) });
    }
  };

  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Delivery</h2>
      {terms.loading && !terms.data ? (
        <Loading label="Loading the delivery terms" />
      ) : terms.error || !terms.data ? (
        <ErrorNote error={terms.error} retry={terms.reload} />
      ) : (
        <p>{describe(terms.data).join(", ")}.</p>
      )}
      {mine && terms.data && !editing && (
        <button type="button" className="button button-small" onClick={() => edit(terms.data!)}>
          Change delivery terms
        </button>
      )}
      {mine && editing && (
        <form onSubmit={save}>
          <div className="field">
            <label htmlFor={`${id}-downloads`}>
              Downloads per license <span className="optional">(empty: no limit)</span>
            </label>
            <input
              id={`${id}-downloads`}
              inputMode="numeric"
              value={downloads}
              onChange={(e) => setDownloads(e.target.value.replace(/\D/g, ""))}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-devices`}>
              Devices per license <span className="optional">(empty: no limit)</span>
            </label>
            <input
              id={`${id}-devices`}
              inputMode="numeric"
              value={devices}
              onChange={(e) => setDevices(e.target.value.replace(/\D/g, ""))}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-days`}>
              Days after purchase to download <span className="optional">(empty: no limit)</span>
            </label>
            <input
              id={`${id}-days`}
              inputMode="numeric"
              value={days}
              onChange={(e) => setDays(e.target.value.replace(/\D/g, ""))}
            />
          </div>
          <label className="checkbox">
            <input type="checkbox" checked={watermark} onChange={(e) => setWatermark(e.target.checked)} />
            Mark images and PDFs with the license they are delivered to
          </label>
          <div className="offer-actions">
            <button type="submit" className="button button-primary">
              Save delivery terms
            </button>
          </div>
        </form>
      )}
      <div aria-live="polite">
        {message && <p className={message.tone === "success" ? "text-ok" : "text-bad"}>{message.text}</p>}
      </div>
    </section>
  );
}
