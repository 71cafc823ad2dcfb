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
