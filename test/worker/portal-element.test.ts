/**
 * The portal's browser files at `P/portal/` (docs/portal.md): the hosted page under its CSP,
 * without framing, referrer or caching; the element and every module it loads, served to every
 * origin; nothing at all without `policy.portal`.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_POLICY } from "../fixtures/policy";
import { BASE, direct } from "./helpers";

const PORTAL = `${BASE}/_portcullis/portal`;
const PROVIDER_ORIGIN = "https://app.provider.test";
const WITH_PORTAL = {
  POLICY: JSON.stringify({
    ...TEST_POLICY,
    portal: {
      jwt: { secretEnv: "SESSION_SECRET" },
      roles: { admin: ["keys:manage"] },
      keyTypes: { server: { ownedBy: "workspace", grantable: ["products:read"] } },
      origins: [PROVIDER_ORIGIN, "http://localhost:5173"],
    },
  }),
} as Partial<Env>;

const get = (path: string, init: RequestInit = {}) =>
  direct(new Request(`${PORTAL}${path}`, init), WITH_PORTAL);

describe("the portal's page and element", () => {
  it("serves the page under a CSP without inline script or framing, no referrer and no caching", async () => {
    const bare = await get("", { redirect: "manual" });
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe("/_portcullis/portal/");

    const response = await get("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const csp = response.headers.get("content-security-policy") ?? "";
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain("unsafe-");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
    expect(html).toContain(`data-origins="${PROVIDER_ORIGIN} http://localhost:5173"`);
  });

  it("serves the element and every module it loads to every origin", async () => {
    const pending = ["element.js", "page.js", "page.css"];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const file = pending.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const response = await get(`/${file}`, { headers: { Origin: "https://anyone.example" } });
      expect(response.status, file).toBe(200);
      expect(response.headers.get("content-type"), file).toMatch(file.endsWith(".js") ? /javascript/ : /css/);
      expect(response.headers.get("access-control-allow-origin"), file).toBe("*");
      expect(response.headers.get("access-control-allow-credentials"), file).toBeNull();
      expect(response.headers.get("cross-origin-resource-policy"), file).toBe("cross-origin");
      const text = await response.text();
      // Static and lazy imports, and the chart's style sheet: files of the portal, no other origin.
      for (const match of text.matchAll(/(?:^import [^"]*|import\(|new URL\()"\.\/([^"]+)"/gm)) {
        pending.push(match[1] as string);
      }
      expect(text, file).not.toMatch(/\bimport\s*\(?\s*["']https?:/);
    }
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        "dom.js",
        "plot.js",
        "strings.js",
        "uplot.esm.js",
        "uplot.min.css",
        "usage.js",
      ]),
    );
  });

  it("serves no other file through P/portal/", async () => {
    for (const file of [
      "index.html",
      "app.js",
      "swagger-ui-bundle.js",
      "..%2Fconsole%2Fapp.js",
      "missing.js",
    ]) {
      const response = await get(`/${file}`);
      expect(response.status, file).toBe(404);
      expect(response.headers.get("content-type"), file).toBe("application/problem+json");
    }
  });

  it("is 404 everywhere without policy.portal", async () => {
    for (const path of ["", "/", "/element.js", "/page.js", "/uplot.esm.js"]) {
      const response = await exports.default.fetch(`${PORTAL}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get("content-type"), path).toBe("application/problem+json");
      expect(response.headers.get("access-control-allow-origin"), path).toBeNull();
    }
  });
});
