/**
 * The Caddy configuration of the README, made for a test: `forward_auth` to Portcullis, the
 * identity headers copied onto the request, the credential removed before `reverse_proxy`.
 */
export function caddyConfig(options: { port: number; portcullis: string; origin: string }): string {
  const { port, portcullis, origin } = options;
  return `{
  admin off
  auto_https off
}

http://127.0.0.1:${port} {
  route {
    forward_auth ${portcullis.replace(/^http:\/\//, "")} {
      uri /_portcullis/v1/authorize
      copy_headers X-Portcullis-Key-Id X-Portcullis-Workspace-Id X-Portcullis-Key-Type X-Portcullis-Owner-Id X-Portcullis-Permissions X-Portcullis-Plan X-Portcullis-Subject X-Portcullis-Assertion
    }
    request_header -Authorization
    request_header -X-API-Key
    reverse_proxy ${origin}
  }
}
`;
}
