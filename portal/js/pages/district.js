// A district bureau: its check queue (Art. 9, 23) and each check's findings, correction requests and sign-off.
import { h, clear, date, toast } from "../dom.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { dataTable } from "../table.js";
import { noticesPage } from "./notices.js";

export const districtPages = [{ id: "checks", title: "nav.checks", render: checks }, noticesPage];

async function checks(page, s) {
  const status = h("select", { id: "check-status" },
    h("option", { value: "open" }, t("check.open")), h("option", { value: "closed" }, t("check.closed")), h("option", { value: "" }, t("check.all")));
  const summary = h("p", { class: "hint" });
  const list = h("div");
  const detail = h("section", { class: "card wide", id: "check-detail", hidden: true });
  page.append(h("section", { class: "card wide" }, h("label", { class: "inline" }, t("check.status"), status), summary, list), detail);

  const loadQueue = async () => {
    const queue = await api(`/districts/${encodeURIComponent(s.scope)}/checks${status.value ? `?status=${status.value}` : ""}`);
    summary.textContent = t("check.summary", { open: queue.open, overdue: queue.overdue });
    clear(list, dataTable(`checks-${s.scope}`, [
      { key: "checkId", label: t("check.id"), className: "mono" },
      { key: "kind", label: t("check.kind"), format: k => t(`checkKind.${k}`, {}, k) },
      { key: "subject", label: t("check.subject") },
      { key: "unit", label: t("check.unit"), className: "mono" },
      { key: "dueOn", label: t("check.dueOn"), format: (d, r) => r.overdue ? h("span", { class: "badge bad" }, d) : d },
      { key: "status", label: t("check.status"), format: v => t(`check.${v}`, {}, v) },
    ], queue.checks, {
      onRow: (tr, check) => {
        tr.classList.add("clickable");
        tr.dataset.check = check.checkId;
        tr.addEventListener("click", () => show(check.checkId));
      },
    }));
  };

  const act = async (path, body, done) => {
    try {
      await api(path, { method: "POST", body });
      toast(t(done), "ok");
    } catch (error) {
      toast(error.message, "error");
    }
  };

  const show = async checkId => {
    const check = await api(`/checks/${encodeURIComponent(checkId)}`);
    detail.hidden = false;
    const closed = check.status === "closed";
    const findingText = h("textarea", { id: "finding-text", rows: 2, maxLength: 2000 });
    const correctionText = h("textarea", { id: "correction-text", rows: 2, maxLength: 2000 });
    const correctionDue = h("input", { id: "correction-due", type: "date" });
    const outcome = h("select", { id: "signoff-outcome" }, h("option", { value: "passed" }, t("check.passed")), h("option", { value: "issues-found" }, t("check.issuesFound")));
    const note = h("input", { id: "signoff-note", maxLength: 2000 });
    const refresh = async () => { await show(checkId); await loadQueue(); };
    clear(detail,
      h("h2", {}, check.subject),
      h("dl", { class: "facts" },
        h("dt", {}, t("check.kind")), h("dd", {}, t(`checkKind.${check.kind}`, {}, check.kind)),
        h("dt", {}, t("check.unit")), h("dd", { class: "mono" }, check.unit ?? "—"),
        h("dt", {}, t("check.year")), h("dd", {}, check.month ?? check.year),
        h("dt", {}, t("check.dueOn")), h("dd", {}, check.dueOn),
        h("dt", {}, t("check.round")), h("dd", {}, check.round),
        h("dt", {}, t("check.status")), h("dd", { id: "check-state", dataset: { status: check.status } },
          t(`check.${check.status}`, {}, check.status), check.outcome ? ` · ${t(`outcome.${check.outcome}`, {}, check.outcome)}` : "")),
      h("h3", {}, t("check.findings")),
      check.findings.length ? h("ol", { class: "findings" }, check.findings.map(f => h("li", {}, f.none ? t("check.noFindings") : f.text, h("span", { class: "hint" }, ` · ${f.source} · ${date(f.recordedAt)}`))))
        : h("p", { class: "hint" }, t("check.noneYet")),
      h("h3", {}, t("check.corrections")),
      check.correctionRequests.length ? h("ol", {}, check.correctionRequests.map(c => h("li", {}, c.text, h("span", { class: "hint" },
        ` · ${t("check.dueOn")} ${c.dueOn}${c.answeredByRevision ? ` · ${t("check.answered", { revision: c.answeredByRevision })}` : ""}`))))
        : h("p", { class: "hint" }, t("check.noneYet")),
      closed ? "" : h("div", { class: "actions" },
        h("form", { onsubmit: async e => { e.preventDefault(); await act(`/checks/${checkId}/findings`, { text: findingText.value }, "check.findingAdded"); await refresh(); } },
          h("label", {}, t("check.addFinding"), findingText),
          h("button", { type: "submit" }, t("check.addFinding")),
          h("button", { type: "button", class: "secondary", onclick: async () => { await act(`/checks/${checkId}/findings`, { none: true }, "check.findingAdded"); await refresh(); } }, t("check.recordNone"))),
        h("form", { onsubmit: async e => { e.preventDefault(); await act(`/checks/${checkId}/correction-requests`, { text: correctionText.value, dueOn: correctionDue.value || null }, "check.correctionSent"); await refresh(); } },
          h("label", {}, t("check.requestCorrection"), correctionText),
          h("label", {}, t("check.dueOn"), correctionDue),
          h("button", { type: "submit" }, t("check.requestCorrection"))),
        h("form", { id: "signoff", onsubmit: async e => { e.preventDefault(); await act(`/checks/${checkId}/sign-off`, { outcome: outcome.value, note: note.value || null }, "check.signedOff"); await refresh(); } },
          h("label", {}, t("check.outcome"), outcome),
          h("label", {}, t("check.note"), note),
          h("button", { type: "submit", id: "signoff-submit" }, t("check.signOff")))));
    detail.scrollIntoView({ block: "nearest" });
  };

  status.addEventListener("change", loadQueue);
  await loadQueue();
}
