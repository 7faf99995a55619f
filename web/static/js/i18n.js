// The page's language: labels from translations.json (Dutch, French, English), numbers, dates and units by Intl in
// the browser's own language, and times in the calendar's time zone (the database's, not the browser's).
"use strict";

const TRANSLATED = ["nl", "fr", "en"];
export const locale = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
export const language = TRANSLATED.find((code) => locale.toLowerCase().startsWith(code)) || "en";
const calendar = { timeZone: "Europe/Brussels" };
let labels = {};
let fallback = {};

export async function loadLabels() {
  const response = await fetch(document.body.dataset.translations, { headers: { Accept: "application/json" } });
  const all = await response.json();
  labels = all[language];
  fallback = all.en;
}

// A label with {name} placeholders filled in.
export function t(key, values = {}) {
  const text = labels[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : `{${name}}`));
}

export function translatePage() {
  document.documentElement.lang = language;
  document.querySelectorAll("[data-i18n]").forEach((element) => { element.textContent = t(element.dataset.i18n); });
  document.querySelectorAll("[data-i18n-label]").forEach((element) => {
    element.setAttribute("aria-label", t(element.dataset.i18nLabel));
  });
  document.querySelectorAll("[data-i18n-title]").forEach((element) => {
    element.setAttribute("title", t(element.dataset.i18nTitle));
  });
}

export function setTimeZone(timeZone) {
  if (timeZone) calendar.timeZone = timeZone;
}

const numbers = new Map();
function number(value, digits) {
  if (!numbers.has(digits)) {
    const options = { minimumFractionDigits: digits, maximumFractionDigits: digits };
    numbers.set(digits, new Intl.NumberFormat(locale, options));
  }
  return numbers.get(digits).format(value);
}

const DASH = "–";
const euro = new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" });
export const format = {
  number: (value, digits = 0) => (value == null ? DASH : number(value, digits)),
  watts: (w) => (w == null ? DASH
    : Math.abs(w) >= 1000 ? `${number(w / 1000, 2)} kW` : `${number(Math.round(w), 0)} W`),
  kwh: (value) => (value == null ? DASH : `${number(value, 2)} kWh`),
  m3: (value) => (value == null ? DASH : `${number(value, 2)} m³`),
  eur: (value) => (value == null ? DASH : euro.format(value)),
  percent: (value) => (value == null ? DASH
    : new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 }).format(value / 100)),
  // a length of time in the largest whole unit: 45 seconds, 12 minutes, 3 hours, 2 days
  duration(seconds) {
    const [unit, size] = seconds >= 172800 ? ["day", 86400] : seconds >= 7200 ? ["hour", 3600]
      : seconds >= 120 ? ["minute", 60] : ["second", 1];
    const length = new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" });
    return length.format(Math.floor(seconds / size));
  },
  // an instant in the calendar's time zone, with the given Intl.DateTimeFormat options
  instant: (iso, options) => new Intl.DateTimeFormat(locale, { ...options, timeZone: calendar.timeZone })
    .format(new Date(iso)),
  // a local calendar date or time as the database gives it (no zone): shown as is
  local: (text, options) => new Intl.DateTimeFormat(locale, { ...options, timeZone: "UTC" })
    .format(new Date(`${text.length === 10 ? `${text}T00:00:00` : text}Z`)),
};

// The ISO 8601 week number of a local date given as YYYY-MM-DD...: the week of its Thursday, counted from the
// week of 4 January.
export function isoWeek(text) {
  const day = new Date(`${text.slice(0, 10)}T00:00:00Z`);
  const thursday = new Date(day.getTime() + (3 - ((day.getUTCDay() + 6) % 7)) * 86400000);
  const january4 = new Date(Date.UTC(thursday.getUTCFullYear(), 0, 4));
  return 1 + Math.round(((thursday - january4) / 86400000 - 3 + ((january4.getUTCDay() + 6) % 7)) / 7);
}
