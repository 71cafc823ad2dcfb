/**
 * The nginx configuration of the README, made for a test: nginx protects `location /` with
 * `auth_request` pointed at Portcullis and passes the identity on with `auth_request_set`.
 */
export function nginxConfig(options: {
  dir: string;
  port: number;
  portcullis: string;
  origin: string;
}): string {
  const { dir, port, portcullis, origin } = options;
  return `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  server {
    listen 127.0.0.1:${port};

    location = /_portcullis_auth {
      internal;
      proxy_pass ${portcullis}/_portcullis/v1/authorize?compat=nginx;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Real-IP $remote_addr;
    }

    location / {
      auth_request /_portcullis_auth;
      auth_request_set $portcullis_code $upstream_http_x_portcullis_code;
      auth_request_set $portcullis_retry_after $upstream_http_retry_after;
      auth_request_set $portcullis_key_id $upstream_http_x_portcullis_key_id;
      auth_request_set $portcullis_workspace_id $upstream_http_x_portcullis_workspace_id;
      auth_request_set $portcullis_key_type $upstream_http_x_portcullis_key_type;
      auth_request_set $portcullis_owner_id $upstream_http_x_portcullis_owner_id;
      auth_request_set $portcullis_permissions $upstream_http_x_portcullis_permissions;
      auth_request_set $portcullis_plan $upstream_http_x_portcullis_plan;
      auth_request_set $portcullis_assertion $upstream_http_x_portcullis_assertion;
      add_header X-Portcullis-Code $portcullis_code always;
      add_header Retry-After $portcullis_retry_after always;

      proxy_set_header X-Portcullis-Key-Id $portcullis_key_id;
      proxy_set_header X-Portcullis-Workspace-Id $portcullis_workspace_id;
      proxy_set_header X-Portcullis-Key-Type $portcullis_key_type;
      proxy_set_header X-Portcullis-Owner-Id $portcullis_owner_id;
      proxy_set_header X-Portcullis-Permissions $portcullis_permissions;
      proxy_set_header X-Portcullis-Plan $portcullis_plan;
      proxy_set_header X-Portcullis-Assertion $portcullis_assertion;
      proxy_set_header Authorization "";
      proxy_set_header X-API-Key "";
      proxy_pass ${origin};
    }
  }
}
`;
}
