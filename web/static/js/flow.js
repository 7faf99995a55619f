// The power-flow diagram: solar, grid, house and (when the inverter has one) battery, with the live flows
// between them. The figures come from energy.power_flow; this only draws them.
"use strict";

import { format, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const ACTIVE_W = 5; // below this a line carries nothing worth showing

// A line between two nodes: drawn thicker and moving for more power; reverse: the power flows the other way.
function edge(id, watts, reverse = false) {
  const line = $(id);
  const active = watts != null && Math.abs(watts) >= ACTIVE_W;
  line.classList.toggle("active", active);
  line.classList.toggle("reverse", reverse);
  line.setAttribute("stroke-width", active ? String(2 + Math.min(6, Math.abs(watts) / 1000)) : "1.5");
  line.querySelector("title").textContent = active ? format.watts(Math.abs(watts)) : "";
}

export function drawFlow(now) {
  const p = now || {};
  $("solar").textContent = format.watts(p.solar_w);
  $("solar-share").textContent = p.solar_share_pct != null
    ? t("live.share", { pct: format.percent(p.solar_share_pct), rated: format.watts(p.rated_w) }) : "";
  $("import").textContent = `↓ ${format.watts(p.import_w)}`;
  $("export").textContent = `↑ ${format.watts(p.export_w)}`;
  $("consumption").textContent = format.watts(p.consumption_w);
  edge("edge-solar-home", p.solar_to_home_w);
  edge("edge-solar-grid", p.solar_to_grid_w);
  edge("edge-grid-home", p.grid_to_home_w);
  const battery = p.battery_w != null;
  $("flow").setAttribute("viewBox", battery ? "0 0 320 270" : "0 0 320 190"); // no empty room for a battery
  $("node-battery").classList.toggle("absent", !battery);
  $("edge-solar-battery").classList.toggle("absent", !battery);
  if (battery) {
    $("battery").textContent = format.watts(Math.abs(p.battery_w));
    $("battery-soc").textContent = format.percent(p.battery_soc_pct);
    edge("edge-solar-battery", p.battery_w, p.battery_w < 0);
  }
}
