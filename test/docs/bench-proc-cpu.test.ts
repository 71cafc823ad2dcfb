/**
 * The benchmark's CPU accounting (bench/proc-cpu.ts): a /proc/<pid>/stat line parsed by its
 * fields, the process tree of a `wrangler dev` walked by parent id, and CPU per request split
 * between workerd and wrangler's own processes.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  clockTicksPerSecond,
  cpuPerRequest,
  descendants,
  parseStat,
  type TreeSample,
} from "../../bench/proc-cpu.ts";

/** Fields 3 to 52 of a stat line, with utime (field 14) and stime (field 15) set. */
function tail(state: string, ppid: number, utime: number, stime: number): string {
  const fields = Array.from({ length: 50 }, (_, index) => String(index + 100));
  fields[0] = state;
  fields[1] = String(ppid);
  fields[11] = String(utime);
  fields[12] = String(stime);
  return fields.join(" ");
}

describe("parseStat", () => {
  it("reads pid, comm, state, ppid, utime and stime", () => {
    expect(parseStat(`5202 (workerd) ${tail("S", 5147, 731, 42)}`)).toEqual({
      pid: 5202,
      comm: "workerd",
      state: "S",
      ppid: 5147,
      utime: 731,
      stime: 42,
    });
  });

  it("takes the comm up to the last parenthesis, spaces and parentheses included", () => {
    const line = `77 (a) b ) (c)) ${tail("R", 9, 12, 3)}\n`;
    expect(parseStat(line)).toEqual({
      pid: 77,
      comm: "a) b ) (c)",
      state: "R",
      ppid: 9,
      utime: 12,
      stime: 3,
    });
  });

  it("a comm that looks like further fields does not shift them", () => {
    const line = `8 (x) S 1 2 3 4 5) ${tail("S", 2, 500, 7)}`;
    const stat = parseStat(line);
    expect(stat.comm).toBe("x) S 1 2 3 4 5");
    expect([stat.ppid, stat.utime, stat.stime]).toEqual([2, 500, 7]);
  });

  it("parses this process's own stat line", () => {
    const stat = parseStat(readFileSync("/proc/self/stat", "utf8"));
    expect(stat.pid).toBe(process.pid);
    expect(stat.ppid).toBe(process.ppid);
    expect(stat.utime + stat.stime).toBeGreaterThan(0);
  });

  it("refuses a line without a comm", () => {
    expect(() => parseStat("12 workerd S 1")).toThrow(/stat/);
  });
});

describe("descendants", () => {
  it("walks the tree by parent id from the root, and only that tree", () => {
    const stat = (pid: number, ppid: number, comm: string) => ({
      pid,
      ppid,
      comm,
      state: "S",
      utime: 0,
      stime: 0,
    });
    const table = [
      stat(1, 0, "init"),
      stat(10, 1, "node"),
      stat(11, 10, "MainThread"),
      stat(12, 11, "workerd"),
      stat(13, 11, "workerd"),
      stat(14, 11, "esbuild"),
      stat(20, 1, "workerd"),
    ];
    expect(descendants(table, 10).map((s) => s.pid)).toEqual([10, 11, 12, 13, 14]);
  });
});

describe("cpuPerRequest", () => {
  const sample = (entries: [number, string, number][]): TreeSample =>
    new Map(entries.map(([pid, comm, ticks]) => [pid, { comm, ticks }]));

  it("splits the ticks spent between workerd and wrangler's processes, per request, in µs", () => {
    const before = sample([
      [10, "node", 100],
      [11, "MainThread", 200],
      [12, "workerd", 1_000],
      [13, "workerd", 50],
    ]);
    const after = sample([
      [10, "node", 100],
      [11, "MainThread", 203],
      [12, "workerd", 1_040],
      [13, "workerd", 60],
    ]);
    // 50 workerd ticks and 3 wrangler ticks at 100 a second over 1,000 requests.
    expect(cpuPerRequest(before, after, 1_000, 100)).toEqual({
      workerdUs: 500,
      wranglerUs: 30,
      workerdMs: 500,
      wranglerMs: 30,
    });
  });

  it("counts a process started during the run from zero", () => {
    const before = sample([[12, "workerd", 1_000]]);
    const after = sample([
      [12, "workerd", 1_010],
      [15, "workerd", 5],
    ]);
    expect(cpuPerRequest(before, after, 100, 100).workerdUs).toBe(1_500);
  });

  it("reads the clock tick rate of this machine", () => {
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
  });
});
