/**
 * GitHub secret-scanning leak reports (docs/leaks.md): each reported key of the deployment is
 * revoked, disabled or only audited per `leaks.action`, labelled for GitHub, audited as
 * `key.leak` by the system actor `github`; a report already handled for the same url changes
 * nothing again.
 */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/keys/hash";
import {
  type GithubSigner,
  githubSigner,
  leak,
  leakBindings,
  postReport,
  sendReport,
} from "./github-reports";
import { admin, call, createKey, createWorkspace, expectProblem, type Json } from "./helpers";

const signer: GithubSigner = await githubSigner("gh-current");
const bindings = leakBindings([signer.entry()]);

async function leakAudit(workspaceId: string): Promise<Json[]> {
  const { json } = await admin("GET", `/audit?workspaceId=${workspaceId}`);
  return json.items.filter((entry: Json) => entry.action === "key.leak");
}

describe("leak reports", () => {
  it("revokes a reported key by default, labels it true_positive and audits key.leak as github", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    expect((await call("/api/products", { key })).status).toBe(200);
    const report = leak(key);

    const response = await sendReport(signer, [report], bindings);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([
      { token_hash: await sha256Hex(key), token_type: report.type, label: "true_positive" },
    ]);
    await expectProblem(await call("/api/products", { key }), 401, "key_revoked");

    const [entry, ...others] = await leakAudit(ws);
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      actor: { type: "system", id: "github" },
      targetId: id,
      after: { action: "revoke", url: report.url, source: report.source },
    });
    const { text } = await admin("GET", `/audit?workspaceId=${ws}`);
    expect(text).not.toContain(key);
  });

  it("labels a token that is no key false_positive, hashed and with its type echoed, and changes nothing", async () => {
    const ws = await createWorkspace();
    const token = "sk_test_notakeyofthisdeployment";
    const response = await sendReport(signer, [{ ...leak(token), type: "other_type" }], bindings);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([
      { token_hash: await sha256Hex(token), token_type: "other_type", label: "false_positive" },
    ]);
    expect(await leakAudit(ws)).toEqual([]);
  });

  it("answers one label per reported token, in order", async () => {
    const ws = await createWorkspace();
    const a = await createKey(ws);
    const b = await createKey(ws);
    const response = await sendReport(signer, [leak(a.key), leak("sk_test_unknown"), leak(b.key)], bindings);
    expect(response.status).toBe(200);
    const labels = (await response.json()) as Json[];
    expect(labels.map((entry) => entry.label)).toEqual(["true_positive", "false_positive", "true_positive"]);
    expect(labels[2]?.token_hash).toBe(await sha256Hex(b.key));
  });

  it("disables with action disable: the key can be re-enabled, and a replay of the report leaves it so", async () => {
    const disabling = leakBindings([signer.entry()], "disable");
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const report = leak(key);

    expect((await sendReport(signer, [report], disabling)).status).toBe(200);
    await expectProblem(await call("/api/products", { key }), 401, "key_disabled");
    expect((await admin("PATCH", `/keys/${id}`, { enabled: true })).status).toBe(200);

    const replay = await sendReport(signer, [report], disabling);
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as Json[])[0]?.label).toBe("true_positive");
    expect((await call("/api/products", { key })).status).toBe(200);
    expect(await leakAudit(ws)).toHaveLength(1);

    // The same token found somewhere else is a new leak.
    const elsewhere = leak(key, "https://gist.github.com/someone/abc");
    expect((await sendReport(signer, [elsewhere], disabling)).status).toBe(200);
    await expectProblem(await call("/api/products", { key }), 401, "key_disabled");
    expect(await leakAudit(ws)).toHaveLength(2);
  });

  it("only audits with action notify", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws);
    const response = await sendReport(signer, [leak(key)], leakBindings([signer.entry()], "notify"));
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json[])[0]?.label).toBe("true_positive");
    expect((await call("/api/products", { key })).status).toBe(200);
    const entries = await leakAudit(ws);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ targetId: id, after: { action: "notify" } });
  });

  it("counts an admin key as a true positive and revokes it", async () => {
    const ws = await createWorkspace();
    const adminKey = await createKey(ws, { type: "admin", permissions: ["*"] });
    expect((await admin("GET", `/keys?workspaceId=${ws}`, undefined, adminKey.key)).status).toBe(200);
    const response = await sendReport(signer, [leak(adminKey.key)], bindings);
    expect(((await response.json()) as Json[])[0]?.label).toBe("true_positive");
    expect((await admin("GET", `/keys?workspaceId=${ws}`, undefined, adminKey.key)).status).toBe(401);
  });

  it("verifies with a key GitHub no longer signs with (is_current false)", async () => {
    const retired = await githubSigner("gh-retired");
    const both = leakBindings([signer.entry(), retired.entry(false)]);
    const ws = await createWorkspace();
    const { key } = await createKey(ws);
    expect((await sendReport(retired, [leak(key)], both)).status).toBe(200);
    await expectProblem(await call("/api/products", { key }), 401, "key_revoked");
  });

  it("answers 400 to a validly signed body that is not an array of reports", async () => {
    for (const body of [
      { token: "x" },
      [{ token: "x", type: "t", url: "u" }],
      [{ token: 1, type: "t", url: "u", source: "s" }],
    ]) {
      await expectProblem(await sendReport(signer, body, bindings), 400, "bad_request");
    }
    const text = "not json";
    const notJson = await postReport(
      text,
      {
        "Github-Public-Key-Identifier": signer.identifier,
        "Github-Public-Key-Signature": await signer.sign(text),
      },
      bindings,
    );
    await expectProblem(notJson, 400, "bad_request");
  });

  it("is served only when leaks.githubKeysEnv is configured; elsewhere the path is not_found", async () => {
    const body = JSON.stringify([]);
    const headers = {
      "Github-Public-Key-Identifier": signer.identifier,
      "Github-Public-Key-Signature": await signer.sign(body),
    };
    expect((await postReport(body, headers, bindings)).status).toBe(200);
    await expectProblem(await postReport(body, headers, {}), 404, "not_found");
    const actionOnly = {
      POLICY: JSON.stringify({ ...JSON.parse(bindings.POLICY as string), leaks: { action: "disable" } }),
    };
    await expectProblem(await postReport(body, headers, actionOnly), 404, "not_found");
  });
});
