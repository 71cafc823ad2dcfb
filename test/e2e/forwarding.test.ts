/**
 * Forwarding over real HTTP: bodies stream both ways, the origin can prove a request came
 * through Portcullis, and a slow origin is answered 504.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Json, newKey, portcullis } from "./fixtures";

/** 50 MiB: larger than any buffer Portcullis could reasonably hold per request. */
const LARGE = 50 * 1024 * 1024;

describe("forwarding over real HTTP", () => {
  it("streams a 50 MiB upload to the origin intact", async () => {
    const { key } = await newKey();
    const body = Buffer.alloc(LARGE);
    for (let i = 0; i < body.length; i += 4096) body[i] = i % 251;
    const response = await fetch(portcullis("/api/upload"), {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/octet-stream" },
      body,
    });
    expect(response.status).toBe(200);
    const seen = (await response.json()) as Json;
    expect(seen.bodyBytes).toBe(LARGE);
    expect(seen.bodySha256).toBe(createHash("sha256").update(body).digest("hex"));
  });

  it("streams a 50 MiB download from the origin intact", async () => {
    const { key } = await newKey();
    const response = await fetch(portcullis(`/download?bytes=${LARGE}`), { headers: { "X-API-Key": key } });
    expect(response.status).toBe(200);
    let bytes = 0;
    const reader = response.body?.getReader();
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      bytes += chunk.value.byteLength;
    }
    expect(bytes).toBe(LARGE);
  });

  it("sends an assertion JWT that the origin verifies with the shared secret", async () => {
    const { key, id, workspaceId } = await newKey();
    const seen = (await (
      await fetch(portcullis("/api/products"), { headers: { "X-API-Key": key } })
    ).json()) as Json;
    expect(seen.assertion).toMatchObject({
      iss: "portcullis",
      sub: id,
      keyId: id,
      workspaceId,
      type: "server",
      permissions: ["products:read", "products:write"],
      method: "GET",
      path: "/api/products",
    });
    expect(seen.assertion.exp - seen.assertion.iat).toBe(60);
  });

  it("keeps the origin's headers and adds the request id and rate-limit headers to its answer", async () => {
    const { key } = await newKey({ limits: { minute: 100 } });
    const response = await fetch(portcullis("/api/products?q=1"), {
      headers: {
        "X-API-Key": key,
        "X-Portcullis-Key-Id": "forged",
        "X-Real-IP": "1.2.3.4",
        "X-Custom": "kept",
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-origin")).toBe("test-origin");
    expect(response.headers.get("x-request-id")).toMatch(/./);
    expect(response.headers.get("ratelimit-policy")).toBe(`"minute";q=100;w=60`);
    expect(response.headers.get("ratelimit")).toMatch(/^"minute";r=99;t=\d+$/);
    const seen = (await response.json()) as Json;
    expect(seen.headers["x-custom"]).toBe("kept");
    expect(seen.headers["x-api-key"]).toBeUndefined();
    expect(seen.headers["x-real-ip"]).toBeUndefined();
    expect(seen.headers["x-portcullis-key-id"]).not.toBe("forged");
    expect(seen.headers["x-request-id"]).toBe(response.headers.get("x-request-id"));
    expect(seen.query).toBe("q=1");
  });

  it("answers 504 origin_timeout when the origin is too slow", async () => {
    const { key } = await newKey();
    const response = await fetch(portcullis("/slow?ms=4000"), { headers: { "X-API-Key": key } });
    expect(response.status).toBe(504);
    expect(response.headers.get("x-portcullis-code")).toBe("origin_timeout");
    expect(await response.json()).toMatchObject({ code: "origin_timeout", status: 504 });
  });

  it("bounds only the wait for the origin's answer, not the body that streams after it", async () => {
    const { key } = await newKey();
    // The origin answers at once and ends its body 3 s later, past the 2 s origin timeout.
    const response = await fetch(portcullis("/drip?ms=3000"), { headers: { "X-API-Key": key } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("first last");
  });
});
