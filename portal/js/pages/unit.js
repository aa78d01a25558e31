// A carbon emission unit: its annual report (totals computed by the server as it types, line by line), monthly data,
// its allocation with objection and adjustment, holdings, surrender, compliance, and its notices.
import { h, clear, tonnes, decimal, date, toast, debounce } from "../dom.js";
import { t } from "../i18n.js";
import { api, apiOrNull, ApiError } from "../api.js";
import { dataTable } from "../table.js";
import { yearPicker, currentYear } from "./year.js";
import { noticesPage } from "./notices.js";

export const unitPages = [
  { id: "report", title: "nav.report", render: report },
  { id: "allocation", title: "nav.allocation", render: allocation },
  { id: "monthly", title: "nav.monthly", render: monthly },
  noticesPage,
];

function number(id, attrs = {}) {
  return h("input", { id, type: "number", min: 0, step: "any", inputMode: "decimal", ...attrs });
}

const value = input => (input.value.trim() === "" ? 0 : Number(input.value));

async function report(page, s) {
  const body = h("div");
  page.append(yearPicker(() => fillReport(body, s)), body);
  await fillReport(body, s);
}

async function fillReport(body, s) {
  const year = currentYear();
  const factors = await apiOrNull(`/reference/${year}/emission-factors`);
  const latest = await apiOrNull(`/units/${encodeURIComponent(s.scope)}/reports/${year}`);
  if (!factors) {
    clear(body, h("p", { class: "hint" }, t("report.noFactors", { year })));
    return;
  }
  const previous = new Map((latest?.report?.fuels ?? []).map(f => [f.fuel, f.quantity]));
  const fuelInputs = Object.entries(factors.fuels).map(([fuel, factor]) => ({ fuel, unit: factor.unit, input: number(`fuel-${fuel}`, { value: previous.get(fuel) ?? "", dataset: { fuel } }) }));
  const processSource = h("input", { id: "process-source", value: latest?.report?.processes?.[0]?.source ?? "" });
  const processT = number("process-t", { value: latest?.report?.processes?.[0]?.emissionsT ?? "" });
  const electricity = number("electricity", { value: latest?.report?.purchasedElectricityMWh ?? "" });
  const nonFossil = number("non-fossil", { value: latest?.report?.nonFossilElectricityMWh ?? "" });
  const nonFossilEvidence = h("input", { id: "non-fossil-evidence", value: latest?.report?.nonFossilEvidence ?? "" });
  const heat = number("heat", { value: latest?.report?.purchasedHeatGJ ?? "" });
  const product = h("input", { id: "activity-product", value: latest?.report?.activity?.[0]?.product ?? "" });
  const productQuantity = number("activity-quantity", { value: latest?.report?.activity?.[0]?.quantity ?? "" });
  const productUnit = h("input", { id: "activity-unit", value: latest?.report?.activity?.[0]?.unit ?? "t" });
  const signedBy = h("input", { id: "signed-by", value: latest?.report?.declaration?.signedBy ?? "" });
  const title = h("input", { id: "signed-title", value: latest?.report?.declaration?.title ?? "" });
  const result = h("div", { id: "calculation", class: "calculation", dataset: { state: "empty" } });
  const submitted = h("p", { id: "submitted", class: "hint" }, latest ? t("report.latest", { version: latest.version, total: tonnes(latest.totalEmissionsT) }) : "");

  const figures = () => ({
    year,
    fuels: fuelInputs.filter(f => f.input.value.trim() !== "").map(f => ({ fuel: f.fuel, quantity: value(f.input), unit: f.unit })),
    processes: processSource.value.trim() && processT.value.trim() ? [{ source: processSource.value.trim(), emissionsT: value(processT) }] : [],
    purchasedElectricityMWh: value(electricity),
    purchasedHeatGJ: value(heat),
    nonFossilElectricityMWh: value(nonFossil),
    nonFossilEvidence: nonFossilEvidence.value.trim() || null,
    activity: product.value.trim() && productQuantity.value.trim() ? [{ product: product.value.trim(), quantity: value(productQuantity), unit: productUnit.value.trim() }] : [],
  });

  // The server computes (POST /api/reports/calculate, the code PUT uses); only the answer to the latest figures is shown.
  let asked = 0;
  const calculate = debounce(async () => {
    const mine = ++asked;
    result.dataset.state = "pending";
    try {
      const computed = await api("/reports/calculate", { method: "POST", body: figures() });
      if (mine === asked) showResult(result, computed);
    } catch (error) {
      if (mine !== asked) return;
      result.dataset.state = "invalid";
      clear(result, h("p", { class: "error" }, error instanceof ApiError && error.problem?.errors ? error.problem.errors.join(" ") : error.message));
    }
  }, 300);

  const form = h("form", {
    id: "report-form", class: "report",
    oninput: calculate,
    onsubmit: async e => {
      e.preventDefault();
      const { year: _, ...rest } = figures();
      try {
        const saved = await api(`/units/${encodeURIComponent(s.scope)}/reports/${year}`, {
          method: "PUT",
          body: { ...rest, declaration: { signedBy: signedBy.value.trim(), title: title.value.trim() } },
        });
        submitted.textContent = t("report.saved", { version: saved.version, total: tonnes(saved.totalEmissionsT) });
        submitted.dataset.total = saved.totalEmissionsT;
        toast(submitted.textContent, "ok");
      } catch (error) {
        toast(error.message, "error");
      }
    },
  },
  h("fieldset", {}, h("legend", {}, t("report.fuels")),
    fuelInputs.map(f => h("label", {}, h("span", {}, t(`fuel.${f.fuel}`, {}, f.fuel), " ", h("small", {}, `(${f.unit})`)), f.input))),
  h("fieldset", {}, h("legend", {}, t("report.processes")),
    h("label", {}, t("report.processSource"), processSource), h("label", {}, t("report.processT"), processT)),
  h("fieldset", {}, h("legend", {}, t("report.energy")),
    h("label", {}, t("report.electricity"), electricity), h("label", {}, t("report.nonFossil"), nonFossil),
    h("label", {}, t("report.nonFossilEvidence"), nonFossilEvidence), h("label", {}, t("report.heat"), heat)),
  h("fieldset", {}, h("legend", {}, t("report.activity")),
    h("label", {}, t("report.product"), product), h("label", {}, t("report.quantity"), productQuantity), h("label", {}, t("report.unit"), productUnit)),
  h("fieldset", {}, h("legend", {}, t("report.declaration")),
    h("label", {}, t("report.signedBy"), signedBy), h("label", {}, t("report.title"), title)),
  h("button", { type: "submit", id: "report-submit" }, t("report.submit")),
  submitted);
  clear(body, h("div", { class: "grid" }, h("section", { class: "card" }, form), h("section", { class: "card", dataset: { section: "calculation" } }, h("h2", {}, t("report.calculation")), result)));
  calculate();
}

function showResult(el, r) {
  const line = (label, formula, amount) => h("tr", {}, h("th", {}, label), h("td", { class: "formula" }, formula), h("td", { class: "num" }, decimal(amount, 3)));
  el.dataset.state = "current";
  el.dataset.total = r.totalEmissionsT;
  clear(el, h("table", { class: "lines" }, h("tbody", {},
    r.fuelLines.map(f => line(t(`fuel.${f.fuel}`, {}, f.fuel), `${decimal(f.quantity, 4)} × ${f.ncvGJPerUnit} × ${f.carbonContentTCPerGJ} × ${f.oxidationRate} × 44/12`, f.emissionsT)),
    r.processes.map(p => line(p.source, t("report.processLine"), p.emissionsT)),
    h("tr", { class: "sum" }, h("th", {}, t("report.direct")), h("td", { class: "formula" }, decimal(r.directEmissionsExactT, 3)), h("td", { class: "num", id: "calc-direct" }, tonnes(r.directEmissionsT))),
    line(t("report.electricityLine"), `(${decimal(r.indirect.purchasedElectricityMWh)} − ${decimal(r.indirect.nonFossilElectricityMWh)}) × ${r.indirect.electricityTCO2PerMWh}`, r.indirect.electricityEmissionsT),
    line(t("report.heatLine"), `${decimal(r.indirect.purchasedHeatGJ)} × ${r.indirect.heatTCO2PerGJ}`, r.indirect.heatEmissionsT),
    h("tr", { class: "sum" }, h("th", {}, t("report.indirect")), h("td", { class: "formula" }, decimal(r.indirectEmissionsExactT, 3)), h("td", { class: "num", id: "calc-indirect" }, tonnes(r.indirectEmissionsT))),
    h("tr", { class: "total" }, h("th", {}, t("report.total")), h("td", { class: "formula" }, t("report.rounded")), h("td", { class: "num", id: "calc-total" }, tonnes(r.totalEmissionsT))))));
}

async function allocation(page, s) {
  const body = h("div", { class: "grid" });
  page.append(yearPicker(() => fillAllocation(body, s)), body);
  await fillAllocation(body, s);
}

async function fillAllocation(body, s) {
  const year = currentYear();
  const [alloc, account, compliance] = await Promise.all([
    apiOrNull(`/allocation/${year}/units/${encodeURIComponent(s.scope)}`), apiOrNull(`/units/${encodeURIComponent(s.scope)}/account`), apiOrNull(`/units/${encodeURIComponent(s.scope)}/compliance/${year}`)]);
  const objectionReason = h("textarea", { id: "objection-reason", rows: 2, maxLength: 2000 });
  const adjustReason = h("select", { id: "adjust-reason" }, ["line-closed", "line-added", "activity-change", "merger-or-split", "other"].map(r => h("option", { value: r }, t(`adjust.${r}`))));
  const adjustExplanation = h("textarea", { id: "adjust-explanation", rows: 2, maxLength: 2000 });
  const adjustQuantity = h("input", { id: "adjust-quantity", type: "number", step: 1 });
  const send = async (path, payload, done) => {
    try {
      await api(path, { method: "POST", body: payload });
      toast(t(done), "ok");
    } catch (error) {
      toast(error.message, "error");
    }
  };
  const facts = (pairs) => h("dl", { class: "facts" }, pairs.flatMap(([k, v, id]) => [h("dt", {}, t(k)), h("dd", { id }, v)]));
  // Art. 15: the seven working days to object run from the notice's receipt, not from the result's issue.
  const received = alloc?.noticeReceivedOn ?? (alloc?.receivedOn ? t("allocation.notReceived") : "—");
  clear(body,
    h("section", { class: "card", dataset: { section: "allocation" } }, h("h2", {}, t("allocation.title", { year })),
      alloc ? facts([["allocation.method", alloc.method ?? "—"], ["allocation.basis", tonnes(alloc.basis)], ["allocation.pre", tonnes(alloc.preAllocated)],
        ["allocation.verified", tonnes(alloc.verified)], ["allocation.topUp", tonnes(alloc.topUp)], ["allocation.clawBack", tonnes(alloc.clawBack)],
        ["allocation.receivedOn", alloc.receivedOn ?? "—", "allocation-issued-on"], ["allocation.noticeReceivedOn", received, "notice-received-on"],
        ["allocation.objectionDueOn", alloc.objectionDueOn ?? "—", "objection-due-on"]]) : h("p", { class: "hint" }, t("allocation.none")),
      alloc ? h("form", { onsubmit: async e => { e.preventDefault(); await send(`/allocation/${year}/units/${encodeURIComponent(s.scope)}/objections`, { reason: objectionReason.value }, "allocation.objected"); } },
        h("label", {}, t("allocation.objectionReason"), objectionReason), h("button", { type: "submit", id: "object" }, t("allocation.object"))) : "",
      h("form", { onsubmit: async e => { e.preventDefault(); await send(`/allocation/${year}/units/${encodeURIComponent(s.scope)}/adjustments`, { reason: adjustReason.value, explanation: adjustExplanation.value, quantity: Number(adjustQuantity.value) }, "allocation.adjustmentFiled"); } },
        h("label", {}, t("allocation.adjustReason"), adjustReason), h("label", {}, t("allocation.adjustExplanation"), adjustExplanation),
        h("label", {}, t("allocation.adjustQuantity"), adjustQuantity), h("button", { type: "submit", id: "adjust" }, t("allocation.adjust")))),
    h("section", { class: "card", dataset: { section: "compliance" } }, h("h2", {}, t("compliance.title", { year })),
      compliance ? facts([["compliance.status", h("span", { class: "badge", dataset: { status: compliance.status } }, t(`complianceStatus.${compliance.status}`, {}, compliance.status))],
        ["compliance.emissionsT", tonnes(compliance.confirmedEmissionsT)], ["compliance.surrendered", tonnes(compliance.surrenderedAllowancesT)],
        ["compliance.offsets", tonnes(compliance.surrenderedOffsetsT)], ["compliance.pending", tonnes(compliance.pendingT)],
        ["compliance.shortfallT", tonnes(compliance.shortfallT)], ["compliance.due", date(compliance.surrenderDue)]]) : h("p", { class: "hint" }, "—"),
      surrenderForm(s, year, account, send)),
    h("section", { class: "card wide", dataset: { section: "holdings" } }, h("h2", {}, t("holdings.title")),
      account ? dataTable(`holdings-${s.scope}`, [
        { key: "product", label: t("holdings.product") }, { key: "vintage", label: t("holdings.vintage") },
        { key: "quantity", label: t("holdings.quantity"), format: tonnes }, { key: "available", label: t("holdings.available"), format: tonnes },
        { key: "frozen", label: t("holdings.frozen"), format: tonnes }], account.holdings) : h("p", { class: "hint" }, t("holdings.none"))));
}

function surrenderForm(s, year, account, send) {
  const holdings = account?.holdings?.filter(x => x.available > 0) ?? [];
  if (holdings.length === 0) return "";
  const which = h("select", { id: "surrender-holding" }, holdings.map((x, i) => h("option", { value: i }, `${x.product} ${x.vintage} (${tonnes(x.available)} t)`)));
  const quantity = h("input", { id: "surrender-quantity", type: "number", min: 1, step: 1 });
  return h("form", {
    onsubmit: async e => {
      e.preventDefault();
      const x = holdings[Number(which.value)];
      // The transaction id makes a repeated click the same surrender, not a second one.
      await send(`/units/${encodeURIComponent(s.scope)}/surrenders/${year}`, { transactionId: `portal-${crypto.randomUUID()}`, items: [{ product: x.product, vintage: x.vintage, quantity: Number(quantity.value) }] }, "surrender.sent");
    },
  }, h("label", {}, t("surrender.holding"), which), h("label", {}, t("surrender.quantity"), quantity), h("button", { type: "submit" }, t("surrender.submit")));
}

async function monthly(page, s) {
  const box = h("div");
  const formBox = h("div");
  const load = async () => {
    const year = currentYear();
    const data = await apiOrNull(`/units/${encodeURIComponent(s.scope)}/monthly?year=${year}`);
    clear(box, data ? h("div", {},
      data.gaps.length ? h("p", { class: "badge warn" }, t("monthly.gaps", { months: data.gaps.join(", ") })) : "",
      dataTable(`monthly-${s.scope}`, [
        { key: "month", label: t("monthly.month") }, { key: "status", label: t("monthly.status"), format: v => t(`monthlyStatus.${v}`, {}, v) },
        { key: "revision", label: t("monthly.revision") }, { key: "totalEmissionsT", label: t("monthly.total"), format: tonnes },
        { key: "submittedAt", label: t("monthly.submittedAt"), format: date }], data.months, { onRow: (tr, row) => { tr.dataset.month = row.month; } })) : h("p", { class: "hint" }, t("monthly.none")));
    clear(formBox, await monthlyForm(s, year, data, load));
  };
  page.append(yearPicker(load), h("p", { class: "hint" }, t("monthly.hint")), h("section", { class: "card wide" }, box), h("section", { class: "card wide" }, formBox));
  await load();
}

/** A month's data (PUT /api/units/{uscc}/monthly/{yyyy-MM}: each submission a new revision), for the months that have ended. */
async function monthlyForm(s, year, data, reload) {
  const months = (data?.months ?? []).filter(m => m.status !== "not-yet-due").map(m => m.month);
  if (months.length === 0) return "";
  // The month's year's emission factors, or while that year has none the year before's, as the API takes them.
  const factors = await apiOrNull(`/reference/${year}/emission-factors`) ?? await apiOrNull(`/reference/${year - 1}/emission-factors`);
  if (!factors) return h("p", { class: "hint" }, t("report.noFactors", { year }));
  const month = h("select", { id: "monthly-month" }, months.map(m => h("option", { value: m }, m)));
  month.value = data.gaps.find(g => months.includes(g)) ?? months[months.length - 1];
  const fuels = Object.entries(factors.fuels).map(([fuel, factor]) => ({ fuel, unit: factor.unit, input: number(`monthly-fuel-${fuel}`, { dataset: { fuel } }) }));
  const electricity = number("monthly-electricity");
  const heat = number("monthly-heat");
  const materials = h("textarea", { id: "monthly-materials", rows: 2, maxLength: 4000, placeholder: t("monthly.materialsHint") });
  return h("form", {
    id: "monthly-form", class: "report",
    onsubmit: async e => {
      e.preventDefault();
      const body = {
        fuels: fuels.filter(f => f.input.value.trim() !== "").map(f => ({ fuel: f.fuel, quantity: value(f.input), unit: f.unit })),
        purchasedElectricityMWh: value(electricity), purchasedHeatGJ: value(heat),
        supportingMaterials: materials.value.split("\n").map(m => m.trim()).filter(Boolean),
      };
      try {
        const saved = await api(`/units/${encodeURIComponent(s.scope)}/monthly/${month.value}`, { method: "PUT", body });
        toast(t("monthly.saved", { month: saved.month, revision: saved.revision, total: tonnes(saved.totalEmissionsT) }), "ok");
        await reload();
      } catch (error) {
        toast(error instanceof ApiError && error.problem?.errors ? error.problem.errors.join(" ") : error.message, "error");
      }
    },
  },
  h("h2", {}, t("monthly.submit")),
  h("label", {}, t("monthly.month"), month),
  h("fieldset", {}, h("legend", {}, t("report.fuels")),
    fuels.map(f => h("label", {}, h("span", {}, t(`fuel.${f.fuel}`, {}, f.fuel), " ", h("small", {}, `(${f.unit})`)), f.input))),
  h("fieldset", {}, h("legend", {}, t("report.energy")), h("label", {}, t("report.electricity"), electricity), h("label", {}, t("report.heat"), heat)),
  h("label", {}, t("monthly.materials"), materials),
  h("button", { type: "submit", id: "monthly-submit" }, t("monthly.submit")));
}
