// Chinese first, English on request: one dictionary per language, the choice kept in localStorage.
import { zh } from "./lang/zh.js";
import { en } from "./lang/en.js";

const DICTIONARIES = { zh, en };
const KEY = "ets.language";

export function language() {
  return localStorage.getItem(KEY) === "en" ? "en" : "zh";
}

export function setLanguage(lang) {
  localStorage.setItem(KEY, lang === "en" ? "en" : "zh");
}

/** The text for key in the current language, {name} filled from values; fallback when no dictionary has the key. */
export function t(key, values = {}, fallback) {
  const text = DICTIONARIES[language()][key] ?? DICTIONARIES.zh[key] ?? fallback ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (values[name] ?? `{${name}}`));
}

/** The page's fixed texts (data-i18n) and its language attribute. */
export function applyStatic() {
  document.documentElement.lang = language() === "en" ? "en" : "zh-CN";
  document.title = t("app.title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}
