/**
 * The admin console at `P/console/`: a page and files of the Worker's own assets, under a strict
 * CSP, served only under that path: the files of the assets directory never answer a path of
 * the protected API, and no file outside the console's is reachable through it.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE } from "./helpers";

const CONSOLE = `${BASE}/_portcullis/console`;

function expectSecurityHeaders(response: Response) {
  const csp = response.headers.get("content-security-policy") ?? "";
  for (const directive of [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
  ]) {
    expect(csp).toContain(directive);
  }
  expect(csp).not.toContain("unsafe-");
  expect(csp).not.toMatch(/https?:/);
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("referrer-policy")).toBe("no-referrer");
}

describe("the admin console", () => {
  it("redirects P/console to P/console/, which serves the page under a strict CSP", async () => {
    const bare = await exports.default.fetch(CONSOLE, { redirect: "manual" });
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe("/_portcullis/console/");

    const response = await exports.default.fetch(`${CONSOLE}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expectSecurityHeaders(response);
    const html = await response.text();
    expect(html).toContain('data-base="/_portcullis"');
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
  });

  it("serves every file the page and its modules load, from the Worker's own assets", async () => {
    const html = await (await exports.default.fetch(`${CONSOLE}/`)).text();
    const pending = [...html.matchAll(/\s(?:src|href)="([a-z][^"]*\.(?:js|css))"/g)].map(
      (match) => match[1] ?? "",
    );
    expect(pending).toEqual(expect.arrayContaining(["app.js", "console.css", "uplot.min.css"]));
    const seen = new Set<string>();
    while (pending.length > 0) {
      const file = pending.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const response = await exports.default.fetch(`${CONSOLE}/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get("content-type"), file).toMatch(file.endsWith(".js") ? /javascript/ : /css/);
      expectSecurityHeaders(response);
      const text = await response.text();
      // Each module's imports are files of the console too: same directory, no other origin.
      for (const match of text.matchAll(/^import [^"]*"\.\/([^"]+)";$/gm)) pending.push(match[1] as string);
      expect(text, file).not.toMatch(/\bimport\s*\(?\s*["']https?:/);
    }
    expect(seen).toContain("uplot.esm.js");
  });

  it("serves no other file through P/console/, and nothing of the assets outside it", async () => {
    for (const file of [
      "index.html",
      "swagger-ui-bundle.js",
      "..%2Freference%2Fswagger-ui-bundle.js",
      "%2E%2E%2Fconsole.css",
      "missing.js",
    ]) {
      const response = await exports.default.fetch(`${CONSOLE}/${file}`);
      expect(response.status, file).toBe(404);
      expect(response.headers.get("content-type"), file).toBe("application/problem+json");
    }
    const served = await exports.default.fetch(`${CONSOLE}/app.js`);
    expect(served.status).toBe(200);
    await served.body?.cancel();
    // The same files' paths outside P are the protected API's: the policy decides, no asset answers.
    for (const path of [
      "/console/app.js",
      "/app.js",
      "/reference/swagger-ui-bundle.js",
      "/api/console/app.js",
    ]) {
      const response = await exports.default.fetch(`${BASE}${path}`);
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.headers.get("content-type"), path).toBe("application/problem+json");
      expect(response.headers.get("x-portcullis-code"), path).toMatch(
        /^(missing_credential|route_not_found)$/,
      );
    }
  });
});
