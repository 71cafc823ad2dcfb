/**
 * One key: its record, what can be done to it (disable or enable, rotate, credits, revoke) and
 * its verifications over time. A revoked key can only be looked at.
 */
import { api, problemView } from "./api.js";
import { usageSection } from "./chart.js";
import { field, fieldValue, h, when } from "./dom.js";
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
  let key;
  try {
    key = await api("GET", path);
  } catch (error) {
    main.replaceChildren(h("h1", {}, "Key"), problemView(error));
    return;
  }
  const outcome = h("div", { "aria-live": "polite" });
  const status = keyStatus(key);

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
    ["Owner", key.ownerId ?? "—"],
    ["Permissions", key.permissions.join(" ") || "none"],
    ["Roles", key.roles.join(" ") || "none"],
    ["Plan", key.plan ?? "none"],
    ["Credits", key.credits ? String(key.credits.remaining) : "unlimited"],
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
