/**
 * `npm run assets`: assembles `.assets/`, the one directory wrangler's `[assets]` serves through
 * the ASSETS binding, from pinned packages and checked-in sources, so that nothing is fetched
 * from another origin at run time:
 *
 *   .assets/reference/   the reference page (P/admin/docs): Swagger UI of `swagger-ui-dist`
 *   .assets/console/     the admin console (P/console/): `console/` and uPlot of `uplot`
 *   .assets/portal/      the portal's page and element (P/portal/): `portal/`, the console's
 *                        DOM and chart helpers (`dom.js`, `plot.js`) and uPlot
 *
 * Runs in `npm install` (`prepare`) and before `npm run dev`, `npm test` and `npm run deploy`.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, ".assets");
const require = createRequire(import.meta.url);
const packageDir = (name) => dirname(require.resolve(`${name}/package.json`));

/** [directory under .assets, source file, name served] */
const swagger = packageDir("swagger-ui-dist");
const uplot = join(packageDir("uplot"), "dist");
const FILES = [
  ["reference", join(swagger, "swagger-ui-bundle.js"), "swagger-ui-bundle.js"],
  ["reference", join(swagger, "swagger-ui.css"), "swagger-ui.css"],
  ["reference", join(swagger, "favicon-32x32.png"), "favicon-32x32.png"],
  ["console", join(uplot, "uPlot.esm.js"), "uplot.esm.js"],
  ["console", join(uplot, "uPlot.min.css"), "uplot.min.css"],
  ...readdirSync(join(ROOT, "console"))
    .filter((name) => /\.(js|css)$/.test(name))
    .map((name) => ["console", join(ROOT, "console", name), name]),
  ["portal", join(uplot, "uPlot.esm.js"), "uplot.esm.js"],
  ["portal", join(uplot, "uPlot.min.css"), "uplot.min.css"],
  ["portal", join(ROOT, "console", "dom.js"), "dom.js"],
  ["portal", join(ROOT, "console", "plot.js"), "plot.js"],
  ...readdirSync(join(ROOT, "portal"))
    .filter((name) => /\.(js|css)$/.test(name))
    .map((name) => ["portal", join(ROOT, "portal", name), name]),
];

rmSync(OUT, { recursive: true, force: true });
for (const [directory, source, name] of FILES) {
  mkdirSync(join(OUT, directory), { recursive: true });
  copyFileSync(source, join(OUT, directory, name));
}
console.log(`assets: ${FILES.length} files in .assets/`);
