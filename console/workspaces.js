/** The workspaces: the list (an admin key sees its own) and, for the root token, creating one. */
import { api, problemView, query } from "./api.js";
import { field, fieldValue, h, when } from "./dom.js";
import { pagedList } from "./list.js";
import { planOptions, policyChoices } from "./policy.js";

/** @param {HTMLElement} main */
export async function workspacesView(main) {
  const policy = await policyChoices();
  const list = pagedList({
    caption: "Workspaces",
    headings: ["Name", "Id", "Plan", "Created"],
    empty: "No workspaces yet: create the first one below.",
    /** @param {any} workspace */
    row: (workspace) => [
      h("a", { href: `#/workspaces/${encodeURIComponent(workspace.id)}` }, workspace.name),
      h("code", {}, workspace.id),
      workspace.plan ?? "none",
      when(workspace.createdAt),
    ],
    page: (cursor) => api("GET", `/workspaces${query({ cursor, limit: 50 })}`),
  });

  const outcome = h("div", { "aria-live": "polite" });
  const form = /** @type {HTMLFormElement} */ (
    h(
      "form",
      { class: "card", "aria-labelledby": "create-workspace" },
      h("h2", { id: "create-workspace" }, "Create a workspace"),
      h("p", { class: "muted" }, "Only the root token creates workspaces."),
      h(
        "div",
        { class: "fields" },
        field("Name", { id: "workspace-name", name: "name", required: true, maxlength: 200 }),
        policy
          ? field(
              "Plan",
              { id: "workspace-plan", name: "plan", options: planOptions(policy, null) },
              "Optional.",
            )
          : field("Plan", { id: "workspace-plan", name: "plan" }, "Optional: a plan of the policy."),
      ),
      h("button", { type: "submit" }, "Create workspace"),
      outcome,
    )
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    outcome.replaceChildren();
    const plan = fieldValue(form, "plan");
    try {
      const created = await api("POST", "/workspaces", {
        name: fieldValue(form, "name"),
        ...(plan && { plan }),
      });
      location.hash = `#/workspaces/${encodeURIComponent(created.id)}`;
    } catch (error) {
      outcome.replaceChildren(problemView(error));
    }
  });

  main.replaceChildren(
    h("h1", {}, "Workspaces"),
    h("section", { class: "card", "aria-label": "Workspace list" }, list.element),
    form,
  );
}
