// The compliance year the pages show, shared across pages and kept for the tab.
import { h } from "../dom.js";
import { t } from "../i18n.js";

const KEY = "ets.year";

export function currentYear() {
  const kept = Number(sessionStorage.getItem(KEY));
  if (Number.isInteger(kept) && kept >= 2013 && kept <= 2100) return kept;
  return new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear() - 1; // the last full year in Beijing: the one being reported
}

export function yearPicker(onChange) {
  const input = h("input", { type: "number", id: "year", min: 2013, max: 2100, value: currentYear(), class: "year" });
  input.addEventListener("change", () => {
    const year = Number(input.value);
    if (!Number.isInteger(year) || year < 2013 || year > 2100) return;
    sessionStorage.setItem(KEY, String(year));
    onChange(year);
  });
  return h("label", { class: "inline year-picker" }, t("app.year"), input);
}
