/**
 * The Worker's bundle, as `wrangler deploy --dry-run` builds it, stays within its budget of
 * 1 MiB gzip.
 */
import { describe, expect, it } from "vitest";
import { BUNDLE_BUDGET_GZIP, bundleSize } from "../../bench/bundle.ts";

describe("bundle", () => {
  it("is at most 1 MiB gzip", () => {
    const bundle = bundleSize();
    console.log(JSON.stringify({ event: "bundle", ...bundle }));
    expect(bundle.rawBytes).toBeGreaterThan(0);
    expect(bundle.gzipBytes).toBeLessThanOrEqual(BUNDLE_BUDGET_GZIP);
  });
});
