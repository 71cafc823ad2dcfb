/**
 * A list the API answers page by page (`{items, cursor}`): a table, a "Load more" button while
 * there is a next page, a clear empty state, and the problem when a page fails.
 */
import { problemView } from "./api.js";
import { h, table } from "./dom.js";

/**
 * @template T
 * @param {{
 *   caption: string,
 *   headings: string[],
 *   row: (item: T) => (Node | string)[],
 *   empty: string,
 *   page: (cursor: string | null) => Promise<{items: T[], cursor?: string | null}>,
 * }} list
 */
export function pagedList(list) {
  const root = h("div", { class: "list", "aria-live": "polite" });
  /** @type {(Node | string)[][]} */
  let rows = [];

  /** @param {string | null} cursor */
  async function load(cursor) {
    if (cursor === null) rows = [];
    root.replaceChildren(...(rows.length ? [table(list.caption, list.headings, rows)] : []), loading());
    try {
      const page = await list.page(cursor);
      rows = [...rows, ...page.items.map(list.row)];
      const more = page.cursor
        ? h(
            "button",
            { type: "button", class: "secondary", onclick: () => load(page.cursor ?? null) },
            "Load more",
          )
        : null;
      root.replaceChildren(
        rows.length ? table(list.caption, list.headings, rows) : h("p", { class: "empty" }, list.empty),
        ...(more ? [more] : []),
      );
    } catch (error) {
      root.replaceChildren(problemView(error));
    }
  }

  load(null);
  return { element: root, reload: () => load(null) };
}

function loading() {
  return h("p", { class: "muted" }, "Loading…");
}
