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
 * Opens the tab on the year with the most story, looking back from the last full year: the latest whose cycle has begun
 * (its schedule's list publication has passed; schedules are readable by every role), else the latest with a published
 * list (the lists are public). After ./scripts/demo.sh that is the demo's year, not the next year whose list it publishes
 * at the end. A year the user picked is kept.
 */
export async function settleYear() {
  if (sessionStorage.getItem(KEY)) return;
  const last = currentYear();
  const years = Array.from({ length: 5 }, (_, i) => last - i);
  // A year without a schedule is null; one that could not be read now (a lost connection, a busy server) is undefined,
  // and then nothing is kept: a choice made without it could be the wrong year for the rest of the tab.
  let unsure = false;
  const readOrUndefined = path => apiOrNull(path).catch(() => { unsure = true; return undefined; });
  const schedules = await Promise.all(years.map(y => readOrUndefined(`/cycles/${y}/schedule`)));
  let year = years.find((_, i) => schedules[i] && Date.parse(schedules[i].listPublication) <= Date.now());
  for (const y of year ? [] : years) {
    if (await readOrUndefined(`/lists/${y}`)) {
      year = y;
      break;
    }
  }
  if (year && !unsure) sessionStorage.setItem(KEY, String(year));
}

/** Shows another year from now on (a notice's link names the year it is about). */
export function setYear(year) {
  if (Number.isInteger(year) && year >= 2013 && year <= 2100) sessionStorage.setItem(KEY, String(year));
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
