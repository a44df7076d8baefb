// Shared helpers of the doggogan pages (no libraries, nothing fetched
// from elsewhere).
"use strict";

const $ = (id) => document.getElementById(id);

// getJSON fetches a JSON document, throwing an Error with the server's
// {"error": ...} message when there is one.
async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new Error((body && body.error) || `${r.status} ${r.statusText}`);
  return body;
}

// showTabs reveals the tabs of the parts this server has.
async function showTabs() {
  try {
    const info = await getJSON("/api/info");
    if ($("tab-translate")) $("tab-translate").hidden = !info.model;
    if ($("tab-dashboard")) $("tab-dashboard").hidden = !info.run;
    return info;
  } catch (e) {
    return null;
  }
}

function fmtDuration(s) {
  if (!(s >= 0) || !isFinite(s)) return "–";
  s = Math.round(s);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  if (d > 0) return `${d} d ${h % 24} h`;
  if (h > 0) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
  return `${m} min ${String(s % 60).padStart(2, "0")} s`;
}

function fmtNumber(v) {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

function fmtBytes(n) {
  if (n >= 1 << 20) return `${Math.round(n / (1 << 20))} MB`;
  if (n >= 1 << 10) return `${Math.round(n / (1 << 10))} kB`;
  return `${n} bytes`;
}
