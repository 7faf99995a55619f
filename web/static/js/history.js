// The history charts: energy (and gas) per period of a day, a month, twelve weeks, a year or five years, the
// running period included, with the period before overlaid, a date picker and a CSV of what is shown; in kWh from
// /api/history (energy.history_compared), or in EUR from /api/costs/history (costs.js). This only draws the rows.
"use strict";

import { chart, color } from "./charts.js";
import { EUR } from "./costs.js";
import { format, isoWeek, setTimeZone, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

const GAS = {
  format: format.m3,
  unit: "m³",
  series: [{ column: "gas_m3", label: "fig.gas", color: "gas", stack: "gas" }],
  previous: [{ column: "previous_gas_m3", label: "fig.gas", color: "gas" }],
};

// What the charts show, as data: where the rows come from, at which levels, and each series a column of them (a bar
// in its stack, or a line); previous: the columns of the period compared with; gas: the chart below, if any.
// state.measure, set by the kWh / EUR switch, says which one is shown.
export const MEASURES = {
  energy: {
    url: "/api/history",
    csv: "/api/history.csv",
    levels: ["hour", "day", "week", "month", "year"],
    label: "history.electricity",
    format: format.kwh,
    unit: "kWh",
    series: [
      { column: "produced_kwh", label: "fig.produced", color: "solar", stack: "produced" },
      { column: "imported_day_kwh", label: "fig.imported_day", color: "import", stack: "imported" },
      { column: "imported_night_kwh", label: "fig.imported_night", color: "import-night", stack: "imported" },
      { column: "exported_day_kwh", label: "fig.exported_day", color: "export", stack: "exported" },
      { column: "exported_night_kwh", label: "fig.exported_night", color: "export-night", stack: "exported" },
      { column: "consumed_kwh", label: "fig.consumed", color: "home", stack: "consumed" },
    ],
    previous: [
      { column: "previous_produced_kwh", label: "fig.produced", color: "solar" },
      { column: "previous_consumed_kwh", label: "fig.consumed", color: "home" },
    ],
    gas: GAS,
    footer: (row) => [`${t("fig.self_consumption")}: ${format.percent(row.self_consumption_pct)}`,
      `${t("fig.self_sufficiency")}: ${format.percent(row.self_sufficiency_pct)}`],
  },
  eur: EUR,
};

export const state = { level: "hour", date: null, compare: true, measure: "energy" };

function label(level, row, duplicated) {
  switch (level) {
    case "hour":
      return format.instant(row.period_start, { hour: "2-digit", minute: "2-digit",
        ...(duplicated ? { timeZoneName: "shortOffset" } : {}) });
    case "day": return format.local(row.local_start, { weekday: "short", day: "numeric" });
    case "week": return t("week.label", { week: isoWeek(row.local_start) });
    case "month": return format.local(row.local_start, { month: "short" });
    default: return format.local(row.local_start, { year: "numeric" });
  }
}

function labels(level, rows) {
  const plain = rows.map((row) => label(level, row, false));
  // the two 02:00 hours of an autumn DST day say their UTC offset
  return plain.map((text, i) => (plain.indexOf(text) !== plain.lastIndexOf(text) ? label(level, rows[i], true) : text));
}

function title(data) {
  const { level, start, end, rows } = data;
  const last = rows[rows.length - 1].local_start;
  switch (level) {
    case "hour": return format.local(start, { dateStyle: "full" });
    case "day": return format.local(start, { month: "long", year: "numeric" });
    case "week": return `${t("week.label", { week: isoWeek(start) })} ${start.slice(0, 4)} – `
      + `${t("week.label", { week: isoWeek(last) })} ${last.slice(0, 4)}`;
    case "month": return format.local(start, { year: "numeric" });
    default: return `${start.slice(0, 4)} – ${Number(end.slice(0, 4)) - 1}`;
  }
}

// Bars of periods not complete yet (the running one) are paler: they still grow.
function barColor(name, rows) {
  const solid = color(name);
  return rows.map((row) => (row.complete ? solid : `${solid}88`));
}

// Bars stack within their stack; lines (no stack) are never added to anything.
function datasets(measure, rows, level) {
  const figures = measure.series.map((s) => (s.type === "line"
    ? { type: "line", label: t(s.label), borderColor: color(s.color), backgroundColor: color(s.color),
      pointRadius: 2, borderWidth: 2, spanGaps: false, data: rows.map((row) => row[s.column]) }
    : { type: "bar", label: t(s.label), stack: s.stack, backgroundColor: barColor(s.color, rows),
      data: rows.map((row) => row[s.column]) }));
  const what = t(`compare.${level}`);
  const previous = measure.previous.map((s) => ({
    type: "line", label: t("history.previous", { figure: t(s.label), what }), borderColor: color(s.color),
    backgroundColor: color(s.color), borderDash: [6, 4], pointRadius: 2, borderWidth: 2, spanGaps: false,
    comparison: true, hidden: !state.compare, data: rows.map((row) => row[s.column]),
  }));
  return [...figures, ...previous];
}

function tooltip(measure, rows) {
  return {
    callbacks: {
      label: (item) => `${item.dataset.label}: ${measure.format(item.raw)}`,
      footer: (items) => {
        const row = rows[items[0].dataIndex];
        if (!row || measure.series.every((s) => row[s.column] == null)) return "";
        return [
          ...(measure.footer ? measure.footer(row) : []),
          ...(row.complete ? [] : [t("history.so_far")]), ...(row.estimated ? [t("history.estimated")] : []),
        ];
      },
    },
  };
}

function draw(id, measure, data, names) {
  const instance = chart(id, {
    type: "bar", data: { labels: [], datasets: [] },
    options: { scales: { x: { stacked: true }, y: { beginAtZero: true, title: { display: true } } } },
  });
  instance.options.scales.y.title.text = measure.unit;
  instance.data.labels = names;
  instance.data.datasets = datasets(measure, data.rows, data.level);
  instance.options.plugins.tooltip = tooltip(measure, data.rows);
  instance.update();
}

export function drawHistory(data) {
  setTimeZone(data.time_zone);
  const measure = MEASURES[state.measure];
  const query = new URLSearchParams({ level: data.level, date: state.date || data.today });
  $("history-title").textContent = title(data);
  [["history-previous", data.previous], ["history-next", data.next]].forEach(([id, date]) => {
    $(id).dataset.date = date || "";
    $(id).disabled = !date;
  });
  document.querySelectorAll("#history-levels button").forEach((button) => {
    button.setAttribute("aria-pressed", String(button.dataset.level === data.level));
    button.disabled = !measure.levels.includes(button.dataset.level);
    button.title = button.disabled ? t("cost.no_years") : "";
  });
  $("history-date").value = state.date || data.today;
  $("history-csv").href = `${measure.csv}?${query}`;
  $("history-compare-label").textContent = t("history.compare", { what: t(`compare.${data.level}`) });
  $("history-compare").closest("label").hidden = measure.previous.length === 0;
  $("history-chart").setAttribute("aria-label", t(measure.label));
  const names = labels(data.level, data.rows);
  draw("history-chart", measure, data, names);
  const gas = measure.gas && data.rows.some((row) => row.gas_m3 != null || row.previous_gas_m3 != null);
  $("history-gas").hidden = !gas;
  if (gas) draw("gas-chart", measure.gas, data, names);
}

// The overlay on or off, without asking the server again.
export function showComparison(on) {
  state.compare = on;
  ["history-chart", "gas-chart"].forEach((id) => {
    const instance = Chart.getChart(id);
    if (!instance) return;
    instance.data.datasets.forEach((dataset) => { if (dataset.comparison) dataset.hidden = !on; });
    instance.update();
  });
}

export function historyUrl() {
  const query = new URLSearchParams({ level: state.level });
  if (state.date) query.set("date", state.date);
  return `${MEASURES[state.measure].url}?${query}`;
}
