// The dashboard: fills the page from the JSON API and keeps it fresh. No framework, one charting library.
"use strict";

const COLORS = { solar: "#f5b301", import: "#e4572e", export: "#29a36a", home: "#3f7cac", gas: "#8e6cbe" };
const REFRESH_MS = 1000 * Number(document.body.dataset.refreshSeconds || 2);
const state = { level: "hour", date: null, charts: {} };

const $ = (id) => document.getElementById(id);
const watts = (w) => (w == null ? "–" : Math.abs(w) >= 1000 ? `${(w / 1000).toFixed(2)} kW` : `${Math.round(w)} W`);
const kwh = (v) => (v == null ? "–" : `${v.toFixed(2)} kWh`);
const pct = (v) => (v == null ? "–" : `${v.toFixed(0)} %`);
const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function chart(id, type, datasets, options = {}) {
  if (!state.charts[id]) {
    state.charts[id] = new Chart($(id), {
      type,
      data: { labels: [], datasets },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } }, ...options,
      },
    });
  }
  return state.charts[id];
}

function setData(instance, labels, columns) {
  instance.data.labels = labels;
  instance.data.datasets.forEach((dataset, i) => { dataset.data = columns[i]; });
  instance.update();
}

async function refreshLive() {
  const { now, recent } = await getJSON("/api/live");
  $("solar").textContent = watts(now && now.solar_w);
  $("import").textContent = watts(now && now.import_w);
  $("export").textContent = watts(now && now.export_w);
  $("consumption").textContent = watts(now && now.consumption_w);
  $("solar-share").textContent = now && now.solar_share_pct != null ? `${now.solar_share_pct} % of ${watts(now.rated_w)}` : "";
  const line = (label, color) => ({ label, borderColor: color, backgroundColor: color, pointRadius: 0, tension: 0.3, data: [] });
  const recentChart = chart("recent-chart", "line",
    [line("Solar", COLORS.solar), line("From grid", COLORS.import), line("To grid", COLORS.export)],
    { scales: { y: { beginAtZero: true, ticks: { callback: (v) => watts(v) } } } });
  setData(recentChart, recent.map((r) => clock(r.ts)),
    [recent.map((r) => r.solar_w), recent.map((r) => r.import_w), recent.map((r) => r.export_w)]);
}

async function refreshToday() {
  const { today } = await getJSON("/api/today");
  const t = today || {};
  $("today-produced").textContent = kwh(t.produced_kwh);
  $("today-imported").textContent = kwh(t.imported_kwh);
  $("today-exported").textContent = kwh(t.exported_kwh);
  $("today-consumed").textContent = kwh(t.consumed_kwh);
  $("today-self-consumption").textContent = pct(t.self_consumption_pct);
  $("today-self-sufficiency").textContent = pct(t.self_sufficiency_pct);
  $("today-gas").textContent = t.gas_m3 == null ? "–" : `${t.gas_m3.toFixed(2)} m³`;
}

async function refreshHistory() {
  const query = new URLSearchParams({ level: state.level });
  if (state.date) query.set("date", state.date);
  const history = await getJSON(`/api/history?${query}`);
  $("history-title").textContent = history.title;
  [["history-previous", history.previous], ["history-next", history.next]].forEach(([id, date]) => {
    $(id).dataset.date = date || "";
    $(id).disabled = !date;
  });
  document.querySelectorAll(".levels button").forEach((b) => b.classList.toggle("active", b.dataset.level === state.level));
  $("history-empty").hidden = history.rows.length > 0;
  const bar = (label, color, stack) => ({ label, backgroundColor: color, stack, data: [] });
  const historyChart = chart("history-chart", "bar",
    [bar("Produced", COLORS.solar, "in"), bar("Imported", COLORS.import, "in"),
      bar("Exported", COLORS.export, "out"), bar("Consumed", COLORS.home, "use")],
    { scales: { y: { beginAtZero: true, title: { display: true, text: "kWh" } } } });
  const rows = history.rows;
  setData(historyChart, rows.map((r) => r.label), [rows.map((r) => r.produced_kwh), rows.map((r) => r.imported_kwh),
    rows.map((r) => r.exported_kwh), rows.map((r) => r.consumed_kwh)]);
  document.dispatchEvent(new CustomEvent("history-shown", { detail: { level: state.level, date: state.date } }));
}

async function refreshCapacity() {
  const { current, months } = await getJSON("/api/capacity");
  $("capacity-peak").textContent = current ? watts(current.peak_w) : "–";
  $("capacity-when").textContent = current && current.peak_at ? `on ${new Date(current.peak_at).toLocaleString()}` : "";
  $("capacity-average").textContent = current ? watts(current.average_12_months_w) : "–";
  const capacityChart = chart("capacity-chart", "bar",
    [{ label: "Peak quarter hour", backgroundColor: COLORS.import, data: [] },
      { label: "Billed (at least 2.5 kW)", backgroundColor: "#c8ccd4", data: [] }],
    { scales: { y: { beginAtZero: true, ticks: { callback: (v) => watts(v) } } } });
  setData(capacityChart, months.map((m) => m.month), [months.map((m) => m.peak_w), months.map((m) => m.billed_w)]);
}

async function refreshStatus() {
  const { sources, aggregation, jobs } = await getJSON("/api/status");
  $("freshness").replaceChildren(...sources.map((s) => {
    const badge = document.createElement("span");
    badge.className = `badge ${s.stale ? "stale" : "fresh"}`;
    badge.textContent = `${s.source}: ${s.stale ? "stale, " : ""}${Math.round(s.age_seconds)} s ago`;
    return badge;
  }));
  const hours = aggregation.find((a) => a.level === "hour");
  const failed = jobs.filter((j) => j.status === "failed");
  const last = jobs[0];
  $("aggregation").textContent = [
    hours && hours.done_until
      ? `Hours aggregated up to ${new Date(hours.done_until).toLocaleString()}${hours.late ? " (late: check the pg_cron jobs)" : ""}.`
      : "No hour aggregated yet.",
    last ? `Last job: ${last.job} ${last.status} at ${new Date(last.start_time).toLocaleTimeString()}.` : "",
    ...failed.map((j) => `${j.job} failed: ${j.message}`),
  ].join(" ");
  $("aggregation").classList.toggle("late", Boolean((hours && hours.late) || failed.length));
}

function every(ms, task) {
  const run = () => task().catch((error) => console.warn(error.message)).finally(() => setTimeout(run, ms));
  run();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".levels button").forEach((button) => button.addEventListener("click", () => {
    state.level = button.dataset.level;
    state.date = null;
    refreshHistory();
  }));
  ["history-previous", "history-next"].forEach((id) => $(id).addEventListener("click", (event) => {
    state.date = event.currentTarget.dataset.date;
    refreshHistory();
  }));
  every(REFRESH_MS, refreshLive);
  every(30000, refreshToday);
  every(300000, refreshHistory);
  every(300000, refreshCapacity);
  every(10000, refreshStatus);
});
