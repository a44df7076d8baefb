// A small line chart on a canvas: steps on x, one or more series on y,
// optional exponential smoothing (shown over the faint raw curve), nice
// ticks, a hover read-out. No libraries.
"use strict";

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

function ticks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const st = niceStep(hi - lo, count);
  const out = [];
  for (let v = Math.ceil(lo / st) * st; v <= hi + st * 1e-9; v += st) out.push(Math.abs(v) < st * 1e-9 ? 0 : v);
  return out;
}

function fmtTick(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  if (a !== 0 && a < 1e-2) return v.toExponential(0);
  return `${+v.toPrecision(3)}`;
}

// smooth applies TensorBoard's debiased exponential moving average.
function smooth(vals, w) {
  if (!(w > 0)) return vals;
  const out = new Array(vals.length);
  let last = 0, n = 0;
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i];
    if (v === null || !isFinite(v)) { out[i] = null; continue; }
    last = last * w + (1 - w) * v;
    n++;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i];
}

class LineChart {
  // series: [{key, label, color}] with color a CSS variable name or colour.
  constructor(canvas, series) {
    this.canvas = canvas;
    this.series = series;
    this.steps = [];
    this.raw = {};
    this.smoothing = 0;
    this.hover = -1;
    this.tip = document.createElement("div");
    this.tip.className = "tip";
    this.tip.hidden = true;
    canvas.parentElement.appendChild(this.tip);
    canvas.addEventListener("mousemove", (e) => this.onMove(e));
    canvas.addEventListener("mouseleave", () => { this.hover = -1; this.tip.hidden = true; this.draw(); });
    if (window.ResizeObserver) new ResizeObserver(() => this.draw()).observe(canvas);
  }

  setData(steps, values, smoothing) {
    this.steps = steps || [];
    this.raw = values || {};
    this.smoothing = smoothing || 0;
    this.draw();
  }

  color(c) {
    if (c.startsWith("--")) return getComputedStyle(document.documentElement).getPropertyValue(c).trim() || "#888";
    return c;
  }

  layout() {
    const r = this.canvas.getBoundingClientRect();
    return { w: r.width, h: r.height, l: 46, r: 8, t: 8, b: 22 };
  }

  draw() {
    const cv = this.canvas, dpr = window.devicePixelRatio || 1;
    const L = this.layout();
    if (L.w <= 0 || L.h <= 0) return;
    if (cv.width !== Math.round(L.w * dpr) || cv.height !== Math.round(L.h * dpr)) {
      cv.width = Math.round(L.w * dpr);
      cv.height = Math.round(L.h * dpr);
    }
    const ctx = cv.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, L.w, L.h);
    const css = getComputedStyle(document.documentElement);
    const ink = css.getPropertyValue("--muted").trim() || "#666";
    const grid = css.getPropertyValue("--line").trim() || "#ddd";
    const steps = this.steps;
    const sm = {};
    const all = [];
    let points = 0;
    for (const s of this.series) {
      const raw = this.raw[s.key] || [];
      sm[s.key] = smooth(raw, this.smoothing);
      for (const v of sm[s.key]) if (v !== null && isFinite(v)) { all.push(v); points++; }
    }
    cv.dataset.points = String(points);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = ink;
    if (!points) {
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText("no data yet", L.w / 2, L.h / 2);
      this.map = null;
      return;
    }
    // Robust y range: ignore the wildest 2% at each end (early spikes).
    all.sort((a, b) => a - b);
    let lo = all.length > 50 ? quantile(all, 0.02) : all[0];
    let hi = all.length > 50 ? quantile(all, 0.98) : all[all.length - 1];
    if (!(hi > lo)) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
    const pad = (hi - lo) * 0.1;
    lo -= pad; hi += pad;
    const x0 = steps[0], x1 = steps[steps.length - 1];
    const xs = x1 > x0 ? x1 - x0 : 1;
    const pw = L.w - L.l - L.r, ph = L.h - L.t - L.b;
    const X = (s) => L.l + (x1 > x0 ? ((s - x0) / xs) * pw : pw / 2);
    const Y = (v) => L.t + (1 - (v - lo) / (hi - lo)) * ph;
    this.map = { X, Y, L, x0, x1 };

    // Grid and ticks.
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const v of ticks(lo, hi, Math.max(2, Math.floor(ph / 36)))) {
      const y = Math.round(Y(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(L.l, y); ctx.lineTo(L.w - L.r, y); ctx.stroke();
      ctx.fillText(fmtTick(v), L.l - 6, y);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const xt = x1 > x0 ? ticks(x0, x1, Math.max(2, Math.floor(pw / 80))) : [x0];
    for (const s of xt) {
      // Keep the labels inside the canvas.
      const label = fmtTick(s), half = ctx.measureText(label).width / 2;
      ctx.fillText(label, Math.min(Math.max(X(s), L.l + half), L.w - half - 1), L.h - L.b + 6);
    }

    // Curves: raw faintly under the smoothed one.
    ctx.save();
    ctx.beginPath();
    ctx.rect(L.l, L.t - 1, pw, ph + 2);
    ctx.clip();
    for (const s of this.series) {
      const col = this.color(s.color);
      const layers = this.smoothing > 0 ? [[this.raw[s.key] || [], 0.22, 1], [sm[s.key], 1, 1.8]] : [[sm[s.key], 1, 1.6]];
      for (const [vals, alpha, width] of layers) {
        ctx.globalAlpha = alpha;
        ctx.strokeStyle = col;
        ctx.fillStyle = col;
        ctx.lineWidth = width;
        ctx.lineJoin = "round";
        ctx.beginPath();
        let open = false, n = 0;
        for (let i = 0; i < vals.length; i++) {
          const v = vals[i];
          if (v === null || !isFinite(v)) { open = false; continue; }
          const x = X(steps[i]), y = Y(v);
          if (open) ctx.lineTo(x, y); else ctx.moveTo(x, y);
          open = true;
          n++;
        }
        ctx.stroke();
        if (n === 1) {
          const i = vals.findIndex((v) => v !== null && isFinite(v));
          ctx.beginPath(); ctx.arc(X(steps[i]), Y(vals[i]), 3, 0, 2 * Math.PI); ctx.fill();
        }
      }
    }
    ctx.restore();
    ctx.globalAlpha = 1;

    // Hover read-out.
    if (this.hover >= 0 && this.hover < steps.length) {
      const x = X(steps[this.hover]);
      ctx.strokeStyle = ink;
      ctx.setLineDash([3, 3]);
      ctx.beginPath(); ctx.moveTo(x, L.t); ctx.lineTo(x, L.t + ph); ctx.stroke();
      ctx.setLineDash([]);
      for (const s of this.series) {
        const v = sm[s.key][this.hover];
        if (v === null || !isFinite(v)) continue;
        ctx.fillStyle = this.color(s.color);
        ctx.beginPath(); ctx.arc(x, Math.min(Math.max(Y(v), L.t), L.t + ph), 3.5, 0, 2 * Math.PI); ctx.fill();
      }
    }
    this.smoothed = sm;
  }

  onMove(e) {
    if (!this.map || !this.steps.length) return;
    const r = this.canvas.getBoundingClientRect();
    const px = e.clientX - r.left;
    // Nearest step by binary search.
    const { L, x0, x1 } = this.map;
    const target = x0 + ((px - L.l) / (L.w - L.l - L.r)) * (x1 - x0);
    let a = 0, b = this.steps.length - 1;
    while (b - a > 1) { const m = (a + b) >> 1; if (this.steps[m] < target) a = m; else b = m; }
    const i = Math.abs(this.steps[a] - target) <= Math.abs(this.steps[b] - target) ? a : b;
    this.hover = i;
    this.draw();
    const lines = [`step ${this.steps[i].toLocaleString()}`];
    for (const s of this.series) lines.push(`${s.label}: ${fmtNumber(this.smoothed[s.key][i])}`);
    this.tip.textContent = "";
    lines.forEach((t, k) => { if (k) this.tip.appendChild(document.createElement("br")); this.tip.appendChild(document.createTextNode(t)); });
    this.tip.hidden = false;
    const host = this.canvas.parentElement.getBoundingClientRect();
    const left = e.clientX - host.left + 14;
    this.tip.style.left = `${Math.min(left, host.width - this.tip.offsetWidth - 6)}px`;
    this.tip.style.top = `${e.clientY - host.top - this.tip.offsetHeight - 8}px`;
  }
}
