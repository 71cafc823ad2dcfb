/**
 * The Caddy configuration of docs/forward-auth.md (its site block, verbatim but for the addresses),
 * after the global options a test run needs: no admin endpoint, no certificates, loopback only.
 * The site answers any Host, so that tests can claim another one.
 */
import { documentedBlock, substitute } from "./documented";

export function caddyConfig(options: { port: number; portcullis: string; origin: string }): string {
  const { port, portcullis, origin } = options;
  const hostPort = (url: string) => url.replace(/^http:\/\//, "");
  const site = substitute(documentedBlock("## Caddy (`forward_auth`)", "caddyfile"), [
    ["api.example.com {", `http://:${port} {`],
    ["portcullis.internal:8787", hostPort(portcullis)],
    ["api.internal:8080", hostPort(origin)],
  ]);
  return `{
\tadmin off
\tauto_https off
\tdefault_bind 127.0.0.1
}

${site}`;
}
