/**
 * The signature GitHub's secret scanning puts on a leak report: ECDSA P-256 with SHA-256 over
 * the raw body, DER-encoded in base64 (`Github-Public-Key-Signature`), made with the key that
 * `Github-Public-Key-Identifier` names in GitHub's `public_keys` document. Retired keys
 * (`is_current: false`) still verify: reports signed just before a rotation arrive after it.
 */

import { derToRawSignature } from "../keys/ecdsa-signature";
import { unavailable } from "../refusals";

export interface GithubPublicKey {
  key_identifier: string;
  key: string;
  is_current?: boolean;
}

const P256 = { name: "ECDSA", namedCurve: "P-256" } as const;

function isPublicKey(value: unknown): value is GithubPublicKey {
  const key = value as GithubPublicKey;
  return (
    typeof key === "object" &&
    key !== null &&
    typeof key.key_identifier === "string" &&
    typeof key.key === "string"
  );
}

/**
 * The keys of the document held in the secret `name` (its JSON text, or the table itself when
 * set as a wrangler variable). A missing or malformed document is the deployment's fault: 503,
 * so that no report is acted on unverified and GitHub retries once it is fixed.
 */
export function githubPublicKeys(value: unknown, name: string): GithubPublicKey[] {
  let document: unknown = value;
  if (typeof value === "string") {
    try {
      document = JSON.parse(value);
    } catch {
      document = null;
    }
  }
  const keys = (document as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(keys) || !keys.every(isPublicKey)) {
    throw unavailable(`The secret ${name} does not hold GitHub's public_keys document.`);
  }
  return keys;
}

function base64Bytes(text: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

/** The DER bytes of a PEM `PUBLIC KEY` block. */
function pemBytes(pem: string): Uint8Array | null {
  const body = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  return body ? base64Bytes(body) : null;
}

async function importKey(pem: string): Promise<CryptoKey | null> {
  const spki = pemBytes(pem);
  if (!spki) return null;
  try {
    return await crypto.subtle.importKey("spki", spki, P256, false, ["verify"]);
  } catch {
    return null;
  }
}

/**
 * True only when `signature` (base64 DER) is a valid signature of `body` by the key named
 * `identifier`; any header missing, undecodable or naming an unknown key is false.
 */
export async function verifyGithubSignature(
  keys: GithubPublicKey[],
  identifier: string | undefined,
  signature: string | undefined,
  body: ArrayBuffer,
): Promise<boolean> {
  if (!identifier || !signature) return false;
  const entry = keys.find((key) => key.key_identifier === identifier);
  if (!entry) return false;
  const der = base64Bytes(signature.trim());
  const raw = der && derToRawSignature(der);
  if (!raw) return false;
  const key = await importKey(entry.key);
  if (!key) return false;
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, body);
}
