// Sign-in. Locally: pick a role and its scope, as ./scripts/token.sh takes them. In Azure: Entra ID.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { loadConfig, devSignIn, entraSignIn } from "../auth.js";

const SCOPED = { regulator: "signin.regulatorName", district: "signin.district", unit: "signin.uscc", verifier: "signin.uscc", participant: "signin.uscc" };

export async function signInPage(done) {
  const config = await loadConfig();
  if (config.mode !== "local") {
    return h("section", { class: "card narrow" }, h("h1", {}, t("signin.title")),
      h("button", { type: "button", onclick: () => entraSignIn() }, t("signin.entra")));
  }
  const role = h("select", { id: "signin-role", name: "role" },
    ["regulator", "district", "unit", "verifier", "exchange", "participant", "finance", "registry"].map(r => h("option", { value: r }, t(`role.${r}`))));
  const scope = h("input", { id: "signin-scope", name: "scope", autocomplete: "off", spellcheck: false });
  const scopeLabel = h("span", {});
  const error = h("p", { class: "error", role: "alert" });
  const syncScope = () => {
    const key = SCOPED[role.value];
    scopeLabel.textContent = key ? t(key) : "";
    scope.parentElement.hidden = !key;
    if (role.value === "district" && !scope.value) scope.value = "朝阳区";
  };
  const form = h("form", {
    class: "card narrow", id: "signin",
    onsubmit: async event => {
      event.preventDefault();
      error.textContent = "";
      try {
        await devSignIn(role.value, SCOPED[role.value] ? scope.value.trim() : "");
        done();
      } catch (e) {
        error.textContent = e.message;
      }
    },
  },
  h("h1", {}, t("signin.title")),
  h("p", { class: "hint" }, t("signin.local")),
  h("label", {}, h("span", {}, t("signin.role")), role),
  h("label", {}, scopeLabel, scope),
  h("button", { type: "submit", id: "signin-submit" }, t("signin.submit")),
  error);
  role.addEventListener("change", () => { scope.value = ""; syncScope(); });
  queueMicrotask(syncScope);
  return form;
}
