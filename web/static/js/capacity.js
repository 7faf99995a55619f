// The capacity tariff: the running quarter hour against this month's peak (live), today's quarter hours, and the
// twelve months whose peaks are averaged, the one that drops out next marked. energy.capacity_now decides when
// the quarter heads past the peak; this only shows it.
"use strict";

import { chart, color } from "./charts.js";
import { format, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const time = (iso) => format.instant(iso, { hour: "2-digit", minute: "2-digit" });

export function drawQuarter(quarter) {
  const q = quarter || {};
  $("quarter-title").textContent = q.quarter_start
    ? t("capacity.quarter", { from: time(q.quarter_start), to: time(q.quarter_end) }) : "";
  $("quarter-demand").textContent = format.watts(q.demand_w);
  $("quarter-projected").textContent = format.watts(q.projected_w);
  $("quarter-left").textContent = q.seconds_left != null
    ? t("capacity.left", { minutes: format.duration(Math.max(q.seconds_left, 0)) }) : "";
  $("capacity-peak").textContent = format.watts(q.peak_w);
  $("capacity-peak-at").textContent = q.peak_at
    ? t("capacity.peak_at", { when: format.instant(q.peak_at, { dateStyle: "medium", timeStyle: "short" }) }) : "";
  $("capacity-billed").textContent = format.watts(q.billed_peak_w);
  const warning = Boolean(q.heading_past_peak);
  $("quarter-warning").hidden = !warning;
  $("quarter").classList.toggle("warning", warning);
  if (warning) {
    $("quarter-warning").textContent = t("capacity.warning", { peak: format.watts(q.billed_peak_w),
      until: time(q.quarter_end) });
  }
  $("quarter-status").textContent = q.demand_w == null ? t("capacity.no_meter") : warning ? "" : t("capacity.ok");
}

export function drawCapacity({ today, months, quarter }) {
  const quarters = chart("quarter-chart", {
    type: "bar", data: { labels: [], datasets: [] },
    options: { scales: { y: { beginAtZero: true, suggestedMax: 1000, ticks: { callback: (v) => format.watts(v) } } },
      plugins: { legend: { position: "bottom" }, tooltip: { callbacks: {
        label: (item) => `${item.dataset.label}: ${format.watts(item.raw)}` } } } },
  });
  quarters.data.labels = today.map((q) => time(q.period_start));
  quarters.data.datasets = [
    { type: "bar", label: t("capacity.demand_series"), data: today.map((q) => q.demand_w),
      backgroundColor: today.map((q) => (q.complete ? color("import") : `${color("import")}88`)) },
    { type: "line", label: t("capacity.billed_series"), data: today.map(() => quarter && quarter.billed_peak_w),
      borderColor: color("muted"), borderDash: [4, 4], pointRadius: 0, borderWidth: 1.5 },
  ];
  quarters.update();

  const average = months.length ? months[months.length - 1].average_12_months_w : null;
  $("capacity-average").textContent = format.watts(average);
  const leaving = months.find((m) => m.drops_out_next);
  $("capacity-drops").textContent = leaving
    ? `${t("capacity.drops_out")}: ${format.local(`${leaving.month}-01`, { month: "long", year: "numeric" })}` : "";
  const history = chart("capacity-chart", {
    type: "bar", data: { labels: [], datasets: [] },
    options: { scales: { y: { beginAtZero: true, suggestedMax: 1000, ticks: { callback: (v) => format.watts(v) } } },
      plugins: { legend: { position: "bottom" }, tooltip: { callbacks: {
        label: (item) => `${item.dataset.label}: ${format.watts(item.raw)}` } } } },
  });
  history.data.labels = months.map((m) => format.local(`${m.month}-01`, { month: "short", year: "2-digit" }));
  history.data.datasets = [
    { label: t("capacity.peak_series"), data: months.map((m) => m.peak_w),
      backgroundColor: months.map((m) => (m.drops_out_next ? color("muted") : color("import"))) },
    { type: "line", label: t("capacity.average"), data: months.map(() => average), borderColor: color("home"),
      borderDash: [4, 4], pointRadius: 0, borderWidth: 1.5 },
  ];
  history.update();
}
