// The dashboard: fills the page from the JSON API, follows the live stream (or polls when it cannot have one),
// and says what is wrong. No framework; one charting library; every figure and decision comes from the database.
"use strict";

import { drawCapacity, drawQuarter } from "./capacity.js";
import { chart, color } from "./charts.js";
import { NO_COSTS, chooseMeasure, chosenMeasure, drawCosts, showMeasure } from "./costs.js";
import { drawFlow } from "./flow.js";
import { MEASURES, drawHistory, historyUrl, showComparison, state } from "./history.js";
import { format, loadLabels, setTimeZone, t, translatePage } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000 * Number(document.body.dataset.refreshSeconds || 1);
const TODAY_FIGURES = ["produced_kwh", "imported_kwh", "exported_kwh", "consumed_kwh", "self_consumption_pct",
  "self_sufficiency_pct", "gas_m3"];

// What the banner lists: the dashboard or the database out of reach, and the database's own alerts.
const problems = { server: false, database: false, alerts: [] };

function drawBanner() {
  const lines = [
    ...(problems.server ? [t("banner.server")] : []),
    ...(problems.database && !problems.server ? [t("banner.database")] : []),
    ...problems.alerts.map((alert) => {
      const age = format.duration(alert.seconds || 0);
      if (alert.kind === "stale_source") return t("banner.stale", { collector: t(`collector.${alert.subject}`), age });
      if (alert.kind === "aggregation_late") return t("banner.late", { level: t(`aggregation.${alert.subject}`), age });
      return t("banner.job", { job: alert.subject, message: alert.detail || "" });
    }),
  ];
  $("banner-list").replaceChildren(...lines.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
  $("banner").hidden = lines.length === 0;
}

// Whether the dashboard and the database answered; when they answer again, everything is fetched at once.
function reached(server, database) {
  if (problems.server === server && problems.database === database) return;
  const recovered = (problems.server || problems.database) && !server && !database;
  Object.assign(problems, { server, database });
  drawBanner();
  if (recovered) refreshAll();
}

async function getJSON(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (error) {
    reached(true, problems.database);
    throw error;
  }
  reached(false, response.status === 503);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function drawLive({ now, recent, quarter }) {
  drawFlow(now);
  drawQuarter(quarter);
  const line = (key, name) => ({ label: t(key), borderColor: color(name), backgroundColor: color(name), pointRadius: 0,
    tension: 0.3, borderWidth: 2, data: [] });
  const recentChart = chart("recent-chart", {
    type: "line", data: { labels: [], datasets: [line("series.solar", "solar"), line("series.import", "import"),
      line("series.export", "export")] },
    options: { scales: { y: { beginAtZero: true, suggestedMax: 1000, ticks: { callback: (v) => format.watts(v) } } },
      plugins: { legend: { position: "bottom" }, tooltip: { callbacks: {
        label: (item) => `${item.dataset.label}: ${format.watts(item.raw)}` } } } },
  });
  recentChart.data.labels = recent.map((r) => format.instant(r.ts, { hour: "2-digit", minute: "2-digit",
    second: "2-digit" }));
  ["solar_w", "import_w", "export_w"].forEach((key, i) => {
    recentChart.data.datasets[i].data = recent.map((r) => r[key]);
  });
  recentChart.update();
}

// Server-Sent Events while the server can follow this page; polling otherwise.
function followLive() {
  const poll = () => getJSON("/api/live").then(drawLive).catch(() => {}).finally(() => setTimeout(poll, POLL_MS));
  if (!window.EventSource) {
    poll();
    return;
  }
  const source = new EventSource("/api/live/stream");
  source.addEventListener("live", (event) => {
    reached(false, false);
    drawLive(JSON.parse(event.data));
  });
  source.addEventListener("unavailable", () => reached(false, true));
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) poll(); // refused (every stream taken): poll instead
    else reached(true, problems.database); // the browser tries again by itself
  });
}

function drawToday({ today, calendar }) {
  setTimeZone(calendar.time_zone);
  const row = today || {};
  TODAY_FIGURES.forEach((key) => {
    const value = row[key];
    $(`today-${key}`).textContent = key.endsWith("_pct") ? format.percent(value)
      : key === "gas_m3" ? format.m3(value) : format.kwh(value);
  });
}

function drawStatus({ alerts, sources, aggregation }) {
  problems.alerts = alerts;
  drawBanner();
  $("freshness").replaceChildren(...sources.map((s) => {
    const badge = document.createElement("span");
    badge.className = `badge ${s.stale ? "stale" : "fresh"}`;
    badge.textContent = t("source.age", { source: t(`source.${s.source}`), age: format.duration(s.age_seconds) });
    return badge;
  }));
  const hours = aggregation.find((a) => a.level === "hour");
  $("aggregation").textContent = hours && hours.done_until
    ? t("footer.aggregated", { when: format.instant(hours.done_until, { dateStyle: "medium", timeStyle: "short" }) })
    : t("footer.none");
}

// The measure the history and today's figures are shown in (kWh, or EUR while a contract covers today); a level
// the measure does not have (EUR per year) becomes the nearest one it has.
function useMeasure(measure) {
  state.measure = measure;
  const { levels } = MEASURES[measure];
  if (!levels.includes(state.level)) state.level = levels[levels.length - 1];
  showMeasure(measure);
}

// Today so far (in kWh and in EUR) and the history are fetched together, so that the running bar and today's
// figures agree; an answer that comes after a newer question (quick clicks on the arrows) is dropped. Today's
// money is asked for at every refresh, but on a click only while the page shows EUR (in kWh it would be priced
// for nothing). When the contract that covers today comes or goes, the history follows in its unit.
let asked = 0;
let costs = NO_COSTS;
async function refreshEnergy(clicked = false) {
  const question = ++asked;
  const money = clicked && state.measure !== "eur" ? costs : getJSON("/api/costs").catch((error) => {
    console.info(error.message);
    return NO_COSTS;
  });
  const [today, answer, history] = await Promise.all([getJSON("/api/today"), money, getJSON(historyUrl())]);
  if (question !== asked) return;
  costs = answer;
  drawToday(today);
  drawCosts(costs);
  const measure = chosenMeasure(costs.tariff);
  if (measure === state.measure) {
    drawHistory(history);
  } else {
    useMeasure(measure);
    await refreshEnergy(true);
  }
}

async function refreshCapacity() {
  drawCapacity(await getJSON("/api/capacity"));
}

function refreshAll() {
  [refreshEnergy, refreshCapacity, refreshStatus].forEach((task) => {
    task().catch((error) => console.info(error.message));
  });
}

async function refreshStatus() {
  drawStatus(await getJSON("/api/status"));
}

function every(ms, task) {
  const run = () => task().catch((error) => console.info(error.message)).finally(() => setTimeout(run, ms));
  run();
}

function wireHistory() {
  const show = () => refreshEnergy(true).catch((error) => console.info(error.message));
  document.querySelectorAll("#history-levels button").forEach((button) => button.addEventListener("click", () => {
    state.level = button.dataset.level;
    state.date = $("history-date").value || null;
    show();
  }));
  ["history-previous", "history-next"].forEach((id) => $(id).addEventListener("click", (event) => {
    state.date = event.currentTarget.dataset.date;
    show();
  }));
  $("history-date").addEventListener("change", (event) => {
    if (!event.currentTarget.value) return;
    state.date = event.currentTarget.value;
    show();
  });
  $("history-compare").addEventListener("change", (event) => showComparison(event.currentTarget.checked));
  document.querySelectorAll("#units button").forEach((button) => button.addEventListener("click", () => {
    chooseMeasure(button.dataset.measure);
    useMeasure(button.dataset.measure);
    show();
  }));
}

document.addEventListener("DOMContentLoaded", async () => {
  await loadLabels();
  translatePage();
  wireHistory();
  followLive();
  every(60000, refreshEnergy);
  every(60000, refreshCapacity);
  every(10000, refreshStatus);
});
