/**
 * `<portcullis-keys>`: self-service API keys for the members of a provider's customer
 * organisation, in any page (docs/portal.md). It draws itself from `GET /session` of the portal
 * API and shows only what the member's permissions and plan allow.
 *
 *   <script type="module" src="https://api.example.com/_portcullis/portal/element.js"></script>
 *   <portcullis-keys base-url="https://api.example.com/_portcullis" locale="en"></portcullis-keys>
 *   element.getToken = async () => (await myLogin.session()).jwt;
 *
 * Attributes: `base-url` (https, or http on localhost; default: where this module came from),
 * `locale` (`en`, `es`). Properties: `getToken` (async, called before every request) or `token`
 * (a property only: an attribute would sit in the DOM), `labels` (replaces any visible text).
 * Everything renders in a shadow root as text, never as HTML. Events (bubbling, composed, none
 * carrying a key): `portcullis-key-created`, `portcullis-key-revoked`, `portcullis-key-rotated`,
 * `portcullis-error`.
 */
import { Problem, portalClient, query, resolveBase } from "./client.js";
import { h } from "./dom.js";
import { wordsFor } from "./strings.js";
import { CSS } from "./styles.js";
import { usageSection } from "./usage.js";

const PAGE_SIZE = 25;
const GRACE_CHOICES = [
  ["0", "graceNone"],
  ["3600", "graceHour"],
  ["86400", "graceDay"],
  ["604800", "graceWeek"],
];
const DAY_MS = 86_400_000;
/** Properties a page may set before this module defines the element. */
const PROPERTIES = ["getToken", "token", "labels"];

/** @type {CSSStyleSheet | null} */
let sheet = null;

/** @param {{revokedAt?: string | null, expiresAt?: string | null, enabled: boolean}} key */
function statusOf(key) {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && Date.parse(key.expiresAt) <= Date.now()) return "expired";
  return key.enabled ? "active" : "disabled";
}

/** A UTC date `days` from today, as a date input writes it. @param {number} days */
function utcDate(days) {
  return new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
}

export class PortcullisKeys extends HTMLElement {
  static observedAttributes = ["base-url", "locale"];

  /** @type {(() => Promise<string | null | undefined>) | null} */
  #getToken = null;
  /** @type {string | null} */
  #token = null;
  /** @type {Record<string, string> | null} */
  #labels = null;
  /** @type {ShadowRoot} */
  #root;
  /** @type {any} the answer of `GET /session` */
  #session = null;
  /** Each start counts up, so that an answer for an earlier one is dropped. */
  #generation = 0;
  /** @type {"all" | "mine"} */
  #view = "all";
  #connected = false;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    sheet ??= (() => {
      const built = new CSSStyleSheet();
      built.replaceSync(CSS);
      return built;
    })();
    this.#root.adoptedStyleSheets = [sheet];
    this.#root.addEventListener("keydown", (event) => this.#escape(/** @type {KeyboardEvent} */ (event)));
  }

  /** @param {(() => Promise<string | null | undefined>) | null} value */
  set getToken(value) {
    this.#getToken = typeof value === "function" ? value : null;
    this.#start();
  }

  get getToken() {
    return this.#getToken;
  }

  /** Write-only: a token set here is never read back from the element. @param {string | null} value */
  set token(value) {
    this.#token = typeof value === "string" && value !== "" ? value : null;
    this.#start();
  }

  /** @param {Record<string, string> | null} value */
  set labels(value) {
    this.#labels = value && typeof value === "object" ? { ...value } : null;
    this.#start();
  }

  get labels() {
    return this.#labels ? { ...this.#labels } : null;
  }

  connectedCallback() {
    // A property set on the element before this module defined it shadows the class's setter.
    for (const name of PROPERTIES) {
      if (Object.hasOwn(this, name)) {
        const value = /** @type {any} */ (this)[name];
        delete (/** @type {any} */ (this)[name]);
        /** @type {any} */ (this)[name] = value;
      }
    }
    this.#connected = true;
    this.#start();
  }

  disconnectedCallback() {
    this.#connected = false;
    this.#generation += 1;
  }

  attributeChangedCallback() {
    this.#start();
  }

  get #t() {
    return wordsFor(this.getAttribute("locale"), this.#labels);
  }

  get #base() {
    return resolveBase(this.getAttribute("base-url"));
  }

  #call = (/** @type {string} */ method, /** @type {string} */ path, /** @type {unknown} */ body) => {
    const base = this.#base;
    if (!base) return Promise.reject(new Problem(400, { code: "bad_base_url" }));
    return portalClient(base, () => this.#bearer())(method, path, body);
  };

  async #bearer() {
    if (this.#getToken) {
      try {
        return await this.#getToken();
      } catch {
        return null;
      }
    }
    return this.#token;
  }

  /** @param {string} type @param {Record<string, unknown>} detail */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /** (Re)loads the session and shows the keys; a no-op until connected with a token source. */
  async #start() {
    if (!this.#connected) return;
    const generation = ++this.#generation;
    const t = this.#t;
    if (!this.#base) {
      this.#show(null, this.#alert({ code: "bad_base_url" }));
      this.#emit("portcullis-error", { code: "bad_base_url", status: 0 });
      return;
    }
    if (!this.#getToken && !this.#token) {
      this.#show(null, h("p", { class: "muted" }, t("signingIn")));
      return;
    }
    this.#show(null, h("p", { class: "muted" }, t("loading")));
    try {
      const session = await this.#call("GET", "/session");
      if (generation !== this.#generation) return;
      this.#session = session;
      this.#view = this.#can("keys:read") || this.#can("keys:manage") ? "all" : "mine";
      this.#keysScreen(false);
    } catch (error) {
      if (generation === this.#generation) this.#failed(error);
    }
  }

  /** @param {string} permission */
  #can(permission) {
    return Boolean(this.#session?.permissions?.includes(permission));
  }

  /**
   * Replaces the screen: the workspace's name, then `content`. Focuses the screen's heading
   * when `focus` (a screen the member moved to, not the first one drawn).
   * @param {string | null} heading @param {(Node | null)[] | Node} content @param {boolean} [focus]
   */
  #show(heading, content, focus = false) {
    const t = this.#t;
    const workspace = this.#session?.workspace;
    const title = heading ? h("h2", { tabindex: "-1" }, heading) : null;
    this.#root.replaceChildren(
      h(
        "div",
        { class: "shell", lang: this.getAttribute("locale") === "es" ? "es" : "en" },
        workspace
          ? h(
              "p",
              { class: "workspace" },
              `${t("workspace")}: `,
              h("strong", { "data-workspace": "" }, workspace.name),
            )
          : null,
        title,
        content,
      ),
    );
    if (focus && title) title.focus();
  }

  /**
   * The problem of a failed call, in the member's words, with its detail and code.
   * @param {unknown} error @param {"alert" | "status"} [role] `status` for a standing condition
   */
  #alert(error, role = "alert") {
    const t = this.#t;
    const problem = error instanceof Problem ? error : new Problem(0, null);
    const code = /** @type {{code?: string}} */ (error).code ?? problem.code;
    const words = t(code);
    return h(
      "div",
      { class: "alert", role, "data-code": code },
      h("p", {}, h("strong", {}, words !== code ? words : problem.title || t("error"))),
      problem.detail ? h("p", {}, problem.detail) : null,
      h("code", {}, code),
    );
  }

  /** A failed call: an ended session replaces the screen; anything else is shown where it happened. @param {unknown} error */
  #failed(error) {
    const problem = error instanceof Problem ? error : new Problem(0, null);
    this.#emit("portcullis-error", { code: problem.code, status: problem.status });
    if (problem.status === 401) {
      this.#session = null;
      this.#show(null, this.#alert({ code: "session_ended" }));
      return null;
    }
    return this.#alert(problem);
  }

  /** Escape leaves a form or a key for the list (an open dialog closes itself first). @param {KeyboardEvent} event */
  #escape(event) {
    if (event.key !== "Escape" || this.#root.querySelector("dialog[open]")) return;
    const screen = this.#root.querySelector("[data-screen]");
    const name = screen?.getAttribute("data-screen");
    if (name === "create" || name === "key") {
      event.preventDefault();
      this.#keysScreen(true);
    }
  }

  /** @param {any} type */
  #typeLabel(type) {
    return this.#session?.keyTypes?.find((/** @type {any} */ each) => each.type === type)?.label ?? type;
  }

  /** @param {string | null | undefined} iso */
  #when(iso) {
    if (!iso) return this.#t("never");
    return new Intl.DateTimeFormat(this.getAttribute("locale") === "es" ? "es" : "en", {
      dateStyle: "medium",
      timeStyle: "short",
      timeZone: "UTC",
    }).format(new Date(iso));
  }

  /** The keys: the member's view, paged newest first, with create and usage when allowed. @param {boolean} focus */
  #keysScreen(focus) {
    const t = this.#t;
    const seeAll = this.#can("keys:read") || this.#can("keys:manage");
    const memberTypes = this.#session.keyTypes.some((/** @type {any} */ type) => type.ownedBy === "member");
    const seeMine = this.#can("keys:own") || (seeAll && memberTypes);
    if (!seeAll && !seeMine) {
      this.#show(t("keys"), h("p", { "data-screen": "keys" }, t("noPermission")), focus);
      return;
    }
    const creatable = this.#session.keyTypes.filter((/** @type {any} */ type) => type.canCreate);
    // Allowed to create, yet no type may be created: the workspace's plan does not include it.
    const planBlocks =
      creatable.length === 0 &&
      this.#session.keyTypes.some(
        (/** @type {any} */ type) =>
          this.#can("keys:manage") || (type.ownedBy === "member" && this.#can("keys:own")),
      );
    const list = h("ul", { class: "keys", "aria-label": t("keys") });
    const more = h("div", {});
    const tab = (/** @type {"all" | "mine"} */ view, /** @type {string} */ label) =>
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-pressed": String(this.#view === view),
          onclick: () => {
            this.#view = view;
            this.#keysScreen(true);
          },
        },
        label,
      );
    const load = async (/** @type {string | null} */ cursor) => {
      try {
        const page = await this.#call(
          "GET",
          `/keys${query({ mine: this.#view === "mine", cursor, limit: PAGE_SIZE })}`,
        );
        if (!cursor && page.items.length === 0)
          list.replaceWith(h("p", { class: "muted empty" }, t("noKeys")));
        for (const key of page.items) list.append(this.#keyItem(key));
        more.replaceChildren(
          page.cursor
            ? h("button", { type: "button", class: "secondary", onclick: () => load(page.cursor) }, t("more"))
            : "",
        );
      } catch (error) {
        more.replaceChildren(this.#failed(error) ?? "");
      }
    };
    this.#show(
      t("keys"),
      h(
        "div",
        { "data-screen": "keys" },
        h(
          "div",
          { class: "bar" },
          seeAll && seeMine
            ? h(
                "div",
                { class: "tabs", role: "group", "aria-label": t("keysView") },
                tab("all", t("workspaceKeys")),
                tab("mine", t("myKeys")),
              )
            : h("span", {}),
          creatable.length > 0
            ? h("button", { type: "button", onclick: () => this.#createScreen() }, t("create"))
            : null,
        ),
        planBlocks ? this.#alert({ code: "plan_required" }, "status") : null,
        list,
        more,
        this.#can("usage:read") ? this.#usage(t("usage"), "/usage") : null,
      ),
      focus,
    );
    load(null);
  }

  /** @param {any} key */
  #keyItem(key) {
    const t = this.#t;
    const status = statusOf(key);
    return h(
      "li",
      { "data-key": key.id },
      h(
        "button",
        { type: "button", class: "link", onclick: () => this.#keyScreen(key.id) },
        key.name ?? key.id,
      ),
      h(
        "span",
        { class: "meta" },
        this.#typeLabel(key.type),
        " · ",
        h("code", {}, `${key.start}…`),
        " · ",
        h("span", { class: "status", "data-status": status }, t(status)),
        " · ",
        `${t("created")} ${this.#when(key.createdAt)}`,
      ),
    );
  }

  /** @param {string} heading @param {string} path */
  #usage(heading, path) {
    return usageSection(
      { t: this.#t, call: this.#call, root: this.#root, problem: (error) => this.#failed(error) ?? "" },
      heading,
      path,
    );
  }

  /** The create form: type by label, name, grantable permissions, settable limits, expiry. */
  #createScreen() {
    const t = this.#t;
    const types = this.#session.keyTypes.filter((/** @type {any} */ type) => type.canCreate);
    const maxDays = this.#session.limits?.maxLifetimeDays ?? null;
    const typeSelect = /** @type {HTMLSelectElement} */ (
      h(
        "select",
        { id: "type", name: "type" },
        types.map((/** @type {any} */ type) => h("option", { value: type.type }, type.label ?? type.type)),
      )
    );
    const choices = h("div", {});
    const status = h("div", {});
    const drawChoices = () => {
      const type = types.find((/** @type {any} */ each) => each.type === typeSelect.value);
      choices.replaceChildren(
        type.grantable.length > 0
          ? h(
              "fieldset",
              {},
              h("legend", {}, t("permissions")),
              type.grantable.map(
                (/** @type {{permission: string, label?: string}} */ grant, /** @type {number} */ index) =>
                  h(
                    "div",
                    { class: "check" },
                    h("input", {
                      type: "checkbox",
                      id: `permission-${index}`,
                      name: "permission",
                      value: grant.permission,
                      checked: type.defaultPermissions.includes(grant.permission),
                    }),
                    h("label", { for: `permission-${index}` }, grant.label ?? grant.permission),
                  ),
              ),
            )
          : null,
        type.limits.length > 0
          ? h(
              "fieldset",
              {},
              h("legend", {}, t("limits")),
              type.limits.map((/** @type {{window: string, max: number | null}} */ limit) =>
                h(
                  "div",
                  { class: "field" },
                  h(
                    "label",
                    { for: `limit-${limit.window}` },
                    limit.max === null
                      ? t("limitWindowAny", { window: t(limit.window) })
                      : t("limitWindow", { window: t(limit.window), max: limit.max }),
                  ),
                  h("input", {
                    type: "number",
                    id: `limit-${limit.window}`,
                    name: `limit-${limit.window}`,
                    min: 1,
                    max: limit.max,
                    step: 1,
                    inputmode: "numeric",
                  }),
                ),
              ),
            )
          : null,
      );
    };
    typeSelect.addEventListener("change", drawChoices);
    drawChoices();
    const form = /** @type {HTMLFormElement} */ (
      h(
        "form",
        { "data-screen": "create", novalidate: true },
        h("div", { class: "field" }, h("label", { for: "type" }, t("type")), typeSelect),
        h(
          "div",
          { class: "field" },
          h("label", { for: "name" }, t("name")),
          h("input", {
            type: "text",
            id: "name",
            name: "name",
            required: true,
            maxlength: 100,
            autocomplete: "off",
          }),
        ),
        choices,
        h(
          "div",
          { class: "field" },
          h("label", { for: "expiry" }, t("expiry")),
          h("input", {
            type: "date",
            id: "expiry",
            name: "expiry",
            min: utcDate(1),
            max: maxDays ? utcDate(maxDays) : null,
            value: maxDays ? utcDate(maxDays) : null,
            required: Boolean(maxDays),
            "aria-describedby": "expiry-hint",
          }),
          h(
            "small",
            { id: "expiry-hint" },
            maxDays ? t("expiryHint", { days: maxDays }) : t("expiryOptional"),
          ),
        ),
        status,
        h(
          "div",
          { class: "actions" },
          h("button", { type: "submit" }, t("create")),
          h(
            "button",
            { type: "button", class: "secondary", onclick: () => this.#keysScreen(true) },
            t("cancel"),
          ),
        ),
      )
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const type = types.find((/** @type {any} */ each) => each.type === typeSelect.value);
      /** @type {Record<string, number>} */
      const limits = {};
      for (const limit of type.limits) {
        const value = String(data.get(`limit-${limit.window}`) ?? "").trim();
        if (value !== "") limits[limit.window] = Number(value);
      }
      const expiry = String(data.get("expiry") ?? "");
      const body = {
        type: type.type,
        name: String(data.get("name") ?? "").trim(),
        ...(type.grantable.length > 0 && { permissions: data.getAll("permission").map(String) }),
        ...(Object.keys(limits).length > 0 && { limits }),
        ...(expiry && { expiresAt: `${expiry}T00:00:00Z` }),
      };
      const submit = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));
      submit.disabled = true;
      try {
        const created = await this.#call("POST", "/keys", body);
        this.#emit("portcullis-key-created", { id: created.id, type: created.type, name: created.name });
        this.#secretScreen(created);
      } catch (error) {
        submit.disabled = false;
        const shown = this.#failed(error);
        if (shown) {
          status.replaceChildren(shown);
          /** @type {HTMLElement} */ (shown).setAttribute("tabindex", "-1");
          /** @type {HTMLElement} */ (shown).focus();
        }
      }
    });
    this.#show(t("createTitle"), form, true);
  }

  /**
   * A new key, shown this once: it lives in this screen only (never in storage or an event),
   * in a box that session-replay tools mask (`data-private`, `rr-block`).
   * @param {any} created the record with `key`
   */
  #secretScreen(created) {
    const t = this.#t;
    const copyStatus = h("span", { role: "status" });
    const code = h("code", { class: "secret-key", id: "new-key" }, created.key);
    const box = h(
      "section",
      {
        class: "card secret",
        "data-screen": "secret",
        "data-private": "",
        "rr-block": "",
        "aria-describedby": "new-key-warning",
      },
      h("p", { id: "new-key-warning", class: "warning" }, t("newKeyWarning")),
      h("p", {}, created.name, " · ", this.#typeLabel(created.type)),
      code,
      h("p", {}, t("newKeyNote")),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(created.key);
                copyStatus.textContent = t("copied");
              } catch {
                getSelection()?.selectAllChildren(code);
                copyStatus.textContent = t("copySelect");
              }
            },
          },
          t("copy"),
        ),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: () => {
              code.textContent = "";
              this.#keyScreen(created.id);
            },
          },
          t("done"),
        ),
        copyStatus,
      ),
    );
    this.#show(t("newKeyTitle"), box, true);
  }

  /** One key: its record, what the member may do to it, its windows, credits and usage. @param {string} id */
  async #keyScreen(id) {
    const t = this.#t;
    const generation = this.#generation;
    this.#show(null, h("p", { class: "muted", "data-screen": "key" }, t("loading")));
    let key;
    try {
      key = await this.#call("GET", `/keys/${encodeURIComponent(id)}`);
    } catch (error) {
      const shown = this.#failed(error);
      if (shown) this.#show(t("keys"), h("div", { "data-screen": "key" }, shown, this.#backButton()), true);
      return;
    }
    if (generation !== this.#generation) return;
    const status = statusOf(key);
    const mine =
      key.ownerId === this.#session.member.subject &&
      this.#session.keyTypes.some(
        (/** @type {any} */ type) => type.type === key.type && type.ownedBy === "member",
      );
    const mayChange = this.#can("keys:manage") || (this.#can("keys:own") && mine);
    const byPortal = key.createdBy?.type === "portal";
    const notice = h("div", {});
    const act = async (/** @type {() => Promise<void>} */ action) => {
      try {
        await action();
      } catch (error) {
        const shown = this.#failed(error);
        if (shown) notice.replaceChildren(shown);
      }
    };
    const actions = [];
    if (mayChange && status !== "revoked") {
      if (byPortal && status !== "expired") {
        actions.push(
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: () =>
                act(async () => {
                  await this.#call("PATCH", `/keys/${encodeURIComponent(id)}`, { enabled: !key.enabled });
                  await this.#keyScreen(id);
                }),
            },
            key.enabled ? t("disable") : t("enable"),
          ),
        );
      }
      actions.push(
        h(
          "button",
          { type: "button", class: "danger", onclick: () => this.#confirmRevoke(key, act) },
          t("revoke"),
        ),
      );
    }
    const rotate =
      mayChange && byPortal && status !== "revoked" && status !== "expired"
        ? this.#rotateForm(key, act)
        : null;
    const windows = key.limits;
    this.#show(
      key.name ?? key.id,
      h(
        "div",
        { "data-screen": "key" },
        this.#backButton(),
        h(
          "dl",
          { class: "record" },
          h("dt", {}, t("status")),
          h("dd", {}, h("span", { class: "status", "data-status": status }, t(status))),
          h("dt", {}, t("type")),
          h("dd", {}, this.#typeLabel(key.type)),
          h("dt", {}, t("startsWith")),
          h("dd", {}, h("code", {}, `${key.start}…`)),
          h("dt", {}, t("permissions")),
          h(
            "dd",
            {},
            key.permissions.length > 0
              ? key.permissions
                  .map((/** @type {string} */ permission) => this.#permissionLabel(key.type, permission))
                  .join(", ")
              : "—",
          ),
          h("dt", {}, t("created")),
          h("dd", {}, this.#when(key.createdAt)),
          key.createdBy?.name || key.createdBy?.id
            ? [h("dt", {}, t("createdBy")), h("dd", {}, key.createdBy.name ?? key.createdBy.id)]
            : null,
          h("dt", {}, t("expires")),
          h("dd", {}, this.#when(key.expiresAt)),
          h("dt", {}, t("lastUsed")),
          h("dd", {}, this.#when(key.lastUsedAt)),
        ),
        !byPortal && mayChange && status !== "revoked" ? h("p", { class: "muted" }, t("readOnly")) : null,
        notice,
        actions.length > 0 ? h("div", { class: "actions" }, actions) : null,
        rotate,
        windows.length > 0 || key.credits
          ? h(
              "section",
              { class: "card", "aria-labelledby": "windows-heading" },
              h("h3", { id: "windows-heading" }, t("windows")),
              h(
                "ul",
                { class: "totals" },
                windows.map((/** @type {{window: string, limit: number, remaining: number}} */ window) =>
                  h(
                    "li",
                    { "data-window": window.window },
                    t("windowLeft", {
                      remaining: window.remaining,
                      limit: window.limit,
                      window: t(window.window),
                    }),
                  ),
                ),
                key.credits
                  ? h(
                      "li",
                      { "data-credits": "" },
                      `${t("credits")}: `,
                      h("strong", {}, key.credits.remaining),
                    )
                  : null,
              ),
            )
          : null,
        this.#can("usage:read") ? this.#usage(t("keyUsage"), `/keys/${encodeURIComponent(id)}/usage`) : null,
      ),
      true,
    );
  }

  /** @param {string} type @param {string} permission */
  #permissionLabel(type, permission) {
    const keyType = this.#session.keyTypes.find((/** @type {any} */ each) => each.type === type);
    return (
      keyType?.grantable.find((/** @type {any} */ grant) => grant.permission === permission)?.label ??
      permission
    );
  }

  #backButton() {
    return h(
      "button",
      { type: "button", class: "secondary", onclick: () => this.#keysScreen(true) },
      this.#t("back"),
    );
  }

  /** Rotate with a grace choice: the new key is shown once. @param {any} key @param {Function} act */
  #rotateForm(key, act) {
    const t = this.#t;
    const grace = /** @type {HTMLSelectElement} */ (
      h(
        "select",
        { id: "grace" },
        GRACE_CHOICES.map(([seconds, words]) => h("option", { value: seconds }, t(words))),
      )
    );
    return h(
      "section",
      { class: "card", "aria-labelledby": "rotate-heading" },
      h("h3", { id: "rotate-heading" }, t("rotateTitle")),
      h("div", { class: "field" }, h("label", { for: "grace" }, t("grace")), grace),
      h(
        "button",
        {
          type: "button",
          onclick: () =>
            act(async () => {
              const rotated = await this.#call("POST", `/keys/${encodeURIComponent(key.id)}/rotate`, {
                gracePeriodSeconds: Number(grace.value),
              });
              this.#emit("portcullis-key-rotated", { id: key.id, newId: rotated.id });
              this.#secretScreen(rotated);
            }),
        },
        t("rotate"),
      ),
    );
  }

  /** A modal confirmation naming the key; Escape or Cancel closes it. @param {any} key @param {Function} act */
  #confirmRevoke(key, act) {
    const t = this.#t;
    const name = key.name ?? key.id;
    const dialog = /** @type {HTMLDialogElement} */ (
      h(
        "dialog",
        { "aria-labelledby": "revoke-title", "aria-describedby": "revoke-text" },
        h("h2", { id: "revoke-title" }, t("revokeTitle", { name })),
        h("p", { id: "revoke-text" }, t("revokeText", { name, start: key.start })),
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            { type: "button", class: "secondary", autofocus: true, onclick: () => dialog.close() },
            t("cancel"),
          ),
          h(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: () => {
                dialog.close();
                act(async () => {
                  await this.#call("POST", `/keys/${encodeURIComponent(key.id)}/revoke`);
                  this.#emit("portcullis-key-revoked", { id: key.id });
                  await this.#keyScreen(key.id);
                });
              },
            },
            t("revokeConfirm", { name }),
          ),
        ),
      )
    );
    dialog.addEventListener("close", () => dialog.remove());
    this.#root.querySelector(".shell")?.append(dialog);
    dialog.showModal();
  }
}

if (!customElements.get("portcullis-keys")) customElements.define("portcullis-keys", PortcullisKeys);
