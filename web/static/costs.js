// Money next to energy: a kWh / EUR switch for "today so far" and the history chart, and this month's projected
// capacity tariff, shown only when a contract (energy.tariff) covers today. Follows the history chart of app.js
// through its "history-shown" event; draws its own chart.
"use strict";

(() => {
  const UNIT_KEY = "brs5-energy-unit";
  const COLORS = { import: "#e4572e", export: "#29a36a", gas: "#8e6cbe", capacity: "#9aa1ad", fixed: "#c8ccd4",
    saving: "#f5b301", total: "#3f7cac" };
  const TODAY = { "today-import-eur": "import_eur", "today-export-eur": "export_eur", "today-gas-eur": "gas_eur",
    "today-capacity-eur": "capacity_eur", "today-fixed-eur": "fixed_eur", "today-total-eur": "total_eur",
    "today-saving-eur": "solar_saving_eur" };
  // [label, column of /api/costs/history, colour, stack]: what is paid, what is earned, what solar saved
  const SERIES = [
    ["Imported", "import_eur", COLORS.import, "cost"], ["Gas", "gas_eur", COLORS.gas, "cost"],
    ["Capacity tariff", "capacity_eur", COLORS.capacity, "cost"], ["Fixed fees", "fixed_eur", COLORS.fixed, "cost"],
    ["Export revenue", "export_eur", COLORS.export, "revenue"],
    ["Saved by solar", "solar_saving_eur", COLORS.saving, "saving"],
  ];
  const view = {
    unit: localStorage.getItem(UNIT_KEY) === "eur" ? "eur" : "kwh",
    tariff: false, level: "hour", date: null, chart: null,
  };

  const $ = (id) => document.getElementById(id);
  const euro = (v) => (v == null ? "–" : `${v < 0 ? "−" : ""}€${Math.abs(v).toFixed(2)}`);

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  function showUnit() {
    const eur = view.tariff && view.unit === "eur";
    $("units").hidden = !view.tariff;
    document.querySelectorAll("#units button").forEach((b) => {
      b.classList.toggle("active", b.dataset.unit === view.unit);
    });
    $("today-energy").hidden = eur;
    $("today-costs").hidden = !eur;
    $("history-chart").parentElement.hidden = eur;
    $("history-costs").hidden = !eur;
    if (eur) $("history-empty").hidden = true;
    else $("history-cost-empty").hidden = true;
  }

  async function refreshCosts() {
    const { tariff, today, capacity } = await getJSON("/api/costs");
    const changed = tariff !== view.tariff;
    view.tariff = tariff;
    Object.entries(TODAY).forEach(([id, column]) => { $(id).textContent = euro(today && today[column]); });
    $("capacity-cost-line").hidden = !tariff;
    $("capacity-cost").textContent = euro(capacity && capacity.capacity_eur);
    showUnit();
    if (changed && tariff && view.unit === "eur") await refreshHistory();
  }

  async function refreshHistory() {
    if (!view.tariff || view.unit !== "eur") return;
    const query = new URLSearchParams({ level: view.level });
    if (view.date) query.set("date", view.date);
    const { rows } = await getJSON(`/api/costs/history?${query}`);
    $("history-cost-empty").hidden = rows.length > 0;
    if (!view.chart) {
      view.chart = new Chart($("history-cost-chart"), {
        type: "bar",
        data: { labels: [], datasets: [
          ...SERIES.map(([label, , color, stack]) => ({ label, backgroundColor: color, stack, data: [] })),
          { type: "line", label: "Total", borderColor: COLORS.total, backgroundColor: COLORS.total, stack: "total",
            data: [] },
        ] },
        options: { animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
          plugins: { legend: { position: "bottom" } },
          scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "EUR" } } } },
      });
    }
    view.chart.data.labels = rows.map((r) => r.label);
    [...SERIES.map((s) => s[1]), "total_eur"].forEach((column, i) => {
      view.chart.data.datasets[i].data = rows.map((r) => r[column]);
    });
    view.chart.update();
  }

  const report = (error) => console.warn(error.message);

  document.addEventListener("history-shown", (event) => {
    view.level = event.detail.level;
    view.date = event.detail.date;
    refreshHistory().catch(report);
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("#units button").forEach((button) => button.addEventListener("click", () => {
      view.unit = button.dataset.unit;
      localStorage.setItem(UNIT_KEY, view.unit);
      showUnit();
      refreshHistory().catch(report);
    }));
    const run = () => refreshCosts().catch(report).finally(() => setTimeout(run, 30000));
    run();
    setInterval(() => refreshHistory().catch(report), 300000);
  });
})();
