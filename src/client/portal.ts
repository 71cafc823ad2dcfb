/**
 * `portcullis/portal`: a typed client of the portal API (`P/portal/v1`, docs/portal.md) for a
 * provider's front end. It sends the member's token from the provider's login, asked for
 * before every call (so that short-lived tokens are refreshed), and answers each operation's
 * typed data or throws a `PortalError` carrying the RFC 9457 problem. It stands alone: it
 * imports nothing, and runs in browsers, Workers and Node.
 */

/** The policy's `basePath` when it sets none. */
export const DEFAULT_BASE_PATH = "/_portcullis";

export type PortalPermission = "keys:read" | "keys:manage" | "keys:own" | "usage:read";
export type PortalWindow = "second" | "minute" | "hour" | "day" | "month";

/** Who created a key: the root token, an admin key, or a member through the portal. */
export interface Creator {
  type: "root" | "admin_key" | "portal";
  id?: string;
  name?: string;
}

/** A key as the portal shows it: never its settings beyond these, never a secret. */
export interface PortalKey {
  id: string;
  type: string;
  name: string | null;
  start: string;
  ownerId: string | null;
  permissions: string[];
  enabled: boolean;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  createdBy: Creator | null;
  rotatedFrom: string | null;
}

/** A key just created or rotated: `key` is shown this once. */
export interface PortalCreatedKey extends PortalKey {
  key: string;
}

export interface PortalKeyDetail extends PortalKey {
  /** The windows in force: `remaining` requests, `reset` seconds until one more is allowed. */
  limits: { window: string; limit: number; remaining: number; reset: number }[];
  credits: { remaining: number; refill: { interval: string; amount: number } | null } | null;
}

export interface PortalSession {
  workspace: { id: string; name: string; plan: string | null };
  member: { subject: string; name: string | null; roles: string[] };
  permissions: PortalPermission[];
  keyTypes: {
    type: string;
    label: string;
    ownedBy: "workspace" | "member";
    grantable: { permission: string; label: string }[];
    defaultPermissions: string[];
    limits: { window: PortalWindow; max: number | null }[];
    canCreate: boolean;
  }[];
  limits: { maxKeysPerWorkspace: number; maxKeysPerMember: number; maxLifetimeDays: number | null };
}

export interface UsageItem {
  day?: string;
  hour?: string;
  allowed: number;
  denied: Record<string, number>;
}

export interface UsageQuery {
  granularity?: "day" | "hour";
  from?: string;
  to?: string;
}

export interface CreateKey {
  type: string;
  name: string;
  permissions?: string[];
  expiresAt?: string;
  limits?: Partial<Record<PortalWindow, number>>;
}

/** An RFC 9457 problem, as every refusal carries it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  requestId: string;
  errors?: { field: string; message: string }[];
}

/** A refusal of the portal: the problem it answered (`status`, `code`, and for a 429 `retryAfter`). */
export class PortalError extends Error {
  override readonly name = "PortalError";

  readonly problem: Problem;
  /** Seconds to wait before retrying, from `Retry-After`; null when absent. */
  readonly retryAfter: number | null;

  // Fields assigned here, not parameter properties: Node runs this file by stripping types
  // (the CLI in a clone), which parameter properties would defeat.
  constructor(problem: Problem, retryAfter: number | null = null) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): string {
    return this.problem.code;
  }
}

export interface PortalClientOptions {
  /** Where Portcullis is, e.g. `https://api.example.com`. */
  baseUrl: string;
  /** The policy's `basePath` (default `/_portcullis`). */
  basePath?: string;
  /** The member's token from the provider's login; called before every request. */
  getToken: () => string | Promise<string>;
  /** Another fetch (a service binding's, a test's). */
  fetch?: (request: Request) => Promise<Response>;
}

export interface PortalClient {
  session(): Promise<PortalSession>;
  listKeys(query?: { mine?: boolean; cursor?: string; limit?: number }): Promise<{
    items: PortalKey[];
    cursor: string | null;
  }>;
  createKey(body: CreateKey): Promise<PortalCreatedKey>;
  getKey(id: string): Promise<PortalKeyDetail>;
  updateKey(id: string, change: { name?: string; enabled?: boolean }): Promise<PortalKey>;
  rotateKey(id: string, options?: { gracePeriodSeconds?: number }): Promise<PortalCreatedKey>;
  revokeKey(id: string): Promise<PortalKey>;
  keyUsage(id: string, query?: UsageQuery): Promise<{ items: UsageItem[] }>;
  usage(query?: UsageQuery): Promise<{ items: UsageItem[] }>;
}

function queryString(query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function createPortalClient(options: PortalClientOptions): PortalClient {
  const base = `${options.baseUrl.replace(/\/+$/, "")}${options.basePath ?? DEFAULT_BASE_PATH}/portal/v1`;
  const send = options.fetch ?? ((request: Request) => fetch(request));

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers = new Headers({ Authorization: `Bearer ${await options.getToken()}` });
    if (body !== undefined) headers.set("Content-Type", "application/json");
    const response = await send(
      new Request(`${base}${path}`, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }),
    );
    const text = await response.text();
    const data = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      const retry = response.headers.get("retry-after");
      throw new PortalError(data as Problem, retry === null ? null : Number(retry));
    }
    return data as T;
  }

  const key = (id: string) => `/keys/${encodeURIComponent(id)}`;
  return {
    session: () => call("GET", "/session"),
    listKeys: (query = {}) =>
      call(
        "GET",
        `/keys${queryString({ mine: query.mine || undefined, cursor: query.cursor, limit: query.limit })}`,
      ),
    createKey: (body) => call("POST", "/keys", body),
    getKey: (id) => call("GET", key(id)),
    updateKey: (id, change) => call("PATCH", key(id), change),
    rotateKey: (id, rotation = {}) => call("POST", `${key(id)}/rotate`, rotation),
    revokeKey: (id) => call("POST", `${key(id)}/revoke`),
    keyUsage: (id, query = {}) => call("GET", `${key(id)}/usage${queryString({ ...query })}`),
    usage: (query = {}) => call("GET", `/usage${queryString({ ...query })}`),
  };
}
