/**
 * The admin console `GET P/console/` (docs/console.md): a page of plain ES modules that calls
 * the admin API of the same origin with a credential the operator types in. Its files are the
 * Worker's own static assets (`.assets/console/`: `console/` and uPlot, assembled by
 * scripts/assets.mjs), reached only through the `ASSETS` binding, so that they never shadow a
 * path of the protected API; the page loads nothing from another origin.
 */
import type { Context, Hono } from "hono";
import type { AppEnv } from "../edge/app-env";
import { Refusal } from "../refusals";

/** Same origin only, no inline script or style, no framing, no form posted anywhere. */
export const CONSOLE_CSP = [
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

const SECURITY_HEADERS = {
  "Content-Security-Policy": CONSOLE_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** A file of the console: a name without a path, served as a script or a style sheet. */
const FILE_NAME = /^[a-z0-9][a-z0-9.-]*\.(js|css)$/;
const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

const escapeAttribute = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");

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

async function file(c: Context<AppEnv>): Promise<Response> {
  const name = c.req.param("file") ?? "";
  const match = FILE_NAME.exec(name);
  if (!match) throw new Refusal("not_found", "No such file of the console.");
  const stored = await c.env.ASSETS.fetch(new URL(`/console/${name}`, c.req.url));
  if (!stored.ok) {
    await stored.body?.cancel();
    throw new Refusal("not_found", "No such file of the console.");
  }
  return new Response(stored.body, {
    status: 200,
    headers: {
      ...SECURITY_HEADERS,
      "Content-Type": CONTENT_TYPES[match[1] as string] as string,
      "Cache-Control": "no-cache",
    },
  });
}

/** Mounts `console`, `console/` and `console/:file` on the app of Portcullis' own surfaces. */
export function registerConsole(app: Hono<AppEnv>, basePath: string): void {
  app.get("/console", (c) => c.redirect(`${basePath}/console/`, 308));
  app.get("/console/", (c) =>
    c.html(page(basePath), 200, { ...SECURITY_HEADERS, "Cache-Control": "no-cache" }),
  );
  app.get("/console/:file", file);
}
