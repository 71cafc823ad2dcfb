/**
 * Building the page: elements from plain values, never from HTML strings, so that nothing the
 * API returns is ever parsed as markup. No `style` attribute either: the CSP forbids inline
 * style, so looks live in console.css.
 */

/**
 * An element with attributes, listeners (`onclick`, `onsubmit`, ...) and children.
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...(Node | string | number | null | undefined | false | (Node | string)[] | (Node | string)[][])} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(2)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/**
 * A table with a header row, wrapped so that it scrolls sideways on a narrow screen.
 * @param {string} caption
 * @param {string[]} headings
 * @param {(Node | string)[][]} rows
 */
export function table(caption, headings, rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headings.map((heading) => h("th", { scope: "col" }, heading)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((cells) =>
          h(
            "tr",
            {},
            cells.map((cell) => h("td", {}, cell)),
          ),
        ),
      ),
    ),
  );
}

/**
 * A labelled form field. The input's `id` ties the label to it.
 * @param {string} label
 * @param {Record<string, unknown>} input attributes of the input (or of the select, with `options`)
 * @param {string} [hint]
 */
export function field(label, input, hint) {
  const { options, ...attributes } = /** @type {Record<string, unknown> & {options?: [string, string][]}} */ (
    input
  );
  const hintId = hint ? `${attributes.id}-hint` : undefined;
  const control = options
    ? h(
        "select",
        { ...attributes, "aria-describedby": hintId },
        options.map(([value, text]) => h("option", { value }, text)),
      )
    : h("input", { type: "text", ...attributes, "aria-describedby": hintId });
  return h(
    "div",
    { class: "field" },
    h("label", { for: String(attributes.id) }, label),
    control,
    hint ? h("small", { id: hintId }, hint) : null,
  );
}

/** @param {HTMLFormElement} form @param {string} name */
export function fieldValue(form, name) {
  const control = /** @type {HTMLInputElement | null} */ (form.elements.namedItem(name));
  return control ? control.value.trim() : "";
}

/** Words separated by commas or spaces: permission lists. @param {string} text */
export function words(text) {
  return text.split(/[\s,]+/).filter((word) => word !== "");
}

/** A time for people, in UTC like the API. @param {string | null | undefined} iso */
export function when(iso) {
  return iso ? `${iso.slice(0, 16).replace("T", " ")} UTC` : "never";
}
