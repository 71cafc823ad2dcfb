/**
 * A key is shown once, in the create response; no later response contains it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, createKey, createWorkspace } from "./helpers";

describe("shown once", () => {
  it("never returns the key after the create response", async () => {
    const ws = await createWorkspace();
    const { key, id } = await createKey(ws, { name: "secret-holder" });
    const later = [
      await admin("GET", `/keys/${id}`),
      await admin("GET", `/keys?workspaceId=${ws}`),
      await admin("PATCH", `/keys/${id}`, { name: "renamed" }),
      await admin("POST", `/keys/${id}/revoke`),
      await admin("GET", `/keys/${id}`),
    ];
    for (const response of later) {
      expect(response.status).toBe(200);
      expect(response.text).not.toContain(key);
      expect(response.text).not.toContain(key.slice(12));
    }
    const audit = await env.DB.prepare("SELECT * FROM audit_log WHERE target_id = ?1").bind(id).all();
    expect(audit.results.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(audit.results)).not.toContain(key.slice(12));
  });
});
