/**
 * `@portcullis/client` (`portcullis/client` inside the clone): a typed client of the admin,
 * verify and self APIs for backends and automation, built on openapi-fetch with the types
 * generated from docs/openapi.json (`npm run client:types` writes ./schema.d.ts). Each method
 * answers the operation's typed data or throws a `PortcullisError` carrying the RFC 9457
 * problem. It stands alone: it imports nothing from the Worker, and its imports carry the
 * extension that `moduleResolution: "nodenext"` asks of the published declarations
 * (docs/packages.md).
 */
import createFetchClient, { type FetchResponse, type MaybeOptionalInit } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
export type Problem = components["schemas"]["Problem"];
export type ErrorCode = components["schemas"]["ErrorCode"];
export type VerifyRequest = components["schemas"]["VerifyRequest"];
export type VerifyResponse = components["schemas"]["VerifyResponse"];
export type EventType = components["schemas"]["EventType"];

/**
 * Every event type the document's `EventType` names, one key each: `tsc` refuses this record if it
 * misses a type of the document or names one the document does not have.
 */
const EVENT_TYPE_KEYS: Record<EventType, true> = {
  "key.created": true,
  "key.updated": true,
  "key.revoked": true,
  "key.deleted": true,
  "key.rotated": true,
  "key.leaked": true,
  "owner.revoked": true,
  "credits.low": true,
  "credits.exhausted": true,
  "quota.exceeded": true,
  "ratelimit.exceeded": true,
};

/** The types of the events Portcullis raises (docs/events.md), as `GET /events` filters on them. */
export const EVENT_TYPES = Object.keys(EVENT_TYPE_KEYS) as readonly EventType[];

/** The policy's `basePath` when it sets none: the prefix the paths of the document carry. */
export const DEFAULT_BASE_PATH = "/_portcullis";
/** A base path as the policy takes one (docs/policy.md): segments of unreserved characters. */
export const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

export interface PortcullisClientOptions {
  /** The deployment's origin, e.g. `https://api.example.com`. */
  baseUrl: string;
  /**
   * The policy's `basePath` (default `/_portcullis`): the paths of the document are written with
   * `/_portcullis`, and each request goes to this prefix instead.
   */
  basePath?: string;
  /** The root token or an admin key (`pc_admin_...`), sent as `Authorization: Bearer`. */
  token: string;
  /** Another fetch, e.g. a service binding's. */
  fetch?: (request: Request) => Promise<Response>;
}

/** A refusal of the API: the problem it answered. */
export class PortcullisError extends Error {
  override readonly name = "PortcullisError";
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): ErrorCode {
    return this.problem.code;
  }
}

type Method = "get" | "put" | "post" | "patch" | "delete";
type PathOf<M extends Method> = {
  [P in keyof paths]: paths[P] extends Record<M, object> ? P : never;
}[keyof paths];
/** The init argument, optional where the operation needs no parameter and no body. */
type InitArgument<Init> = object extends Init ? [Init?] : [Init];
type Success<M extends Method, P extends PathOf<M>, Init> = Exclude<
  FetchResponse<paths[P][M] & Record<string | number, unknown>, Init, `${string}/${string}`>["data"],
  undefined
>;
/** The operation's data; `undefined` for an answer without a body (204). */
type Data<M extends Method, P extends PathOf<M>, Init> = [Success<M, P, Init>] extends [never]
  ? undefined
  : Success<M, P, Init>;

type Call<M extends Method> = <P extends PathOf<M>, Init extends MaybeOptionalInit<paths[P], M>>(
  path: P,
  ...init: InitArgument<Init>
) => Promise<Data<M, P, Init>>;

export interface PortcullisClient {
  GET: Call<"get">;
  PUT: Call<"put">;
  POST: Call<"post">;
  PATCH: Call<"patch">;
  DELETE: Call<"delete">;
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== "object" || body === null) return false;
  const { status, code } = body as Record<string, unknown>;
  return typeof status === "number" && typeof code === "string";
}

/** The answer's problem; an answer that is none (a proxy's page, a lost body) is `internal`. */
function problemOf(body: unknown, response: Response): Problem {
  if (isProblem(body)) return body;
  const detail = `the answer (HTTP ${response.status}) is not a Portcullis problem`;
  return {
    type: "about:blank",
    title: "Unexpected response",
    status: response.status,
    code: "internal",
    detail,
    requestId: response.headers.get("X-Request-Id") ?? "",
    error: { type: "internal", message: detail },
  };
}

/** openapi-fetch's method, seen untyped: `Call` types the result. */
type UntypedCall = (
  path: never,
  ...init: never[]
) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/** A redirect's answer as a problem: the client follows none, so it is no success. */
function redirectProblem(response: Response): Problem {
  const detail = `the answer (HTTP ${response.status}) is a redirect, which the client does not follow: the credential goes to baseUrl and nowhere else`;
  return {
    type: "about:blank",
    title: "Redirect refused",
    status: response.status,
    code: "internal",
    detail,
    requestId: response.headers.get("X-Request-Id") ?? "",
    error: { type: "internal", message: detail },
  };
}

/** Each call with its path moved from the document's `/_portcullis` to `basePath`. */
function throwing<M extends Method>(call: UntypedCall, basePath: string): Call<M> {
  const unwrap = async (path: string, ...init: never[]) => {
    const moved =
      basePath === DEFAULT_BASE_PATH ? path : `${basePath}${path.slice(DEFAULT_BASE_PATH.length)}`;
    const { data, error, response } = await call(moved as never, ...init);
    if (response.status >= 300 && response.status < 400) throw new PortcullisError(redirectProblem(response));
    if (!response.ok) throw new PortcullisError(problemOf(error, response));
    return data;
  };
  return unwrap as Call<M>;
}

/**
 * Every request with `redirect: "manual"`: a 3xx is answered as it came (and thrown), never
 * followed, so that no redirect, to this origin or another, gets the credential again.
 */
function refusingRedirects(fetch: (request: Request) => Promise<Response>) {
  return (request: Request) => fetch(new Request(request, { redirect: "manual" }));
}

export function createClient({
  baseUrl,
  basePath = DEFAULT_BASE_PATH,
  token,
  fetch = (request) => globalThis.fetch(request),
}: PortcullisClientOptions): PortcullisClient {
  if (!BASE_PATH.test(basePath)) {
    throw new TypeError(`basePath must be /segment[/segment...] of A-Z a-z 0-9 . _ ~ -, as the policy's is`);
  }
  const client = createFetchClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { Authorization: `Bearer ${token}` },
    fetch: refusingRedirects(fetch),
  });
  return {
    GET: throwing<"get">(client.GET as UntypedCall, basePath),
    PUT: throwing<"put">(client.PUT as UntypedCall, basePath),
    POST: throwing<"post">(client.POST as UntypedCall, basePath),
    PATCH: throwing<"patch">(client.PATCH as UntypedCall, basePath),
    DELETE: throwing<"delete">(client.DELETE as UntypedCall, basePath),
  };
}

/**
 * Verifies a key as a backend does (`POST P/v1/verify`, `P` the client's `basePath`, with an admin credential
 * holding `keys:verify`): the decision, `valid: false` with the failing check's code for a key
 * that is refused; a problem (a bad request, a bad credential) throws.
 */
export async function verifyKey(
  client: PortcullisClient | PortcullisClientOptions,
  key: string,
  options: Omit<VerifyRequest, "key"> = {},
): Promise<VerifyResponse> {
  const api = "token" in client ? createClient(client) : client;
  return api.POST("/_portcullis/v1/verify", { body: { ...options, key } });
}
