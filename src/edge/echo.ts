/**
 * The built-in `echo` origin (docs/admin-api.md): answers with the request exactly as an origin would
 * have received it, for local use and tests.
 */

/** The echoed body is cut at this many bytes. */
const ECHO_BODY_LIMIT = 1024 * 1024;

async function readPrefix(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel();
  const bytes = new Uint8Array(Math.min(size, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
  }
  return new TextDecoder().decode(bytes);
}

export async function echo(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return Response.json({
    method: request.method,
    path: url.pathname,
    query: url.search.slice(1),
    headers,
    body: await readPrefix(request.body, ECHO_BODY_LIMIT),
  });
}
