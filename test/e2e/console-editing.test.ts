/**
 * The console edits what the admin API allows, in Chromium against its own `wrangler dev` (a
 * policy with two key types, plans, a role and a webhook): a key's name, permissions, roles,
 * plan, limits, expiry and IP allowlist, each change seen in what the API then answers and, for
 * what the proxy decides on, in the proxy's answer; owners (open, edit limits and credits,
 * revoke after a confirmation naming the owner); events with their delivery status. Key type,
 * permission and plan fields offer the policy's values. A hostile name stays text.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, freePort, startWranglerDev } from "./wrangler-dev";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = process.env.SCREENSHOTS === "docs" ? "docs/screenshots" : "test-results/screenshots";
const ROOT = "e2e-console-editing-root";
const SECRET = `whsec_${Buffer.from("e2e-console-editing-webhook-secret").toString("base64")}`;
/** Markup a name would run if the console parsed it as HTML. */
const HOSTILE = `<img src=x onerror="document.title='pwned'">`;

let browser: Browser;
let deployment: DevServer;
let receiver: Server;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(204).end());
  });
  const port = await freePort();
  await new Promise<void>((listening) => receiver.listen(port, "127.0.0.1", listening));
  deployment = await startWranglerDev({
    vars: {
      POLICY: JSON.stringify({
        origin: "echo",
        webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secretEnv: "WEBHOOK_SECRET" }],
        keyTypes: {
          server: { prefix: "sk_ce", defaultPermissions: ["products:read", "products:write"] },
          publishable: {
            prefix: "pk_ce",
            defaultPermissions: ["products:read"],
            allowedPermissions: ["products:read"],
          },
          member: { prefix: "mb_ce", ownerScoped: true },
        },
        plans: { gold: { permissions: ["reports:read"], limits: { day: 1000 } }, silver: {} },
        roles: { viewer: { permissions: ["orders:read"] } },
        routes: [
          { path: "/api/products", methods: ["GET"], permissions: ["products:read"] },
          { path: "/api/products", methods: ["POST"], permissions: ["products:write"] },
          { path: "/api/orders", permissions: ["orders:read"] },
          { path: "/api/reports", permissions: ["reports:read"] },
        ],
      }),
      ADMIN_TOKEN: ROOT,
      WEBHOOK_SECRET: SECRET,
    },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Chromium's sandbox refuses to run as root (CI runs as root).
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await deployment?.stop();
  await new Promise((closed) => receiver?.close(closed));
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected freely
type Json = Record<string, any>;

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${deployment.url}/_portcullis/admin/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${ROOT}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}

async function workspace(): Promise<string> {
  const created = await admin("POST", "/workspaces", { name: "console editing" });
  expect(created.status).toBe(201);
  return created.json.id;
}

async function newKey(fields: Json): Promise<{ key: string; id: string }> {
  const created = await admin("POST", "/keys", { type: "server", ...fields });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return { key: created.json.key, id: created.json.id };
}

/** What the proxy answers the key on `path`: the status and the refusal's code. */
async function proxied(key: string, path: string, method = "GET") {
  const response = await fetch(`${deployment.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}` },
  });
  await response.body?.cancel();
  return { status: response.status, code: response.headers.get("x-portcullis-code") };
}

/** Waits for what the page shows: generous, as the machine running the tests may be busy. */
function eventually<T>(read: () => Promise<T> | T) {
  return expect.poll(read, { timeout: 20_000, interval: 100 });
}

/** A signed-in page that records every console error, uncaught error, CSP violation and dialog. */
async function signedIn(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page: ${error.message}`));
  page.on("dialog", (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    dialog.dismiss();
  });
  await page.addInitScript(`document.addEventListener("securitypolicyviolation", (event) =>
    console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI));`);
  await page.goto(`${deployment.url}/_portcullis/console/`);
  await page.getByLabel("Root token or admin key").fill(ROOT);
  await page.getByRole("button", { name: "Sign in" }).click();
  await eventually(() => page.locator("h1").textContent()).toBe("Workspaces");
  return { page, problems };
}

async function open(page: Page, hash: string, heading: string) {
  await page.goto(`${deployment.url}/_portcullis/console/${hash}`);
  await eventually(() => page.locator("h1").textContent()).toBe(heading);
}

/** The values a group of checkboxes offers. */
function offered(page: Page, group: string): Promise<string[]> {
  return page
    .locator(`${group} input[type=checkbox]`)
    .evaluateAll((boxes) => boxes.map((box) => (box as unknown as { value: string }).value));
}

function optionValues(page: Page, select: string): Promise<string[]> {
  return page
    .locator(`${select} option`)
    .evaluateAll((options) => options.map((option) => (option as unknown as { value: string }).value));
}

describe("the console edits what the admin API allows", () => {
  it("edits a key's name, permissions, roles, plan, limits, allowlist and expiry; the API and the proxy follow", async () => {
    const workspaceId = await workspace();
    const { key, id } = await newKey({ workspaceId, name: "editable" });
    const { page, problems } = await signedIn();
    await open(page, `#/keys/${id}`, "editable");

    // The choices are the policy's: every permission it names, its roles, its plans.
    expect(await offered(page, "#edit-permissions")).toEqual([
      "orders:read",
      "products:read",
      "products:write",
      "reports:read",
    ]);
    expect(await offered(page, "#edit-roles")).toEqual(["viewer"]);
    expect(await optionValues(page, "#edit-plan")).toEqual(["", "gold", "silver"]);
    await page.locator("#edit").screenshot({ path: `${SCREENSHOTS}/console-key-edit.png` });

    // Saving what is there changes nothing, and says so.
    await page.getByRole("button", { name: "Save changes" }).click();
    await eventually(() => page.locator("#edit").textContent()).toContain("Nothing changed.");

    // By keyboard: a hostile name, products:write unchecked, the viewer role, plan gold, a limit.
    await page.getByLabel("Name", { exact: true }).fill(HOSTILE);
    await page.locator("#edit-permissions input[value='products:write']").focus();
    await page.keyboard.press("Space");
    await page.locator("#edit-roles input[value='viewer']").focus();
    await page.keyboard.press("Space");
    await page.getByLabel("Plan").focus();
    await page.getByLabel("Plan").selectOption("gold");
    await page.getByLabel("Per minute").fill("3");
    await page.getByLabel("Name", { exact: true }).press("Enter");
    await eventually(() => page.locator("h1").textContent()).toBe(HOSTILE);

    const edited = (await admin("GET", `/keys/${id}`)).json;
    expect(edited).toMatchObject({
      name: HOSTILE,
      permissions: ["products:read"],
      roles: ["viewer"],
      plan: "gold",
      limits: { minute: 3 },
      expiresAt: null,
      ipAllowlist: [],
    });
    // The name stayed text: no element was made of it, nothing ran.
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.title()).not.toBe("pwned");
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe(HOSTILE);

    // The proxy decides with the new settings: the permission removed, the role's and the
    // plan's granted, the limit of 3 a minute.
    expect(await proxied(key, "/api/products", "POST")).toEqual({
      status: 403,
      code: "insufficient_permissions",
    });
    expect((await proxied(key, "/api/orders")).status).toBe(200);
    expect((await proxied(key, "/api/reports")).status).toBe(200);
    expect((await proxied(key, "/api/products")).status).toBe(200);
    expect(await proxied(key, "/api/products")).toEqual({ status: 429, code: "rate_limited" });

    // A bad value is the API's problem, shown with its failing field; nothing changes.
    await page.getByLabel("IP allowlist").fill("not-an-address");
    await page.getByRole("button", { name: "Save changes" }).click();
    const alert = page.getByRole("alert");
    await eventually(() => alert.locator(".problem-code").textContent()).toBe("bad_request");
    expect(await alert.textContent()).toContain("ipAllowlist");
    expect((await admin("GET", `/keys/${id}`)).json.ipAllowlist).toEqual([]);

    await page.getByLabel("IP allowlist").fill("203.0.113.0/24\n2001:db8::/32");
    await page.getByLabel("Per minute").fill("");
    await page.getByRole("button", { name: "Save changes" }).click();
    await eventually(async () => (await admin("GET", `/keys/${id}`)).json.ipAllowlist).toEqual([
      "203.0.113.0/24",
      "2001:db8::/32",
    ]);
    expect((await admin("GET", `/keys/${id}`)).json.limits).toEqual({});
    expect(await proxied(key, "/api/products")).toEqual({ status: 403, code: "ip_not_allowed" });
    await eventually(() => page.locator(".record").textContent()).toContain("203.0.113.0/24");

    await page.getByLabel("IP allowlist").fill("");
    await page.getByRole("button", { name: "Save changes" }).click();
    await eventually(async () => (await admin("GET", `/keys/${id}`)).json.ipAllowlist).toEqual([]);
    expect((await proxied(key, "/api/products")).status).toBe(200);
    // The console shows the key as saved before the next edit starts from it.
    await eventually(() => page.locator(".record").textContent()).toContain("IP allowlistany address");

    await page.getByLabel("Expires at (UTC)").fill("2020-01-01T00:00");
    await page.getByRole("button", { name: "Save changes" }).click();
    await eventually(() => page.locator("[data-status]").textContent()).toBe("expired");
    expect((await admin("GET", `/keys/${id}`)).json.expiresAt).toBe("2020-01-01T00:00:00.000Z");
    expect(await proxied(key, "/api/products")).toEqual({ status: 401, code: "key_expired" });

    // The refused save's 400 is the one error the browser itself reports.
    expect(problems).toEqual([
      "console: Failed to load resource: the server responded with a status of 400 (Bad Request)",
    ]);
    await page.context().close();
  });

  it("offers the policy's key types, and each type's permissions, and plans when creating", async () => {
    const workspaceId = await workspace();
    const { page, problems } = await signedIn();
    await open(page, `#/workspaces/${workspaceId}`, "console editing");
    expect(await optionValues(page, "#key-type")).toEqual(["server", "publishable", "member", "admin"]);
    expect(await offered(page, "#key-permissions")).toEqual([
      "orders:read",
      "products:read",
      "products:write",
      "reports:read",
    ]);
    await page.locator("#key-type").selectOption("publishable");
    await eventually(() => offered(page, "#key-permissions")).toEqual(["products:read"]);
    expect(await optionValues(page, "#key-plan")).toEqual(["", "gold", "silver"]);
    await page.locator("#key-name").fill("browser");
    await page.locator("#key-plan").selectOption("silver");
    await page.getByRole("button", { name: "Create key" }).click();
    expect(await page.locator("#secret-key").textContent()).toMatch(/^pk_ce_/);
    const listed = (await admin("GET", `/keys?workspaceId=${workspaceId}`)).json.items;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      type: "publishable",
      name: "browser",
      plan: "silver",
      permissions: ["products:read"],
    });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("opens an owner, edits its limits and credits, and revokes its keys after a confirmation naming it", async () => {
    const workspaceId = await workspace();
    const owner = "auth0|member-7";
    const first = await newKey({ workspaceId, ownerId: owner, name: "first" });
    const second = await newKey({ workspaceId, ownerId: owner, name: "second" });
    const bystander = await newKey({ workspaceId, ownerId: "someone-else", name: "bystander" });
    const { page, problems } = await signedIn();
    await open(page, `#/workspaces/${workspaceId}`, "console editing");
    await page.getByLabel("Owner id").fill(owner);
    await page.getByRole("button", { name: "Open owner" }).click();
    await eventually(() => page.locator("h1").textContent()).toBe(`Owner ${owner}`);
    await eventually(() => page.locator("#owner-keys tbody tr").count()).toBe(2);

    await page.getByLabel("Per minute").fill("3");
    await page.getByLabel("Balance").fill("100");
    await page.getByLabel("Refill", { exact: true }).selectOption("month");
    await page.getByLabel("Refill to").fill("500");
    await page.getByRole("button", { name: "Save limits and credits" }).click();
    await eventually(() => page.locator("[role=status]").textContent()).toBe("Saved.");
    const saved = (await admin("GET", `/owners/${encodeURIComponent(owner)}?workspaceId=${workspaceId}`))
      .json;
    expect(saved.limits.map(({ window, limit }: Json) => ({ window, limit }))).toEqual([
      { window: "minute", limit: 3 },
    ]);
    expect(saved.credits).toEqual({ remaining: 100, refill: { interval: "month", amount: 500 } });
    // The owner's 3 a minute is shared by its keys.
    expect((await proxied(first.key, "/api/products")).status).toBe(200);
    expect((await proxied(second.key, "/api/products")).status).toBe(200);
    expect((await proxied(first.key, "/api/products")).status).toBe(200);
    expect(await proxied(second.key, "/api/products")).toEqual({ status: 429, code: "rate_limited" });
    expect((await proxied(bystander.key, "/api/products")).status).toBe(200);

    // Listed among the workspace's owners with its limits.
    await page.getByRole("link", { name: "← Workspace" }).click();
    const row = page.locator("#owners tbody tr", { hasText: owner });
    await eventually(() => row.textContent()).toContain("3 a minute");
    expect(await row.textContent()).toContain("100");
    await page.locator("#owners").getByRole("link", { name: owner }).click();
    await eventually(() => page.locator("h1").textContent()).toBe(`Owner ${owner}`);

    await page.getByRole("button", { name: "Revoke all keys…" }).click();
    const confirm = page.locator(".confirm");
    expect(await confirm.textContent()).toContain(`Revoke every key of owner ${owner} (2 now)`);
    // The confirmation takes the focus: Enter confirms.
    expect(await page.evaluate("document.activeElement.textContent")).toBe(
      `Yes, revoke every key of ${owner}`,
    );
    await page.keyboard.press("Enter");
    await eventually(() => page.locator("[role=status]").textContent()).toBe("Revoked 2 keys.");
    expect(await proxied(first.key, "/api/products")).toEqual({ status: 401, code: "key_revoked" });
    expect(await proxied(second.key, "/api/products")).toEqual({ status: 401, code: "key_revoked" });
    expect((await proxied(bystander.key, "/api/products")).status).toBe(200);
    await page.screenshot({ path: `${SCREENSHOTS}/console-owner.png`, fullPage: true });

    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("sets an owner's roles, which an ownerScoped key's permissions then follow at the proxy", async () => {
    const workspaceId = await workspace();
    const owner = "team:lead@example";
    const member = await newKey({
      workspaceId,
      type: "member",
      ownerId: owner,
      permissions: ["orders:read"],
    });
    // An owner never given roles grants nothing to its ownerScoped keys.
    expect(await proxied(member.key, "/api/orders")).toEqual({
      status: 403,
      code: "insufficient_permissions",
    });
    const { page, problems } = await signedIn();
    await open(page, `#/owners/${workspaceId}/${encodeURIComponent(owner)}`, `Owner ${owner}`);
    expect(await offered(page, "#owner-roles")).toEqual(["viewer"]);
    await page.locator("#owner-roles input[value='viewer']").check();
    await page.getByRole("button", { name: "Save roles" }).click();
    await eventually(() => page.locator("[role=status]").textContent()).toBe("Roles saved.");
    const path = `/owners/${encodeURIComponent(owner)}?workspaceId=${workspaceId}`;
    expect((await admin("GET", path)).json.roles).toEqual(["viewer"]);
    expect((await proxied(member.key, "/api/orders")).status).toBe(200);

    await page.locator("#owner-roles input[value='viewer']").uncheck();
    // The first save's status stays on screen until the view is drawn again: mark it, then wait
    // for a new one. The change is in force once the API answered (the view is drawn after the
    // answer); D1 holds the new roles before that, while the context shards wait out their leases.
    await page.evaluate(`document.querySelector("[role=status]").dataset.previous = "yes"`);
    await page.getByRole("button", { name: "Save roles" }).click();
    await eventually(() => page.locator("[role=status]:not([data-previous])").textContent()).toBe(
      "Roles saved.",
    );
    expect((await admin("GET", path)).json.roles).toEqual([]);
    expect(await proxied(member.key, "/api/orders")).toEqual({
      status: 403,
      code: "insufficient_permissions",
    });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("lists events with each webhook's delivery status", async () => {
    const workspaceId = await workspace();
    const { id } = await newKey({ workspaceId, name: "evented" });
    expect((await admin("POST", `/keys/${id}/revoke`)).status).toBe(200);
    const { page, problems } = await signedIn();
    await open(page, `#/workspaces/${workspaceId}`, "console editing");
    const events = page.locator("#events");
    // Listed at once, delivery pending or done.
    await eventually(() => events.locator("tbody tr").count()).toBe(2);
    // Deliveries go through a queue, slow on a busy machine: wait for the API to say delivered,
    // then the console must say so too.
    const delivered = async () =>
      (await admin("GET", `/events?workspaceId=${workspaceId}`)).json.items.filter(
        (event: Json) => event.deliveries[0]?.status === "delivered",
      ).length;
    await expect.poll(delivered, { timeout: 150_000, interval: 1_000 }).toBe(2);
    await events.getByRole("button", { name: "Show events" }).click();
    await eventually(() => events.locator("[data-delivery=delivered]").count()).toBe(2);
    expect(await events.locator("tbody tr").count()).toBe(2);
    expect(await events.locator("tbody tr").first().textContent()).toContain("key.revoked");
    expect(await events.locator("tbody").textContent()).toContain("webhook 0: delivered (1 attempt)");
    expect(await events.getByRole("link", { name: id }).count()).toBe(2);
    await events.getByLabel("Event type").selectOption("key.created");
    await events.getByRole("button", { name: "Show events" }).click();
    await eventually(() => events.locator("tbody tr").count()).toBe(1);
    expect(await events.locator("tbody").textContent()).toContain("key.created");
    expect(problems).toEqual([]);
    await page.context().close();
  }, 240_000);
});
