// ECharts (vendor/echarts.min.js, from npm) on an element; the instance stays reachable with echarts.getInstanceByDom.
import { h } from "./dom.js";

const charts = new Set();
window.addEventListener("resize", () => charts.forEach(c => c.isDisposed() ? charts.delete(c) : c.resize()));

export function chartBox(name) {
  return h("div", { class: "chart", dataset: { chart: name }, role: "img" });
}

export function draw(el, option) {
  const chart = window.echarts.getInstanceByDom(el) ?? window.echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({ animation: false, textStyle: { fontFamily: "inherit" }, ...option }, true);
  charts.add(chart);
  el.dataset.ready = "true";
  return chart;
}

export const COLORS = { compliant: "#2e7d32", short: "#c62828", open: "#f9a825", unconfirmed: "#90a4ae" };
