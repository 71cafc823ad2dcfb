/**
 * Verifications over time by outcome (allowed, and each denial code), drawn with uPlot from a
 * usage route (`GET .../usage?granularity=hour|day`), with the totals of the period listed as
 * text beside it, so that the numbers can be read without the picture.
 */
import { api, problemView, query } from "./api.js";
import { field, h } from "./dom.js";
import { drawChart, seriesOf } from "./plot.js";

/** Numbers the granularity fields, so that each label names its own. */
let charts = 0;

/**
 * A section of the page: a granularity choice, the chart, the totals, or an empty or error state.
 * @param {string} heading
 * @param {string} usagePath `/keys/:id/usage` or `/workspaces/:id/usage`
 * @param {string} [note] shown under the heading
 */
export function usageSection(heading, usagePath, note) {
  charts += 1;
  const id = `granularity-${charts}`;
  const body = h("div", { class: "chart-body", "aria-live": "polite" });
  const choice = field("Granularity", {
    id,
    name: "granularity",
    options: [
      ["hour", "By hour (last 24 hours)"],
      ["day", "By day (last 30 days)"],
    ],
  });
  const select = /** @type {HTMLSelectElement} */ (choice.querySelector("select"));

  async function load() {
    body.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      const report = await api("GET", `${usagePath}${query({ granularity: select.value })}`);
      const series = seriesOf(report.items);
      const totals = series.outcomes.map((outcome) => ({
        label: outcome.label,
        total: outcome.values.reduce((sum, value) => sum + value, 0),
      }));
      const list = h(
        "ul",
        { class: "totals", "aria-label": "Totals of the period" },
        totals.map((item) =>
          h(
            "li",
            { "data-outcome": item.label },
            h("span", {}, item.label),
            " ",
            h("strong", { class: "count" }, item.total),
          ),
        ),
      );
      if (totals.every((item) => item.total === 0)) {
        body.replaceChildren(h("p", { class: "empty" }, "No verifications in this period."), list);
        return;
      }
      const canvas = h("div", {
        class: "chart",
        role: "img",
        "aria-label": `${heading}: see the totals below`,
      });
      body.replaceChildren(canvas, list);
      drawChart(canvas, series);
    } catch (error) {
      body.replaceChildren(problemView(error));
    }
  }

  select.addEventListener("change", load);
  load();
  return h(
    "section",
    { class: "card", "aria-label": heading },
    h("h2", {}, heading),
    note ? h("p", { class: "muted" }, note) : null,
    choice,
    body,
  );
}
