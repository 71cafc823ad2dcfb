/**
 * A provider's dashboard in miniature, for trying the portal element (docs/portal.md): serves
 * `index.html` and `app.js`, and stands in for the provider's login by issuing short-lived
 * HS256 tokens (`GET /token?user=...`) for a few demo members. A real dashboard issues such a
 * token from its own session (a cookie of its own origin), never from a user name in a URL.
 *
 *   node examples/portal/server.mjs --portcullis http://127.0.0.1:8787 [--port 5173]
 *
 * `npm run example -- closient --portal` starts it beside Portcullis. The test of the element
 * (test/e2e/portal-element.test.ts) starts it with its own members through `startProvider`.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

/** The demo login's settings: the secret and claims the policy's `portal.jwt` expects. */
export const DEMO = {
  secret: "dev-portal-secret",
  issuer: "https://login.closient.example",
  audience: "closient-portal",
  lifetimeSeconds: 300,
  users: {
    ana: { name: "Ana (admin of Acme Foods)", org: "acme-foods", roles: ["admin"] },
    ben: { name: "Ben (developer at Acme Foods)", org: "acme-foods", roles: ["developer"] },
    vic: { name: "Vic (viewer at Acme Foods)", org: "acme-foods", roles: ["viewer"] },
  },
};

const base64url = (data) => Buffer.from(data).toString("base64url");

/** An HS256 JWT, as the provider's login would sign it. */
export function signToken(claims, secret) {
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = base64url(JSON.stringify(claims));
  const signature = createHmac("sha256", secret).update(`${header}.${body}`).digest("base64url");
  return `${header}.${body}.${signature}`;
}

/**
 * @param {{portcullis: string, port?: number, host?: string, secret?: string, issuer?: string,
 *   audience?: string, lifetimeSeconds?: number,
 *   users?: Record<string, {name: string, org: string, roles: string[]}>}} options
 * @returns {Promise<{url: string, issued: () => number, close: () => Promise<void>}>}
 */
export async function startProvider(options) {
  const settings = { ...DEMO, ...options };
  const portcullis = options.portcullis.replace(/\/+$/, "");
  let issued = 0;
  const page = readFileSync(join(HERE, "index.html"), "utf8")
    .replaceAll("{{PORTCULLIS}}", portcullis)
    .replace(
      "{{USERS}}",
      Object.entries(settings.users)
        .map(([id, user]) => `<option value="${id}">${user.name.replaceAll("<", "&lt;")}</option>`)
        .join(""),
    );
  const csp = [
    "default-src 'self'",
    `script-src 'self' ${new URL(portcullis).origin}`,
    `connect-src 'self' ${new URL(portcullis).origin}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
  ].join("; ");
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://provider");
    if (url.pathname === "/") {
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp });
      response.end(page);
    } else if (url.pathname === "/app.js" || url.pathname === "/style.css") {
      const type = url.pathname.endsWith(".js") ? "text/javascript" : "text/css";
      response.writeHead(200, { "Content-Type": `${type}; charset=utf-8`, "Cache-Control": "no-cache" });
      response.end(readFileSync(join(HERE, url.pathname.slice(1))));
    } else if (url.pathname === "/token") {
      const id = url.searchParams.get("user") ?? "";
      const user = Object.hasOwn(settings.users, id) ? settings.users[id] : null;
      if (!user) {
        response.writeHead(401, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ error: "unknown user" }));
        return;
      }
      const now = Math.floor(Date.now() / 1000);
      const token = signToken(
        {
          iss: settings.issuer,
          aud: settings.audience,
          sub: `user_${id}`,
          name: user.name,
          org_id: user.org,
          org_role: user.roles,
          iat: now,
          exp: now + settings.lifetimeSeconds,
        },
        settings.secret,
      );
      issued += 1;
      response.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      response.end(JSON.stringify({ token, expiresAt: (now + settings.lifetimeSeconds) * 1000 }));
    } else {
      response.writeHead(404, { "Content-Type": "text/plain" });
      response.end("not found");
    }
  });
  await new Promise((resolve) =>
    server.listen(options.port ?? 0, options.host ?? "localhost", () => resolve()),
  );
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://localhost:${port}`,
    issued: () => issued,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const index = process.argv.indexOf(name);
    return index === -1 ? undefined : process.argv[index + 1];
  };
  const portcullis = arg("--portcullis") ?? "http://127.0.0.1:8787";
  const provider = await startProvider({ portcullis, port: Number(arg("--port") ?? 5173) });
  console.log(`  Provider dashboard on ${provider.url} (Portcullis at ${portcullis})`);
}
