/**
 * One owner of a workspace (the keys sharing an `ownerId`): its limits with live remaining, its
 * credits, roles and keys; edit its limits and credits (`PUT` replaces both) and its roles,
 * revoke all its keys after a confirmation that names it.
 */
import { api, problemView, query } from "./api.js";
import { choices, chosen, field, fieldValue, h, table, when, words } from "./dom.js";
import { keyStatus } from "./key.js";
import { limitFields, limitsOf } from "./limits.js";
import { pagedList } from "./list.js";

/** @param {string} workspaceId @param {string} ownerId */
export const ownerHref = (workspaceId, ownerId) =>
  `#/owners/${encodeURIComponent(workspaceId)}/${encodeURIComponent(ownerId)}`;

/** @param {string} workspaceId @param {string} ownerId */
export const ownerLink = (workspaceId, ownerId) => h("a", { href: ownerHref(workspaceId, ownerId) }, ownerId);

/**
 * @param {HTMLElement} main
 * @param {string} workspaceId
 * @param {string} ownerId
 * @param {string} [done] what the last change did, to say above the record
 */
export async function ownerView(main, workspaceId, ownerId, done = "") {
  const path = `/owners/${encodeURIComponent(ownerId)}`;
  let owner;
  let roles;
  try {
    [owner, roles] = await Promise.all([
      api("GET", `${path}${query({ workspaceId })}`),
      api("GET", `/roles${query({ workspaceId })}`).catch(() => null),
    ]);
  } catch (error) {
    main.replaceChildren(h("h1", {}, `Owner ${ownerId}`), problemView(error));
    return;
  }
  const outcome = h("div", { "aria-live": "polite" });

  /**
   * Runs a change, then shows the owner as it is afterwards, or the problem.
   * @param {() => Promise<string>} change answers what it did
   */
  async function act(change) {
    outcome.replaceChildren();
    try {
      const said = await change();
      await ownerView(main, workspaceId, ownerId, said);
      document.getElementById("owner-title")?.focus();
    } catch (error) {
      outcome.replaceChildren(problemView(error));
    }
  }

  /** @type {Record<string, number>} */
  const limits = Object.fromEntries(
    owner.limits.map((/** @type {{window: string, limit: number}} */ item) => [item.window, item.limit]),
  );
  main.replaceChildren(
    h("p", {}, h("a", { href: `#/workspaces/${encodeURIComponent(workspaceId)}` }, "← Workspace")),
    h("h1", { id: "owner-title", tabindex: "-1" }, `Owner ${owner.ownerId}`),
    done ? h("p", { class: "done", role: "status" }, done) : null,
    h(
      "section",
      { class: "card", "aria-label": "Owner record" },
      h(
        "dl",
        { class: "record" },
        h("dt", {}, "Keys"),
        h("dd", {}, String(owner.keyCount)),
        h("dt", {}, "Roles"),
        h("dd", {}, owner.roles.join(" ") || "none"),
        h("dt", {}, "Credits"),
        h(
          "dd",
          {},
          owner.credits
            ? `${owner.credits.remaining}${owner.credits.refill ? `, refilled to ${owner.credits.refill.amount} each ${owner.credits.refill.interval}` : ""}`
            : "none",
        ),
      ),
      owner.limits.length === 0
        ? h("p", { class: "empty" }, "No owner limits: each key counts against its own only.")
        : table(
            "Owner limits",
            ["Window", "Limit", "Remaining", "Resets in"],
            owner.limits.map((/** @type {any} */ item) => [
              item.window,
              String(item.limit),
              String(item.remaining),
              `${item.reset} s`,
            ]),
          ),
    ),
    editForm(owner, limits, `${path}${query({ workspaceId })}`, act),
    rolesForm(owner, roles, `${path}/roles${query({ workspaceId })}`, act),
    outcome,
    keysSection(workspaceId, ownerId),
    revokeSection(owner, `${path}/revoke${query({ workspaceId })}`, act),
  );
}

/**
 * @param {any} owner
 * @param {Record<string, number>} limits
 * @param {string} path
 * @param {(change: () => Promise<string>) => Promise<void>} act
 */
function editForm(owner, limits, path, act) {
  const credits = owner.credits;
  const form = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "card", "aria-labelledby": "owner-edit-title" },
      h("h2", { id: "owner-edit-title" }, "Limits and credits"),
      h(
        "p",
        { class: "muted" },
        "Shared by every key of the owner. Saving replaces both: empty limits and empty credits are none.",
      ),
      h("fieldset", { class: "choices" }, h("legend", {}, "Limits"), limitFields("owner-limit", limits)),
      h(
        "fieldset",
        { class: "choices" },
        h("legend", {}, "Credits"),
        h(
          "div",
          { class: "fields" },
          field(
            "Balance",
            {
              id: "owner-credits",
              name: "credits",
              type: "number",
              min: 0,
              step: 1,
              value: credits ? String(credits.remaining) : "",
            },
            "Empty: no owner credits.",
          ),
          field("Refill", {
            id: "owner-refill",
            name: "refill",
            options: [
              ["", "No refill"],
              ["day", "Each UTC day"],
              ["month", "Each UTC month"],
            ],
            value: credits?.refill?.interval ?? "",
          }),
          field("Refill to", {
            id: "owner-refill-amount",
            name: "refillAmount",
            type: "number",
            min: 0,
            step: 1,
            value: credits?.refill ? String(credits.refill.amount) : "",
          }),
        ),
      ),
      h("button", { type: "submit" }, "Save limits and credits"),
    )
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const balance = fieldValue(form, "credits");
    const interval = fieldValue(form, "refill");
    const body = {
      limits: limitsOf(form, "owner-limit"),
      credits:
        balance === ""
          ? null
          : {
              remaining: Number(balance),
              refill: interval ? { interval, amount: Number(fieldValue(form, "refillAmount") || 0) } : null,
            },
    };
    act(async () => {
      await api("PUT", path, body);
      return "Saved.";
    });
  });
  return form;
}

/**
 * The owner's roles (`PUT /owners/:ownerId/roles`): the workspace's and the policy's roles to
 * choose from, or a text field when the credential may not read them. A key of an ownerScoped
 * type holds a permission only while these roles grant it.
 * @param {any} owner
 * @param {{items: {name: string}[]} | null} roles
 * @param {string} path
 * @param {(change: () => Promise<string>) => Promise<void>} act
 */
function rolesForm(owner, roles, path, act) {
  const form = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "card", "aria-labelledby": "owner-roles-title" },
      h("h2", { id: "owner-roles-title" }, "Roles"),
      h(
        "p",
        { class: "muted" },
        "Keys of an ownerScoped type hold a permission only while these roles grant it; other keys are not affected.",
      ),
      roles
        ? choices("Owner roles", {
            id: "owner-roles",
            name: "roles",
            values: roles.items.map((role) => role.name),
            checked: owner.roles,
          })
        : field("Owner roles", { id: "owner-roles", name: "roles", value: owner.roles.join(" ") }),
      h("button", { type: "submit" }, "Save roles"),
    )
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosenRoles = roles ? chosen(form, "roles") : words(fieldValue(form, "roles"));
    act(async () => {
      await api("PUT", path, { roles: chosenRoles });
      return "Roles saved.";
    });
  });
  return form;
}

/** @param {string} workspaceId @param {string} ownerId */
function keysSection(workspaceId, ownerId) {
  const list = pagedList({
    caption: "The owner's keys",
    headings: ["Name", "Start", "Type", "Status", "Last used"],
    empty: "No keys have this owner.",
    /** @param {any} key */
    row: (key) => [
      h("a", { href: `#/keys/${encodeURIComponent(key.id)}` }, key.name || key.id),
      h("code", {}, key.start),
      key.type,
      h("span", { class: `status status-${keyStatus(key)}` }, keyStatus(key)),
      when(key.lastUsedAt),
    ],
    page: (cursor) => api("GET", `/keys${query({ workspaceId, ownerId, cursor, limit: 50 })}`),
  });
  return h(
    "section",
    { id: "owner-keys", class: "card", "aria-labelledby": "owner-keys-title" },
    h("h2", { id: "owner-keys-title" }, "Keys"),
    list.element,
  );
}

/**
 * @param {any} owner
 * @param {string} path the revoke call's
 * @param {(change: () => Promise<string>) => Promise<void>} act
 */
function revokeSection(owner, path, act) {
  const confirm = h(
    "div",
    { class: "confirm", hidden: true },
    h(
      "p",
      {},
      "Revoke every key of owner ",
      h("strong", {}, owner.ownerId),
      ` (${owner.keyCount} now) for good? Their requests are refused at once. Keys given this owner later are not revoked.`,
    ),
    h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: () =>
          act(async () => {
            const { revoked } = await api("POST", path);
            return `Revoked ${revoked} ${revoked === 1 ? "key" : "keys"}.`;
          }),
      },
      `Yes, revoke every key of ${owner.ownerId}`,
    ),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: () => {
          confirm.hidden = true;
        },
      },
      "Cancel",
    ),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "owner-revoke-title" },
    h("h2", { id: "owner-revoke-title" }, "Revoke"),
    h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: () => {
          confirm.hidden = false;
          confirm.querySelector("button")?.focus();
        },
      },
      "Revoke all keys…",
    ),
    confirm,
  );
}
