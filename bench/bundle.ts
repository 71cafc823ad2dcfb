/**
 * The size of the Worker as `wrangler deploy --dry-run` bundles it, raw and gzip, against the
 * budget of 1 MiB gzip (also checked in CI by test/e2e/bundle.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { wrangler } from "../test/e2e/wrangler-dev.ts";

/** The gzip budget of the bundle, bytes. */
export const BUNDLE_BUDGET_GZIP = 1024 * 1024;

export interface Bundle {
  rawBytes: number;
  gzipBytes: number;
  budgetGzipBytes: number;
}

export function bundleSize(): Bundle {
  const outdir = mkdtempSync(join(tmpdir(), "portcullis-bundle-"));
  try {
    wrangler(["deploy", "--dry-run", "--outdir", outdir]);
    const files = readdirSync(outdir).filter((file) => /\.(m?js|wasm)$/.test(file));
    let rawBytes = 0;
    let gzipBytes = 0;
    for (const file of files) {
      const path = join(outdir, file);
      rawBytes += statSync(path).size;
      gzipBytes += gzipSync(readFileSync(path)).length;
    }
    return { rawBytes, gzipBytes, budgetGzipBytes: BUNDLE_BUDGET_GZIP };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
