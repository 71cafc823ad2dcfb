/**
 * The admin console in a real browser (Debian's Chromium driven by playwright-core, nothing
 * downloaded) against `wrangler dev`: sign in, create a workspace and a key, see the key once,
 * use it through the proxy, revoke it in the console and see the proxy refuse it, and read the
 * requests back from the chart. The page must run under its CSP without a single console error
 * or violation. Takes a screenshot of each screen: into the ignored test-results/screenshots/,
 * or into docs/screenshots/ when asked (`SCREENSHOTS=docs npm run test:e2e`), so that a plain
 * `npm test` changes no tracked file.
 */
import { mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_ROOT_TOKEN, newKey, portcullis } from "./fixtures";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = process.env.SCREENSHOTS === "docs" ? "docs/screenshots" : "test-results/screenshots";

let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Chromium's sandbox refuses to run as root (CI runs as root).
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

/** Waits for what the page shows: generous, as the machine running the tests may be busy. */
function eventually<T>(read: () => Promise<T> | T) {
  return expect.poll(read, { timeout: 20_000, interval: 100 });
}

/** A page that records every console error, uncaught error and CSP violation. */
async function watchedPage(viewport: { width: number; height: number }, isMobile = false) {
  const context = await browser.newContext({ viewport, isMobile, hasTouch: isMobile });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page: ${error.message}`));
  // Page-side code as text: the project's types describe Workers and Node, not the DOM.
  await page.addInitScript(`document.addEventListener("securitypolicyviolation", (event) =>
    console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI));`);
  return { page, problems };
}

async function proxied(key: string): Promise<Response> {
  return fetch(portcullis("/api/products"), { headers: { Authorization: `Bearer ${key}` } });
}

/** Text that only a value rendered by mistake shows: `null`, `undefined`, `[object ...]`. */
const RENDERED_BY_MISTAKE = /\bnull\b|\bundefined\b|\[object /;

/** The total the chart's legend lists for one outcome, as the page shows it. */
async function total(page: Page, outcome: string): Promise<number> {
  return Number(await page.locator(`[data-outcome="${outcome}"] .count`).textContent());
}

async function signIn(page: Page) {
  await page.getByLabel("Root token or admin key").fill(E2E_ROOT_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await eventually(() => page.locator("h1").textContent()).toBe("Workspaces");
}

describe("the admin console in Chromium", () => {
  it("creates a key, shows it once, revokes it and charts its requests", async () => {
    const { page, problems } = await watchedPage({ width: 1200, height: 800 });
    const response = await page.goto(portcullis("/_portcullis/console"));
    expect(page.url()).toBe(portcullis("/_portcullis/console/"));
    const csp = (await response?.allHeaders())?.["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");

    await signIn(page);
    const workspaceName = `console ${Date.now().toString(36)}`;
    await page.getByLabel("Name").fill(workspaceName);
    await page.getByRole("button", { name: "Create workspace" }).click();
    await eventually(() => page.locator("h1").textContent()).toBe(workspaceName);
    await eventually(() => page.locator("#keys .empty").textContent()).toContain("No keys match");

    // The type is one of the policy's, chosen, not typed.
    await page.locator("#key-type").selectOption("server");
    await page.locator("#key-name").fill("checkout");
    await page.locator("#key-owner").fill("user-42");
    await page.getByRole("button", { name: "Create key" }).click();
    const key = (await page.locator("#secret-key").textContent()) ?? "";
    expect(key).toMatch(/^sk_e2e_/);
    await eventually(() => page.locator("#keys tbody tr").count()).toBe(1);

    // The credential lives in sessionStorage only; the key in no storage at all.
    const stored = await page.evaluate(
      "({ session: Object.entries(sessionStorage), local: localStorage.length, cookies: document.cookie })",
    );
    expect(stored).toEqual({
      session: [["portcullis.console.credential", E2E_ROOT_TOKEN]],
      local: 0,
      cookies: "",
    });
    expect(await page.context().cookies()).toEqual([]);

    await page.getByRole("button", { name: "Done, hide it" }).click();
    expect(await page.locator("#secret-key").count()).toBe(0);
    expect(await page.content()).not.toContain(key);
    await page.reload();
    await eventually(() => page.locator("#keys tbody tr").count()).toBe(1);
    expect(await page.content()).not.toContain(key);

    // Search and filters narrow the table, with an empty state when nothing matches.
    await page.locator("#key-search").fill("check");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await eventually(() => page.locator("#keys tbody tr").count()).toBe(1);
    await page.locator("#key-filter-owner").fill("someone-else");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await eventually(() => page.locator("#keys .empty").count()).toBe(1);

    for (let i = 0; i < 3; i += 1) expect((await proxied(key)).status).toBe(200);

    await page.locator("#key-filter-owner").fill("");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByRole("link", { name: "checkout" }).click();
    await eventually(() => page.locator("h1").textContent()).toBe("checkout");
    await page.getByRole("button", { name: "Revoke…" }).click();
    await page.getByRole("button", { name: "Yes, revoke" }).click();
    await eventually(() => page.locator("[data-status]").textContent()).toBe("revoked");

    const refused = await proxied(key);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("x-portcullis-code")).toBe("key_revoked");

    // The key's usage is live: the chart counts the three allowed requests and the refusal.
    await page.reload();
    await eventually(() => page.locator("[data-outcome=allowed] .count").count()).toBe(1);
    expect(await total(page, "allowed")).toBe(3);
    expect(await total(page, "key_revoked")).toBe(1);
    expect(await page.locator(".chart .uplot canvas").count()).toBe(1);
    await page.getByLabel("Granularity").selectOption("day");
    await eventually(() => page.locator(".chart .uplot").count()).toBe(1);
    expect(await total(page, "allowed")).toBe(3);
    expect(await total(page, "key_revoked")).toBe(1);
    await page.getByLabel("Granularity").selectOption("hour");
    await eventually(() => page.locator(".chart .uplot").count()).toBe(1);
    expect(await page.locator("main").textContent()).not.toMatch(RENDERED_BY_MISTAKE);
    await page.locator(".chart").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENSHOTS}/console-key.png` });

    await page.getByRole("link", { name: "← Workspace" }).click();
    await eventually(() => page.locator("#keys tbody tr").count()).toBe(1);
    expect(await page.locator("main").textContent()).not.toMatch(RENDERED_BY_MISTAKE);
    await page.screenshot({ path: `${SCREENSHOTS}/console-workspace.png` });

    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("disables, enables, rotates a key and changes its credits; saves and deletes a role", async () => {
    const { page, problems } = await watchedPage({ width: 1200, height: 800 });
    const { key, id, workspaceId } = await newKey({ name: "rotating", credits: { remaining: 5 } });
    await page.goto(portcullis("/_portcullis/console/"));
    await signIn(page);
    await page.goto(portcullis(`/_portcullis/console/#/keys/${id}`));
    await eventually(() => page.locator("h1").textContent()).toBe("rotating");

    await page.getByRole("button", { name: "Disable" }).click();
    await eventually(() => page.locator("[data-status]").textContent()).toBe("disabled");
    expect((await proxied(key)).headers.get("x-portcullis-code")).toBe("key_disabled");
    await page.getByRole("button", { name: "Enable" }).click();
    await eventually(() => page.locator("[data-status]").textContent()).toBe("active");

    await page.getByLabel("Change", { exact: true }).selectOption("increment");
    await page.getByLabel("Amount").fill("7");
    await page.getByRole("button", { name: "Change credits" }).click();
    await eventually(() => page.locator(".record").textContent()).toContain("Credits12");

    await page.getByRole("button", { name: "Rotate" }).click();
    const rotated = (await page.locator("#secret-key").textContent()) ?? "";
    expect(rotated).toMatch(/^sk_e2e_/);
    expect(rotated).not.toBe(key);
    expect(page.url()).not.toContain(id);
    expect((await proxied(rotated)).status).toBe(200);
    expect((await proxied(key)).headers.get("x-portcullis-code")).toBe("key_expired");

    await page.goto(portcullis(`/_portcullis/console/#/workspaces/${workspaceId}`));
    await page.getByLabel("Role name").fill("support");
    // The policy's permissions are offered; others are typed.
    await page.locator("#role-permissions input[value='products:read']").check();
    await page.locator("#role-permissions-other").fill("orders:read");
    await page.getByRole("button", { name: "Save role" }).click();
    await eventually(() => page.locator("#roles li").textContent()).toContain("products:read orders:read");
    await page.getByRole("button", { name: "Delete role support" }).click();
    await eventually(() => page.locator("#roles .empty").textContent()).toBe("No roles yet.");
    await eventually(() => page.locator("#audit tbody tr").count()).toBeGreaterThanOrEqual(6);
    expect(await page.locator("#audit").textContent()).toContain("role.delete");

    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("draws an address with a malformed escape instead of stopping on it", async () => {
    const { page, problems } = await watchedPage({ width: 1200, height: 800 });
    await page.goto(portcullis("/_portcullis/console/"));
    await signIn(page);
    await page.goto(portcullis("/_portcullis/console/#/keys/%E0%A4%A"));
    // The key is looked up as typed (and not found), where decoding used to throw before drawing.
    await eventually(() => page.locator("main").textContent()).not.toContain("Loading…");
    expect(problems.filter((problem) => problem.startsWith("page:"))).toEqual([]);
    await page.context().close();
  });

  it("shows a refused credential's problem: title, detail and code", async () => {
    const { page, problems } = await watchedPage({ width: 1200, height: 800 });
    await page.goto(portcullis("/_portcullis/console/"));
    await page.getByLabel("Root token or admin key").fill("not-a-credential");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await eventually(() => alert.locator(".problem-code").textContent()).toBe("invalid_key");
    expect(await alert.textContent()).toContain("Invalid key");
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    // The failed sign-in's 401 is the one error the browser itself reports.
    expect(problems.filter((problem) => !problem.includes("401"))).toEqual([]);
    await page.context().close();
  });

  it("is readable on a phone", async () => {
    const { page, problems } = await watchedPage({ width: 390, height: 844 }, true);
    const { workspaceId } = await newKey({ name: "mobile-app", ownerId: "user-7" });
    await page.goto(portcullis("/_portcullis/console/"));
    await signIn(page);
    await page.goto(portcullis(`/_portcullis/console/#/workspaces/${workspaceId}`));
    await eventually(() => page.locator("#keys tbody tr").count()).toBe(1);
    // Nothing wider than the screen: the tables scroll inside their own box.
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${SCREENSHOTS}/console-phone.png` });
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
