// Money next to energy (energy.costs): the history chart in EUR, as a measure of history.js; today's money and this
// month's projected capacity tariff from /api/costs; and the kWh / EUR switch, offered only while a contract covers
// today. Every amount comes from the database; this only shows it.
"use strict";

import { format } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const UNIT_KEY = "brs5-energy-unit";
const TODAY = ["import_eur", "export_eur", "gas_eur", "capacity_eur", "fixed_eur", "total_eur", "solar_saving_eur"];

// The history chart in EUR: what is paid (stacked), what the export earned, what the solar energy used at home
// saved, and the total to pay as a line.
export const EUR = {
  url: "/api/costs/history",
  csv: "/api/costs/history.csv",
  levels: ["hour", "day", "week", "month"], // energy.costs has no years
  label: "history.costs",
  format: format.eur,
  unit: "EUR",
  series: [
    { column: "import_eur", label: "cost.import", color: "import", stack: "paid" },
    { column: "gas_eur", label: "fig.gas", color: "gas", stack: "paid" },
    { column: "capacity_eur", label: "cost.capacity", color: "capacity", stack: "paid" },
    { column: "fixed_eur", label: "cost.fixed", color: "fixed", stack: "paid" },
    { column: "export_eur", label: "cost.export", color: "export", stack: "earned" },
    { column: "solar_saving_eur", label: "cost.saving", color: "solar", stack: "saved" },
    { column: "total_eur", label: "cost.total", color: "text", type: "line" },
  ],
  previous: [],
};

// Money is extra: when /api/costs fails, the page shows energy as it would without a contract.
export const NO_COSTS = { tariff: false, today: null, capacity: null };

export function drawCosts({ tariff, today, capacity }) {
  $("units").hidden = !tariff;
  TODAY.forEach((column) => { $(`today-${column}`).textContent = format.eur(today && today[column]); });
  $("capacity-cost").hidden = !capacity;
  $("capacity-cost-eur").textContent = format.eur(capacity && capacity.capacity_eur);
}

// The switch's position, kept by the browser where it may (a browser that refuses storage keeps it for the page).
let chosen = (() => {
  try {
    return localStorage.getItem(UNIT_KEY);
  } catch {
    return null;
  }
})();

export function chooseMeasure(measure) {
  chosen = measure;
  try {
    localStorage.setItem(UNIT_KEY, measure);
  } catch {
    // not remembered after this page; nothing else depends on it
  }
}

// What the page shows: EUR when the switch says so and a contract covers today, kWh otherwise.
export function chosenMeasure(tariff) {
  return tariff && chosen === "eur" ? "eur" : "energy";
}

// Today's figures in the unit of the switch.
export function showMeasure(measure) {
  $("today-energy").hidden = measure === "eur";
  $("today-costs").hidden = measure !== "eur";
  document.querySelectorAll("#units button").forEach((button) => {
    button.setAttribute("aria-pressed", String(button.dataset.measure === measure));
  });
}
