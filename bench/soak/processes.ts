/**
 * Finds the processes of a `wrangler dev` on this machine by reading /proc (Linux only): the
 * wrangler process serving a port, its descendants, and among them the workerd that runs the
 * Worker and its Durable Objects (the one with an inspector; the other workerd is wrangler's
 * proxy in front of it, which owns the public port).
 */
import { readdirSync, readFileSync } from "node:fs";

export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string[];
}

export function processes(): Proc[] {
  const found: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      found.push({ pid: Number(entry), ppid, comm, cmdline });
    } catch {
      // The process ended while it was read.
    }
  }
  return found;
}

export function descendants(all: Proc[], pid: number): Proc[] {
  const children = all.filter((p) => p.ppid === pid);
  return children.flatMap((child) => [child, ...descendants(all, child.pid)]);
}

/** The wrangler process this process started for the server on `port`, with its descendants. */
export function wranglerTree(port: number): { wrangler: Proc; tree: Proc[] } {
  const all = processes();
  const wrangler = all.find(
    (p) =>
      p.ppid === process.pid &&
      p.cmdline.some((arg) => arg.endsWith("wrangler.js")) &&
      p.cmdline.includes("--port") &&
      p.cmdline[p.cmdline.indexOf("--port") + 1] === String(port),
  );
  if (!wrangler) throw new Error(`no wrangler process of ours serves port ${port}`);
  return { wrangler, tree: descendants(all, wrangler.pid) };
}

/** The workerd running the Worker (not wrangler's proxy) under the server on `port`. */
export function workerOf(port: number): Proc {
  const { tree } = wranglerTree(port);
  const runtime = tree.filter(
    (p) => p.comm === "workerd" && p.cmdline.some((arg) => arg.startsWith("--inspector-addr")),
  );
  if (runtime.length !== 1)
    throw new Error(`expected one Worker runtime under port ${port}, found ${runtime.length}`);
  return runtime[0] as Proc;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
