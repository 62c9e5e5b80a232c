import { existsSync } from "node:fs";
import path from "node:path";
import express, { Router } from "express";

/** Vite names built assets after their content, so a URL under /assets never changes meaning. */
const HASHED_ASSETS = "/assets";

/**
 * The single-page web app built into `dir` (index.html + hashed assets): assets cached for a year,
 * index.html revalidated on every load, and every other GET that prefers HTML (a page load, not
 * an API call) answered with index.html so the app's own routes (/works/12, /verify) load directly.
 */
export function webRouter(dir: string): Router {
  const router = Router();
  const root = path.resolve(dir);
  const index = path.join(root, "index.html");
  router.use(HASHED_ASSETS, express.static(path.join(root, "assets"), { immutable: true, maxAge: "365d" }));
  router.use(
    express.static(root, {
      index: false,
      maxAge: "1h",
      setHeaders: (res, file) => {
        if (file === index) res.setHeader("Cache-Control", "no-cache");
      },
    }),
  );
  router.get(/.*/, (req, res, next) => {
    // Only page loads get the app: API clients (and unknown API paths) keep their JSON 404.
    if (req.path.startsWith("/v1/") || req.accepts(["json", "html"]) !== "html" || !existsSync(index)) {
      next();
      return;
    }
    res.setHeader("Cache-Control", "no-cache");
    res.sendFile(index);
  });
  return router;
}
