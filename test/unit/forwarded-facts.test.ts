import { describe, expect, it } from "vitest";
import { forwardedFacts } from "../../src/gateway/request-facts";

const AUTHORIZE = "http://portcullis.internal:8787/_portcullis/v1/authorize";

function facts(url: string, headers: Record<string, string>, method = "GET", envoyPath = "") {
  return forwardedFacts(new Request(url, { method, headers }), envoyPath);
}

describe("forward-auth request facts", () => {
  it("reads Traefik and Caddy's X-Forwarded-* headers", () => {
    expect(
      facts(AUTHORIZE, {
        "X-Forwarded-Method": "post",
        "X-Forwarded-Uri": "/api/v1/assess?x=1",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "api.example.com",
        "X-Forwarded-For": "203.0.113.7, 10.0.0.2",
      }),
    ).toMatchObject({
      method: "POST",
      pathname: "/api/v1/assess",
      rawQuery: "x=1",
      scheme: "https",
      host: "api.example.com",
      clientIp: "10.0.0.2",
    });
  });

  it("reads nginx's X-Original-* headers and X-Real-IP", () => {
    expect(
      facts(`${AUTHORIZE}?compat=nginx`, {
        "X-Original-Method": "DELETE",
        "X-Original-URI": "/v1/bots/7",
        "X-Real-IP": "198.51.100.4",
        "X-Forwarded-For": "1.1.1.1",
      }),
    ).toMatchObject({
      method: "DELETE",
      pathname: "/v1/bots/7",
      rawQuery: "",
      clientIp: "198.51.100.4",
      scheme: "http",
    });
  });

  it("reads Envoy's path after P/v1/authorize, with its query and method", () => {
    expect(facts(`${AUTHORIZE}/api/items?page=2`, {}, "PATCH", "/api/items")).toMatchObject({
      method: "PATCH",
      pathname: "/api/items",
      rawQuery: "page=2",
      host: "portcullis.internal:8787",
    });
  });

  it("keeps a URI beginning with // a path, never a host", () => {
    expect(facts(AUTHORIZE, { "X-Forwarded-Uri": "//evil.example/admin" })).toMatchObject({
      pathname: "//evil.example/admin",
    });
    expect(facts(AUTHORIZE, { "X-Forwarded-Uri": "http://evil.example/admin" })).toBeNull();
  });
});
