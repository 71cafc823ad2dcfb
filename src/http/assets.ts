/**
 * The browser files of the console (docs/console.md) and of the portal (docs/portal.md): the
 * Worker's own static assets (`.assets/<folder>/`, assembled by scripts/assets.mjs), reached only
 * through the `ASSETS` binding, so that they never shadow a path of the protected API.
 */
import type { Context } from "hono";
import type { AppEnv } from "../edge/app-env";
import { Refusal } from "../refusals";

/** A page's CSP: same origin only, no inline script or style, no framing, no form posted anywhere. */
export const PAGE_CSP = [
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

/** Text for a double-quoted HTML attribute. */
export const escapeAttribute = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");

/** A file of a folder: a name without a path, served as a script or a style sheet. */
const FILE_NAME = /^[a-z0-9][a-z0-9.-]*\.(js|css)$/;
const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/**
 * The file the route's `:file` names in the assets' `folder`, with `headers` and its content
 * type; any other name, or a file the assets lack, is 404 `not_found`.
 */
export async function assetFile(
  c: Context<AppEnv>,
  folder: string,
  headers: Record<string, string>,
): Promise<Response> {
  const name = c.req.param("file") ?? "";
  const match = FILE_NAME.exec(name);
  if (!match) throw new Refusal("not_found", `No such file of the ${folder}.`);
  const stored = await c.env.ASSETS.fetch(new URL(`/${folder}/${name}`, c.req.url));
  if (!stored.ok) {
    await stored.body?.cancel();
    throw new Refusal("not_found", `No such file of the ${folder}.`);
  }
  return new Response(stored.body, {
    status: 200,
    headers: { ...headers, "Content-Type": CONTENT_TYPES[match[1] as string] as string },
  });
}
