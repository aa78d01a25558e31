// The shell: signs in, picks the pages the token's role has, and routes between them (#/page).
import { h, clear, toast } from "./dom.js";
import { t, language, setLanguage, applyStatic } from "./i18n.js";
import { loadConfig, session, completeEntraSignIn, signOut } from "./auth.js";
import { signInPage } from "./pages/signin.js";
import { regulatorPages } from "./pages/regulator.js";
import { districtPages } from "./pages/district.js";
import { verifierPages } from "./pages/verifier.js";
import { unitPages } from "./pages/unit.js";
import { settleYear } from "./pages/year.js";

const PAGES = { regulator: regulatorPages, district: districtPages, verifier: verifierPages, unit: unitPages };

const view = document.getElementById("view");
const nav = document.getElementById("nav");

async function render() {
  applyStatic();
  const s = session();
  const who = document.getElementById("who");
  const signOutButton = document.getElementById("sign-out");
  signOutButton.hidden = !s;
  if (!s) {
    clear(nav);
    clear(who);
    clear(view, await signInPage(() => { location.hash = "#/"; render(); }));
    return;
  }
  clear(who, h("span", { class: "role", dataset: { role: s.role } }, t(`role.${s.role}`)), s.scope ? ` ${s.scope}` : "");
  const pages = PAGES[s.role];
  if (!pages) {
    clear(nav);
    clear(view, h("section", { class: "card" }, h("p", {}, t("app.noPages", { role: s.role }))));
    return;
  }
  const wanted = location.hash.replace(/^#\/?/, "").split("?")[0];
  const page = pages.find(p => p.id === wanted) ?? pages[0];
  clear(nav, pages.map(p => h("a", { href: `#/${p.id}`, class: p === page ? "active" : "", dataset: { page: p.id } }, t(p.title))));
  const container = h("section", { class: "page", dataset: { page: page.id } }, h("h1", {}, t(page.title)));
  clear(view, container);
  try {
    await settleYear();
    await page.render(container, s, pages);
  } catch (error) {
    container.append(h("p", { class: "error" }, error.message));
  }
}

document.getElementById("lang").addEventListener("click", () => {
  setLanguage(language() === "zh" ? "en" : "zh");
  render();
});
document.getElementById("sign-out").addEventListener("click", async () => {
  await signOut();
  location.hash = "#/";
  render();
});
window.addEventListener("hashchange", render);

(async () => {
  try {
    await loadConfig();
    await completeEntraSignIn();
  } catch (error) {
    toast(error.message, "error");
  }
  render();
})();
