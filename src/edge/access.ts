/**
 * The decision for a request to the protected API, in the order of docs/decisions.md:
 *
 *   path, method override (400) -> route (404) -> transport (403) -> credential (401)
 *     -> key: verifyKey -> allowed or the first denial
 *
 * A request carrying a method override is decided under both methods, because an origin may
 * honour either (docs/policy.md). Used by the proxy and by forward-auth, which differ only in where the
 * request's facts come from and in what they do with an allowed request.
 */

import type { KeyDecision } from "../decision/decide";
import { satisfies } from "../keys/permissions";
import type { KeyIdentity } from "../keys/record";
import type { CompiledPolicy } from "../policy/compiled";
import { asciiUpperCase, type CompiledRoute, matchRoute } from "../policy/routes";
import type { CredentialSource, Policy } from "../policy/schema";
import { REFUSALS, type RefusalCode } from "../refusals";
import type { AccessDeps } from "../services/deps";
import { type DecidedBy, verifyKey } from "../services/verify-key";
import { looksLikeJwt, verifySession } from "../sessions/verify-session";
import { type CredentialResult, configuredSources, extractCredential } from "./credential";
import { readMethodOverride } from "./method-override";
import { normalizePath } from "./path";
import type { RequestFacts } from "./request-facts";

/** Hosts that may use plain HTTP whatever `requireHttps` says (local development). */
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

function hostname(host: string): string {
  return host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : (host.split(":")[0] ?? host);
}

/** A CORS preflight: the browser asks before the real request and sends no credential. */
function isPreflight(facts: RequestFacts): boolean {
  return asciiUpperCase(facts.method) === "OPTIONS" && facts.headers.has("access-control-request-method");
}

/** What every allowed request carries, whoever made it. */
interface Admitted {
  /** Null for the self endpoint, which is no route of the policy. */
  route: CompiledRoute | null;
  /** The normalised path the route matched; the origin receives exactly this. */
  path: string;
  /** The method the origin may act on, for the assertion: the override, upper-cased, if any. */
  method: string;
  /** Credential sources to remove before forwarding: all the policy names, or none. */
  credentialSources: CredentialSource[];
}

/** Who may pass: nobody in particular (a public route or preflight), a key, or a session. */
export type Access =
  | (Admitted & { kind: "public" })
  | (Admitted & { kind: "key"; record: KeyIdentity; decision: KeyDecision; decidedBy?: DecidedBy })
  | (Admitted & { kind: "session"; subject: string; permissions: string[] });

export type Allowed = { ok: true } & Access;

export interface Denied {
  ok: false;
  code: RefusalCode;
  detail: string;
  route: CompiledRoute | null;
  record: KeyIdentity | null;
  /** The key's decision, when the key was found: its usage goes into the headers. */
  decision: KeyDecision | null;
  /** What read the key's state, when anything did. */
  decidedBy?: DecidedBy;
}

export type AccessResult = Allowed | Denied;

function deny(
  code: RefusalCode,
  detail: string = REFUSALS[code][2],
  route: CompiledRoute | null = null,
  record: KeyIdentity | null = null,
  decision: KeyDecision | null = null,
): Denied {
  return { ok: false, code, detail, route, record, decision };
}

function describeSources(sources: readonly CredentialSource[]): string {
  return sources
    .map((source) =>
      source === "bearer" ? "Authorization: Bearer" : source === "x-api-key" ? "X-API-Key" : source,
    )
    .join(", ");
}

/** Every configured source is removed before forwarding, on every route (docs/headers.md), unless `hideCredentials = false`. */
function strippedSources(policy: Policy): CredentialSource[] {
  return policy.hideCredentials ? configuredSources(policy) : [];
}

function noRoute(method: string, path: string): Denied {
  return deny("route_not_found", `No route of the policy matches ${method} ${path}.`);
}

export async function authorizeRequest(
  deps: AccessDeps,
  compiled: CompiledPolicy,
  facts: RequestFacts,
): Promise<AccessResult> {
  const { policy } = compiled;
  const normalized = normalizePath(facts.pathname, {
    allowEncodedSlashes: policy.allowEncodedSlashes,
    allowNonAscii: policy.paths.allowNonAscii,
  });
  if (!normalized.ok) return deny("bad_request", `Invalid path: ${normalized.reason}.`);
  const override = readMethodOverride(facts.headers, new URLSearchParams(facts.rawQuery));
  if (!override.ok) return deny("bad_request", `Invalid method override: ${override.reason}.`);
  const { path, segments } = normalized;
  const own = matchRoute(compiled.routes, facts.method, segments)?.compiled;
  if (!own) return noRoute(facts.method, path);
  const transport = checkTransport(compiled, facts, own);
  if (transport) return transport;
  const request: RouteRequest = { deps, compiled, facts, path };
  if (override.method === null) {
    // Without `cors`, preflights go to the origin unauthenticated (docs/policy.md); with it, the CORS
    // middleware has answered them already. A request carrying an override is never one.
    return checkRoute(request, own, { consume: true, cost: own.route.cost, open: isPreflight(facts) });
  }
  const overridden = matchRoute(compiled.routes, override.method, segments)?.compiled ?? null;
  const access =
    overridden === own
      ? await checkRoute(request, own, { consume: true, cost: own.route.cost, open: false })
      : await checkBoth(request, own, { method: override.method, route: overridden });
  return access.ok ? { ...access, route: own, method: override.method } : access;
}

/** The request as every route check sees it. */
interface RouteRequest {
  deps: AccessDeps;
  compiled: CompiledPolicy;
  facts: RequestFacts;
  path: string;
}

interface Counting {
  /** Count the request against the key's limits and credits. */
  consume: boolean;
  cost: number;
  /** Needs no credential whatever the route says (a preflight). */
  open: boolean;
}

/** Rows 2-13 of docs/decisions.md for one route: public routes and preflights need no credential. */
async function checkRoute(
  request: RouteRequest,
  route: CompiledRoute,
  counting: Counting,
): Promise<AccessResult> {
  const { deps, compiled, facts, path } = request;
  const { policy } = compiled;
  if (route.route.public || counting.open) {
    return {
      ok: true,
      kind: "public",
      route,
      path,
      method: facts.method,
      credentialSources: strippedSources(policy),
    };
  }
  return authorizeKey(deps, compiled, facts, route, path, {
    sources: sourcesOf(policy, route),
    auth: route.route.auth,
    keyTypes: route.route.keyTypes ?? null,
    permissions: route.route.permissions,
    anyPermissions: route.route.anyPermissions,
    cost: counting.cost,
    // `builtin: "self"` routes are never refused by a limit and consume nothing.
    consume: counting.consume && route.route.builtin === undefined,
  });
}

/**
 * A request with a method override passes only if its own method and the override both pass
 * (docs/policy.md). It is counted once: the route that needs a credential (the own one, unless that is
 * public) is counted, at the larger cost of the two, after the other has passed uncounted, so
 * that a refused request counts nothing. When both fail, the own method's denial is answered.
 */
async function checkBoth(
  request: RouteRequest,
  own: CompiledRoute,
  override: { method: string; route: CompiledRoute | null },
): Promise<AccessResult> {
  const uncounted = (route: CompiledRoute) =>
    checkRoute(request, route, { consume: false, cost: 0, open: false });
  if (!override.route) {
    const ownAccess = await uncounted(own);
    return ownAccess.ok ? noRoute(override.method, request.path) : ownAccess;
  }
  if (readsTwoCredentials(request, own, override.route)) {
    return deny("ambiguous_credentials", "The request carries two different credentials.", own);
  }
  const cost = Math.max(chargeOf(own), chargeOf(override.route));
  const countOwn = !own.route.public;
  const counted = countOwn ? own : override.route;
  const first = await uncounted(countOwn ? override.route : own);
  if (!first.ok) {
    if (!countOwn) return first;
    const ownAccess = await uncounted(own);
    return ownAccess.ok ? first : ownAccess;
  }
  return checkRoute(request, counted, { consume: true, cost, open: false });
}

function sourcesOf(policy: Policy, route: CompiledRoute): readonly CredentialSource[] {
  return route.route.credentials ?? policy.credentials;
}

/**
 * Both routes need a credential and their sources, read together, carry two different ones:
 * each method would be decided for another key, and only one of them counted.
 */
function readsTwoCredentials(request: RouteRequest, own: CompiledRoute, other: CompiledRoute): boolean {
  if (own.route.public || other.route.public) return false;
  const { policy } = request.compiled;
  const sources = [...new Set([...sourcesOf(policy, own), ...sourcesOf(policy, other)])];
  const { headers, rawQuery } = request.facts;
  return extractCredential(sources, headers, new URLSearchParams(rawQuery)).kind === "ambiguous";
}

/** Credits a route charges; a public route charges nothing. */
function chargeOf(route: CompiledRoute): number {
  return route.route.public ? 0 : route.route.cost;
}

/** Row 1 of docs/decisions.md: plain HTTP when `requireHttps`, except to local hosts. */
export function checkTransport(
  compiled: CompiledPolicy,
  facts: RequestFacts,
  route: CompiledRoute | null,
): Denied | null {
  if (compiled.policy.requireHttps && facts.scheme !== "https" && !LOCAL_HOSTS.has(hostname(facts.host))) {
    return deny("https_required", undefined, route);
  }
  return null;
}

/** What a route (or the self endpoint) asks of the credential. */
export interface KeyRequirements {
  sources: readonly CredentialSource[];
  /** Credential kinds the route accepts. */
  auth: readonly ("key" | "jwt")[];
  keyTypes: readonly string[] | null;
  permissions: readonly string[];
  anyPermissions: readonly string[];
  cost: number;
  consume: boolean;
}

/** Rows 2-13 of docs/decisions.md: the credential, then the key's (or the session's) decision. */
export async function authorizeKey(
  deps: AccessDeps,
  compiled: CompiledPolicy,
  facts: RequestFacts,
  route: CompiledRoute | null,
  path: string,
  requirements: KeyRequirements,
): Promise<AccessResult> {
  const { sources } = requirements;
  const credential: CredentialResult = extractCredential(
    sources,
    facts.headers,
    new URLSearchParams(facts.rawQuery),
  );
  if (credential.kind === "none") {
    return deny("missing_credential", `No credential found; send it in: ${describeSources(sources)}.`, route);
  }
  if (credential.kind === "ambiguous") {
    return deny("ambiguous_credentials", "The request carries two different credentials.", route);
  }
  const { policy } = compiled;
  // Only a two-dot `Authorization: Bearer` value is a session (docs/policy.md#sessions); a JWT in any other
  // source is read as an API key, which it never is: malformed_key, before any storage.
  const session = credential.sources.includes("bearer") && looksLikeJwt(credential.value);
  if (session && policy.jwt && requirements.auth.includes("jwt")) {
    return authorizeSession(credential.value, policy.jwt, deps.sessionSecret, route, path, {
      ...requirements,
      method: facts.method,
      credentialSources: strippedSources(policy),
    });
  }
  if (!requirements.auth.includes("key")) {
    return looksLikeJwt(credential.value)
      ? deny("malformed_key", undefined, route)
      : deny("invalid_token", undefined, route);
  }
  const verification = await verifyKey(deps, compiled, credential.value, {
    keyTypes: requirements.keyTypes,
    permissions: requirements.permissions,
    anyPermissions: requirements.anyPermissions,
    ip: facts.clientIp,
    workspaceId: null,
    cost: requirements.cost,
    consume: requirements.consume,
  });
  const { decidedBy } = verification;
  if (verification.code !== "valid") {
    return {
      ...deny(verification.code, undefined, route, verification.record, verification.decision),
      decidedBy,
    };
  }
  return {
    ok: true,
    kind: "key",
    route,
    path,
    method: facts.method,
    credentialSources: strippedSources(policy),
    record: verification.record,
    decision: verification.decision,
    decidedBy,
  };
}

/** Rows 4 and 10 of docs/decisions.md for a session JWT; sessions have no counters and no key. */
async function authorizeSession(
  token: string,
  jwt: NonNullable<Policy["jwt"]>,
  secret: string | undefined,
  route: CompiledRoute | null,
  path: string,
  requirements: KeyRequirements & { method: string; credentialSources: CredentialSource[] },
): Promise<AccessResult> {
  const session = await verifySession(token, jwt, secret);
  if (!session.ok) return deny(session.code, undefined, route);
  if (!satisfies(session.permissions, requirements)) {
    return deny("insufficient_permissions", "The session lacks a permission this route requires.", route);
  }
  const { method, credentialSources } = requirements;
  const { subject, permissions } = session;
  return { ok: true, kind: "session", route, path, method, credentialSources, subject, permissions };
}

/** `GET P/v1/self` (docs/admin-api.md): rows 1-10 for the caller's key, never refused by a limit, counting nothing. */
export async function authorizeSelf(
  deps: AccessDeps,
  compiled: CompiledPolicy,
  facts: RequestFacts,
): Promise<AccessResult> {
  return (
    checkTransport(compiled, facts, null) ??
    authorizeKey(deps, compiled, facts, null, facts.pathname, {
      sources: compiled.policy.credentials,
      auth: ["key"],
      keyTypes: null,
      permissions: [],
      anyPermissions: [],
      cost: 0,
      consume: false,
    })
  );
}
