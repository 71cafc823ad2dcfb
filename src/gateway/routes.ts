/**
 * Route matching (SPEC 2): literal segments, `:name` segments and a trailing `*`; a route
 * matches when both its pattern and its methods match, else the next one is tried; first match
 * wins. `unmatched` becomes a last catch-all route.
 */
import type { Policy, Route } from "../policy/schema";

type PatternSegment = { literal: string } | { param: string };

export interface CompiledRoute {
  route: Route;
  /** The pattern as written in the policy, for logs. */
  pattern: string;
  segments: PatternSegment[];
  /** The pattern ends in `*`: any rest, including none. */
  rest: boolean;
  /** Allowed methods (GET implies HEAD); null = all. */
  methods: Set<string> | null;
}

export interface RouteMatch {
  compiled: CompiledRoute;
  params: Record<string, string>;
}

function decodeLiteral(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function compileRoute(route: Route): CompiledRoute {
  const parts = route.path.split("/").filter((part) => part !== "");
  const rest = parts.at(-1) === "*";
  const segments = (rest ? parts.slice(0, -1) : parts).map(
    (part): PatternSegment =>
      part.startsWith(":") ? { param: part.slice(1) } : { literal: decodeLiteral(part) },
  );
  let methods: Set<string> | null = null;
  if (route.methods) {
    methods = new Set(route.methods);
    if (methods.has("GET")) methods.add("HEAD");
  }
  return { route, pattern: route.path, segments, rest, methods };
}

/** The catch-all route `unmatched` stands for, if any. */
function unmatchedRoute(policy: Policy): Route | null {
  if (policy.unmatched === "deny") return null;
  return {
    path: "/*",
    public: policy.unmatched === "public",
    auth: ["key"],
    permissions: [],
    anyPermissions: [],
    cost: 1,
  };
}

export function compileRoutes(policy: Policy): CompiledRoute[] {
  const fallback = unmatchedRoute(policy);
  return [...policy.routes, ...(fallback ? [fallback] : [])].map(compileRoute);
}

export function matchRoute(
  routes: readonly CompiledRoute[],
  method: string,
  segments: readonly string[],
): RouteMatch | null {
  for (const compiled of routes) {
    if (compiled.methods && !compiled.methods.has(method)) continue;
    const params = matchSegments(compiled, segments);
    if (params) return { compiled, params };
  }
  return null;
}

function matchSegments(compiled: CompiledRoute, segments: readonly string[]): Record<string, string> | null {
  const pattern = compiled.segments;
  if (compiled.rest ? segments.length < pattern.length : segments.length !== pattern.length) {
    return null;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i] as PatternSegment;
    const segment = segments[i] as string;
    if ("literal" in part) {
      if (part.literal !== segment) return null;
    } else {
      params[part.param] = segment;
    }
  }
  return params;
}
