// Chart.js as every chart of the page uses it: the page's locale, the style sheet's colours (light or dark mode,
// followed when the system switches), no animation, one instance per canvas.
"use strict";

import { locale } from "./i18n.js";

const instances = new Map();

export function color(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim();
}

function applyTheme() {
  Chart.defaults.color = color("muted");
  Chart.defaults.borderColor = color("grid");
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  instances.forEach((instance) => instance.update());
}

// The chart on a canvas, made from config the first time.
export function chart(id, config) {
  if (!instances.has(id)) {
    if (!instances.size) {
      applyTheme();
      matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);
    }
    const { options = {}, ...rest } = config;
    instances.set(id, new Chart(document.getElementById(id), {
      ...rest,
      options: {
        locale, animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }, ...options,
      },
    }));
  }
  return instances.get(id);
}
