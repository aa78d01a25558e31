// The compliance year the pages show, shared across pages and kept for the tab.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { apiOrNull } from "../api.js";

const KEY = "ets.year";

export function currentYear() {
  const kept = Number(sessionStorage.getItem(KEY));
  if (Number.isInteger(kept) && kept >= 2013 && kept <= 2100) return kept;
  return new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear() - 1; // the last full year in Beijing: the one being reported
}

/**
 * Opens the tab on the latest year that has a published list (the lists are public), looking back from the last full
 * year: after ./scripts/demo.sh that is the demo's year. A year the user picked is kept.
 */
export async function settleYear() {
  if (sessionStorage.getItem(KEY)) return;
  const last = currentYear();
  for (let year = last; year > last - 5; year--) {
    if (await apiOrNull(`/lists/${year}`)) {
      sessionStorage.setItem(KEY, String(year));
      return;
    }
  }
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
