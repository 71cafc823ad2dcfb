/**
 * Attacks on the leak report endpoint, which anyone can call: an unsigned, mis-signed, tampered
 * or oversized report is refused before its body is parsed or any storage is read, and changes
 * nothing; a deployment whose key document is missing accepts nothing.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { githubSigner, leak, leakBindings, postReport } from "../worker/github-reports";
import {
  admin,
  call,
  countingDb,
  createKey,
  createWorkspace,
  expectProblem,
  type Json,
} from "../worker/helpers";

const github = await githubSigner("gh-real");
const attacker = await githubSigner("gh-real");
const bindings = leakBindings([github.entry()]);

/** The order n of P-256: (r, s) and (r, n − s) are both valid signatures of a message. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function fromBase64(text: string): number[] {
  return [...atob(text)].map((char) => char.charCodeAt(0));
}

/** The contents of r and s of a canonical DER signature. */
function integers(der: number[]): { r: number[]; s: number[] } {
  const rLength = der[3] as number;
  return { r: der.slice(4, 4 + rLength), s: der.slice(6 + rLength) };
}

/** A DER sequence of two integers with exactly these contents (canonical or not). */
function derOf(r: number[], s: number[]): number[] {
  return [0x30, r.length + s.length + 4, 0x02, r.length, ...r, 0x02, s.length, ...s];
}

function numberOf(bytes: number[]): bigint {
  return bytes.reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
}

/** The canonical DER INTEGER content of a positive number. */
function bytesOf(n: bigint): number[] {
  const out: number[] = [];
  for (let rest = n; rest > 0n; rest >>= 8n) out.unshift(Number(rest & 0xffn));
  return (out[0] as number) & 0x80 ? [0x00, ...out] : out;
}

async function victim(): Promise<{ ws: string; key: string }> {
  const ws = await createWorkspace();
  const { key } = await createKey(ws);
  return { ws, key };
}

/** The key still works, and no leak was recorded for it. */
async function expectUnchanged(ws: string, key: string): Promise<void> {
  expect((await call("/api/products", { key })).status).toBe(200);
  const { json } = await admin("GET", `/audit?workspaceId=${ws}`);
  expect(json.items.filter((entry: Json) => entry.action === "key.leak")).toEqual([]);
  const rows = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM leak_reports WHERE token_hash = (SELECT hash FROM keys WHERE workspace_id = ?1)",
  )
    .bind(ws)
    .first<{ n: number }>();
  expect(rows?.n).toBe(0);
}

describe("leak report signatures", () => {
  it("refuses every unsigned or mis-signed report with 401 before reading storage, changing nothing", async () => {
    const { ws, key } = await victim();
    const body = JSON.stringify([leak(key)]);
    const good = await github.sign(body);
    const signedOther = await github.sign(JSON.stringify([leak(key, "https://elsewhere.example")]));
    const cases: Record<string, Record<string, string>> = {
      "no headers": {},
      "no identifier": { "Github-Public-Key-Signature": good },
      "no signature": { "Github-Public-Key-Identifier": github.identifier },
      "unknown identifier": {
        "Github-Public-Key-Identifier": "gh-unknown",
        "Github-Public-Key-Signature": good,
      },
      "another key's signature": {
        "Github-Public-Key-Identifier": github.identifier,
        "Github-Public-Key-Signature": await attacker.sign(body),
      },
      "a signature of another body": {
        "Github-Public-Key-Identifier": github.identifier,
        "Github-Public-Key-Signature": signedOther,
      },
      "not base64": {
        "Github-Public-Key-Identifier": github.identifier,
        "Github-Public-Key-Signature": "%%%",
      },
      "not DER": {
        "Github-Public-Key-Identifier": github.identifier,
        "Github-Public-Key-Signature": btoa("x".repeat(64)),
      },
      "truncated DER": {
        "Github-Public-Key-Identifier": github.identifier,
        "Github-Public-Key-Signature": btoa(atob(good).slice(0, -3)),
      },
    };
    for (const [name, headers] of Object.entries(cases)) {
      const counting = countingDb(env.DB);
      const response = await postReport(body, headers, { ...bindings, DB: counting.db });
      expect(response.status, name).toBe(401);
      await expectProblem(response, 401, "invalid_signature");
      expect(counting.statements, name).toEqual([]);
    }
    await expectUnchanged(ws, key);
  });

  it("refuses every other DER encoding of a valid signature, reading no storage", async () => {
    const { ws, key } = await victim();
    const body = JSON.stringify([leak(key)]);
    const { r, s } = integers(fromBase64(await github.sign(body)));
    const encodings: Record<string, number[]> = {
      "a leading zero on r": derOf([0x00, ...r], s),
      "a leading zero on s": derOf(r, [0x00, ...s]),
      "two leading zeros on both": derOf([0x00, 0x00, ...r], [0x00, 0x00, ...s]),
      "a byte after the sequence": [...derOf(r, s), 0x00],
      "a long-form sequence length": (() => {
        const der = derOf(r, s);
        return [0x30, 0x81, ...der.slice(1)];
      })(),
      "a long-form length on r": [
        0x30,
        r.length + s.length + 5,
        0x02,
        0x81,
        r.length,
        ...r,
        0x02,
        s.length,
        ...s,
      ],
    };
    for (const [name, der] of Object.entries(encodings)) {
      const counting = countingDb(env.DB);
      const response = await postReport(
        body,
        {
          "Github-Public-Key-Identifier": github.identifier,
          "Github-Public-Key-Signature": btoa(String.fromCharCode(...der)),
        },
        { ...bindings, DB: counting.db },
      );
      expect(response.status, name).toBe(401);
      await expectProblem(response, 401, "invalid_signature");
      expect(counting.statements, name).toEqual([]);
    }
    await expectUnchanged(ws, key);
  });

  it("accepts the high-S twin of a valid signature, as GitHub's own verifiers do", async () => {
    const { key } = await victim();
    const body = JSON.stringify([leak(key)]);
    const { r, s } = integers(fromBase64(await github.sign(body)));
    const high = bytesOf(P256_ORDER - numberOf(s));
    const response = await postReport(
      body,
      {
        "Github-Public-Key-Identifier": github.identifier,
        "Github-Public-Key-Signature": btoa(String.fromCharCode(...derOf(r, high))),
      },
      bindings,
    );
    expect(response.status).toBe(200);
    expect((await call("/api/products", { key })).status).toBe(401);
  });

  it("refuses a tampered body signed for another one", async () => {
    const { ws, key } = await victim();
    const signed = JSON.stringify([leak("sk_test_harmless")]);
    const tampered = JSON.stringify([leak(key)]);
    const response = await postReport(
      tampered,
      {
        "Github-Public-Key-Identifier": github.identifier,
        "Github-Public-Key-Signature": await github.sign(signed),
      },
      bindings,
    );
    await expectProblem(response, 401, "invalid_signature");
    await expectUnchanged(ws, key);
  });

  it("checks the signature before parsing: an unsigned malformed body is 401, not 400", async () => {
    const response = await postReport(
      "{not json",
      { "Github-Public-Key-Identifier": github.identifier },
      bindings,
    );
    await expectProblem(response, 401, "invalid_signature");
  });

  it("refuses a body over 1 MiB with 413 even when validly signed", async () => {
    const { ws, key } = await victim();
    const reports = [leak(key), { ...leak("sk_test_padding"), source: "x".repeat(1024 * 1024) }];
    const body = JSON.stringify(reports);
    const response = await postReport(
      body,
      {
        "Github-Public-Key-Identifier": github.identifier,
        "Github-Public-Key-Signature": await github.sign(body),
      },
      bindings,
    );
    await expectProblem(response, 413, "payload_too_large");
    await expectUnchanged(ws, key);
  });

  it("fails closed when the public keys secret is missing or not GitHub's document", async () => {
    const { ws, key } = await victim();
    const body = JSON.stringify([leak(key)]);
    const headers = {
      "Github-Public-Key-Identifier": github.identifier,
      "Github-Public-Key-Signature": await github.sign(body),
    };
    for (const keys of [undefined, "not json", JSON.stringify({ public_keys: "none" })]) {
      const response = await postReport(body, headers, { ...bindings, GITHUB_KEYS: keys } as Partial<
        typeof env
      >);
      await expectProblem(response, 503, "unavailable");
    }
    await expectUnchanged(ws, key);
  });
});
