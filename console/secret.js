/**
 * A new key, shown once: Portcullis keeps only its hash, so this panel is the only place the key
 * ever appears. It lives in the page only, never in storage; closing it (or leaving or reloading
 * the page) removes it for good.
 */
import { h } from "./dom.js";

/**
 * @param {string} key
 * @param {string} title
 * @param {Node | null} [extra] a link to the new key, for example
 */
export function secretPanel(key, title, extra = null) {
  const status = h("span", { class: "copy-status", role: "status" });
  const code = h("code", { id: "secret-key", class: "secret-key" }, key);
  const panel = h(
    "section",
    { class: "secret card", "aria-labelledby": "secret-title", tabindex: "-1" },
    h("h2", { id: "secret-title" }, title),
    h("p", {}, "Copy the key now: it is shown only this once. Portcullis keeps only its hash."),
    code,
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(key);
              status.textContent = "Copied.";
            } catch {
              getSelection()?.selectAllChildren(code);
              status.textContent = "Selected: copy it with your keyboard.";
            }
          },
        },
        "Copy key",
      ),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: () => {
            code.textContent = "";
            panel.remove();
          },
        },
        "Done, hide it",
      ),
      status,
    ),
    extra,
  );
  return panel;
}
