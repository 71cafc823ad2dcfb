/**
 * The console's entry: sign in, the navigation, and the routes of the hash
 *
 *   #/workspaces          the workspaces
 *   #/workspaces/:id      one workspace: keys, verifications, owners, roles, events, audit log
 *   #/keys/:id            one key
 *   #/owners/:workspaceId/:ownerId   one owner of a workspace
 */
import { api, Problem, problemView, session } from "./api.js";
import { field, fieldValue, h } from "./dom.js";
import { keyView } from "./key.js";
import { ownerView } from "./owner.js";
import { workspaceView } from "./workspace.js";
import { workspacesView } from "./workspaces.js";

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const nav = /** @type {HTMLElement} */ (document.getElementById("nav"));

function signInView() {
  const outcome = h("div", { "aria-live": "polite" });
  const form = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "card sign-in", "aria-labelledby": "sign-in-title" },
      h("h1", { id: "sign-in-title" }, "Sign in"),
      h(
        "p",
        {},
        "Use the root token (ADMIN_TOKEN) or an admin key (pc_admin_…). It is kept in this tab only ",
        "(sessionStorage) and sent only to this origin's admin API.",
      ),
      field("Root token or admin key", {
        id: "credential",
        name: "credential",
        type: "password",
        required: true,
        autocomplete: "off",
        spellcheck: "false",
      }),
      h("button", { type: "submit" }, "Sign in"),
      outcome,
    )
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    outcome.replaceChildren();
    session.signIn(fieldValue(form, "credential"));
    try {
      await api("GET", "/workspaces?limit=1");
    } catch (error) {
      // An admin key without workspaces:read may still manage keys; any other refusal is a
      // credential that does not sign in.
      const allowed = error instanceof Problem && error.code === "insufficient_permissions";
      if (!allowed) {
        session.signOut();
        outcome.replaceChildren(problemView(error));
        return;
      }
    }
    if (!location.hash.startsWith("#/")) location.hash = "#/workspaces";
    else render();
  });
  main.replaceChildren(form);
  document.title = "Sign in · Portcullis console";
  /** @type {HTMLInputElement | null} */ (form.querySelector("#credential"))?.focus();
}

function navigation() {
  if (!session.credential()) {
    nav.replaceChildren();
    return;
  }
  nav.replaceChildren(
    h("a", { href: "#/workspaces" }, "Workspaces"),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: () => {
          session.signOut();
          history.replaceState(null, "", location.pathname);
          render();
        },
      },
      "Sign out",
    ),
  );
}

/** A segment of the address's fragment; a malformed escape (`%E0%A4%A`) is kept as typed. */
function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function render() {
  navigation();
  if (!session.credential()) {
    signInView();
    return;
  }
  const [, screen, id, sub] = location.hash.split("/").map(decodeSegment);
  main.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  if (screen === "workspaces" && id) await workspaceView(main, id);
  else if (screen === "keys" && id) await keyView(main, id);
  else if (screen === "owners" && id && sub) await ownerView(main, id, sub);
  else await workspacesView(main);
  const heading = main.querySelector("h1");
  document.title = `${heading?.textContent ?? "Console"} · Portcullis console`;
  heading?.setAttribute("tabindex", "-1");
  heading?.focus();
}

window.addEventListener("hashchange", render);
render();
