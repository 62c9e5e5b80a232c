/** Presentation helpers: dates, durations, addresses, amounts. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function formatDate(iso: string): string {
  return dateTime.format(new Date(iso));
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** "3 minutes ago", "in 2 days". */
export function fromNow(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  // Block times and this device's clock differ by a few seconds either way.
  if (Math.abs(seconds) < 30) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second")
      return relative.format(Math.round(seconds / size), unit);
  }
  return "";
}

/** A duration in seconds as "30 days", "1 year", "2 h 5 min". */
export function formatDuration(totalSeconds: number): string {
  if (totalSeconds <= 0) return "0 s";
  const days = Math.floor(totalSeconds / 86400);
  if (days >= 365 && days % 365 === 0) return plural(days / 365, "year");
  if (days >= 1) return plural(days, "day");
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours) return `${hours} h ${minutes} min`;
  if (minutes) return `${minutes} min ${seconds} s`;
  return `${seconds} s`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** 0x1234…abcd */
export function shortHex(value: string, keep = 4): string {
  return value.length > 2 + keep * 2 + 1 ? `${value.slice(0, 2 + keep)}…${value.slice(-keep)}` : value;
}

/** Wei (decimal string) as ETH with up to 6 decimals. */
export function formatEth(wei: string): string {
  const value = BigInt(wei);
  const whole = value / 10n ** 18n;
  const fraction = (value % 10n ** 18n).toString().padStart(18, "0").slice(0, 6).replace(/0+$/, "");
  return `${whole}${fraction ? `.${fraction}` : ""} ETH`;
}

/** Minor units (cents) as a localized price. */
export function formatMoney(amount: number | string, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).format(
    Number(amount) / 100,
  );
}

/** An integer amount in a currency's smallest unit, with `decimals` digits after the point and no trailing zeros past two. */
export function formatUnits(amount: string, decimals: number | null): string {
  if (decimals === null || decimals === 0) return BigInt(amount).toLocaleString("en-US");
  const value = BigInt(amount);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const fraction = (abs % scale).toString().padStart(decimals, "0").replace(/0+$/, "").padEnd(2, "0");
  return `${sign}${(abs / scale).toLocaleString("en-US")}.${fraction}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

// Controls and the characters that reorder or hide text (bidirectional overrides, isolates, marks,
// zero-width spaces): someone on chain may use them to spoof a name or break the layout.
const HIDDEN = /[\p{Cc}\u061C\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/gu;

/** `text` with every control or bidirectional character shown as a visible marker such as ⟨U+202E⟩. */
export function visible(text: string): string {
  return text.replace(HIDDEN, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}⟩`);
}
