/**
 * The admin API of the origin that served the console, called with the credential the operator
 * signed in with. The credential is kept in sessionStorage only: it is gone when the tab closes,
 * is never written to localStorage or a cookie, and is sent only as `Authorization: Bearer`.
 */
import { h } from "./dom.js";

const CREDENTIAL = "portcullis.console.credential";

export const session = {
  /** @returns {string | null} */
  credential: () => sessionStorage.getItem(CREDENTIAL),
  /** @param {string} credential */
  signIn: (credential) => sessionStorage.setItem(CREDENTIAL, credential),
  signOut: () => sessionStorage.removeItem(CREDENTIAL),
};

/** The base path Portcullis' own surfaces live under, as the Worker wrote it into the page. */
export function basePath() {
  return document.getElementById("main")?.dataset.base ?? "/_portcullis";
}

/** An answer that is not a success: the RFC 9457 problem, or what stands in for one. */
export class Problem extends Error {
  /**
   * @param {number} status
   * @param {{title?: string, detail?: string, code?: string, requestId?: string,
   *   errors?: {field: string, message: string}[]} | null} body
   */
  constructor(status, body) {
    super(body?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.title = body?.title ?? (status === 0 ? "Network error" : `HTTP ${status}`);
    this.detail = body?.detail ?? (status === 0 ? "Portcullis could not be reached." : "");
    this.code = body?.code ?? (status === 0 ? "network" : "unknown");
    this.requestId = body?.requestId ?? null;
    this.errors = body?.errors ?? [];
  }
}

/**
 * A query string of the values that are set.
 * @param {Record<string, string | number | null | undefined>} values
 */
export function query(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * Calls `P/admin/v1{path}`; answers the JSON body (null for 204), throws a `Problem` otherwise.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Authorization: `Bearer ${session.credential() ?? ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`${basePath()}/admin/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new Problem(0, null);
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) throw new Problem(response.status, json);
  return json;
}

/**
 * The problem as the operator reads it: title, detail, code, and the failing fields.
 * @param {unknown} error
 */
export function problemView(error) {
  const problem =
    error instanceof Problem ? error : new Problem(0, { title: "Error", detail: String(error) });
  return h(
    "div",
    { class: "problem", role: "alert" },
    h("p", { class: "problem-title" }, problem.title),
    problem.detail ? h("p", {}, problem.detail) : null,
    problem.errors.length > 0
      ? h(
          "ul",
          {},
          problem.errors.map((item) => h("li", {}, h("code", {}, item.field), ": ", item.message)),
        )
      : null,
    h(
      "p",
      { class: "problem-meta" },
      "Code ",
      h("code", { class: "problem-code" }, problem.code),
      problem.status ? ` · HTTP ${problem.status}` : "",
      problem.requestId ? ` · request ${problem.requestId}` : "",
    ),
  );
}
