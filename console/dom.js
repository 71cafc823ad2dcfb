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
 * A labelled form field. The input's `id` ties the label to it. With `options` it is a select
 * (`value` chooses the option), with `multiline` a textarea (`value` is its text).
 * @param {string} label
 * @param {Record<string, unknown>} input attributes of the input (or of the select, with `options`)
 * @param {string} [hint]
 */
export function field(label, input, hint) {
  const { options, multiline, value, ...attributes } =
    /** @type {Record<string, unknown> & {options?: [string, string][], multiline?: boolean}} */ (input);
  const hintId = hint ? `${attributes.id}-hint` : undefined;
  let control;
  if (options) {
    control = h(
      "select",
      { ...attributes, "aria-describedby": hintId },
      options.map(([option, text]) => h("option", { value: option, selected: option === value }, text)),
    );
  } else if (multiline) {
    control = h(
      "textarea",
      { ...attributes, "aria-describedby": hintId },
      value === undefined ? "" : String(value),
    );
  } else {
    control = h("input", { type: "text", ...attributes, value, "aria-describedby": hintId });
  }
  return h(
    "div",
    { class: "field" },
    h("label", { for: String(attributes.id) }, label),
    control,
    hint ? h("small", { id: hintId }, hint) : null,
  );
}

/**
 * A group of checkboxes, one per value, with a legend, and a text field for values the list does
 * not offer. The values are the policy's (permissions, roles): chosen, not typed.
 * @param {string} legend
 * @param {{id: string, name: string, values: string[], checked?: string[], other?: string,
 *   hint?: string}} group `other` labels the text field; without it there is none
 */
export function choices(legend, group) {
  const checked = new Set(group.checked ?? []);
  const values = [...new Set([...group.values, ...checked])];
  const hintId = group.hint ? `${group.id}-hint` : undefined;
  return h(
    "fieldset",
    { class: "choices", id: group.id, "aria-describedby": hintId },
    h("legend", {}, legend),
    values.length === 0 ? h("p", { class: "muted" }, "None to choose from.") : null,
    h(
      "div",
      { class: "choice-list" },
      values.map((value, index) =>
        h(
          "label",
          { class: "choice" },
          h("input", {
            type: "checkbox",
            name: group.name,
            value,
            checked: checked.has(value),
            id: `${group.id}-${index}`,
          }),
          " ",
          h("code", {}, value),
        ),
      ),
    ),
    group.other
      ? field(
          group.other,
          { id: `${group.id}-other`, name: `${group.name}-other` },
          "Separated by spaces or commas.",
        )
      : null,
    group.hint ? h("small", { id: hintId }, group.hint) : null,
  );
}

/**
 * The values checked in a `choices` group, and those typed in its text field.
 * @param {HTMLFormElement} form
 * @param {string} name
 */
export function chosen(form, name) {
  const boxes = /** @type {HTMLInputElement[]} */ ([...form.querySelectorAll(`input[type=checkbox]`)]);
  const checked = boxes.filter((box) => box.name === name && box.checked).map((box) => box.value);
  return [...new Set([...checked, ...words(fieldValue(form, `${name}-other`))])];
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
