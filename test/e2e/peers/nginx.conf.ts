/**
 * The nginx configuration of docs/forward-auth.md (its `server` block, verbatim but for the addresses),
 * inside the process settings a test run needs: no daemon, files in the test's directory.
 */
import { documentedBlock, substitute } from "./documented";

export function nginxConfig(options: {
  dir: string;
  port: number;
  portcullis: string;
  origin: string;
}): string {
  const { dir, port, portcullis, origin } = options;
  const server = substitute(documentedBlock("## nginx (`auth_request`)", "nginx"), [
    ["listen 80;", `listen 127.0.0.1:${port};`],
    ["http://portcullis.internal:8787", portcullis],
    ["http://api.internal:8080", origin],
  ]);
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

${server}}
`;
}
