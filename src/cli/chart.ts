/**
 * The usage report as terminal charts (asciichart): requests allowed per period, and denied
 * ones when there were any, with the periods' range under each chart and totals by code. Pure:
 * the width is given, so the unit tests see the same text as a terminal of that width.
 */
import { plot } from "asciichart";
import type { components } from "../client/index.ts";
import { table, text } from "./format.ts";

export type UsageItem = components["schemas"]["Usage"]["items"][number];

const HEIGHT = 8;
const LABEL_WIDTH = 8;

/** The period an item counts: its day or its hour, as the server wrote it, made terminal-safe. */
export function periodOf(item: UsageItem): string {
  return text(item.day ?? item.hour ?? "?");
}

/** How many consecutive periods one point sums so that `count` periods fit in `width` columns. */
export function periodsPerPoint(count: number, width: number): number {
  return Math.max(1, Math.ceil(count / width));
}

/** One point per `size` consecutive periods, summed (the last point may hold fewer). */
export function grouped(values: number[], size: number): number[] {
  if (size === 1) return values;
  const buckets: number[] = [];
  for (let start = 0; start < values.length; start += size) {
    buckets.push(values.slice(start, start + size).reduce((sum, value) => sum + value, 0));
  }
  return buckets;
}

function deniedOf(item: UsageItem): number {
  return Object.values(item.denied).reduce((sum, count) => sum + count, 0);
}

/** Under the chart: the first and last period at its two ends, or side by side when it is narrower. */
function periodAxis(indent: number, width: number, first: string, last: string): string {
  const gap = width - first.length - last.length;
  return gap >= 2
    ? `${" ".repeat(indent)}${first}${" ".repeat(gap)}${last}`
    : `${" ".repeat(indent)}${first} .. ${last}`;
}

/** One chart with its title; at most HEIGHT rows, one row per request when fewer. */
function chart(title: string, values: number[], first: string, last: string): string {
  const max = Math.max(1, ...values);
  const drawn = plot(values, {
    height: Math.min(HEIGHT, max),
    max,
    min: 0,
    format: (value) => Math.round(value).toString().padStart(LABEL_WIDTH),
  });
  const axis = (drawn.split("\n")[0] ?? "").search(/[┼┤]/);
  return [title, drawn, periodAxis(axis + 1, values.length, first, last)].join("\n");
}

/** The report's charts and totals for a terminal `columns` wide. */
export function usageChart(items: UsageItem[], columns: number): string {
  const first = items[0];
  const last = items.at(-1);
  if (first === undefined || last === undefined) return "(no periods in this range)";
  const unit = first.hour === undefined ? "day" : "hour";
  const width = Math.max(10, columns - LABEL_WIDTH - 3);
  const allowed = items.map((item) => item.allowed);
  const denied = items.map(deniedOf);
  const size = periodsPerPoint(items.length, width);
  const per = size === 1 ? unit : `${size} ${unit}s`;
  const charts = [
    chart(`allowed requests per ${per}`, grouped(allowed, size), periodOf(first), periodOf(last)),
  ];
  if (denied.some((count) => count > 0)) {
    charts.push(chart(`denied requests per ${per}`, grouped(denied, size), periodOf(first), periodOf(last)));
  }
  return [...charts, usageTotals(items)].join("\n\n");
}

/** Allowed and denied over the whole range, denied by code, most frequent first. */
export function usageTotals(items: UsageItem[]): string {
  const byCode = new Map<string, number>();
  for (const item of items) {
    for (const [code, count] of Object.entries(item.denied))
      byCode.set(code, (byCode.get(code) ?? 0) + count);
  }
  const allowed = items.reduce((sum, item) => sum + item.allowed, 0);
  const denied = [...byCode.values()].reduce((sum, count) => sum + count, 0);
  const rows = [...byCode].sort((a, b) => b[1] - a[1]).map(([code, count]) => [`  ${code}`, count]);
  return table(["TOTAL", "REQUESTS"], [["allowed", allowed], ["denied", denied], ...rows]);
}
