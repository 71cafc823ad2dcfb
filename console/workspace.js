/**
 * One workspace: its verifications over time, its keys (search, filters, create), its owners,
 * its roles, its events with their delivery and its audit log.
 */
import { api, problemView, query } from "./api.js";
import { usageSection } from "./chart.js";
import { choices, chosen, field, fieldValue, h, when, words } from "./dom.js";
import { keyStatus } from "./key.js";
import { limitsText } from "./limits.js";
import { pagedList } from "./list.js";
import { ownerHref, ownerLink } from "./owner.js";
import { permissionsFor, planOptions, policyChoices } from "./policy.js";
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
  // Asked at once, beside the workspace: the forms' choices.
  const policyRead = policyChoices();
  let workspace;
  try {
    workspace = await api("GET", `/workspaces/${encoded}`);
  } catch (error) {
    main.replaceChildren(h("h1", {}, "Workspace"), problemView(error));
    return;
  }
  const policy = await policyRead;
  const secretSlot = h("div");
  const keys = keysSection(workspaceId, secretSlot, policy);
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
      jump("owners", "Owners"),
      jump("roles", "Roles"),
      jump("events", "Events"),
      jump("audit", "Audit log"),
    ),
    secretSlot,
    keys,
    createKeyForm(workspaceId, secretSlot, policy, () => {
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
    ownersSection(workspaceId),
    rolesSection(workspaceId, policy, audit.reload),
    eventsSection(workspaceId, policy),
    audit.element,
  );
}

/**
 * @param {string} workspaceId
 * @param {HTMLElement} secretSlot
 * @param {import("./policy.js").PolicyChoices | null} policy
 */
function keysSection(workspaceId, secretSlot, policy) {
  const filters = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "fields filters", role: "search", "aria-label": "Filter keys" },
      field(
        "Search",
        { id: "key-search", name: "q", type: "search" },
        "A prefix of the name or of the start.",
      ),
      policy
        ? field("Type", {
            id: "key-filter-type",
            name: "type",
            options: [["", "Any"], ...typeOptions(policy)],
          })
        : field("Type", { id: "key-filter-type", name: "type" }),
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
      key.ownerId ? ownerLink(workspaceId, key.ownerId) : "—",
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
 * The key types a key can be created with: the policy's, then the built-in admin type.
 * @param {import("./policy.js").PolicyChoices} policy
 * @returns {[string, string][]}
 */
function typeOptions(policy) {
  return [
    ...policy.keyTypes.map(
      (type) => /** @type {[string, string]} */ ([type.name, `${type.name} (${type.prefix}_…)`]),
    ),
    ["admin", "admin (pc_admin_…)"],
  ];
}

/**
 * The permissions a new key of the chosen type can be given, the type's defaults checked; the
 * policy's values when it could be read, else a text field.
 * @param {import("./policy.js").PolicyChoices | null} policy
 * @param {string} type
 */
function createPermissions(policy, type) {
  const hint = "None checked: the type's defaults.";
  if (!policy)
    return field(
      "Permissions",
      { id: "key-permissions", name: "permissions" },
      "Optional, separated by spaces or commas: the type's defaults otherwise.",
    );
  const defaults = policy.keyTypes.find((candidate) => candidate.name === type)?.defaultPermissions ?? [];
  return choices("Permissions", {
    id: "key-permissions",
    name: "permissions",
    values: permissionsFor(policy, type),
    checked: defaults,
    other: type === "admin" ? undefined : "Other permissions",
    hint,
  });
}

/**
 * @param {string} workspaceId
 * @param {HTMLElement} secretSlot
 * @param {import("./policy.js").PolicyChoices | null} policy
 * @param {() => void} created
 */
function createKeyForm(workspaceId, secretSlot, policy, created) {
  const outcome = h("div", { "aria-live": "polite" });
  const firstType = policy?.keyTypes[0]?.name ?? "";
  let permissionField = createPermissions(policy, firstType);
  const planField = policy
    ? field("Plan", { id: "key-plan", name: "plan", options: planOptions(policy, null) }, "Optional.")
    : field("Plan", { id: "key-plan", name: "plan" }, "Optional: a plan of the policy.");
  const form = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "card", "aria-labelledby": "create-key" },
      h("h2", { id: "create-key" }, "Create a key"),
      h(
        "div",
        { class: "fields" },
        policy
          ? field("Type", { id: "key-type", name: "type", required: true, options: typeOptions(policy) })
          : field(
              "Type",
              { id: "key-type", name: "type", required: true },
              "A key type of the policy, or admin.",
            ),
        field("Name", { id: "key-name", name: "name", maxlength: 200 }),
        field("Owner", { id: "key-owner", name: "ownerId" }, "Optional: who the key belongs to."),
        planField,
        field("Credits", { id: "key-credits", name: "credits", type: "number", min: 0 }, "Optional balance."),
      ),
      permissionField,
      h("button", { type: "submit" }, "Create key"),
      outcome,
    )
  );
  // The permissions offered follow the type chosen; an admin key has no plan.
  form.querySelector("#key-type")?.addEventListener("change", () => {
    if (!policy) return;
    const type = fieldValue(form, "type");
    const next = createPermissions(policy, type);
    permissionField.replaceWith(next);
    permissionField = next;
    planField.hidden = type === "admin";
  });
  form.addEventListener("reset", () => {
    if (!policy) return;
    const next = createPermissions(policy, firstType);
    permissionField.replaceWith(next);
    permissionField = next;
    planField.hidden = firstType === "admin";
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    outcome.replaceChildren();
    const permissions = policy ? chosen(form, "permissions") : words(fieldValue(form, "permissions"));
    const credits = fieldValue(form, "credits");
    const type = fieldValue(form, "type");
    const plan = type === "admin" ? "" : fieldValue(form, "plan");
    const body = {
      workspaceId,
      type,
      ...(fieldValue(form, "name") && { name: fieldValue(form, "name") }),
      ...(fieldValue(form, "ownerId") && { ownerId: fieldValue(form, "ownerId") }),
      ...(permissions.length > 0 && { permissions }),
      ...(plan && { plan }),
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
 * @param {import("./policy.js").PolicyChoices | null} policy
 * @param {() => void} changed
 */
function rolesSection(workspaceId, policy, changed) {
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
      policy
        ? choices("Permissions", {
            id: "role-permissions",
            name: "permissions",
            values: policy.permissions,
            other: "Other permissions",
          })
        : field(
            "Permissions",
            { id: "role-permissions", name: "permissions" },
            "Separated by spaces or commas.",
          ),
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
        permissions: policy ? chosen(form, "permissions") : words(fieldValue(form, "permissions")),
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

/**
 * The owners set with PUT (others open by their id): their limits, credits and keys.
 * @param {string} workspaceId
 */
function ownersSection(workspaceId) {
  const list = pagedList({
    caption: "Owners",
    headings: ["Owner", "Limits", "Credits (as set)", "Keys"],
    empty: "No owner has limits or credits yet. Open one by its id to set them.",
    /** @param {any} owner */
    row: (owner) => [
      ownerLink(workspaceId, owner.ownerId),
      limitsText(owner.limits),
      owner.credits ? String(owner.credits.remaining) : "none",
      String(owner.keyCount),
    ],
    page: (cursor) => api("GET", `/owners${query({ workspaceId, cursor, limit: 50 })}`),
  });
  const open = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "fields", "aria-label": "Open an owner" },
      field("Owner id", { id: "owner-open", name: "ownerId", required: true, maxlength: 128 }),
      h("button", { type: "submit", class: "secondary" }, "Open owner"),
    )
  );
  open.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = ownerHref(workspaceId, fieldValue(open, "ownerId"));
  });
  return h(
    "section",
    { id: "owners", class: "card", "aria-labelledby": "owners-title" },
    h("h2", { id: "owners-title" }, "Owners"),
    list.element,
    open,
  );
}

/**
 * Events of the last 30 days, newest first, with their delivery to each webhook. The type filter
 * offers the event types of `GET /policy` when it could be read, else a text field.
 * @param {string} workspaceId
 * @param {import("./policy.js").PolicyChoices | null} policy
 */
function eventsSection(workspaceId, policy) {
  const filter = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "fields filters", "aria-label": "Filter events" },
      policy
        ? field("Event type", {
            id: "event-type",
            name: "type",
            options: [
              ["", "Any"],
              ...policy.eventTypes.map((type) => /** @type {[string, string]} */ ([type, type])),
            ],
          })
        : field("Event type", { id: "event-type", name: "type" }),
      h("button", { type: "submit", class: "secondary" }, "Show events"),
    )
  );
  const list = pagedList({
    caption: "Events",
    headings: ["At", "Type", "Subject", "Deliveries"],
    empty: "No events in the last 30 days.",
    /** @param {any} event */
    row: (event) => [
      when(event.at),
      h("code", {}, event.type),
      typeof event.data.keyId === "string"
        ? h("a", { href: keyLink(event.data.keyId) }, event.data.keyId)
        : typeof event.data.ownerId === "string"
          ? ownerLink(workspaceId, event.data.ownerId)
          : "—",
      deliveries(event.deliveries),
    ],
    page: (cursor) =>
      api("GET", `/events${query({ workspaceId, type: fieldValue(filter, "type"), cursor, limit: 50 })}`),
  });
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    list.reload();
  });
  return h(
    "section",
    { id: "events", class: "card", "aria-labelledby": "events-title" },
    h("h2", { id: "events-title" }, "Events"),
    h("p", { class: "muted" }, "Each webhook is named by its place in the policy's webhooks."),
    filter,
    list.element,
  );
}

/**
 * Each webhook's delivery of an event: `webhook 0: delivered (1 attempt)`.
 * @param {{webhook: number, status: string, attempts: number}[]} items
 */
function deliveries(items) {
  if (items.length === 0) return h("span", { class: "muted" }, "no webhook");
  return h(
    "ul",
    { class: "deliveries" },
    items.map((item) =>
      h(
        "li",
        {},
        `webhook ${item.webhook}: `,
        h("span", { class: `delivery delivery-${item.status}`, "data-delivery": item.status }, item.status),
        ` (${item.attempts} ${item.attempts === 1 ? "attempt" : "attempts"})`,
      ),
    ),
  );
}
