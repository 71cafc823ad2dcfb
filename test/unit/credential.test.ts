import { describe, expect, it } from "vitest";
import { configuredSources, extractCredential, removeCredential } from "../../src/edge/credential";
import { loadPolicy } from "../../src/policy/load";
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

  it("refuses one source carrying two different values, accepts the same value twice", () => {
    const twice = (name: string, first: string, second: string) =>
      extractCredential(
        ALL,
        new Headers([
          [name, first],
          [name, second],
        ]),
        new URLSearchParams(),
      );
    expect(twice("X-API-Key", "one", "two")).toEqual({ kind: "ambiguous" });
    expect(twice("X-Token", "one", "two")).toEqual({ kind: "ambiguous" });
    expect(twice("Authorization", "Bearer one", "Bearer two")).toEqual({ kind: "ambiguous" });
    expect(twice("X-API-Key", "one", "one")).toMatchObject({ kind: "found", value: "one" });
    expect(twice("Authorization", "Bearer one", "bearer one")).toMatchObject({ kind: "found", value: "one" });
    expect(twice("Authorization", "Bearer one", "Basic dXNlcjpwYXNz")).toMatchObject({ value: "one" });
    expect(extract(ALL, {}, "api_key=one&api_key=two")).toEqual({ kind: "ambiguous" });
    expect(extract(ALL, {}, "api_key=one&api%5Fkey=one")).toMatchObject({ kind: "found", value: "one" });
  });

  it("names every source of the policy and of its routes once", () => {
    const loaded = loadPolicy({
      keyTypes: { k: { prefix: "kk" } },
      credentials: ["bearer", "query:key"],
      routes: [{ path: "/a", credentials: ["header:X-Token", "query:key"] }, { path: "/b" }],
    });
    if (!loaded.ok) throw new Error(loaded.message);
    expect(configuredSources(loaded.policy)).toEqual(["bearer", "query:key", "header:X-Token"]);
  });

  it("removes the names origins read as the credential's: api.key, api key, api_key[], API_KEY", () => {
    const query = removeCredential(
      ["query:api_key"],
      new Headers(),
      "api.key=x&api+key=x&api_key%5B%5D=x&api_key[0]=x&API_KEY=x&api_keys=keep",
    );
    expect(query).toBe("api_keys=keep");
  });

  it("removes the credential and nothing else, keeping the query byte for byte", () => {
    const headers = new Headers({ Authorization: "Bearer k", "X-API-Key": "k", "X-Other": "keep" });
    const query = removeCredential(
      ["bearer", "x-api-key", "query:api_key"],
      headers,
      "a=%2F1&api_key=k&b=x+y&api%5Fkey=k&?api_key=k&apikey=keep",
    );
    expect(query).toBe("a=%2F1&b=x+y&apikey=keep");
    expect([...headers.keys()]).toEqual(["x-other"]);
  });
});
