/**
 * One measurement: autocannon against one scenario, for a fixed time or a fixed number of
 * requests, at a given number of connections, with the CPU time the scenario's `wrangler dev`
 * (workerd and wrangler's own processes) spent on it.
 */
import autocannon from "autocannon";
import { type CpuPerRequest, cpuPerRequest, sampleTree, wranglerDevPid } from "./proc-cpu.ts";

export interface Target {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Gives each request its own headers (a key never seen before). */
  perRequest?: () => Record<string, string>;
}

export interface Sample {
  requestsPerSecond: number;
  /** Milliseconds, at autocannon's resolution of 1 ms. */
  p50: number;
  p99: number;
  /** Mean latency derived from the request rate (connections / rate), to the microsecond. */
  meanMs: number;
  errors: number;
  statuses: Record<string, number>;
  /** Responses received in the run. */
  requests: number;
  /** CPU of the scenario's `wrangler dev` over the run, per request and in total. */
  cpu: CpuPerRequest;
}

/** The `wrangler dev` behind each port, found once. */
const servers = new Map<number, number>();

function serverPid(url: string): number {
  const port = Number(new URL(url).port);
  let pid = servers.get(port);
  if (pid === undefined) {
    pid = wranglerDevPid(port);
    servers.set(port, pid);
  }
  return pid;
}

export async function measure(
  target: Target,
  connections: number,
  limit: { seconds: number } | { requests: number },
): Promise<Sample> {
  const perRequest = target.perRequest;
  const pid = serverPid(target.url);
  const before = sampleTree(pid);
  const result = await autocannon({
    url: target.url,
    method: target.method ?? "GET",
    headers: target.headers,
    body: target.body,
    connections,
    ...("seconds" in limit ? { duration: limit.seconds } : { amount: limit.requests }),
    ...(perRequest && {
      requests: [
        { setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...perRequest() } }) },
      ],
    }),
  });
  const after = sampleTree(pid);
  const seconds = result.duration;
  const count = result.requests.total;
  const rate = seconds > 0 ? count / seconds : 0;
  const statuses: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stats.count ?? 0;
  return {
    requestsPerSecond: rate,
    p50: result.latency.p50,
    p99: result.latency.p99,
    meanMs: rate > 0 ? (connections * 1000) / rate : 0,
    errors: result.errors + result.timeouts,
    statuses,
    requests: count,
    cpu: cpuPerRequest(before, after, count),
  };
}
