// Writes what the app's /config.json and response headers give the portal locally as files for a static web host
// (Azure Static Web Apps): config.json (Entra ID sign-in, the API's address) and staticwebapp.config.json (headers).
// Usage: node portal/tools/static-site.mjs OUT_DIR; reads PORTAL_API_URL, PORTAL_CLIENT_ID, PORTAL_AUTHORITY,
// PORTAL_SCOPE and PORTAL_STORAGE_URL (the blob endpoint the signed upload links point at).
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const [out] = process.argv.slice(2);
if (!out) throw new Error("usage: node portal/tools/static-site.mjs OUT_DIR");
const env = process.env;
const origin = url => { try { return new URL(url).origin; } catch { return ""; } };
const api = (env.PORTAL_API_URL || "/api").replace(/\/$/, "");
const authority = env.PORTAL_AUTHORITY || "";

writeFileSync(join(out, "config.json"), JSON.stringify({
  mode: "entra",
  api,
  entra: { clientId: env.PORTAL_CLIENT_ID || null, authority: authority || null, scope: env.PORTAL_SCOPE || null },
}, null, 2) + "\n");

const connect = ["'self'", origin(api), origin(env.PORTAL_STORAGE_URL || ""), origin(authority)].filter(Boolean).join(" ");
const csp = `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src ${connect}; ` +
  `frame-src 'self' ${origin(authority)}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'`;
writeFileSync(join(out, "staticwebapp.config.json"), JSON.stringify({
  globalHeaders: { "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-cache" },
  // The development sign-in exists only in a local run of the app; on the static host its path is nothing.
  routes: [{ route: "/vendor/*", headers: { "Cache-Control": "public, max-age=86400" } }, { route: "/dev/*", statusCode: 404 }],
}, null, 2) + "\n");
