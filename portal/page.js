/**
 * The hosted page `P/portal/` (docs/portal.md): `<portcullis-keys>` for a token handed over in
 * the address's fragment (`#token=...`, removed from the address bar at once) or by
 * `postMessage` from the window that opened this page, if that window's origin is one of
 * `portal.origins` (written into the page by the Worker). The token is kept in sessionStorage
 * under its own name, so that a reload keeps the session and closing the tab ends it. When the
 * token nears its `exp`, the page asks its opener for a new one; at `exp` without one, it says
 * the session ended.
 *
 * The opener answers `{type: "portcullis-token-request"}` with
 * `{type: "portcullis-token", token}` posted to this page's origin.
 */
import "./element.js";

const STORAGE = "portcullis.portal.token";
/** How long before `exp` the page asks for a new token, ms. */
const REFRESH_BEFORE_MS = 60_000;
/** A token with less than this left is not asked to be replaced again: it just ends, ms. */
const MIN_ASK_MS = 1_000;

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const origins = (main.dataset.origins ?? "").split(" ").filter((origin) => origin !== "");
const locale = new URLSearchParams(location.search).get("locale") === "es" ? "es" : "en";
const WORDS = {
  en: {
    waiting: "Waiting for your sign-in…",
    none: "No session: open this page from your dashboard.",
    ended: "Your session has ended. Sign in again from your dashboard.",
  },
  es: {
    waiting: "Esperando su inicio de sesión…",
    none: "Sin sesión: abra esta página desde su panel.",
    ended: "Su sesión ha terminado. Inicie sesión de nuevo desde su panel.",
  },
}[locale];

/** @type {string | null} */
let token = null;
/** @type {ReturnType<typeof setTimeout>[]} */
let timers = [];
/** @type {HTMLElement | null} */
let element = null;

/** The token of the fragment, which leaves the address bar (and the history entry) at once. */
function fromFragment() {
  if (!location.hash) return null;
  const found = new URLSearchParams(location.hash.slice(1)).get("token");
  history.replaceState(null, "", `${location.pathname}${location.search}`);
  return found;
}

/** The token's `exp` in ms, read without checking it (Portcullis checks it). @param {string} jwt */
function expiryOf(jwt) {
  try {
    const part = jwt.split(".")[1] ?? "";
    const payload = JSON.parse(atob(part.replaceAll("-", "+").replaceAll("_", "/")));
    return typeof payload.exp === "number" ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

const live = () => (token && (expiryOf(token) ?? 0) > Date.now() ? token : null);

function askOpener() {
  // The request carries nothing secret; only an answer from an allowed origin is taken.
  if (window.opener && !window.opener.closed)
    window.opener.postMessage({ type: "portcullis-token-request" }, "*");
}

/** @param {string} text @param {boolean} [alert] */
function say(text, alert = false) {
  element = null;
  main.replaceChildren();
  const paragraph = document.createElement("p");
  paragraph.className = "notice";
  if (alert) paragraph.setAttribute("role", "alert");
  paragraph.textContent = text;
  main.append(paragraph);
}

function ended() {
  token = null;
  sessionStorage.removeItem(STORAGE);
  say(WORDS.ended, true);
}

/**
 * Shows the element for `next`, and plans the refresh and the end of the session: the page asks
 * for a new token a minute before `exp` (half the time left, for a token shorter than two
 * minutes), again at half of what is then left while its opener answers the same token, and
 * gives up at `exp`.
 * @param {string} next
 */
function use(next) {
  token = next;
  sessionStorage.setItem(STORAGE, next);
  for (const timer of timers) clearTimeout(timer);
  const expiry = expiryOf(next);
  const left = expiry === null ? 0 : expiry - Date.now();
  if (left <= 0) {
    ended();
    return;
  }
  timers = [
    setTimeout(() => {
      if (token === next) ended();
    }, left),
  ];
  if (left > MIN_ASK_MS) timers.push(setTimeout(askOpener, left - Math.min(REFRESH_BEFORE_MS, left / 2)));
  if (!element) {
    element = document.createElement("portcullis-keys");
    element.setAttribute("locale", locale);
    /** @type {any} */ (element).getToken = async () => live();
    main.replaceChildren(element);
  }
}

window.addEventListener("message", (event) => {
  if (!origins.includes(event.origin) || event.source !== window.opener) return;
  const data = event.data;
  if (data?.type === "portcullis-token" && typeof data.token === "string" && data.token !== "")
    use(data.token);
});

const given = fromFragment() ?? sessionStorage.getItem(STORAGE);
if (given) use(given);
else if (window.opener && origins.length > 0) {
  say(WORDS.waiting);
  askOpener();
} else say(WORDS.none);
