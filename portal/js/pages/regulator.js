// The regulator: the year's cycle, charts of compliance, emissions and allocation, the market and the reserve; the queues.
import { h, clear, tonnes, date } from "../dom.js";
import { t } from "../i18n.js";
import { api, apiOrNull } from "../api.js";
import { chartBox, draw, COLORS } from "../charts.js";
import { dataTable } from "../table.js";
import { noticesPage } from "./notices.js";
import { yearPicker, currentYear } from "./year.js";

export const regulatorPages = [
  { id: "dashboard", title: "nav.dashboard", render: dashboard },
  { id: "market", title: "nav.market", render: market },
  { id: "queues", title: "nav.queues", render: queues },
  noticesPage,
];

async function dashboard(page) {
  const body = h("div", { class: "grid" });
  page.append(yearPicker(() => fill(body)), body);
  await fill(body);
}

async function fill(body) {
  const year = currentYear();
  const cycle = h("section", { class: "card wide", dataset: { section: "cycle" } }, h("h2", {}, t("cycle.title", { year })));
  const byIndustry = chartBox("compliance-industry");
  const byDistrict = chartBox("compliance-district");
  const history = chartBox("emissions-allocation");
  const reserve = chartBox("reserve");
  const complianceTable = h("div");
  clear(body,
    cycle,
    h("section", { class: "card" }, h("h2", {}, t("chart.byIndustry")), byIndustry),
    h("section", { class: "card" }, h("h2", {}, t("chart.byDistrict")), byDistrict),
    h("section", { class: "card wide" }, h("h2", {}, t("chart.complianceTable")), complianceTable),
    h("section", { class: "card" }, h("h2", {}, t("chart.emissionsAllocation")), history),
    h("section", { class: "card" }, h("h2", {}, t("chart.reserve", { year })), reserve));
  await Promise.all([
    renderCycle(cycle, year),
    renderCompliance(byIndustry, byDistrict, complianceTable, year),
    renderHistory(history, year),
    renderReserve(reserve, year),
  ]);
}

async function renderCycle(section, year) {
  const status = await apiOrNull(`/cycles/${year}`);
  if (!status) {
    section.append(h("p", { class: "hint" }, t("cycle.notStarted")));
    return;
  }
  section.append(h("p", {}, t("cycle.now"), " ", h("strong", { dataset: { phase: status.phase } }, t(`phase.${status.phase}`)),
    status.paused ? h("span", { class: "badge warn" }, t("cycle.paused")) : "", status.blocked ? h("span", { class: "hint" }, ` ${status.blocked}`) : ""));
  const reached = new Set(status.phases.map(p => p.name));
  section.append(h("ol", { class: "timeline" }, status.phases.map(p => {
    const state = p.endedAt ? "done" : p.name === status.phase ? "current" : reached.has(p.name) ? "current" : "future";
    return h("li", { class: state, dataset: { phase: p.name } },
      h("span", { class: "phase-name" }, t(`phase.${p.name}`)),
      p.total > 0 ? h("progress", { max: p.total, value: p.done }) : "",
      h("span", { class: "hint" }, [p.total > 0 ? `${p.done}/${p.total}` : "", p.failed ? `${t("cycle.failed")} ${p.failed}` : "", p.startedAt ? date(p.startedAt) : ""]
        .filter(Boolean).join(" · ")));
  })));
}

function stacked(el, groups, label) {
  const keys = ["compliant", "short", "open", "unconfirmed"];
  draw(el, {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 40, right: 10, top: 30, bottom: 60, containLabel: true },
    xAxis: { type: "category", data: groups.map(g => label(g.key)), axisLabel: { rotate: groups.length > 4 ? 30 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: keys.map(k => ({ name: t(`compliance.${k}`), type: "bar", stack: "units", data: groups.map(g => g[k]), itemStyle: { color: COLORS[k] } })),
  });
}

async function renderCompliance(byIndustry, byDistrict, tableBox, year) {
  const data = await apiOrNull(`/dashboard/${year}/compliance`);
  if (!data) {
    byIndustry.replaceWith(h("p", { class: "hint" }, t("compliance.noList", { year })));
    byDistrict.replaceWith(h("p", { class: "hint" }, t("compliance.noList", { year })));
    return;
  }
  stacked(byIndustry, data.byIndustry, k => t(`industry.${k}`, {}, k));
  stacked(byDistrict, data.byDistrict, k => k);
  const rows = [...data.byIndustry.map(g => ({ ...g, group: t("compliance.industry"), name: t(`industry.${g.key}`, {}, g.key) })),
    ...data.byDistrict.map(g => ({ ...g, group: t("compliance.district"), name: g.key }))];
  clear(tableBox, dataTable(`compliance-${year}`, [
    { key: "group", label: t("compliance.by") },
    { key: "name", label: t("compliance.group") },
    { key: "units", label: t("compliance.units") },
    { key: "compliant", label: t("compliance.compliant") },
    { key: "short", label: t("compliance.short") },
    { key: "open", label: t("compliance.open") },
    { key: "unconfirmed", label: t("compliance.unconfirmed") },
    { key: "confirmedEmissionsT", label: t("compliance.emissionsT"), format: tonnes },
    { key: "shortfallT", label: t("compliance.shortfallT"), format: tonnes },
  ], rows));
}

async function renderHistory(el, year) {
  const years = [year - 4, year - 3, year - 2, year - 1, year];
  // One dashboard read a year: its confirmed emissions and the allocation actually issued (a year without a list has neither).
  const [dashboards, plans] = await Promise.all([
    Promise.all(years.map(y => apiOrNull(`/dashboard/${y}/compliance`))),
    Promise.all(years.map(y => apiOrNull(`/allocation/${y}/plan`))),
  ]);
  draw(el, {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 40, right: 10, top: 30, bottom: 30, containLabel: true },
    xAxis: { type: "category", data: years.map(String) },
    yAxis: { type: "value", name: "tCO2" },
    series: [
      { name: t("chart.confirmedEmissions"), type: "bar", data: dashboards.map(d => d?.total?.confirmedEmissionsT ?? null) },
      { name: t("chart.allocated"), type: "bar", data: dashboards.map(d => d?.allocation?.allocatedT ?? null) },
      { name: t("chart.cap"), type: "line", data: plans.map(p => p?.cap ?? null) },
      { name: t("chart.freeAllocation"), type: "line", data: plans.map(p => p?.freeAllocationCeiling ?? null) },
    ],
  });
}

async function renderReserve(el, year) {
  const reserve = await apiOrNull(`/allocation/${year}/reserve`);
  if (!reserve) {
    el.replaceWith(h("p", { class: "hint" }, t("reserve.none", { year })));
    return;
  }
  const keys = ["ceilingT", "paidOutT", "reclaimedT", "leftT", "heldT", "offeredInAuctionsT", "soughtInBuyBacksT"];
  draw(el, {
    tooltip: { trigger: "axis" },
    grid: { left: 10, right: 20, top: 10, bottom: 20, containLabel: true },
    xAxis: { type: "value", name: "t" },
    yAxis: { type: "category", data: keys.map(k => t(`reserve.${k}`)), inverse: true },
    series: [{ type: "bar", data: keys.map(k => reserve[k]), label: { show: true, position: "right" } }],
  });
}

async function market(page) {
  const product = h("select", { id: "market-product" }, h("option", { value: "BEA" }, "BEA"), h("option", { value: "BCER" }, "BCER"));
  const el = chartBox("market");
  const alertsBox = h("div");
  page.append(h("section", { class: "card wide" }, h("label", { class: "inline" }, t("market.product"), product), el),
    h("section", { class: "card wide" }, h("h2", {}, t("market.alerts")), alertsBox));
  const load = async () => {
    const [bars, alerts] = await Promise.all([api(`/market/${product.value}/daily`), api("/market/alerts")]);
    const mine = alerts.filter(a => a.alert.product === product.value);
    const days = bars.map(b => b.date);
    draw(el, {
      tooltip: { trigger: "axis", axisPointer: { type: "cross" } },
      legend: { top: 0 },
      axisPointer: { link: [{ xAxisIndex: "all" }] },
      grid: [{ left: 50, right: 20, top: 30, height: "55%" }, { left: 50, right: 20, top: "75%", height: "15%" }],
      xAxis: [{ type: "category", data: days, boundaryGap: true }, { type: "category", gridIndex: 1, data: days, axisLabel: { show: false } }],
      yAxis: [{ scale: true, name: t("market.price") }, { gridIndex: 1, name: t("market.volume"), splitNumber: 2 }],
      dataZoom: [{ type: "inside", xAxisIndex: [0, 1] }],
      series: [
        {
          name: t("market.price"), type: "candlestick", data: bars.map(b => [b.open, b.close, b.low, b.high]),
          // Market watch: each price alert marked on its day (Art. 20).
          markPoint: {
            symbol: "pin", symbolSize: 36,
            data: mine.filter(a => days.includes(a.alert.date)).map(a => ({ name: a.alert.kind, coord: [a.alert.date, bars.find(b => b.date === a.alert.date).high], value: "!" })),
          },
        },
        { name: t("market.volume"), type: "bar", xAxisIndex: 1, yAxisIndex: 1, data: bars.map(b => b.volume) },
      ],
    });
    clear(alertsBox, dataTable(`price-alerts-${product.value}`, [
      { key: "date", label: t("market.date") },
      { key: "vintage", label: t("market.vintage") },
      { key: "kind", label: t("market.kind") },
      { key: "close", label: t("market.close") },
      { key: "movePercent", label: t("market.move") },
      { key: "detail", label: t("market.detail") },
    ], mine.map(a => a.alert)));
  };
  product.addEventListener("change", load);
  await load();
}

async function queues(page) {
  const [pending, cases] = await Promise.all([api("/approvals?status=pending"), api("/cases?status=open")]);
  page.append(
    h("section", { class: "card wide" }, h("h2", {}, t("queues.approvals")), dataTable("pending-approvals", [
      { key: "proposalId", label: t("queues.id"), className: "mono" },
      { key: "kind", label: t("queues.kind") },
      { key: "summary", label: t("queues.summary") },
      { key: "proposedBy", label: t("queues.proposedBy") },
      { key: "proposedAt", label: t("queues.proposedAt"), format: date },
    ], pending)),
    h("section", { class: "card wide" }, h("h2", {}, t("queues.cases")), dataTable("open-cases", [
      { key: "caseId", label: t("queues.id"), className: "mono" },
      { key: "party", label: t("queues.party"), format: p => `${p.kind} ${p.id}`, raw: r => `${r.party.kind} ${r.party.id}` },
      { key: "district", label: t("queues.district") },
      { key: "source", label: t("queues.source") },
      { key: "summary", label: t("queues.summary") },
      { key: "openedAt", label: t("queues.openedAt"), format: date },
    ], cases)));
}
