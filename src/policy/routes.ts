/**
 * Route matching (docs/policy.md): literal segments, `:name` segments and a trailing `*`; a route
 * matches when both its pattern and its methods match, else the next one is tried; first match
 * wins. `unmatched` becomes a last catch-all route. Methods, and literal segments unless
 * `paths.caseSensitive`, compare ignoring ASCII case: many origins route case-insensitively,
 * so `/api/Admin` must meet the rule written for `/api/admin`.
 */
import type { Policy, Route } from "./schema";

type PatternSegment = { literal: string } | { param: string };

export interface CompiledRoute {
  route: Route;
  /** The pattern as written in the policy, for logs. */
  pattern: string;
  segments: PatternSegment[];
  /** The pattern ends in `*`: any rest, including none. */
  rest: boolean;
  /** Allowed methods, upper case (GET implies HEAD); null = all. */
  methods: Set<string> | null;
  /** Literal segments compare exactly; otherwise they are stored, and compared, ASCII lower-cased. */
  caseSensitive: boolean;
}

export interface RouteMatch {
  compiled: CompiledRoute;
  params: Record<string, string>;
}

/** Lower-cases A-Z only: Unicode case mapping would let `K` (Kelvin sign) meet `k`. */
function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** Upper-cases a-z only, for methods. */
export function asciiUpperCase(text: string): string {
  return text.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

function decodeLiteral(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function compileRoute(route: Route, caseSensitive: boolean): CompiledRoute {
  const parts = route.path.split("/").filter((part) => part !== "");
  const rest = parts.at(-1) === "*";
  const fold = caseSensitive ? (text: string) => text : asciiLowerCase;
  const segments = (rest ? parts.slice(0, -1) : parts).map(
    (part): PatternSegment =>
      part.startsWith(":") ? { param: part.slice(1) } : { literal: fold(decodeLiteral(part)) },
  );
  let methods: Set<string> | null = null;
  if (route.methods) {
    methods = new Set(route.methods.map(asciiUpperCase));
    if (methods.has("GET")) methods.add("HEAD");
  }
  return { route, pattern: route.path, segments, rest, methods, caseSensitive };
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
  return [...policy.routes, ...(fallback ? [fallback] : [])].map((route) =>
    compileRoute(route, policy.paths.caseSensitive),
  );
}

export function matchRoute(
  routes: readonly CompiledRoute[],
  method: string,
  segments: readonly string[],
): RouteMatch | null {
  const upperMethod = asciiUpperCase(method);
  for (const compiled of routes) {
    if (compiled.methods && !compiled.methods.has(upperMethod)) continue;
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
      if (part.literal !== (compiled.caseSensitive ? segment : asciiLowerCase(segment))) return null;
    } else {
      params[part.param] = segment;
    }
  }
  return params;
}
