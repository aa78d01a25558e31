// Who is signed in. Locally: the development sign-in (POST /dev/sign-in, the tokens ./scripts/token.sh prints).
// In Azure: Entra ID through MSAL, loaded only in that mode. The token lives in sessionStorage (gone with the tab),
// never in a URL; every permission is checked by the API, the role here only chooses which pages to show.

const KEY = "ets.session";
let config;
let msalApp;

export async function loadConfig() {
  if (config) return config;
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  config = await response.json();
  return config;
}

export function apiBase() {
  return (config?.api ?? "/api").replace(/\/$/, "");
}

/** The signed-in session {token, role, scope, name, expiresAt}, or null. */
export function session() {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw);
    if (new Date(s.expiresAt) <= new Date()) { sessionStorage.removeItem(KEY); return null; }
    return s;
  } catch {
    sessionStorage.removeItem(KEY);
    return null;
  }
}

/** The claims the pages need, read from the token the API will check anyway. */
export function claimsOf(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const json = new TextDecoder().decode(Uint8Array.from(atob(payload.padEnd(payload.length + (4 - payload.length % 4) % 4, "=")), c => c.charCodeAt(0)));
  const claims = JSON.parse(json);
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  const role = ["regulator", "district", "unit", "verifier"].find(r => roles.includes(r)) ?? roles[0] ?? null;
  const scope = { district: claims.district, unit: claims.unit_id, verifier: claims.verifier_id, participant: claims.participant_id }[role] ?? null;
  return { role, scope, name: claims.name ?? claims.sub ?? "", expiresAt: new Date(claims.exp * 1000).toISOString() };
}

function keep(token) {
  const s = { token, ...claimsOf(token) };
  sessionStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

export async function devSignIn(role, scope) {
  const response = await fetch("dev/sign-in", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ role, scope: scope || null }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail ?? `${response.status}`);
  return keep(body.token);
}

async function msal() {
  if (msalApp) return msalApp;
  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "vendor/msal-browser.min.js";
    script.onload = resolve;
    script.onerror = () => reject(new Error("MSAL could not be loaded"));
    document.head.append(script);
  });
  msalApp = new window.msal.PublicClientApplication({
    auth: { clientId: config.entra.clientId, authority: config.entra.authority, redirectUri: location.origin + location.pathname },
    cache: { cacheLocation: "sessionStorage" },
  });
  await msalApp.initialize();
  return msalApp;
}

/** Entra ID: finishes a redirect sign-in if one is returning, else keeps the session as it is. */
export async function completeEntraSignIn() {
  if (config?.mode !== "entra") return session();
  const app = await msal();
  const result = await app.handleRedirectPromise();
  const account = result?.account ?? app.getAllAccounts()[0];
  if (!account) return session();
  const token = result?.accessToken ?? (await app.acquireTokenSilent({ account, scopes: [config.entra.scope] })).accessToken;
  return keep(token);
}

export async function entraSignIn() {
  const app = await msal();
  await app.loginRedirect({ scopes: [config.entra.scope] });
}

export async function signOut() {
  sessionStorage.removeItem(KEY);
  if (config?.mode === "entra" && msalApp) await msalApp.logoutRedirect();
}
