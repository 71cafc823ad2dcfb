/**
 * One workspace: its verifications over time, its keys (search, filters, create), its roles and
 * its audit log.
 */
import { api, problemView, query } from "./api.js";
import { usageSection } from "./chart.js";
import { field, fieldValue, h, when, words } from "./dom.js";
import { keyStatus } from "./key.js";
import { pagedList } from "./list.js";
import { secretPanel } from "./secret.js";

/** @param {string} id */
const keyLink = (id) => `#/keys/${encodeURIComponent(id)}`;

/**
 * A link to a section of this page. The hash holds the console's route, so the link moves focus
 * itself instead of changing it.
 * @param {string} id
 * @param {string} text
 */
function jump(id, text) {
  return h(
    "a",
    {
      href: `#${id}`,
      onclick: (/** @type {Event} */ event) => {
        event.preventDefault();
        const target = document.getElementById(id);
        target?.setAttribute("tabindex", "-1");
        target?.focus();
        target?.scrollIntoView();
      },
    },
    text,
  );
}

/**
 * @param {HTMLElement} main
 * @param {string} workspaceId
 */
export async function workspaceView(main, workspaceId) {
  const encoded = encodeURIComponent(workspaceId);
  let workspace;
  try {
    workspace = await api("GET", `/workspaces/${encoded}`);
  } catch (error) {
    main.replaceChildren(h("h1", {}, "Workspace"), problemView(error));
    return;
  }
  const secretSlot = h("div");
  const keys = keysSection(workspaceId, secretSlot);
  // Every change made on this screen is an entry of its audit log: show it.
  const audit = auditSection(workspaceId);
  main.replaceChildren(
    h("p", {}, h("a", { href: "#/workspaces" }, "← Workspaces")),
    h("h1", {}, workspace.name),
    h("p", { class: "muted" }, h("code", {}, workspace.id), ` · plan ${workspace.plan ?? "none"}`),
    h(
      "nav",
      { class: "jump", "aria-label": "Sections" },
      jump("keys", "Keys"),
      jump("usage", "Verifications"),
      jump("roles", "Roles"),
      jump("audit", "Audit log"),
    ),
    secretSlot,
    keys,
    createKeyForm(workspaceId, secretSlot, () => {
      keys.dispatchEvent(new Event("reload"));
      audit.reload();
    }),
    h(
      "div",
      { id: "usage" },
      usageSection(
        "Verifications",
        `/workspaces/${encoded}/usage`,
        "All keys of the workspace, as of their last write-behind (up to 30 seconds behind).",
      ),
    ),
    rolesSection(workspaceId, audit.reload),
    audit.element,
  );
}

/**
 * @param {string} workspaceId
 * @param {HTMLElement} secretSlot
 */
function keysSection(workspaceId, secretSlot) {
  const filters = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "fields filters", role: "search", "aria-label": "Filter keys" },
      field(
        "Search",
        { id: "key-search", name: "q", type: "search" },
        "A prefix of the name or of the start.",
      ),
      field("Type", { id: "key-filter-type", name: "type" }),
      field("Owner", { id: "key-filter-owner", name: "ownerId" }),
      h("button", { type: "submit", class: "secondary" }, "Apply filters"),
    )
  );
  const list = pagedList({
    caption: "Keys",
    headings: ["Name", "Start", "Type", "Owner", "Status", "Last used"],
    empty: "No keys match. Create one below, or change the filters.",
    /** @param {any} key */
    row: (key) => [
      h("a", { href: keyLink(key.id) }, key.name || key.id),
      h("code", {}, key.start),
      key.type,
      key.ownerId ?? "—",
      h("span", { class: `status status-${keyStatus(key)}` }, keyStatus(key)),
      when(key.lastUsedAt),
    ],
    page: (cursor) =>
      api(
        "GET",
        `/keys${query({
          workspaceId,
          q: fieldValue(filters, "q"),
          type: fieldValue(filters, "type"),
          ownerId: fieldValue(filters, "ownerId"),
          cursor,
          limit: 50,
        })}`,
      ),
  });
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    secretSlot.replaceChildren();
    list.reload();
  });
  const section = h("section", { id: "keys", class: "card", "aria-labelledby": "keys-title" });
  section.append(h("h2", { id: "keys-title" }, "Keys"), filters, list.element);
  section.addEventListener("reload", () => list.reload());
  return section;
}

/**
 * @param {string} workspaceId
 * @param {HTMLElement} secretSlot
 * @param {() => void} created
 */
function createKeyForm(workspaceId, secretSlot, created) {
  const outcome = h("div", { "aria-live": "polite" });
  const form = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "card", "aria-labelledby": "create-key" },
      h("h2", { id: "create-key" }, "Create a key"),
      h(
        "div",
        { class: "fields" },
        field(
          "Type",
          { id: "key-type", name: "type", required: true },
          "A key type of the policy, or admin.",
        ),
        field("Name", { id: "key-name", name: "name", maxlength: 200 }),
        field("Owner", { id: "key-owner", name: "ownerId" }, "Optional: who the key belongs to."),
        field(
          "Permissions",
          { id: "key-permissions", name: "permissions" },
          "Optional, separated by spaces or commas: the type's defaults otherwise.",
        ),
        field("Credits", { id: "key-credits", name: "credits", type: "number", min: 0 }, "Optional balance."),
      ),
      h("button", { type: "submit" }, "Create key"),
      outcome,
    )
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    outcome.replaceChildren();
    const permissions = words(fieldValue(form, "permissions"));
    const credits = fieldValue(form, "credits");
    const body = {
      workspaceId,
      type: fieldValue(form, "type"),
      ...(fieldValue(form, "name") && { name: fieldValue(form, "name") }),
      ...(fieldValue(form, "ownerId") && { ownerId: fieldValue(form, "ownerId") }),
      ...(permissions.length > 0 && { permissions }),
      ...(credits !== "" && { credits: { remaining: Number(credits) } }),
    };
    try {
      const key = await api("POST", "/keys", body);
      const panel = secretPanel(
        key.key,
        `New key ${key.name || key.id}`,
        h("p", {}, h("a", { href: keyLink(key.id) }, "Open the key")),
      );
      secretSlot.replaceChildren(panel);
      panel.focus();
      form.reset();
      created();
    } catch (error) {
      outcome.replaceChildren(problemView(error));
    }
  });
  return form;
}

/**
 * @param {string} workspaceId
 * @param {() => void} changed
 */
function rolesSection(workspaceId, changed) {
  const body = h("div", { "aria-live": "polite" });
  const outcome = h("div", { "aria-live": "polite" });

  async function load() {
    try {
      const roles = await api("GET", `/roles${query({ workspaceId })}`);
      body.replaceChildren(
        roles.items.length === 0
          ? h("p", { class: "empty" }, "No roles yet.")
          : h(
              "ul",
              { class: "roles" },
              /** @param {any} role */
              roles.items.map((role) =>
                h(
                  "li",
                  {},
                  h("strong", {}, role.name),
                  " ",
                  h("span", { class: "muted" }, role.permissions.join(" ") || "no permissions"),
                  " ",
                  h(
                    "button",
                    {
                      type: "button",
                      class: "danger small",
                      "aria-label": `Delete role ${role.name}`,
                      onclick: () => remove(role.name),
                    },
                    "Delete",
                  ),
                ),
              ),
            ),
      );
    } catch (error) {
      body.replaceChildren(problemView(error));
    }
  }

  /** @param {string} name */
  async function remove(name) {
    outcome.replaceChildren();
    try {
      await api("DELETE", `/roles/${encodeURIComponent(name)}${query({ workspaceId })}`);
      await load();
      changed();
    } catch (error) {
      outcome.replaceChildren(problemView(error));
    }
  }

  const form = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "fields", "aria-label": "Create or replace a role" },
      field("Role name", { id: "role-name", name: "name", required: true, maxlength: 64 }),
      field("Permissions", { id: "role-permissions", name: "permissions" }, "Separated by spaces or commas."),
      h("button", { type: "submit" }, "Save role"),
    )
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    outcome.replaceChildren();
    try {
      await api("POST", "/roles", {
        workspaceId,
        name: fieldValue(form, "name"),
        permissions: words(fieldValue(form, "permissions")),
      });
      form.reset();
      await load();
      changed();
    } catch (error) {
      outcome.replaceChildren(problemView(error));
    }
  });

  load();
  return h(
    "section",
    { id: "roles", class: "card", "aria-labelledby": "roles-title" },
    h("h2", { id: "roles-title" }, "Roles"),
    body,
    h("h3", {}, "Create or replace a role"),
    form,
    outcome,
  );
}

/** @param {string} workspaceId */
function auditSection(workspaceId) {
  const list = pagedList({
    caption: "Audit log",
    headings: ["At", "Actor", "Action", "Target"],
    empty: "No admin changes recorded yet.",
    /** @param {any} entry */
    row: (entry) => [
      when(entry.at),
      entry.actor.id ? `${entry.actor.type} ${entry.actor.id}` : entry.actor.type,
      h("code", {}, entry.action),
      entry.targetId?.startsWith("key_")
        ? h("a", { href: keyLink(entry.targetId) }, entry.targetId)
        : (entry.targetId ?? "—"),
    ],
    page: (cursor) => api("GET", `/audit${query({ workspaceId, cursor, limit: 50 })}`),
  });
  return {
    element: h(
      "section",
      { id: "audit", class: "card", "aria-labelledby": "audit-title" },
      h("h2", { id: "audit-title" }, "Audit log"),
      list.element,
    ),
    reload: list.reload,
  };
}
