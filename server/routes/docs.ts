import { createRequire } from "node:module";
import path from "node:path";
import express, { Router } from "express";

const require = createRequire(import.meta.url);

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rights Ledger API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });`;

/** `/openapi.json` and interactive docs at `/docs`, with every asset served from this process. */
export function docsRouter(document: () => object): Router {
  const router = Router();
  const assets = path.dirname(require.resolve("swagger-ui-dist/package.json"));
  router.get("/openapi.json", (_req, res) => {
    res.json(document());
  });
  router.get("/docs", (_req, res) => {
    res.type("html").send(PAGE);
  });
  router.get("/docs/init.js", (_req, res) => {
    res.type("application/javascript").send(INIT);
  });
  router.use("/docs/assets", express.static(assets, { index: false, maxAge: "1d" }));
  return router;
}
