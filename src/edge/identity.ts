/**
 * Who made an allowed request, as the origin learns it (docs/headers.md): `X-Portcullis-*` headers and,
 * when `ORIGIN_SIGNING_SECRET` is set, the `X-Portcullis-Assertion` JWT that proves the request
 * came through Portcullis.
 */
import type { Access } from "./access";

export interface Identity {
  /** Key id, or the session's subject. */
  subject: string;
  keyId: string | null;
  workspaceId: string | null;
  type: string;
  ownerId: string | null;
  permissions: string[];
  plan: string | null;
}

/**
 * Every identity header Portcullis may send. Forward-auth answers carry all of them, empty
 * when one does not apply, so that a proxy copying them onto the request overwrites whatever a
 * client sent under the same names (Traefik and Caddy leave a header alone when the answer
 * lacks it).
 */
export const IDENTITY_HEADERS = [
  "X-Portcullis-Key-Id",
  "X-Portcullis-Workspace-Id",
  "X-Portcullis-Key-Type",
  "X-Portcullis-Owner-Id",
  "X-Portcullis-Permissions",
  "X-Portcullis-Plan",
  "X-Portcullis-Subject",
  "X-Portcullis-Assertion",
] as const;

/** Lifetime of the assertion JWT, seconds. */
const ASSERTION_LIFETIME_SECONDS = 60;

/** Inbound headers with this prefix are never passed on: only Portcullis may set them. */
export const RESERVED_HEADER_PREFIX = "x-portcullis-";

function identityHeaders(identity: Identity): Record<string, string> {
  const headers: Record<string, string> = {
    "X-Portcullis-Key-Type": identity.type,
    "X-Portcullis-Permissions": identity.permissions.join(" "),
  };
  if (identity.keyId) headers["X-Portcullis-Key-Id"] = identity.keyId;
  else headers["X-Portcullis-Subject"] = identity.subject;
  if (identity.workspaceId) headers["X-Portcullis-Workspace-Id"] = identity.workspaceId;
  if (identity.ownerId) headers["X-Portcullis-Owner-Id"] = identity.ownerId;
  if (identity.plan) headers["X-Portcullis-Plan"] = identity.plan;
  return headers;
}

const utf8 = new TextEncoder();

/** The imported HMAC key of each secret: importing it again for every request costs more than the signature. */
const signingKeys = new Map<string, Promise<CryptoKey>>();

function signingKey(secret: string): Promise<CryptoKey> {
  let key = signingKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    signingKeys.set(secret, key);
  }
  return key;
}

/**
 * `Uint8Array.prototype.toBase64` (the TC39 base64 proposal), which the Workers runtime has and
 * TypeScript's ES2024 library does not declare yet.
 */
interface EncodableBytes extends Uint8Array {
  toBase64(options: { alphabet: "base64url"; omitPadding: boolean }): string;
}

/** UTF-8 text or bytes as unpadded base64url, in one native call where the runtime has it. */
function base64url(data: string | ArrayBuffer): string {
  const bytes = typeof data === "string" ? utf8.encode(data) : new Uint8Array(data);
  const encodable = bytes as Partial<EncodableBytes>;
  if (typeof encodable.toBase64 === "function") {
    return encodable.toBase64({ alphabet: "base64url", omitPadding: true });
  }
  // Node before 25 (the tools that build the OpenAPI document import this module): same bytes.
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The JWT header of every assertion (HS256), encoded once: the same bytes a JWT library writes. */
const ASSERTION_HEADER = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

/** A compact HS256 JWT (RFC 7519) of the assertion's claims. */
async function signAssertion(
  identity: Identity,
  request: { method: string; path: string; host: string },
  secret: string,
  now: number,
): Promise<string> {
  const iat = Math.floor(now / 1000);
  const claims = base64url(
    JSON.stringify({
      iss: "portcullis",
      sub: identity.subject,
      keyId: identity.keyId,
      workspaceId: identity.workspaceId,
      type: identity.type,
      permissions: identity.permissions,
      method: request.method,
      path: request.path,
      host: request.host,
      jti: crypto.randomUUID(),
      iat,
      exp: iat + ASSERTION_LIFETIME_SECONDS,
    }),
  );
  const signed = `${ASSERTION_HEADER}.${claims}`;
  const signature = await crypto.subtle.sign("HMAC", await signingKey(secret), utf8.encode(signed));
  return `${signed}.${base64url(signature)}`;
}

/** Who made an allowed request, as the origin learns it; null on public routes and preflights. */
export function identityOf(access: Access): Identity | null {
  switch (access.kind) {
    case "public":
      return null;
    case "session":
      return {
        subject: access.subject,
        keyId: null,
        workspaceId: null,
        type: "session",
        ownerId: null,
        permissions: access.permissions,
        plan: null,
      };
    case "key":
      return {
        subject: access.record.id,
        keyId: access.record.id,
        workspaceId: access.record.workspaceId,
        type: access.record.type,
        ownerId: access.record.ownerId,
        permissions: access.decision.permissions,
        plan: access.decision.plan,
      };
  }
}

/** The headers an allowed request carries to the origin (or back to a forward-auth caller). */
export async function identityFor(
  access: Access,
  host: string,
  secret: string | undefined,
): Promise<Record<string, string>> {
  const identity = identityOf(access);
  if (!identity) return {};
  const headers = identityHeaders(identity);
  if (secret) {
    headers["X-Portcullis-Assertion"] = await signAssertion(
      identity,
      { method: access.method, path: access.path, host },
      secret,
      Date.now(),
    );
  }
  return headers;
}
