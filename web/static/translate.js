// The translate page: drop, paste or pick an image, see it translated.
"use strict";

const state = {
  model: null,        // GET /api/model
  direction: "a2b",
  source: null,       // {blob, name, url, width, height}
  resultURL: null,
  abort: null,
};

function domains() {
  const m = state.model || { domain_a: "A", domain_b: "B" };
  return state.direction === "a2b" ? [m.domain_a, m.domain_b] : [m.domain_b, m.domain_a];
}

function article(word) {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

function showError(msg) {
  $("error-text").textContent = msg;
  $("error").hidden = !msg;
}

function showNotice(msg) {
  $("notice-text").textContent = msg || "";
  $("notice").hidden = !msg;
}

function updateLabels() {
  const [from, to] = domains();
  const generic = from.length <= 1 && to.length <= 1;
  $("title").textContent = generic ? "Translate a photo" : `Turn ${article(from)} ${from} into ${article(to)} ${to}`;
  $("in-title").textContent = generic ? "Original" : `Original · ${from}`;
  $("out-title").textContent = generic ? "Translation" : `Translation · ${to}`;
  for (const b of document.querySelectorAll("#directions button")) {
    b.setAttribute("aria-pressed", String(b.dataset.direction === state.direction));
  }
  $("curl-hint").textContent =
    `curl --data-binary @${from.toLowerCase().replace(/[^a-z0-9]+/g, "") || "in"}.jpg -o ${to.toLowerCase().replace(/[^a-z0-9]+/g, "") || "out"}.png '${location.origin}/api/translate?direction=${state.direction}'`;
}

async function loadModel() {
  try {
    const m = await getJSON("/api/model");
    state.model = m;
    $("dir-a2b").textContent = `${m.domain_a} → ${m.domain_b}`;
    $("dir-b2a").textContent = `${m.domain_b} → ${m.domain_a}`;
    $("dir-a2b").disabled = !m.directions.includes("a2b");
    $("dir-b2a").disabled = !m.directions.includes("b2a");
    state.direction = m.directions[0];
    $("model-meta").textContent = "";
    const name = document.createElement("b");
    name.textContent = m.name;
    $("model-meta").append("model ", name);
    if (m.step) $("model-meta").append(` · step ${m.step.toLocaleString()}`);
    if (m.size) $("model-meta").append(` · trained at ${m.size} px`);
    $("limits").textContent = `JPEG, PNG, GIF, BMP, WebP or TIFF · up to ${fmtBytes(m.max_upload_bytes)} and ${(m.max_pixels / 1e6).toFixed(m.max_pixels % 1e6 ? 1 : 0)} megapixels`;
    if (!m.size) $("scale").querySelector('option[value="train"]').remove();
  } catch (e) {
    $("model-meta").textContent = "no model";
    showError(`Cannot read the model: ${e.message}`);
  }
  updateLabels();
}

function setDirection(d) {
  if (d === state.direction) return;
  state.direction = d;
  updateLabels();
  if (state.source) translate();
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("the browser cannot show this file; it may not be an image"));
    img.src = url;
  });
}

async function setSource(blob, name) {
  showError("");
  showNotice("");
  if (!blob) return;
  if (state.source) URL.revokeObjectURL(state.source.url);
  const url = URL.createObjectURL(blob);
  state.source = { blob, name: name || "image", url, width: 0, height: 0 };
  const img = $("in-img");
  try {
    const el = await loadImage(url);
    state.source.width = el.naturalWidth;
    state.source.height = el.naturalHeight;
    img.src = url;
    img.hidden = false;
    img.classList.toggle("small", Math.max(el.naturalWidth, el.naturalHeight) < 256);
    $("drop").hidden = true;
    $("in-dim").textContent = `${el.naturalWidth}×${el.naturalHeight}`;
  } catch (e) {
    // The browser cannot show it (TIFF, say): the server may still read it.
    img.hidden = true;
    $("drop").hidden = false;
    $("in-dim").textContent = "";
  }
  $("in-note").textContent = `${state.source.name} · ${fmtBytes(blob.size)}`;
  translate();
}

// upload returns what to send: the file itself, or a scaled copy when the
// size option or the server's limits ask for one.
async function upload() {
  const src = state.source;
  const m = state.model || {};
  let { width: w, height: h } = src;
  if (!w || !h) return { blob: src.blob, note: "" };
  let f = 1, why = "";
  const opt = $("scale").value;
  if (opt === "train" && m.size) {
    f = Math.min(1, m.size / Math.min(w, h));
    why = `the training size (${m.size} px)`;
  } else if (+opt > 0) {
    f = Math.min(1, +opt / Math.max(w, h));
    why = `at most ${opt} px`;
  }
  if (m.max_pixels && w * h * f * f > m.max_pixels) {
    f = Math.sqrt(m.max_pixels / (w * h)) * 0.999;
    why = `the server's ${(m.max_pixels / 1e6).toFixed(1).replace(/\.0$/, "")}-megapixel limit`;
  }
  if (f >= 1 && (!m.max_upload_bytes || src.blob.size <= m.max_upload_bytes)) return { blob: src.blob, note: "" };
  const tw = Math.max(1, Math.floor(w * f)), th = Math.max(1, Math.floor(h * f));
  const c = document.createElement("canvas");
  c.width = tw;
  c.height = th;
  const ctx = c.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(await loadImage(src.url), 0, 0, tw, th);
  let blob = await new Promise((r) => c.toBlob(r, "image/png"));
  if (m.max_upload_bytes && blob.size > m.max_upload_bytes) blob = await new Promise((r) => c.toBlob(r, "image/jpeg", 0.92));
  return { blob, note: f < 1 ? `Scaled to ${tw}×${th} for ${why}.` : "Re-encoded to fit the upload limit." };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function translate() {
  if (!state.source) return;
  if (state.abort) state.abort.abort();
  const abort = new AbortController();
  state.abort = abort;
  showError("");
  const busy = $("busy"), busyText = $("busy-text");
  busy.hidden = false;
  $("out-placeholder").hidden = true;
  const t0 = performance.now();
  let status = "Translating…";
  const clock = setInterval(() => { busyText.textContent = `${status} ${((performance.now() - t0) / 1000).toFixed(1)} s`; }, 100);
  const dir = state.direction;
  try {
    const { blob, note } = await upload();
    showNotice(note);
    let r;
    for (let attempt = 0; ; attempt++) {
      r = await fetch(`/api/translate?direction=${dir}`, {
        method: "POST",
        body: blob,
        headers: { "Content-Type": blob.type || "application/octet-stream" },
        signal: abort.signal,
      });
      if (r.status !== 503 || attempt >= 5) break;
      const wait = Math.min(30, +(r.headers.get("Retry-After") || 2));
      status = `The server is busy; trying again in ${wait} s…`;
      await sleep(wait * 1000);
      status = "Translating…";
    }
    if (!r.ok) {
      let msg = `${r.status} ${r.statusText}`;
      try { msg = (await r.json()).error || msg; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    const out = await r.blob();
    if (state.resultURL) URL.revokeObjectURL(state.resultURL);
    state.resultURL = URL.createObjectURL(out);
    const img = $("out-img");
    const el = await loadImage(state.resultURL);
    img.src = state.resultURL;
    img.classList.toggle("small", Math.max(el.naturalWidth, el.naturalHeight) < 256);
    img.hidden = false;
    $("out-dim").textContent = `${el.naturalWidth}×${el.naturalHeight}`;
    const [from, to] = domains();
    const base = state.source.name.replace(/\.[^.]*$/, "").replace(/[^\w.-]+/g, "_") || "image";
    const dl = $("download");
    dl.href = state.resultURL;
    dl.download = `${base}-${from}-to-${to}.png`.replace(/[^\w.-]+/g, "_");
    dl.hidden = false;
    const ms = r.headers.get("X-Translate-Milliseconds");
    $("out-note").textContent = `${fmtBytes(out.size)} · translated in ${ms ? (ms / 1000).toFixed(2) : ((performance.now() - t0) / 1000).toFixed(2)} s`;
  } catch (e) {
    if (e.name === "AbortError") return;
    showError(e.message);
    if ($("out-img").hidden) $("out-placeholder").hidden = false;
  } finally {
    clearInterval(clock);
    if (state.abort === abort) {
      busy.hidden = true;
      state.abort = null;
    }
  }
}

function firstImage(items) {
  for (const it of items || []) {
    if (it.kind === "file" && it.type.startsWith("image/")) return it.getAsFile();
  }
  return null;
}

function init() {
  showTabs();
  loadModel();
  const file = $("file");
  const pick = () => file.click();
  $("pick").addEventListener("click", pick);
  $("drop").addEventListener("click", pick);
  $("drop").addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); } });
  file.addEventListener("change", () => { if (file.files[0]) setSource(file.files[0], file.files[0].name); file.value = ""; });
  for (const b of document.querySelectorAll("#directions button")) {
    b.addEventListener("click", () => setDirection(b.dataset.direction));
  }
  $("scale").addEventListener("change", () => { if (state.source) translate(); });

  // Drop anywhere on the page; highlight the input panel.
  const body = $("in-body");
  let depth = 0;
  document.addEventListener("dragenter", (e) => { e.preventDefault(); depth++; body.classList.add("over"); $("drop").classList.add("over"); });
  document.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; body.classList.remove("over"); $("drop").classList.remove("over"); } });
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    body.classList.remove("over");
    $("drop").classList.remove("over");
    const f = (e.dataTransfer.files && e.dataTransfer.files[0]) || firstImage(e.dataTransfer.items);
    if (f) setSource(f, f.name);
  });
  document.addEventListener("paste", (e) => {
    const f = firstImage(e.clipboardData && e.clipboardData.items);
    if (f) { e.preventDefault(); setSource(f, f.name && f.name !== "image.png" ? f.name : "pasted.png"); }
  });
}

document.addEventListener("DOMContentLoaded", init);
