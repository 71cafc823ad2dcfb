/**
 * The admin console `GET P/console/` (docs/console.md): a page of plain ES modules that calls
 * the admin API of the same origin with a credential the operator types in. Its files are the
 * Worker's own static assets (`.assets/console/`: `console/` and uPlot, assembled by
 * scripts/assets.mjs), reached only through the `ASSETS` binding, so that they never shadow a
 * path of the protected API; the page loads nothing from another origin.
 */
import type { Hono } from "hono";
import type { AppEnv } from "../edge/app-env";
import { assetFile, escapeAttribute, PAGE_CSP } from "../http/assets";

/** The page's and its files' headers alike. */
const HEADERS = {
  "Content-Security-Policy": PAGE_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** The shell the modules fill in; `data-base` is the base path the admin API lives under. */
function page(basePath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Portcullis console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="uplot.min.css">
<link rel="stylesheet" href="console.css">
<script type="module" src="app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><span class="brand">Portcullis console</span><nav id="nav" aria-label="Console"></nav></header>
<main id="main" tabindex="-1" data-base="${escapeAttribute(basePath)}"><p>Loading…</p></main>
<noscript><p>The console needs JavaScript.</p></noscript>
</body>
</html>
`;
}

/** Mounts `console`, `console/` and `console/:file` on the app of Portcullis' own surfaces. */
export function registerConsole(app: Hono<AppEnv>, basePath: string): void {
  app.get("/console", (c) => c.redirect(`${basePath}/console/`, 308));
  app.get("/console/", (c) => c.html(page(basePath), 200, HEADERS));
  app.get("/console/:file", (c) => assetFile(c, "console", HEADERS));
}
