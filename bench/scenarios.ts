/**
 * The scenarios of the benchmark and the shape of its results.
 */
import type { Bundle } from "./bundle.ts";
import type { Exactness } from "./exactness.ts";
import type { Sample, Target } from "./load.ts";
import { ADMIN_TOKEN, type Stack } from "./stack.ts";

/** Load shapes: many connections (throughput) and one (the latency a single client sees). */
export const SHAPES = [32, 1] as const;
export interface Scenario {
  id: string;
  name: string;
  target: (stack: Stack) => Target;
}

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

export const SCENARIOS: Scenario[] = [
  {
    id: "z",
    name: "ceiling: empty Worker (200, no origin)",
    target: (s) => ({ url: `${s.empty.url}/api/items` }),
  },
  {
    id: "a",
    name: "baseline: bare pass-through Worker",
    target: (s) => ({ url: `${s.baseline.url}/api/items` }),
  },
  {
    id: "b",
    name: "Portcullis proxy, warm valid key",
    target: (s) => ({ url: `${s.portcullis.url}/api/items`, headers: bearer(s.keys.warm) }),
  },
  {
    id: "b0",
    name: "Portcullis proxy, warm valid key, leasing off",
    target: (s) => ({ url: `${s.unleased.server.url}/api/items`, headers: bearer(s.unleased.warm) }),
  },
  {
    id: "bl",
    name: "Portcullis proxy, warm valid key, every allowed request logged",
    target: (s) => ({ url: `${s.logged.server.url}/api/items`, headers: bearer(s.logged.warm) }),
  },
  {
    id: "bf",
    name: "Portcullis proxy, warm valid key, far object (+25 ms each way)",
    target: (s) => ({ url: `${s.far.server.url}/api/items`, headers: bearer(s.far.warm) }),
  },
  {
    id: "bf0",
    name: "Portcullis proxy, warm valid key, far object, leasing off",
    target: (s) => ({ url: `${s.farUnleased.server.url}/api/items`, headers: bearer(s.farUnleased.warm) }),
  },
  // Before (f): its flood of unknown keys trips the abuse limit for keys the isolate has not seen.
  {
    id: "j",
    name: "Portcullis proxy, warm key of an owner with limits (leased by the owner's object)",
    target: (s) => ({ url: `${s.portcullis.url}/api/items`, headers: bearer(s.keys.owned) }),
  },
  {
    id: "c",
    name: "forward-auth decision",
    target: (s) => ({
      url: `${s.portcullis.url}/_portcullis/v1/authorize?proxy=traefik`,
      headers: {
        ...bearer(s.keys.warm),
        "X-Forwarded-Method": "GET",
        "X-Forwarded-Uri": "/api/items",
        "X-Forwarded-Proto": "http",
        "X-Forwarded-Host": "127.0.0.1",
        "X-Forwarded-For": "127.0.0.1",
      },
    }),
  },
  {
    id: "d",
    name: "verify API",
    target: (s) => ({
      url: `${s.portcullis.url}/_portcullis/v1/verify`,
      method: "POST",
      headers: { ...bearer(ADMIN_TOKEN), "Content-Type": "application/json" },
      body: JSON.stringify({ key: s.keys.warm }),
    }),
  },
  {
    id: "e",
    name: "malformed key",
    target: (s) => ({ url: `${s.portcullis.url}/api/items`, headers: bearer(s.keys.malformed) }),
  },
  {
    id: "f",
    name: "unknown key",
    target: (s) => ({ url: `${s.portcullis.url}/api/items`, headers: bearer(s.keys.unknown) }),
  },
  {
    id: "g",
    name: "rate-limited key",
    target: (s) => ({ url: `${s.portcullis.url}/api/items`, headers: bearer(s.keys.limited) }),
  },
  {
    id: "i",
    name: "peer: bearerAuth + D1 + hono-rate-limiter (DO store)",
    target: (s) => ({ url: `${s.peer.url}/api/items`, headers: bearer(s.keys.peer) }),
  },
];

export interface Results {
  at: string;
  secondsPerRun: number;
  rounds: number;
  machine: string;
  samples: Record<string, Record<number, Sample[]>>;
  exactness: Exactness;
  bundle: Bundle;
}
