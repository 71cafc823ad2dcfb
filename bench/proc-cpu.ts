/**
 * CPU time of a `wrangler dev` and its children, read from /proc (Linux): the benchmark samples
 * the process tree before and after each measured run and divides what each part spent by the
 * requests served. workerd (the Worker and wrangler's proxy Worker) is counted apart from
 * wrangler's own processes (its two Node processes and its idle esbuild service).
 *
 * /proc/<pid>/stat counts in clock ticks (`getconf CLK_TCK`, usually 100: 10 ms each), so a run
 * must last long enough for its total to be many ticks.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  pid: number;
  /** The command name: up to 15 characters, spaces and parentheses allowed. */
  comm: string;
  state: string;
  ppid: number;
  /** Clock ticks in user and in kernel mode, this process's threads only. */
  utime: number;
  stime: number;
}

/**
 * Parses a /proc/<pid>/stat line. The comm (field 2) is in parentheses and may contain spaces
 * and parentheses itself: it ends at the line's last ")", and the fields after it are counted
 * from there (state is field 3, ppid 4, utime 14, stime 15).
 */
export function parseStat(line: string): ProcStat {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: ${line.slice(0, 80)}`);
  const rest = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(rest[n - 3]);
  const stat = {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    state: rest[0] ?? "",
    ppid: field(4),
    utime: field(14),
    stime: field(15),
  };
  if (![stat.pid, stat.ppid, stat.utime, stat.stime].every(Number.isInteger))
    throw new Error(`not a /proc stat line: ${line.slice(0, 80)}`);
  return stat;
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 if it cannot be read). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const result = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    const value = Number(result.stdout?.trim());
    ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    // The process exited between listing /proc and reading it.
    return undefined;
  }
}

/** Every process's stat now. */
export function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const line = read(`/proc/${name}/stat`);
    if (line) stats.push(parseStat(line));
  }
  return stats;
}

/** The root and every process below it, by parent id, root first. */
export function descendants(stats: ProcStat[], root: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const found = stats.filter((stat) => stat.pid === root);
  for (let index = 0; index < found.length; index++)
    found.push(...(children.get((found[index] as ProcStat).pid) ?? []));
  return found;
}

/** CPU ticks (user + system) of each process of a tree, by pid. */
export type TreeSample = Map<number, { comm: string; ticks: number }>;

export function sampleTree(root: number): TreeSample {
  return new Map(
    descendants(allStats(), root).map((stat) => [
      stat.pid,
      { comm: stat.comm, ticks: stat.utime + stat.stime },
    ]),
  );
}

export interface CpuPerRequest {
  /** µs of CPU per request in workerd processes, and in wrangler's own. */
  workerdUs: number;
  wranglerUs: number;
  /** ms of CPU in the run, in total. */
  workerdMs: number;
  wranglerMs: number;
}

const isWorkerd = (comm: string) => comm.startsWith("workerd");

/**
 * What the tree spent between two samples, per request. A process started in between counts from
 * zero; one that exited in between is lost (wrangler dev starts its processes once).
 */
export function cpuPerRequest(
  before: TreeSample,
  after: TreeSample,
  requests: number,
  hz = clockTicksPerSecond(),
): CpuPerRequest {
  let workerd = 0;
  let wrangler = 0;
  for (const [pid, { comm, ticks }] of after) {
    const spent = ticks - (before.get(pid)?.ticks ?? 0);
    if (isWorkerd(comm)) workerd += spent;
    else wrangler += spent;
  }
  const ms = (ticks: number) => (ticks * 1000) / hz;
  const perRequest = (ticks: number) => (requests > 0 ? (ms(ticks) * 1000) / requests : 0);
  return {
    workerdUs: perRequest(workerd),
    wranglerUs: perRequest(wrangler),
    workerdMs: ms(workerd),
    wranglerMs: ms(wrangler),
  };
}

/**
 * The pid of the `wrangler dev` this process started that listens on the given port: the child
 * of this process whose command line has `--port <port>`.
 */
export function wranglerDevPid(port: number): number {
  for (const stat of allStats()) {
    if (stat.ppid !== process.pid) continue;
    const args = read(`/proc/${stat.pid}/cmdline`)?.split("\0") ?? [];
    const at = args.indexOf("--port");
    if (args.includes("dev") && at >= 0 && args[at + 1] === String(port)) return stat.pid;
  }
  throw new Error(`no wrangler dev on port ${port} among this process's children`);
}
