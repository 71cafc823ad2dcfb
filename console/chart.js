/**
 * Verifications over time by outcome (allowed, and each denial code), drawn with uPlot from a
 * usage route (`GET .../usage?granularity=hour|day`), with the totals of the period listed as
 * text beside it, so that the numbers can be read without the picture.
 */
import { api, problemView, query } from "./api.js";
import { field, h } from "./dom.js";
import uPlot from "./uplot.esm.js";

const ALLOWED_COLOUR = "#2a7d4f";
const DENIED_COLOURS = ["#c0392b", "#d68910", "#7d3c98", "#2e86c1", "#6e2c00", "#566573"];

/**
 * @typedef {{day?: string, hour?: string, allowed: number, denied: Record<string, number>}} UsageItem
 */

/**
 * The series of a report: time in seconds, allowed, then each denial code seen.
 * @param {UsageItem[]} items
 */
function seriesOf(items) {
  const codes = [...new Set(items.flatMap((item) => Object.keys(item.denied)))].sort();
  const times = items.map((item) => Date.parse(item.hour ?? `${item.day}T00:00:00Z`) / 1000);
  const outcomes = [
    { label: "allowed", values: items.map((item) => item.allowed) },
    ...codes.map((code) => ({ label: code, values: items.map((item) => item.denied[code] ?? 0) })),
  ];
  return { times, outcomes };
}

/**
 * @param {HTMLElement} container
 * @param {ReturnType<typeof seriesOf>} series
 */
function draw(container, series) {
  const width = () => Math.max(280, container.clientWidth);
  const plot = new uPlot(
    {
      width: width(),
      height: 240,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
      scales: { y: { range: (_plot, _min, max) => [0, Math.max(1, max)] } },
      series: [
        { label: "UTC" },
        ...series.outcomes.map((outcome, index) => ({
          label: outcome.label,
          stroke: index === 0 ? ALLOWED_COLOUR : DENIED_COLOURS[(index - 1) % DENIED_COLOURS.length],
          width: 2,
        })),
      ],
      axes: [{}, { label: "verifications" }],
      // The totals are listed under the chart; the legend names the lines.
      legend: { live: false },
    },
    [series.times, ...series.outcomes.map((outcome) => outcome.values)],
    container,
  );
  new ResizeObserver(() => plot.setSize({ width: width(), height: 240 })).observe(container);
}

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
      draw(canvas, series);
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
