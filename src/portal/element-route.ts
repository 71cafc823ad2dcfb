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
import type { Context, Hono } from "hono";
import type { AppEnv } from "../edge/app-env";
import type { CompiledPolicy } from "../policy/compiled";
import { Refusal } from "../refusals";

/** Same origin only, no inline script or style, no framing, no form posted anywhere. */
export const PORTAL_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE_HEADERS = {
  "Content-Security-Policy": PORTAL_PAGE_CSP,
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

/** A file of the portal: a name without a path, served as a script or a style sheet. */
const FILE_NAME = /^[a-z0-9][a-z0-9.-]*\.(js|css)$/;
const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

const escapeAttribute = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");

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

async function file(c: Context<AppEnv>): Promise<Response> {
  const name = c.req.param("file") ?? "";
  const match = FILE_NAME.exec(name);
  if (!match) throw new Refusal("not_found", "No such file of the portal.");
  const stored = await c.env.ASSETS.fetch(new URL(`/portal/${name}`, c.req.url));
  if (!stored.ok) {
    await stored.body?.cancel();
    throw new Refusal("not_found", "No such file of the portal.");
  }
  return new Response(stored.body, {
    status: 200,
    headers: { ...FILE_HEADERS, "Content-Type": CONTENT_TYPES[match[1] as string] as string },
  });
}

/** Mounts `portal`, `portal/` and `portal/:file` when the policy has a portal. */
export function registerPortalElement(app: Hono<AppEnv>, compiled: CompiledPolicy): void {
  const portal = compiled.policy.portal;
  if (!portal) return;
  const base = compiled.policy.basePath;
  const html = page(portal.origins);
  app.get("/portal", (c) => c.redirect(`${base}/portal/`, 308));
  app.get("/portal/", (c) => c.html(html, 200, PAGE_HEADERS));
  app.get("/portal/:file", file);
}
