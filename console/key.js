/**
 * One key: its record, what can be done to it (edit its settings, disable or enable, rotate,
 * credits, revoke) and its verifications over time. A revoked key can only be looked at.
 */
import { api, problemView, query } from "./api.js";
import { usageSection } from "./chart.js";
import { choices, chosen, field, fieldValue, h, when, words } from "./dom.js";
import { limitFields, limitsOf, limitsText, WINDOWS } from "./limits.js";
import { ownerLink } from "./owner.js";
import { permissionsFor, planOptions, policyChoices } from "./policy.js";
import { secretPanel } from "./secret.js";

/**
 * What a key is now: revoked, disabled, expired or active.
 * @param {{revokedAt: string | null, enabled: boolean, expiresAt: string | null}} key
 */
export function keyStatus(key) {
  if (key.revokedAt) return "revoked";
  if (!key.enabled) return "disabled";
  if (key.expiresAt && Date.parse(key.expiresAt) <= Date.now()) return "expired";
  return "active";
}

/**
 * @param {HTMLElement} main
 * @param {string} keyId
 * @param {HTMLElement | null} [secret] a key just made by a rotation, to show once
 */
export async function keyView(main, keyId, secret = null) {
  const path = `/keys/${encodeURIComponent(keyId)}`;
  // Asked at once, beside the key: the edit form's choices.
  const policyRead = policyChoices();
  let key;
  try {
    key = await api("GET", path);
  } catch (error) {
    main.replaceChildren(h("h1", {}, "Key"), problemView(error));
    return;
  }
  const outcome = h("div", { "aria-live": "polite" });
  const status = keyStatus(key);
  const [policy, roles] =
    status === "revoked" ? [null, null] : await Promise.all([policyRead, roleNames(key.workspaceId)]);

  /**
   * Runs a change, then shows the key as it is afterwards, or the problem.
   * @param {() => Promise<unknown>} change
   */
  async function act(change) {
    outcome.replaceChildren();
    try {
      await change();
      await keyView(main, keyId);
      document.getElementById("key-title")?.focus();
    } catch (error) {
      outcome.replaceChildren(problemView(error));
    }
  }

  main.replaceChildren(
    ...[
      h("p", {}, h("a", { href: `#/workspaces/${encodeURIComponent(key.workspaceId)}` }, "← Workspace")),
      h("h1", { id: "key-title", tabindex: "-1" }, key.name || key.id),
      secret,
      h(
        "section",
        { class: "card", "aria-label": "Key record" },
        h("p", {}, h("span", { class: `status status-${status}`, "data-status": status }, status)),
        details(key),
      ),
      status === "revoked" ? null : actions(key, act, main),
      outcome,
      status === "revoked" ? null : editSection(key, policy, roles, act),
      usageSection("Verifications", `${path}/usage`),
    ].filter((node) => node !== null),
  );
}

/** @param {any} key */
function details(key) {
  /** @type {[string, Node | string][]} */
  const rows = [
    ["Id", h("code", {}, key.id)],
    ["Start", h("code", {}, key.start)],
    ["Type", key.type],
    ["Owner", key.ownerId ? ownerLink(key.workspaceId, key.ownerId) : "—"],
    ["Permissions", key.permissions.join(" ") || "none"],
    ["Roles", key.roles.join(" ") || "none"],
    ["Plan", key.plan ?? "none"],
    ["Limits", limitsText(key.limits)],
    ["Credits", key.credits ? String(key.credits.remaining) : "unlimited"],
    ["IP allowlist", key.ipAllowlist.join(" ") || "any address"],
    ["Expires", key.expiresAt ? when(key.expiresAt) : "never"],
    ["Revoked", key.revokedAt ? when(key.revokedAt) : "no"],
    ["Created", when(key.createdAt)],
    ["Last used", when(key.lastUsedAt)],
    ["Rotated from", key.rotatedFrom ? h("a", { href: `#/keys/${key.rotatedFrom}` }, key.rotatedFrom) : "—"],
  ];
  return h(
    "dl",
    { class: "record" },
    rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
  );
}

/**
 * @param {any} key
 * @param {(change: () => Promise<unknown>) => Promise<void>} act
 * @param {HTMLElement} main
 */
function actions(key, act, main) {
  const path = `/keys/${encodeURIComponent(key.id)}`;
  const confirmRevoke = h(
    "div",
    { class: "confirm", hidden: true },
    h("p", {}, "Revoke this key for good? Requests with it are refused at once."),
    h(
      "button",
      { type: "button", class: "danger", onclick: () => act(() => api("POST", `${path}/revoke`)) },
      "Yes, revoke",
    ),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: () => {
          confirmRevoke.hidden = true;
        },
      },
      "Cancel",
    ),
  );

  const rotate = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "fields", "aria-label": "Rotate" },
      field(
        "Grace period, seconds",
        { id: "rotate-grace", name: "grace", type: "number", min: 0, value: "0" },
        "How long the old key keeps working.",
      ),
      h("button", { type: "submit" }, "Rotate"),
    )
  );
  const rotateOutcome = h("div", { "aria-live": "polite" });
  rotate.addEventListener("submit", async (event) => {
    event.preventDefault();
    rotateOutcome.replaceChildren();
    try {
      const rotated = await api("POST", `${path}/rotate`, {
        gracePeriodSeconds: Number(fieldValue(rotate, "grace") || 0),
      });
      // The new key is a new record: show it there, once. pushState changes the address
      // without a hashchange, so the page is not drawn again without the key.
      history.pushState(null, "", `#/keys/${encodeURIComponent(rotated.id)}`);
      const panel = secretPanel(rotated.key, "Rotated: the new key");
      await keyView(main, rotated.id, panel);
      panel.focus();
    } catch (error) {
      rotateOutcome.replaceChildren(problemView(error));
    }
  });

  const credits = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "fields", "aria-label": "Credits" },
      field("Change", {
        id: "credits-op",
        name: "op",
        options: [
          ["set", "Set to"],
          ["increment", "Add"],
          ["decrement", "Take away"],
        ],
      }),
      field("Amount", { id: "credits-amount", name: "amount", type: "number", min: 0, required: true }),
      h("button", { type: "submit" }, "Change credits"),
    )
  );
  credits.addEventListener("submit", (event) => {
    event.preventDefault();
    act(() =>
      api("POST", `${path}/credits`, {
        op: fieldValue(credits, "op"),
        amount: Number(fieldValue(credits, "amount")),
      }),
    );
  });

  return h(
    "section",
    { class: "card", "aria-labelledby": "actions-title" },
    h("h2", { id: "actions-title" }, "Actions"),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: () => act(() => api("PATCH", path, { enabled: !key.enabled })),
        },
        key.enabled ? "Disable" : "Enable",
      ),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          onclick: () => {
            confirmRevoke.hidden = false;
            confirmRevoke.querySelector("button")?.focus();
          },
        },
        "Revoke…",
      ),
    ),
    confirmRevoke,
    h("h3", {}, "Rotate"),
    rotate,
    rotateOutcome,
    h("h3", {}, "Credits"),
    credits,
  );
}

/**
 * The names of the roles a key of this workspace can hold (its own and the policy's), or null
 * when the credential may not read them.
 * @param {string} workspaceId
 * @returns {Promise<string[] | null>}
 */
async function roleNames(workspaceId) {
  try {
    const roles = await api("GET", `/roles${query({ workspaceId })}`);
    return roles.items.map((/** @type {{name: string}} */ role) => role.name);
  } catch {
    return null;
  }
}

/** An ISO time as a `datetime-local` value, in UTC to the minute. @param {string | null} iso */
const localValue = (iso) => (iso ? iso.slice(0, 16) : "");

/** @param {string[]} a @param {string[]} b */
const sameList = (a, b) => a.length === b.length && a.every((item, index) => item === b[index]);

/**
 * The form that edits a key's settings (`PATCH /keys/:id`), filled with what the key has now.
 * Only the fields changed are sent. Permissions, roles and plan offer the policy's and the
 * workspace's values; without them (a credential that may not read them) they are text fields.
 * @param {any} key
 * @param {import("./policy.js").PolicyChoices | null} policy
 * @param {string[] | null} roles
 * @param {(change: () => Promise<unknown>) => Promise<void>} act
 */
function editSection(key, policy, roles, act) {
  const admin = key.type === "admin";
  const note = h("p", { "aria-live": "polite", class: "muted" });
  const form = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { "aria-labelledby": "edit-title" },
      h(
        "div",
        { class: "fields" },
        field("Name", { id: "edit-name", name: "name", maxlength: 200, value: key.name ?? "" }),
        field("Owner", { id: "edit-owner", name: "ownerId", value: key.ownerId ?? "" }, "Empty: no owner."),
        admin
          ? null
          : policy
            ? field("Plan", {
                id: "edit-plan",
                name: "plan",
                options: planOptions(policy, key.plan),
                value: key.plan ?? "",
              })
            : field("Plan", { id: "edit-plan", name: "plan", value: key.plan ?? "" }),
      ),
      policy
        ? choices("Permissions", {
            id: "edit-permissions",
            name: "permissions",
            values: permissionsFor(policy, key.type),
            checked: key.permissions,
            other: admin ? undefined : "Other permissions",
          })
        : field("Permissions", {
            id: "edit-permissions",
            name: "permissions",
            value: key.permissions.join(" "),
          }),
      admin
        ? null
        : roles
          ? choices("Roles", { id: "edit-roles", name: "roles", values: roles, checked: key.roles })
          : field("Roles", { id: "edit-roles", name: "roles", value: key.roles.join(" ") }),
      h("fieldset", { class: "choices" }, h("legend", {}, "Limits"), limitFields("edit-limit", key.limits)),
      h(
        "div",
        { class: "fields" },
        field(
          "Expires at (UTC)",
          { id: "edit-expires", name: "expiresAt", type: "datetime-local", value: localValue(key.expiresAt) },
          "Empty: never.",
        ),
        field(
          "IP allowlist",
          {
            id: "edit-allowlist",
            name: "ipAllowlist",
            multiline: true,
            rows: 3,
            value: key.ipAllowlist.join("\n"),
          },
          "Addresses or CIDR ranges, one a line; empty: any address.",
        ),
      ),
      h("button", { type: "submit" }, "Save changes"),
      note,
    )
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    note.replaceChildren();
    const change = changes(form, key, policy !== null, roles !== null);
    if (Object.keys(change).length === 0) {
      note.replaceChildren("Nothing changed.");
      return;
    }
    act(() => api("PATCH", `/keys/${encodeURIComponent(key.id)}`, change));
  });
  return h(
    "section",
    { id: "edit", class: "card", "aria-labelledby": "edit-title" },
    h("h2", { id: "edit-title" }, "Edit"),
    form,
  );
}

/**
 * The fields of the edit form that differ from the key: the body of its PATCH.
 * @param {HTMLFormElement} form
 * @param {any} key
 * @param {boolean} permissionChoices
 * @param {boolean} roleChoices
 */
function changes(form, key, permissionChoices, roleChoices) {
  /** @type {Record<string, unknown>} */
  const change = {};
  const name = fieldValue(form, "name");
  if (name !== (key.name ?? "")) change.name = name === "" ? null : name;
  const ownerId = fieldValue(form, "ownerId");
  if (ownerId !== (key.ownerId ?? "")) change.ownerId = ownerId === "" ? null : ownerId;
  if (key.type !== "admin") {
    const plan = fieldValue(form, "plan");
    if (plan !== (key.plan ?? "")) change.plan = plan === "" ? null : plan;
    const roles = roleChoices ? chosen(form, "roles") : words(fieldValue(form, "roles"));
    if (!sameList([...roles].sort(), [...key.roles].sort())) change.roles = roles;
  }
  const permissions = permissionChoices
    ? chosen(form, "permissions")
    : words(fieldValue(form, "permissions"));
  if (!sameList([...permissions].sort(), [...key.permissions].sort())) change.permissions = permissions;
  const limits = limitsOf(form, "edit-limit");
  if (WINDOWS.some((window) => (limits[window] ?? 0) !== (key.limits[window] ?? 0))) change.limits = limits;
  const expiresAt = fieldValue(form, "expiresAt");
  if (expiresAt !== localValue(key.expiresAt))
    change.expiresAt = expiresAt === "" ? null : `${expiresAt}:00Z`;
  const ipAllowlist = words(fieldValue(form, "ipAllowlist"));
  if (!sameList(ipAllowlist, key.ipAllowlist)) change.ipAllowlist = ipAllowlist;
  return change;
}
