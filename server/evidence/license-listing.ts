import { z } from "zod";
import { checksummer } from "../../lib/address.ts";
import { licenseSchema, type LicenseFact } from "../../lib/evidence/manifest.ts";

type Uint = bigint | number | string;

/** A license as a caller hands it to the bundle builder. */
export interface LicenseInput {
  tokenId: Uint;
  offerId: Uint;
  holder: string;
  /** Unix seconds; 0 for perpetual. */
  expiresAt: Uint;
  revoked: boolean;
  /** Null or absent when unknown. */
  issuedAt?: Date | string | null;
  txHash?: string;
  commercialUse?: boolean;
  territory?: string;
}

/**
 * Licenses the report's table lists; manifest.json lists them all. A work with 100,000 licenses
 * would otherwise make a report of 2,500 pages that takes half a minute to draw and nobody reads.
 */
export const REPORT_LICENSES = 1000;

/** What the report shows of a work's licenses. */
export interface LicenseSummary {
  count: number;
  /** The first `REPORT_LICENSES`, in listing (token) order. */
  first: LicenseFact[];
  /** How many carry an issue time, and the earliest and latest of those times (ISO, UTC). */
  issued: { count: number; first: string; latest: string };
}

/** A work's licenses as manifest.json lists them, one JSON object a line, with the report's summary. */
export interface LicenseListing extends LicenseSummary {
  /**
   * The manifest's lines, each indented by four spaces and separated by ",\n", as UTF-8 in chunks of
   * about a megabyte: buffers outside the JavaScript heap, which the garbage collector never copies.
   */
  chunks: Uint8Array[];
}

const CHUNK_CHARS = 1 << 20;
const T = "t".charCodeAt(0);
const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

/** Writes lines into the chunks of a listing, so that no line outlives its chunk. */
class ListingWriter {
  readonly chunks: Uint8Array[] = [];
  #text = "";
  #lines = 0;

  add(line: string): void {
    this.#text += this.#lines++ === 0 ? line : `,\n${line}`;
    if (this.#text.length >= CHUNK_CHARS) this.flush();
  }

  flush(): Uint8Array[] {
    if (this.#text.length > 0) this.chunks.push(Buffer.from(this.#text));
    this.#text = "";
    return this.chunks;
  }
}

/** The terms of an offer a license was bought under, as the listing states them. */
export interface OfferTerms {
  commercialUse: boolean;
  territory: string;
}

/**
 * A license row as `EvidenceFactsRepository` reads it: token id, offer id, holder, expiry (unix
 * seconds), revoked ("t" or "f"), issue time (unix milliseconds, empty when unknown) and transaction
 * hash, joined by commas, once PostgreSQL found its numbers and time in the range the manifest's
 * license schema accepts; otherwise "!" and the token id.
 */
export type LicenseRow = string;

/** A license the database holds that no manifest can state; building again will not help. */
export class LicenseShapeError extends Error {}

/** Counts and finds the first and latest issue times of `licenses` in one pass (ISO times order as strings). */
export function summarizeLicenses(licenses: LicenseFact[]): LicenseSummary {
  const issued = { count: 0, first: "", latest: "" };
  for (const { issuedAt } of licenses) {
    if (!issuedAt) continue;
    issued.count += 1;
    if (issued.count === 1 || issuedAt < issued.first) issued.first = issuedAt;
    if (issued.count === 1 || issuedAt > issued.latest) issued.latest = issuedAt;
  }
  return { count: licenses.length, first: licenses.slice(0, REPORT_LICENSES), issued };
}

/** Lists licenses given as objects: each is normalised and checked against the manifest's license schema. */
export async function listLicenses(licenses: LicenseInput[]): Promise<LicenseListing> {
  const show = await checksummer();
  const facts = z.array(licenseSchema).parse(
    licenses.map((l) => ({
      tokenId: BigInt(l.tokenId).toString(),
      offerId: BigInt(l.offerId).toString(),
      holder: show(l.holder),
      expiresAt: Number(l.expiresAt),
      revoked: l.revoked,
      issuedAt: l.issuedAt ? new Date(l.issuedAt).toISOString() : undefined,
      txHash: l.txHash && l.txHash.toLowerCase(),
      commercialUse: l.commercialUse,
      territory: l.territory,
    })),
  );
  const listing = new ListingWriter();
  for (const fact of facts) listing.add(`    ${JSON.stringify(fact)}`);
  return { ...summarizeLicenses(facts), chunks: listing.flush() };
}

/**
 * Lists licenses read from the database as `LicenseRow`s, in the rows' order, each written straight
 * into its manifest line (the holder checksummed), so that a work's 100,000 licenses never become
 * objects. Rows of offers not in `offers` are left out. The lines are byte for byte those
 * `listLicenses` writes for the same licenses.
 * @throws LicenseShapeError at a row PostgreSQL found out of the license schema's range, or whose
 * holder is no address or transaction hash no 32-byte hex value.
 */
export async function listLicenseRows(
  rows: Iterable<LicenseRow>,
  offers: Map<string, OfferTerms>,
): Promise<LicenseListing> {
  const show = await checksummer();
  const terms = new Map(
    [...offers].map(([offerId, t]) => [
      offerId,
      `,"commercialUse":${t.commercialUse},"territory":${JSON.stringify(t.territory)}}`,
    ]),
  );
  const listing = new ListingWriter();
  const first: LicenseFact[] = [];
  const issued = { count: 0, first: "", latest: "" };
  let count = 0;
  let earliestMs = 0;
  let latestMs = 0;
  for (const row of rows) {
    if (row.startsWith("!")) {
      throw new LicenseShapeError(`license ${row.slice(1)} holds a value no evidence manifest can state`);
    }
    const offerAt = row.indexOf(",") + 1;
    const holderAt = row.indexOf(",", offerAt) + 1;
    const expiresAt = row.indexOf(",", holderAt) + 1;
    const revokedAt = row.indexOf(",", expiresAt) + 1;
    const issuedAt = revokedAt + 2;
    const txAt = row.indexOf(",", issuedAt) + 1;
    const tail = terms.get(row.slice(offerAt, holderAt - 1));
    if (tail === undefined) continue;
    const tokenId = row.slice(0, offerAt - 1);
    const txHash = row.slice(txAt);
    let holder: string;
    try {
      // Each distinct holder is checked (and checksummed) once.
      holder = show(row.slice(holderAt, expiresAt - 1));
      if (!TX_HASH.test(txHash)) throw new Error("no transaction hash");
    } catch {
      throw new LicenseShapeError(`license ${tokenId} holds a value no evidence manifest can state`);
    }
    let issuedField = "";
    if (txAt - 1 > issuedAt) {
      const ms = Number(row.slice(issuedAt, txAt - 1));
      const iso = new Date(ms).toISOString();
      issuedField = `,"issuedAt":"${iso}"`;
      issued.count += 1;
      if (issued.count === 1 || ms < earliestMs) [earliestMs, issued.first] = [ms, iso];
      if (issued.count === 1 || ms > latestMs) [latestMs, issued.latest] = [ms, iso];
    }
    const line =
      `    {"tokenId":"${tokenId}","offerId":"${row.slice(offerAt, holderAt - 1)}","holder":"${holder}",` +
      `"expiresAt":${row.slice(expiresAt, revokedAt - 1)},"revoked":${row.charCodeAt(revokedAt) === T}` +
      `${issuedField},"txHash":"${txHash.toLowerCase()}"${tail}`;
    listing.add(line);
    if (count++ < REPORT_LICENSES) first.push(JSON.parse(line) as LicenseFact);
  }
  return { count, first, issued, chunks: listing.flush() };
}
