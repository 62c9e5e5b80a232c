/** Downloads of licensed files: this browser's device key, links from an order or a wallet's license. */
import type { DownloadLink, DownloadRequest } from "../../lib/api/deliveries.ts";
import { api } from "./api.ts";

const DEVICE_STORAGE = "rights-ledger:device";

/** This browser's device key: made once, kept in local storage; it counts against an offer's device limit. */
export function deviceKey(): string {
  const kept = localStorage.getItem(DEVICE_STORAGE);
  if (kept && /^[A-Za-z0-9_-]{16,128}$/.test(kept)) return kept;
  const made = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  localStorage.setItem(DEVICE_STORAGE, made);
  return made;
}

function thisDevice(): DownloadRequest {
  const agent = navigator.userAgent;
  const browser = /Firefox\//.test(agent)
    ? "Firefox"
    : /Edg\//.test(agent)
      ? "Edge"
      : /Chrome\//.test(agent)
        ? "Chrome"
        : /Safari\//.test(agent)
          ? "Safari"
          : "Browser";
  return {
    device: deviceKey(),
    deviceLabel: `${browser} on ${navigator.platform || "this device"}`.slice(0, 64),
  };
}

/** A download link for a card order's license, with the order's secret. */
export function orderDownloadLink(orderId: string, secret: string): Promise<DownloadLink> {
  return api<DownloadLink>(`/v1/orders/${orderId}/downloads`, {
    json: thisDevice(),
    headers: { "x-order-secret": secret },
  });
}

/** A download link for the signed-in wallet's license to a work. */
export function workDownloadLink(workId: string): Promise<DownloadLink> {
  return api<DownloadLink>(`/v1/works/${workId}/downloads`, { json: thisDevice() });
}

/** Starts the browser's download of a link: the API answers it as an attachment. */
export function startDownload(link: DownloadLink): void {
  const anchor = document.createElement("a");
  anchor.href = link.url;
  anchor.rel = "noopener";
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
}
