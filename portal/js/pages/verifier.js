// A verification body: its engagements; the report (PDF) and statement (JSON) uploaded from the browser through the
// signed links only the body obtains (Art. 21, 25); and how processing ended, with the reason for a rejection.
import { h, clear, date, tonnes, toast } from "../dom.js";
import { t } from "../i18n.js";
import { api, uploadToLink } from "../api.js";
import { dataTable } from "../table.js";
import { noticesPage } from "./notices.js";

export const verifierPages = [{ id: "engagements", title: "nav.engagements", render: engagements }, noticesPage];

export function statusBadge(status) {
  const kind = { accepted: "ok", rejected: "bad", "awaiting-upload": "warn" }[status] ?? "";
  return h("span", { class: `badge ${kind}`, dataset: { status } }, t(`verification.${status}`, {}, status), " ", h("code", {}, status));
}

async function engagements(page, s) {
  const box = h("div");
  page.append(h("section", { class: "card wide" }, box));
  const body = encodeURIComponent(s.scope);

  const load = async () => {
    const work = await api(`/verifiers/${body}/work`);
    clear(box, dataTable(`engagements-${s.scope}`, [
      { key: "unit", label: t("verification.unit"), className: "mono" },
      { key: "year", label: t("app.year") },
      { key: "reportVersion", label: t("verification.reportVersion") },
      { key: "engagedAt", label: t("verification.engagedAt"), format: date },
      { key: "status", label: t("verification.status"), format: statusBadge },
      { key: "reason", label: t("verification.reason"), format: r => r ? h("span", { class: "reason" }, r) : "—" },
      { key: "verifiedEmissionsT", label: t("verification.verifiedT"), format: tonnes },
      { key: "engagementId", label: t("verification.upload"), format: (id, row) => row.status === "awaiting-upload" ? uploadForm(row) : "—", raw: r => r.engagementId },
    ], work, { onRow: (tr, row) => { tr.dataset.engagement = row.engagementId; tr.dataset.unit = row.unit; } }));
  };

  const uploadForm = row => {
    const report = h("input", { type: "file", accept: "application/pdf,.pdf", name: "report", dataset: { file: "report" } });
    const statement = h("input", { type: "file", accept: "application/json,.json", name: "statement", dataset: { file: "statement" } });
    const progress = h("span", { class: "hint", dataset: { progress: "" } });
    return h("form", {
      class: "upload",
      onsubmit: async e => {
        e.preventDefault();
        if (!report.files[0] || !statement.files[0]) { toast(t("verification.chooseBoth"), "error"); return; }
        try {
          progress.textContent = t("verification.signing");
          const links = await api(`/verifiers/${body}/engagements/${encodeURIComponent(row.engagementId)}/links`, { method: "POST" });
          if (report.files[0].size > links.maxReportBytes || statement.files[0].size > links.maxStatementBytes) throw new Error(t("verification.tooLarge"));
          progress.textContent = t("verification.uploading");
          await uploadToLink(links.reportUploadUrl, report.files[0], "application/pdf");
          await uploadToLink(links.statementUploadUrl, statement.files[0], "application/json");
          progress.textContent = t("verification.processing");
          await waitForProcessing(row.engagementId);
        } catch (error) {
          progress.textContent = "";
          toast(error.message, "error");
        }
        await load();
      },
    },
    h("label", {}, t("verification.reportPdf"), report),
    h("label", {}, t("verification.statementJson"), statement),
    h("button", { type: "submit" }, t("verification.uploadBoth")), progress);
  };

  // The platform processes the uploads from its queue; the page asks again until the engagement is no longer awaiting them.
  const waitForProcessing = async engagementId => {
    for (let i = 0; i < 60; i++) {
      const work = await api(`/verifiers/${body}/work`);
      if (work.find(w => w.engagementId === engagementId)?.status !== "awaiting-upload") return;
      await new Promise(r => setTimeout(r, 1000));
    }
    toast(t("verification.stillProcessing"), "info");
  };

  await load();
}
