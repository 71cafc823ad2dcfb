/**
 * Usage by hour and by day, as a chart and as totals listed in text (read without the picture).
 * The chart library (uPlot, shared with the admin console through plot.js) and its style sheet
 * load only when a chart is first drawn, so that the element itself stays small.
 */
import { h } from "./dom.js";

/** @type {Promise<{drawChart: Function, seriesOf: Function, sheet: CSSStyleSheet}> | null} */
let chartLibrary = null;

function loadChartLibrary() {
  chartLibrary ??= Promise.all([
    import("./plot.js"),
    fetch(new URL("./uplot.min.css", import.meta.url), { credentials: "omit" }).then((response) =>
      response.text(),
    ),
  ]).then(([plot, css]) => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    return { drawChart: plot.drawChart, seriesOf: plot.seriesOf, sheet };
  });
  return chartLibrary;
}

/** Numbers the period fields, so that each label names its own. */
let sections = 0;

/**
 * @param {{t: (name: string, slots?: Record<string, string | number>) => string,
 *   call: (method: string, path: string) => Promise<any>, root: ShadowRoot,
 *   problem: (error: unknown) => Node}} context
 * @param {string} heading
 * @param {string} path `/usage` or `/keys/:id/usage`
 */
export function usageSection({ t, call, root, problem }, heading, path) {
  sections += 1;
  const id = `period-${sections}`;
  const body = h("div", { "aria-live": "polite" });
  const select = /** @type {HTMLSelectElement} */ (
    h(
      "select",
      { id },
      h("option", { value: "hour" }, t("byHour")),
      h("option", { value: "day" }, t("byDay")),
    )
  );

  async function load() {
    body.replaceChildren(h("p", { class: "muted" }, t("loading")));
    try {
      const [report, chart] = await Promise.all([
        call("GET", `${path}?granularity=${select.value}`),
        loadChartLibrary(),
      ]);
      const series = chart.seriesOf(report.items);
      const totals = series.outcomes.map((/** @type {{label: string, values: number[]}} */ outcome) => ({
        label: outcome.label,
        total: outcome.values.reduce((sum, value) => sum + value, 0),
      }));
      const list = h(
        "ul",
        { class: "totals", "aria-label": t("totals") },
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
        body.replaceChildren(h("p", { class: "muted" }, t("noUsage")), list);
        return;
      }
      if (!root.adoptedStyleSheets.includes(chart.sheet))
        root.adoptedStyleSheets = [...root.adoptedStyleSheets, chart.sheet];
      const canvas = h("div", { class: "chart", role: "img", "aria-label": t("chart") });
      body.replaceChildren(canvas, list);
      const style = getComputedStyle(canvas);
      chart.drawChart(canvas, series, { yLabel: t("usage"), text: style.color, grid: style.borderColor });
    } catch (error) {
      body.replaceChildren(problem(error));
    }
  }

  select.addEventListener("change", load);
  load();
  return h(
    "section",
    { class: "card", "aria-labelledby": `${id}-heading` },
    h("h3", { id: `${id}-heading` }, heading),
    h("div", { class: "field" }, h("label", { for: id }, t("granularity")), select),
    body,
  );
}
