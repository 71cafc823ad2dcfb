/**
 * The reference page `GET P/admin/docs`: Swagger UI over the OpenAPI document, served from the
 * Worker's own static assets (wrangler `[assets]`: `.assets/reference/`, copied from the pinned
 * `swagger-ui-dist` package by scripts/assets.mjs), so
 * that the page loads nothing from another origin. Assets are reached only through the `ASSETS`
 * binding (`run_worker_first`), so they never shadow a path of the protected API.
 */
import type { Context, Hono } from "hono";
import type { AppEnv } from "../edge/app-env";
import { escapeAttribute } from "../http/assets";
import { Refusal } from "../refusals";

/** The files of `swagger-ui-dist` the page loads, and their content types. */
const ASSET_TYPES: Record<string, string> = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

/** Starts Swagger UI on the document whose URL the page names in `data-url`. */
const INITIALIZER = `"use strict";
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: root.dataset.url, domNode: root, deepLinking: true });
});
`;

/** Same origin only, no inline script or style element, no framing. */
export const REFERENCE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "Content-Security-Policy": REFERENCE_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

function page(documentUrl: string, assets: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portcullis API reference</title>
<link rel="icon" type="image/png" href="${assets}/favicon-32x32.png">
<link rel="stylesheet" href="${assets}/swagger-ui.css">
<script src="${assets}/swagger-ui-bundle.js" defer></script>
<script src="${assets}/init.js" defer></script>
</head>
<body>
<div id="swagger-ui" data-url="${escapeAttribute(documentUrl)}"></div>
</body>
</html>
`;
}

async function asset(c: Context<AppEnv>): Promise<Response> {
  const name = c.req.param("file") ?? "";
  const headers = { ...SECURITY_HEADERS, "Cache-Control": "public, max-age=3600" };
  if (name === "init.js")
    return c.body(INITIALIZER, 200, { ...headers, "Content-Type": "text/javascript; charset=utf-8" });
  const type = ASSET_TYPES[name];
  if (!type) throw new Refusal("not_found", "No such file of the reference page.");
  const stored = await c.env.ASSETS.fetch(new URL(`/reference/${name}`, c.req.url));
  if (!stored.ok) throw new Refusal("not_found", "The reference page's files are not deployed.");
  return new Response(stored.body, { status: 200, headers: { ...headers, "Content-Type": type } });
}

/** Mounts `docs` and `docs/assets/:file` on the admin app, whose public path is `adminPath`. */
export function registerReferencePage(app: Hono<AppEnv>, adminPath: string): void {
  app.get("/docs", (c) =>
    c.html(page(`${adminPath}/v1/openapi.json`, `${adminPath}/docs/assets`), 200, SECURITY_HEADERS),
  );
  app.get("/docs/assets/:file", asset);
}
