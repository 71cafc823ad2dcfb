/**
 * The portal's browser files (docs/portal.md): the hosted page `GET P/portal/` and the element
 * `P/portal/element.js` with the modules it loads. Its files are the Worker's own static assets
 * (`.assets/portal/`: `portal/`, the console's shared DOM and chart helpers and uPlot,
 * assembled by scripts/assets.mjs), reached only through the `ASSETS` binding.
 *
 * The files are served to every origin (`Access-Control-Allow-Origin: *`,
 * `Cross-Origin-Resource-Policy: cross-origin`), since a provider's own pages load the element;
 * they hold no secret. The page runs under a CSP without inline script, cannot be framed, sends
 * no referrer and is never cached. Without `policy.portal`, none of this exists (404).
 */
import type { Hono } from "hono";
import type { AppEnv } from "../edge/app-env";
import { assetFile, escapeAttribute, PAGE_CSP } from "../http/assets";
import type { CompiledPolicy } from "../policy/compiled";

const PAGE_HEADERS = {
  "Content-Security-Policy": PAGE_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

const FILE_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Cross-Origin-Resource-Policy": "cross-origin",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** The shell `page.js` fills in; `data-origins` are the origins whose `postMessage` it takes. */
function page(origins: string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>API keys</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="page.css">
<script type="module" src="page.js"></script>
</head>
<body>
<main id="main" data-origins="${escapeAttribute(origins.join(" "))}"><p class="notice">Loading…</p></main>
<noscript><p>This page needs JavaScript.</p></noscript>
</body>
</html>
`;
}

/** Mounts `portal`, `portal/` and `portal/:file` when the policy has a portal. */
export function registerPortalElement(app: Hono<AppEnv>, compiled: CompiledPolicy): void {
  const portal = compiled.policy.portal;
  if (!portal) return;
  const base = compiled.policy.basePath;
  const html = page(portal.origins);
  app.get("/portal", (c) => c.redirect(`${base}/portal/`, 308));
  app.get("/portal/", (c) => c.html(html, 200, PAGE_HEADERS));
  app.get("/portal/:file", (c) => assetFile(c, "portal", FILE_HEADERS));
}
