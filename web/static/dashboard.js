// The training dashboard: follows /api/run/events and redraws the loss
// curves, the newest sample grid and the run's numbers.
"use strict";

const dash = {
  status: null,
  charts: [],       // {def, chart, card}
  losses: null,     // last /api/run/losses answer
  rowsDrawn: -1,
  fetching: false,
  again: false,
  lastFetch: 0,
  scheduled: false,
  followSamples: true,
  sampleSteps: [],
};

function chartDefs(a, b) {
  return [
    { title: "Cycle consistency", sub: `mean |G_B(G_A(x)) − x|, lower is better`, series: [
      { key: "cycle_A", label: `${a}→${b}→${a}`, color: "--a" }, { key: "cycle_B", label: `${b}→${a}→${b}`, color: "--b" }] },
    { title: "Generators", sub: "adversarial terms: how well each fools its critic", series: [
      { key: "G_A", label: `G_A ${a}→${b}`, color: "--a" }, { key: "G_B", label: `G_B ${b}→${a}`, color: "--b" }] },
    { title: "Critics", sub: "critic losses", series: [
      { key: "D_A", label: `D_A (${a})`, color: "--a" }, { key: "D_B", label: `D_B (${b})`, color: "--b" }] },
    { title: "Wasserstein estimate", sub: "E[D(real)] − E[D(fake)]", series: [
      { key: "wdist_A", label: `D_A (${a})`, color: "--a" }, { key: "wdist_B", label: `D_B (${b})`, color: "--b" }] },
    { title: "Gradient penalty", sub: "before its weight λ_gp", series: [
      { key: "gp_A", label: `D_A (${a})`, color: "--a" }, { key: "gp_B", label: `D_B (${b})`, color: "--b" }] },
    { title: "Identity", sub: "mean |G(y) − y| on the target domain", series: [
      { key: "idt_A", label: `G_A on ${b}`, color: "--a" }, { key: "idt_B", label: `G_B on ${a}`, color: "--b" }] },
  ];
}

function buildCharts(a, b) {
  const host = $("charts");
  host.textContent = "";
  dash.charts = [];
  for (const def of chartDefs(a, b)) {
    const card = document.createElement("div");
    card.className = "card chart";
    const title = document.createElement("div");
    title.className = "title";
    const h = document.createElement("h2");
    h.textContent = def.title;
    const legend = document.createElement("div");
    legend.className = "legend";
    for (const s of def.series) {
      const span = document.createElement("span");
      const i = document.createElement("i");
      i.style.background = `var(${s.color})`;
      span.append(i, s.label);
      legend.append(span);
    }
    title.append(h, legend);
    const sub = document.createElement("div");
    sub.className = "sub";
    sub.textContent = def.sub;
    const canvas = document.createElement("canvas");
    canvas.dataset.chart = def.series[0].key;
    card.append(title, sub, canvas);
    host.append(card);
    dash.charts.push({ def, card, chart: new LineChart(canvas, def.series) });
  }
}

function drawCharts() {
  const L = dash.losses;
  if (!L) return;
  const w = +$("smoothing").value;
  for (const { def, card, chart } of dash.charts) {
    const present = def.series.some((s) => (L.series[s.key] || []).some((v) => v !== null && v !== 0));
    // Terms a run does not use (identity with λ_id 0, penalties with
    // LSGAN) stay hidden once there is data to tell.
    card.hidden = L.rows > 0 && !present;
    chart.setData(L.step, L.series, w);
  }
  $("rows-note").textContent = L.rows ? (L.bucket > 1 ? `${L.rows.toLocaleString()} steps, averaged over ${L.bucket}` : `${L.rows.toLocaleString()} steps`) : "";
}

async function fetchLosses() {
  if (dash.fetching) { dash.again = true; return; }
  dash.fetching = true;
  try {
    const points = Math.max(200, Math.min(2000, Math.round(($("charts").clientWidth || 800) / 2)));
    dash.losses = await getJSON(`/api/run/losses?points=${points}`);
    dash.rowsDrawn = dash.losses.rows;
    dash.lastFetch = Date.now();
    drawCharts();
  } catch (e) {
    /* the next status retries */
  } finally {
    dash.fetching = false;
    if (dash.again) { dash.again = false; setTimeout(fetchLosses, 1000); }
  }
}

function setText(id, text) {
  const el = $(id);
  if (el.textContent !== text) el.textContent = text;
}

function renderConfig(c) {
  const dl = $("config");
  dl.textContent = "";
  const rows = [
    ["Domains", `${c.domain_a} ↔ ${c.domain_b}`],
    ["Data", c.toy ? `toy: ${c.toy}` : "image folders"],
    ["Image size", `${c.size} px`],
    ["Generator", `ngf ${c.ngf}, ${c.blocks} blocks`],
    ["Critic", `ndf ${c.ndf}, ${c.critic_layers} layers`],
    ["Loss", c.loss],
    ["Learning rate", String(c.lr)],
    ["Batch", String(c.batch)],
    ["Steps", c.steps.toLocaleString()],
    ["Samples every", c.sample_every ? `${c.sample_every} steps` : "at the end"],
    ["Checkpoint every", c.save_every ? `${c.save_every} steps` : "at the end"],
  ];
  for (const [k, v] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
}

// fitSample scales the sample grid to the panel, at most 560 px high.
function fitSample() {
  const img = $("sample");
  if (!img.naturalWidth) return;
  const room = $("sample-box").clientWidth - 22;
  if (room <= 0) return;
  const s = Math.min(room / img.naturalWidth, 560 / img.naturalHeight);
  img.style.width = `${Math.floor(img.naturalWidth * s)}px`;
}

function showSample(step) {
  const img = $("sample");
  const url = `/api/run/sample.png?step=${step}`;
  if (img.dataset.step !== String(step)) {
    img.src = url;
    img.dataset.step = String(step);
  }
  setText("sample-step", `step ${step.toLocaleString()}`);
}

function renderSamples(steps) {
  dash.sampleSteps = steps;
  const has = steps.length > 0;
  $("sample-box").hidden = !has;
  $("sample-empty").hidden = has;
  if (!has) return;
  const pick = $("sample-pick");
  pick.max = String(steps.length - 1);
  pick.hidden = steps.length < 2;
  if (dash.followSamples || +pick.value > steps.length - 1) pick.value = String(steps.length - 1);
  showSample(steps[+pick.value]);
}

function render(st) {
  const prev = dash.status;
  dash.status = st;
  const c = st.config;
  setText("run-name", st.name);
  document.title = `doggogan · ${st.name} · ${st.state}`;
  const badge = $("state");
  badge.className = `badge ${st.state}`;
  setText("state", st.state);
  if (c) {
    setText("run-lead", `${c.domain_a} ↔ ${c.domain_b}${c.toy ? ` · toy ${c.toy}` : ""} · ${c.size} px · ${c.loss}`);
    if (!prev || !prev.config || prev.config.domain_a !== c.domain_a || prev.config.domain_b !== c.domain_b) {
      buildCharts(c.domain_a, c.domain_b);
      setText("row-a", `${c.domain_a} → ${c.domain_b} → ${c.domain_a}`);
      setText("row-b", `${c.domain_b} → ${c.domain_a} → ${c.domain_b}`);
      drawCharts();
    }
    renderConfig(c);
  } else if (!dash.charts.length) {
    buildCharts("A", "B");
  }
  $("message").hidden = !st.message;
  setText("message-text", st.message || "");
  const pct = st.steps ? Math.min(100, (100 * st.step) / st.steps) : 0;
  $("progress-bar").style.width = `${pct}%`;
  $("progress").setAttribute("aria-valuenow", pct.toFixed(1));
  setText("s-step", st.steps ? `${st.step.toLocaleString()} / ${st.steps.toLocaleString()}` : st.step.toLocaleString());
  const sps = st.steps_per_second;
  setText("s-speed", !sps ? "–" : sps >= 0.1 ? `${sps.toFixed(2)} steps/s` : `${(1 / sps).toFixed(1)} s/step`);
  setText("s-eta", st.state === "finished" ? "done" : st.eta_seconds >= 0 ? fmtDuration(st.eta_seconds) : "–");
  setText("s-time", st.train_seconds ? fmtDuration(st.train_seconds) : "–");
  const ck = st.checkpoints;
  setText("s-ckpt", ck.length ? `step ${ck[ck.length - 1].toLocaleString()}` : "none yet");
  renderSamples(st.samples);
  if (st.rows !== dash.rowsDrawn && !dash.scheduled) {
    // Redraw at most every two seconds while steps stream in.
    dash.scheduled = true;
    const wait = Math.max(0, 2000 - (Date.now() - dash.lastFetch));
    setTimeout(() => { dash.scheduled = false; fetchLosses(); }, wait);
  }
}

function connect() {
  if (!window.EventSource) {
    const poll = async () => {
      try { render(await getJSON("/api/run")); setText("conn", "polling"); } catch (e) { setText("conn", "cannot reach the server"); }
      setTimeout(poll, 2000);
    };
    poll();
    return;
  }
  const es = new EventSource("/api/run/events");
  es.addEventListener("status", (e) => {
    setText("conn", "live");
    $("conn").style.color = "var(--ok)";
    render(JSON.parse(e.data));
  });
  es.onerror = () => {
    setText("conn", "reconnecting…");
    $("conn").style.color = "var(--warn)";
  };
}

function init() {
  showTabs();
  const sm = $("smoothing");
  sm.addEventListener("input", () => { setText("smoothing-v", (+sm.value).toFixed(2)); drawCharts(); });
  const pick = $("sample-pick");
  pick.addEventListener("input", () => {
    dash.followSamples = +pick.value === dash.sampleSteps.length - 1;
    showSample(dash.sampleSteps[+pick.value]);
  });
  $("sample").addEventListener("load", fitSample);
  window.addEventListener("resize", fitSample);
  connect();
}

document.addEventListener("DOMContentLoaded", init);
