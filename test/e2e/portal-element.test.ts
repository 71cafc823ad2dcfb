/**
 * The portal element and page in a real browser (Debian's Chromium through playwright-core)
 * against `wrangler dev` with a policy that has `portal`: a provider's dashboard on ANOTHER
 * origin (examples/portal/server.mjs, listed in `portal.origins`) loads `<portcullis-keys>` from
 * Portcullis, signs its members in with its own short-lived HS256 tokens through `getToken`, and
 * the member creates, reads once, uses and revokes a key. Also: what a member may not do is not
 * offered, `plan_required`, keyboard only, axe-core, phone width, a dark theme set through CSS
 * properties, hostile names as text, and the hosted page `P/portal/` with its token hand-offs,
 * without a console error or a CSP violation. Screenshots go to the ignored
 * test-results/screenshots/, or to docs/screenshots/ with `SCREENSHOTS=docs`.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken, startProvider } from "../../examples/portal/server.mjs";
import { type DevServer, freePort, startWranglerDev } from "./wrangler-dev";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = process.env.SCREENSHOTS === "docs" ? "docs/screenshots" : "test-results/screenshots";
const ROOT_TOKEN = "portal-element-root-token";
const SECRET = "portal-element-provider-secret-0123456789";
const ISSUER = "https://login.provider.test";
const AUDIENCE = "provider-portal";
const HOSTILE = `<img src=x onerror="window.pwned=1"><script>window.pwned=1</script>`;
/** Tokens live 4 s: the element's calls across a test need several (the dashboard caches one). */
const TOKEN_SECONDS = 4;
const USERS = {
  ana: { name: "Ana", org: "acme", roles: ["admin"] },
  vic: { name: "Vic", org: "acme", roles: ["viewer"] },
  fay: { name: "Fay", org: "freeco", roles: ["admin"] },
  eve: { name: "Eve", org: "evil", roles: ["admin"] },
};
const AXE = readFileSync("node_modules/axe-core/axe.min.js", "utf8");

/** The browser and wrangler dev share two cores with other work: wait for the page generously. */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 20_000 });

let browser: Browser;
let dev: DevServer;
let provider: Awaited<ReturnType<typeof startProvider>>;

function policy(providerOrigin: string) {
  return {
    origin: "echo",
    keyTypes: { server: { prefix: "sk_pe", defaultPermissions: ["products:read"] } },
    plans: { pro: { limits: { minute: 600, day: 10000 } }, free: {} },
    routes: [{ path: "/api/products", methods: ["GET"], permissions: ["products:read"] }, { path: "/api/*" }],
    portal: {
      jwt: { secretEnv: "PORTAL_SECRET", issuer: ISSUER, audience: AUDIENCE },
      nameClaim: "name",
      roles: { admin: ["keys:manage", "usage:read"], viewer: ["keys:read", "usage:read"] },
      keyTypes: {
        server: {
          label: "Server key",
          ownedBy: "workspace",
          grantable: ["products:read", "products:write"],
          labels: { "products:read": "Read products", "products:write": "Change products" },
          limits: ["minute", "day"],
        },
      },
      createOnPlans: ["pro"],
      maxLifetimeDays: 90,
      origins: [providerOrigin],
    },
  };
}

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${dev.url}/_portcullis/admin/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${ROOT_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

beforeAll(async () => {
  const port = await freePort();
  const providerOrigin = `http://localhost:${port}`;
  dev = await startWranglerDev({
    vars: { POLICY: JSON.stringify(policy(providerOrigin)), ADMIN_TOKEN: ROOT_TOKEN, PORTAL_SECRET: SECRET },
  });
  provider = await startProvider({
    portcullis: dev.url,
    port,
    secret: SECRET,
    issuer: ISSUER,
    audience: AUDIENCE,
    lifetimeSeconds: TOKEN_SECONDS,
    users: USERS,
  });
  expect(provider.url).toBe(providerOrigin);
  const acme = await admin("POST", "/workspaces", { name: "Acme Foods", externalId: "acme", plan: "pro" });
  expect(acme.status, JSON.stringify(acme.json)).toBe(201);
  const hostile = await admin("POST", "/workspaces", {
    name: `Evil ${HOSTILE}`,
    externalId: "evil",
    plan: "pro",
  });
  expect(hostile.status, JSON.stringify(hostile.json)).toBe(201);
  const free = await admin("POST", "/workspaces", { name: "Free Co", externalId: "freeco", plan: "free" });
  expect(free.status, JSON.stringify(free.json)).toBe(201);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await provider?.close();
  await dev?.stop();
});

/** A page that records every console error, uncaught error and CSP violation. */
async function watchedPage(viewport = { width: 1100, height: 800 }, isMobile = false) {
  const context = await browser.newContext({ viewport, isMobile, hasTouch: isMobile });
  context.setDefaultTimeout(45_000);
  const page = await context.newPage();
  const problems = watch(page);
  return { context, page, problems };
}

function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page: ${error.message}`));
  // Page-side code as text: the project's types describe Workers and Node, not the DOM.
  void page.addInitScript(`document.addEventListener("securitypolicyviolation", (event) =>
    console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI));
    window.portcullisEvents = [];
    for (const type of ["portcullis-key-created", "portcullis-key-revoked", "portcullis-key-rotated", "portcullis-error"])
      document.addEventListener(type, (event) => window.portcullisEvents.push({ type, detail: event.detail }));`);
  return problems;
}

async function signIn(page: Page, user: keyof typeof USERS, workspace: string) {
  await page.goto(provider.url);
  await page.locator("#user").selectOption(user);
  await page.getByRole("button", { name: "Sign in" }).click();
  await poll(() => page.locator("[data-workspace]").textContent()).toBe(workspace);
  await poll(() => page.locator("[data-screen=keys]").count()).toBe(1);
}

const shadowHtml = (page: Page) =>
  page.evaluate<string>("document.querySelector('portcullis-keys').shadowRoot.innerHTML");

async function proxied(key: string): Promise<Response> {
  return fetch(`${dev.url}/api/products`, { headers: { Authorization: `Bearer ${key}` } });
}

/** What axe-core finds serious or critical in the element, as `rule: targets` lines. */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate<boolean>("typeof axe !== 'undefined'"))) await page.evaluate(AXE);
  return page.evaluate<string[]>(`axe.run(document.querySelector("portcullis-keys")).then((result) =>
    result.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => violation.id + ": " + violation.nodes.map((node) => JSON.stringify(node.target)).join(" ")))`);
}

/** The element inside the shadow root that has focus: its tag and text. */
const focused = (page: Page) =>
  page.evaluate<string>(`(() => {
    let active = document.activeElement;
    while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
    return active ? (active.textContent || active.getAttribute("id") || active.tagName).trim() : "";
  })()`);

/** Presses Tab until the focused control's text or id is `name`. */
async function tabTo(page: Page, name: string) {
  for (let i = 0; i < 40; i += 1) {
    if ((await focused(page)) === name) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${name}; focus is on ${await focused(page)}`);
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

describe("the portal element in a provider's page", { timeout: 120_000 }, () => {
  it("signs in with getToken, creates a key shown once, the proxy takes it, revokes it, the proxy refuses it", async () => {
    const { context, page, problems } = await watchedPage();
    await signIn(page, "ana", "Acme Foods");

    await page.getByRole("button", { name: "Create key" }).click();
    await poll(() => page.locator("[data-screen=create]").count()).toBe(1);
    expect(await page.getByLabel("Read products").isChecked()).toBe(true);
    expect(await page.getByLabel("Change products").isChecked()).toBe(false);
    expect(await page.getByLabel("Type").locator("option").allTextContents()).toEqual(["Server key"]);
    await page.getByLabel("Name").fill("checkout");
    await page.getByLabel("Requests per minute (at most 600)").fill("50");
    await shot(page, "portal-create");
    await page.getByRole("button", { name: "Create key" }).click();

    const box = page.locator("[data-screen=secret]");
    await poll(() => box.count()).toBe(1);
    expect(await box.getAttribute("data-private")).toBe("");
    expect(await box.getAttribute("rr-block")).toBe("");
    expect(await box.textContent()).toContain("you will not see it again");
    const key = (await page.locator("#new-key").textContent()) ?? "";
    expect(key).toMatch(/^sk_pe_/);
    await shot(page, "portal-new-key");

    expect((await proxied(key)).status).toBe(200);

    await page.getByRole("button", { name: "Done, I have copied it" }).click();
    await poll(() => page.locator("[data-screen=key] dl").count()).toBe(1);
    expect(await shadowHtml(page)).not.toContain(key);
    expect(await page.locator("h2").first().textContent()).toBe("checkout");
    await poll(() => page.locator("[data-window=minute]").textContent()).toContain("of 50 per minute");

    // The dashboard's tokens live 4 s: the element asked for a new one before later calls.
    await page.waitForTimeout((TOKEN_SECONDS - 1) * 1000);
    await page.getByRole("button", { name: "Revoke…" }).click();
    const dialog = page.getByRole("dialog");
    expect(await dialog.textContent()).toContain("Revoke checkout?");
    await page.getByRole("button", { name: "Yes, revoke checkout" }).click();
    await poll(() => page.locator("[data-screen=key] [data-status]").textContent()).toBe("revoked");
    expect(await page.evaluate<number>("window.demoTokens")).toBeGreaterThanOrEqual(2);

    const refused = await proxied(key);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("x-portcullis-code")).toBe("key_revoked");

    // Events name the key and never carry it.
    const events =
      await page.evaluate<{ type: string; detail: Record<string, string> }[]>("window.portcullisEvents");
    expect(events.map((event) => event.type)).toEqual(["portcullis-key-created", "portcullis-key-revoked"]);
    expect(JSON.stringify(events)).not.toContain(key);
    expect(events[0]?.detail.id).toBe(events[1]?.detail.id);
    // The key is in no storage either.
    const stored = await page.evaluate<string>(
      "JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage), document.cookie])",
    );
    expect(stored).not.toContain(key);

    // The usage of the key counts the allowed and the refused request (read again by day).
    await page.getByLabel("Period", { exact: true }).selectOption("day");
    await poll(() => page.locator("[data-screen=key] [data-outcome=key_revoked] .count").textContent()).toBe(
      "1",
    );
    expect(await page.locator("[data-screen=key] [data-outcome=allowed] .count").textContent()).toBe("1");
    expect(await page.locator("[data-screen=key] .chart canvas").count()).toBe(1);
    await shot(page, "portal-key");
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "← Keys" }).click();
    await poll(() => page.locator("[data-key]").count()).toBe(1);
    await shot(page, "portal-keys");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("disables, enables and rotates a key with a grace period, the new key shown once", async () => {
    const { context, page, problems } = await watchedPage();
    await signIn(page, "ana", "Acme Foods");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByLabel("Name").fill("rotating");
    await page.getByRole("button", { name: "Create key" }).click();
    await poll(() => page.locator("#new-key").count()).toBe(1);
    const key = (await page.locator("#new-key").textContent()) ?? "";
    await page.getByRole("button", { name: "Done, I have copied it" }).click();
    const status = page.locator("[data-screen=key] [data-status]");

    await page.getByRole("button", { name: "Disable" }).click();
    await poll(() => status.textContent()).toBe("disabled");
    expect((await proxied(key)).headers.get("x-portcullis-code")).toBe("key_disabled");
    await page.getByRole("button", { name: "Enable" }).click();
    await poll(() => status.textContent()).toBe("active");
    expect((await proxied(key)).status).toBe(200);

    await page.getByLabel("The old key keeps working").selectOption("3600");
    await page.getByRole("button", { name: "Rotate", exact: true }).click();
    await poll(() => page.locator("[data-screen=secret]").count()).toBe(1);
    const rotated = (await page.locator("#new-key").textContent()) ?? "";
    expect(rotated).toMatch(/^sk_pe_/);
    expect(rotated).not.toBe(key);
    expect((await proxied(rotated)).status).toBe(200);
    // In its grace period the old key still works.
    expect((await proxied(key)).status).toBe(200);
    const events =
      await page.evaluate<{ type: string; detail: Record<string, string> }[]>("window.portcullisEvents");
    expect(events.map((event) => event.type)).toEqual(["portcullis-key-created", "portcullis-key-rotated"]);
    expect(events[1]?.detail.id).toBe(events[0]?.detail.id);
    expect(JSON.stringify(events)).not.toContain(rotated);
    await page.getByRole("button", { name: "Done, I have copied it" }).click();
    await poll(() => page.locator("[data-screen=key] dl").count()).toBe(1);
    const start = ((await page.locator("[data-screen=key] dd code").textContent()) ?? "").replace("…", "");
    expect(start.length).toBeGreaterThan("sk_pe_".length);
    expect(rotated.startsWith(start)).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("writes names holding HTML and script as text: the workspace's, a key's, in the list, the key and the dialog", async () => {
    const { context, page, problems } = await watchedPage();
    await signIn(page, "eve", `Evil ${HOSTILE}`);
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByLabel("Name").fill(HOSTILE);
    await page.getByRole("button", { name: "Create key" }).click();
    await poll(() => page.locator("[data-screen=secret]").count()).toBe(1);
    expect(await page.locator("[data-screen=secret]").textContent()).toContain(HOSTILE);
    await page.getByRole("button", { name: "Done, I have copied it" }).click();
    await poll(() => page.locator("[data-screen=key] dl").count()).toBe(1);
    expect(await page.locator("h2").first().textContent()).toBe(HOSTILE);
    await page.getByRole("button", { name: "Revoke…" }).click();
    expect(await page.getByRole("dialog").textContent()).toContain(`Revoke ${HOSTILE}?`);
    await page.keyboard.press("Escape");
    await page.getByRole("button", { name: "← Keys" }).click();
    await poll(() => page.locator("[data-key] button").textContent()).toBe(HOSTILE);
    const elements =
      "document.querySelector('portcullis-keys').shadowRoot.querySelectorAll('img, script').length";
    expect(await page.evaluate(elements)).toBe(0);
    expect(await page.evaluate("window.pwned")).toBeUndefined();
    expect(problems).toEqual([]);
    await context.close();
  });

  it("offers a member without keys:manage no create button, and no change to a key", async () => {
    const { context, page, problems } = await watchedPage();
    await signIn(page, "vic", "Acme Foods");
    await poll(() => page.locator("[data-key]").count()).toBeGreaterThanOrEqual(1);
    expect(await page.getByRole("button", { name: "Create key" }).count()).toBe(0);
    await page.locator("[data-key] button").first().click();
    await poll(() => page.locator("[data-screen=key] dl").count()).toBe(1);
    expect(await page.getByRole("button", { name: /Revoke|Disable|Enable|Rotate/ }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("says plan_required when the workspace's plan may not create keys, and offers no create", async () => {
    const { context, page, problems } = await watchedPage();
    await signIn(page, "fay", "Free Co");
    const notice = page.locator("[data-code=plan_required]");
    await poll(() => notice.count()).toBe(1);
    expect(await notice.textContent()).toContain("Your plan does not include creating keys");
    expect(await page.getByRole("button", { name: "Create key" }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("is operable by keyboard alone: create, copy, revoke, Escape", async () => {
    const { context, page, problems } = await watchedPage();
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: provider.url });
    await signIn(page, "ana", "Acme Foods");
    await tabTo(page, "Create key");
    await page.keyboard.press("Enter");
    await poll(() => page.locator("[data-screen=create]").count()).toBe(1);
    await page.keyboard.press("Escape");
    await poll(() => page.locator("[data-screen=keys]").count()).toBe(1);
    await tabTo(page, "Create key");
    await page.keyboard.press("Enter");
    await tabTo(page, "name");
    await page.keyboard.type("keyboard");
    await page.keyboard.press("Enter");
    await poll(() => page.locator("[data-screen=secret]").count()).toBe(1);
    const key = (await page.locator("#new-key").textContent()) ?? "";
    await tabTo(page, "Copy key");
    await page.keyboard.press("Enter");
    await poll(() => page.locator("[data-screen=secret] [role=status]").textContent()).toBe("Copied.");
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(key);
    await tabTo(page, "Done, I have copied it");
    await page.keyboard.press("Enter");
    await poll(() => page.locator("[data-screen=key] dl").count()).toBe(1);
    await tabTo(page, "Revoke…");
    await page.keyboard.press("Enter");
    await poll(() => page.locator("dialog[open]").count()).toBe(1);
    await page.keyboard.press("Escape");
    await poll(() => page.locator("dialog").count()).toBe(0);
    expect(await page.locator("[data-screen=key] [data-status]").textContent()).toBe("active");
    await tabTo(page, "Revoke…");
    await page.keyboard.press("Enter");
    await tabTo(page, "Yes, revoke keyboard");
    await page.keyboard.press("Enter");
    await poll(() => page.locator("[data-screen=key] [data-status]").textContent()).toBe("revoked");
    expect((await proxied(key)).status).toBe(401);
    await page.keyboard.press("Escape");
    await poll(() => page.locator("[data-screen=keys]").count()).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("passes axe-core on every screen, fits a phone, and takes a dark theme from CSS properties", async () => {
    const { context, page, problems } = await watchedPage({ width: 390, height: 844 }, true);
    await signIn(page, "ana", "Acme Foods");
    await page.evaluate(`(() => {
      const element = document.querySelector("portcullis-keys");
      for (const [name, value] of Object.entries({
        "--portcullis-background": "#15181e", "--portcullis-text": "#e8eaf0", "--portcullis-muted": "#aab1bf",
        "--portcullis-surface": "#1f232b", "--portcullis-border": "#3a404c", "--portcullis-accent": "#8ab4ff",
        "--portcullis-accent-text": "#0b1020", "--portcullis-focus": "#8ab4ff", "--portcullis-danger": "#ff8a80",
        "--portcullis-danger-text": "#2a0000", "--portcullis-warning": "#3b2f10", "--portcullis-warning-text": "#ffe7a8",
      })) element.style.setProperty(name, value);
    })()`);
    const colours = await page.evaluate<string[]>(`(() => {
      const shell = document.querySelector("portcullis-keys").shadowRoot.querySelector(".shell");
      const style = getComputedStyle(document.querySelector("portcullis-keys"));
      return [style.backgroundColor, getComputedStyle(shell).color];
    })()`);
    expect(colours).toEqual(["rgb(21, 24, 30)", "rgb(232, 234, 240)"]);
    const overflow = () => page.evaluate<number>("document.documentElement.scrollWidth - innerWidth");

    await poll(() => page.locator("[data-key]").count()).toBeGreaterThanOrEqual(1);
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, "portal-phone-dark");

    await page.getByRole("button", { name: "Create key" }).click();
    await poll(() => page.locator("[data-screen=create]").count()).toBe(1);
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel("Name").fill("phone");
    await page.getByRole("button", { name: "Create key" }).click();
    await poll(() => page.locator("[data-screen=secret]").count()).toBe(1);
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "Done, I have copied it" }).click();
    await poll(() => page.locator("[data-screen=key] dl").count()).toBe(1);
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "Revoke…" }).click();
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("the hosted page P/portal/", { timeout: 120_000 }, () => {
  const token = (user: keyof typeof USERS, seconds: number) => {
    const now = Math.floor(Date.now() / 1000);
    const { org, roles, name } = USERS[user];
    return signToken(
      {
        iss: ISSUER,
        aud: AUDIENCE,
        sub: `user_${user}`,
        name,
        org_id: org,
        org_role: roles,
        iat: now,
        exp: now + seconds,
      },
      SECRET,
    );
  };

  it("takes a token from the fragment, removes it from the address, keeps it for the tab, and ends the session at exp", async () => {
    const { context, page, problems } = await watchedPage();
    // Long enough for a slow machine to load the page twice; the test then waits for its exp.
    const jwt = token("ana", 20);
    const response = await page.goto(`${dev.url}/_portcullis/portal/?locale=es#token=${jwt}`);
    const headers = (await response?.allHeaders()) ?? {};
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["referrer-policy"]).toBe("no-referrer");
    expect(headers["cache-control"]).toBe("no-store");
    await poll(() => page.locator("[data-workspace]").textContent()).toBe("Acme Foods");
    expect(page.url()).toBe(`${dev.url}/_portcullis/portal/?locale=es`);
    expect(await page.evaluate("document.documentElement.outerHTML")).not.toContain(jwt);
    expect(await page.evaluate("Object.entries(sessionStorage)")).toEqual([["portcullis.portal.token", jwt]]);
    expect(await page.locator("h2").first().textContent()).toBe("Claves de API");

    await page.reload();
    await poll(() => page.locator("[data-workspace]").count()).toBe(1);
    await expect
      .poll(() => page.getByRole("alert").textContent(), { timeout: 40_000 })
      .toContain("Su sesión ha terminado");
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("takes tokens by postMessage from its opener on an allowed origin, and asks for a new one near exp", async () => {
    const { context, page, problems } = await watchedPage();
    await signIn(page, "ana", "Acme Foods");
    const before = await page.evaluate<number>("window.demoTokens");
    const [popup] = await Promise.all([
      context.waitForEvent("page"),
      page.getByRole("button", { name: "Open the hosted page" }).click(),
    ]);
    const popupProblems = watch(popup);
    await poll(() => popup.locator("[data-workspace]").textContent()).toBe("Acme Foods");
    expect(popup.url()).toBe(`${dev.url}/_portcullis/portal/`);
    // The page asks again before each token's exp: the dashboard keeps handing out new ones.
    await poll(() => page.evaluate<number>("window.demoTokens")).toBeGreaterThanOrEqual(before + 2);
    expect(await popup.getByRole("alert").count()).toBe(0);
    await shot(popup, "portal-page");
    expect(popupProblems).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("ignores a token posted by a window it does not trust", async () => {
    const { context, page, problems } = await watchedPage();
    await page.goto(`${dev.url}/_portcullis/portal/`);
    await page.evaluate(
      `window.postMessage({ type: "portcullis-token", token: ${JSON.stringify(token("ana", 60))} }, "*")`,
    );
    await page.waitForTimeout(500);
    expect(await page.locator("portcullis-keys").count()).toBe(0);
    expect(await page.locator(".notice").textContent()).toContain("No session");
    expect(problems).toEqual([]);
    await context.close();
  });
});
