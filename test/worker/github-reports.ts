import { TEST_POLICY } from "../fixtures/policy";
import { BASE, direct } from "./helpers";

export const LEAKS_URL = `${BASE}/_portcullis/v1/leaks/github`;

function base64(bytes: ArrayBuffer | Uint8Array): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

/** One unsigned big-endian integer as a DER INTEGER: no leading zeros, a zero before a set high bit. */
function derInteger(bytes: Uint8Array): number[] {
  let first = 0;
  while (first < bytes.length - 1 && bytes[first] === 0) first += 1;
  const digits = [...bytes.subarray(first)];
  if ((digits[0] as number) & 0x80) digits.unshift(0);
  return [0x02, digits.length, ...digits];
}

/** The DER form of a WebCrypto `r || s` signature. */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const content = [...derInteger(raw.subarray(0, half)), ...derInteger(raw.subarray(half))];
  return new Uint8Array([0x30, content.length, ...content]);
}

export interface GithubSigner {
  identifier: string;
  /** The entry of GitHub's `public_keys` document for this key. */
  entry(isCurrent?: boolean): { key_identifier: string; key: string; is_current: boolean };
  /** The base64 DER signature of `body`, as in `Github-Public-Key-Signature`. */
  sign(body: string): Promise<string>;
}

export async function githubSigner(identifier: string): Promise<GithubSigner> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const spki = (await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer;
  const lines = base64(spki).match(/.{1,64}/g) ?? [];
  const pem = `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`;
  return {
    identifier,
    entry: (isCurrent = true) => ({ key_identifier: identifier, key: pem, is_current: isCurrent }),
    sign: async (body) => {
      const raw = await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        pair.privateKey,
        new TextEncoder().encode(body),
      );
      return base64(rawToDer(new Uint8Array(raw)));
    },
  };
}

/** The bindings of a deployment that serves leak reports with `action` and these keys. */
export function leakBindings(
  keys: { key_identifier: string; key: string; is_current: boolean }[],
  action?: "revoke" | "disable" | "notify",
): Partial<Env> {
  return {
    POLICY: JSON.stringify({ ...TEST_POLICY, leaks: { githubKeysEnv: "GITHUB_KEYS", action } }),
    GITHUB_KEYS: JSON.stringify({ public_keys: keys }),
  } as Partial<Env>;
}

export interface Report {
  token: string;
  type: string;
  url: string;
  source: string;
}

export function leak(token: string, url = "https://github.com/acme/app/blob/main/.env"): Report {
  return { token, type: "portcullis_server_key", url, source: "content" };
}

/** Posts `body` with these headers to the leak endpoint of a deployment with `bindings`. */
export function postReport(
  body: string,
  headers: Record<string, string>,
  bindings: Partial<Env>,
): Promise<Response> {
  return direct(
    new Request(LEAKS_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body,
    }),
    bindings,
  );
}

/** Posts these reports signed by `signer`, as GitHub does. */
export async function sendReport(
  signer: GithubSigner,
  reports: unknown,
  bindings: Partial<Env>,
): Promise<Response> {
  const body = JSON.stringify(reports);
  return postReport(
    body,
    {
      "Github-Public-Key-Identifier": signer.identifier,
      "Github-Public-Key-Signature": await signer.sign(body),
    },
    bindings,
  );
}
