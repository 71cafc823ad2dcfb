/**
 * The demo dashboard's own script: its "login" (a user chosen from a list, standing in for the
 * provider's real session), and the element's `getToken`, which asks the dashboard's backend
 * for a short-lived token and reuses it until it nears its expiry. "Open the hosted page" hands
 * the same tokens to `P/portal/` by `postMessage`.
 */
const USER = "demo.user";
const element = document.querySelector("portcullis-keys");
const portcullis = element.getAttribute("base-url");
/** @type {{token: string, expiresAt: number} | null} */
let current = null;

/** Tokens issued to this page, for the browser test to count refreshes. */
window.demoTokens = 0;

async function getToken() {
  if (current && current.expiresAt - Date.now() > 1_000) return current.token;
  const response = await fetch(`/token?user=${encodeURIComponent(sessionStorage.getItem(USER) ?? "")}`);
  if (!response.ok) return null;
  current = await response.json();
  window.demoTokens += 1;
  return current.token;
}

function show() {
  const signedIn = sessionStorage.getItem(USER) !== null;
  document.getElementById("login").hidden = signedIn;
  document.getElementById("keys").hidden = !signedIn;
  if (signedIn) element.getToken = getToken;
}

document.getElementById("sign-in").addEventListener("click", () => {
  sessionStorage.setItem(USER, document.getElementById("user").value);
  current = null;
  show();
});
document.getElementById("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(USER);
  location.reload();
});

/** The hosted page asks its opener for a token; only that window of Portcullis' origin gets it. */
let opened = null;
document.getElementById("open-page").addEventListener("click", () => {
  opened = window.open(`${portcullis}/portal/`, "portcullis-portal");
});
window.addEventListener("message", async (event) => {
  if (event.source !== opened || event.origin !== new URL(portcullis).origin) return;
  if (event.data?.type !== "portcullis-token-request") return;
  opened.postMessage({ type: "portcullis-token", token: await getToken() }, event.origin);
});

for (const type of [
  "portcullis-key-created",
  "portcullis-key-revoked",
  "portcullis-key-rotated",
  "portcullis-error",
]) {
  element.addEventListener(type, (event) => console.info(type, JSON.stringify(event.detail)));
}
show();
