/**
 * Drawing usage reports with uPlot, shared by the admin console and the portal element: the
 * series of a report (`GET .../usage?granularity=hour|day`) and the chart of those series.
 * Nothing here fetches or renders text; callers list the totals beside the chart.
 */
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
export function seriesOf(items) {
  const codes = [...new Set(items.flatMap((item) => Object.keys(item.denied)))].sort();
  const times = items.map((item) => Date.parse(item.hour ?? `${item.day}T00:00:00Z`) / 1000);
  const outcomes = [
    { label: "allowed", values: items.map((item) => item.allowed) },
    ...codes.map((code) => ({ label: code, values: items.map((item) => item.denied[code] ?? 0) })),
  ];
  return { times, outcomes };
}

/**
 * Draws `series` into `container`, resized with it. `text` colours the axes and their labels
 * (uPlot's default is black, unreadable on a dark theme).
 * @param {HTMLElement} container
 * @param {ReturnType<typeof seriesOf>} series
 * @param {{yLabel?: string, text?: string, grid?: string}} [look]
 */
export function drawChart(container, series, look = {}) {
  const width = () => Math.max(280, container.clientWidth);
  const axis = {
    ...(look.text && { stroke: look.text }),
    ...(look.grid && { grid: { stroke: look.grid }, ticks: { stroke: look.grid } }),
  };
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
      axes: [axis, { ...axis, label: look.yLabel ?? "verifications" }],
      // The totals are listed beside the chart; the legend names the lines.
      legend: { live: false },
    },
    [series.times, ...series.outcomes.map((outcome) => outcome.values)],
    container,
  );
  new ResizeObserver(() => plot.setSize({ width: width(), height: 240 })).observe(container);
  return plot;
}
