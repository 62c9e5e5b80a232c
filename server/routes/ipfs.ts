import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Router, type Response } from "express";
import { AppError, notFound } from "../errors.ts";
import { parseByteRange, type ByteRange } from "../http/byte-range.ts";
import { matchesIfNoneMatch, matchesIfRange } from "../http/conditional.ts";
import { parseFileCid, type IpfsStore } from "../ipfs/store.ts";

// Content under a CID never changes, so any cache may keep it for as long as HTTP allows.
const IMMUTABLE = "public, max-age=31536000, immutable";
const FULL: ByteRange = { kind: "full" };

/**
 * Serves stored files by CID: `GET` and `HEAD /ipfs/:cid` (Express answers HEAD with the GET
 * route), with one byte range per request, ETag revalidation and long-lived caching. A CID
 * inside a path (`/ipfs/<cid>/name`) is not served: the store holds files, not directories.
 * A CID `isWithheld` names (a private original, an upload not yet anchored) is answered 404, as
 * if absent.
 */
export function ipfsRouter(
  store: IpfsStore,
  isWithheld: (cid: string) => Promise<boolean> = async () => false,
): Router {
  const router = Router();

  router.get("/ipfs/:cid", async (req, res) => {
    const cid = canonicalCid(req.params.cid);
    const stat = cid === null || (await isWithheld(cid)) ? null : await store.stat(cid);
    if (cid === null || stat === null) throw notFound("content", { cid: cid ?? req.params.cid });

    const etag = `"${cid}"`;
    res.setHeader("Accept-Ranges", "bytes");
    // Preconditions come before the range (RFC 9110 §13.2.2): a cached copy makes it a 304.
    if (matchesIfNoneMatch(req, etag)) {
      setCacheable(res, etag);
      res.status(304).end();
      return;
    }
    const range = matchesIfRange(req, etag) ? parseByteRange(req.get("Range"), stat.size) : FULL;
    if (range.kind === "unsatisfiable") {
      res.setHeader("Content-Range", `bytes */${stat.size}`);
      throw new AppError("RANGE_NOT_SATISFIABLE", 416, `the file has ${stat.size} bytes`, {
        size: stat.size,
      });
    }

    setCacheable(res, etag);
    res.setHeader("Content-Type", "application/octet-stream");
    let offset = 0;
    let length = stat.size;
    if (range.kind === "partial") {
      offset = range.start;
      length = range.end - range.start + 1;
      res.status(206).setHeader("Content-Range", `bytes ${range.start}-${range.end}/${stat.size}`);
    }
    res.setHeader("Content-Length", String(length));
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    await pipeline(Readable.from(store.cat(cid, { offset, length })), res);
  });

  return router;
}

/** The CID as base32 CIDv1 (the form ETags use), or null for a CID of something never stored. */
function canonicalCid(value: string): string | null {
  try {
    return parseFileCid(value)?.toString() ?? null;
  } catch (err) {
    throw new AppError("INVALID_CID", 400, "the path does not name a valid CID", {
      cid: value.slice(0, 128),
      reason: err instanceof Error ? err.message : String(err),
    });
  }
}

// Only successful answers are cacheable: a 404 may turn into content once someone uploads it.
function setCacheable(res: Response, etag: string): void {
  res.setHeader("ETag", etag);
  res.setHeader("Cache-Control", IMMUTABLE);
  res.setHeader("X-Content-Type-Options", "nosniff");
  // Anyone's bytes: downloaded, never rendered as a page (or run as a script) of this origin.
  res.setHeader("Content-Disposition", `attachment; filename="${etag.slice(1, -1)}"`);
  res.setHeader("Content-Security-Policy", "sandbox; default-src 'none'");
}
