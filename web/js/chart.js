// The daily clicks chart: inline SVG bars, drawn from data (no library), with the same numbers
// in a table next to it for screen readers and for anyone who wants exact values.

import { h, s } from "./dom.js";

const DAY_MS = 86400000;
const MIN_DAYS = 30;
const MAX_DAYS = 366;

// Every day from the first with clicks (or 30 days ago) to today, zeros included.
export function dailySeries(daily, today = new Date()) {
  const counts = new Map(daily.map((d) => [d.date, d.clicks]));
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const first = daily.length ? Date.parse(`${daily[0].date}T00:00:00Z`) : end;
  const start = Math.max(Math.min(first, end - (MIN_DAYS - 1) * DAY_MS), end - (MAX_DAYS - 1) * DAY_MS);
  const series = [];
  for (let t = start; t <= end; t += DAY_MS) {
    const date = new Date(t).toISOString().slice(0, 10);
    series.push({ date, clicks: counts.get(date) || 0 });
  }
  return series;
}

// Drawn at the width it is shown at, so its labels stay readable on a phone.
export function barChart(series, label, shownWidth = 640) {
  const width = Math.round(Math.min(960, Math.max(300, shownWidth)));
  const height = 200;
  const pad = { top: 12, right: 8, bottom: 24, left: 36 };
  const max = Math.max(1, ...series.map((d) => d.clicks));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const step = plotW / series.length;
  const bars = series.map((d, i) => {
    const barH = (d.clicks / max) * plotH;
    return s("rect", {
      x: (pad.left + i * step + step * 0.1).toFixed(1),
      y: (pad.top + plotH - barH).toFixed(1),
      width: Math.max(1, step * 0.8).toFixed(1),
      height: barH.toFixed(1),
      class: "bar",
    }, s("title", {}, `${d.date}: ${d.clicks}`));
  });
  const axis = [
    s("line", { x1: pad.left, y1: pad.top + plotH, x2: width - pad.right, y2: pad.top + plotH, class: "axis" }),
    s("text", { x: pad.left - 6, y: pad.top + 8, "text-anchor": "end", class: "tick" }, String(max)),
    s("text", { x: pad.left - 6, y: pad.top + plotH, "text-anchor": "end", class: "tick" }, "0"),
    s("text", { x: pad.left, y: height - 6, class: "tick" }, series[0].date),
    s("text", { x: width - pad.right, y: height - 6, "text-anchor": "end", class: "tick" }, series.at(-1).date),
  ];
  return s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "chart" }, axis, bars);
}

export function dailyTable(series) {
  const days = series.filter((d) => d.clicks > 0).reverse();
  return h("table", { class: "compact" },
    h("caption", {}, "Per day (days with clicks, newest first)"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Date"), h("th", { scope: "col", class: "num" }, "Count"))),
    h("tbody", {}, days.length
      ? days.map((d) => h("tr", {}, h("th", { scope: "row" }, d.date), h("td", { class: "num" }, String(d.clicks))))
      : h("tr", {}, h("td", { colspan: "2" }, "No clicks yet."))));
}
