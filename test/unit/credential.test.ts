import { describe, expect, it } from "vitest";
import { extractCredential, removeCredential } from "../../src/gateway/credential";
import type { CredentialSource } from "../../src/policy/schema";

const ALL: CredentialSource[] = ["bearer", "x-api-key", "header:X-Token", "query:api_key"];

function extract(sources: CredentialSource[], headers: Record<string, string>, query = "") {
  return extractCredential(sources, new Headers(headers), new URLSearchParams(query));
}

describe("credentials", () => {
  it("reads each source kind", () => {
    expect(extract(ALL, { Authorization: "Bearer abc" })).toEqual({
      kind: "found",
      value: "abc",
      sources: ["bearer"],
    });
    expect(extract(ALL, { Authorization: "bearer   abc  " })).toMatchObject({ value: "abc" });
    expect(extract(ALL, { "X-API-Key": "k1" })).toMatchObject({ value: "k1", sources: ["x-api-key"] });
    expect(extract(ALL, { "x-token": "k2" })).toMatchObject({ value: "k2", sources: ["header:X-Token"] });
    expect(extract(ALL, {}, "api_key=k3&x=1")).toMatchObject({ value: "k3", sources: ["query:api_key"] });
  });

  it("ignores sources not listed and other Authorization schemes", () => {
    expect(extract(["bearer"], { "X-API-Key": "k" })).toEqual({ kind: "none" });
    expect(extract(["bearer"], { Authorization: "Basic dXNlcjpwYXNz" })).toEqual({ kind: "none" });
    expect(extract(["x-api-key"], { "X-API-Key": "" })).toEqual({ kind: "none" });
  });

  it("accepts the same credential in two sources, refuses two different ones", () => {
    expect(extract(ALL, { Authorization: "Bearer same", "X-API-Key": "same" })).toEqual({
      kind: "found",
      value: "same",
      sources: ["bearer", "x-api-key"],
    });
    expect(extract(ALL, { Authorization: "Bearer one", "X-API-Key": "two" })).toEqual({ kind: "ambiguous" });
    expect(extract(ALL, { "X-API-Key": "one" }, "api_key=two")).toEqual({ kind: "ambiguous" });
  });

  it("removes the credential and nothing else, keeping the query byte for byte", () => {
    const headers = new Headers({ Authorization: "Bearer k", "X-API-Key": "k", "X-Other": "keep" });
    const query = removeCredential(
      ["bearer", "x-api-key", "query:api_key"],
      headers,
      "a=%2F1&api_key=k&b=x+y&api%5Fkey=k",
    );
    expect(query).toBe("a=%2F1&b=x+y");
    expect([...headers.keys()]).toEqual(["x-other"]);
  });
});
