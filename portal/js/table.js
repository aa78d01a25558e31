// A table with its CSV and XLSX downloads: the same columns and rows the user sees.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { download, toCsv, toXlsx } from "./export.js";

/**
 * columns: [{key, label, format?}] (format turns the value into what the cell shows; the files keep the raw value).
 * rows: plain objects. name: the file name's stem.
 */
export function dataTable(name, columns, rows, { empty, onRow } = {}) {
  const labels = columns.map(c => c.label);
  const raw = rows.map(r => columns.map(c => (c.raw ? c.raw(r) : r[c.key]) ?? ""));
  const body = rows.length === 0
    ? [h("tr", {}, h("td", { colSpan: columns.length, class: "empty" }, empty ?? t("table.empty")))]
    : rows.map(row => {
      const tr = h("tr", {}, columns.map(c => h("td", { dataset: { label: c.label }, class: c.className ?? "" }, c.format ? c.format(row[c.key], row) : (row[c.key] ?? "—"))));
      if (onRow) onRow(tr, row);
      return tr;
    });
  return h("div", { class: "table-block", dataset: { table: name } },
    h("div", { class: "table-tools" },
      h("button", { type: "button", class: "small", dataset: { export: "csv" }, onclick: () => download(`${name}.csv`, new Blob([toCsv(labels, raw)], { type: "text/csv;charset=utf-8" })) }, "CSV"),
      h("button", { type: "button", class: "small", dataset: { export: "xlsx" }, onclick: () => download(`${name}.xlsx`, toXlsx(name, labels, raw)) }, "XLSX")),
    h("div", { class: "table-scroll" },
      h("table", {}, h("thead", {}, h("tr", {}, labels.map(l => h("th", {}, l)))), h("tbody", {}, body))));
}
