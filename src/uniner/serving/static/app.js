// uniner web page: calls POST /v1/extract and draws the entities. No libraries, no external
// assets. User text is only ever inserted as text nodes (never as HTML).
"use strict";

const PALETTE = ["#ffd166", "#8ecae6", "#b5e48c", "#f4a3c0", "#cdb4db", "#ffb703", "#90dbf4",
                 "#f28482", "#a3c4f3", "#caffbf", "#fdffb6", "#ffc6ff", "#9bf6ff", "#e9c46a"];
const $ = (id) => document.getElementById(id);
let lastResult = null;   // {request, response} of the last successful call
let timer = null;
let thresholdSet = false; // the user moved the slider: send its value, else the model decides

function labelsOf() {
  return $("labels").value.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
    .filter((s, i, all) => all.indexOf(s) === i);
}

function colourMap(labels) {
  const map = {};
  labels.forEach((lab, i) => { map[lab] = PALETTE[i % PALETTE.length]; });
  return map;
}

function setStatus(msg, isError) {
  $("status").textContent = msg;
  $("status").className = isError ? "error" : "";
}

async function run() {
  const labels = labelsOf();
  const text = $("text").value;
  if (!text.trim()) { setStatus("Type or paste a text first.", true); return; }
  if (labels.length === 0) { setStatus("Enter at least one entity type.", true); return; }
  const request = {
    text: text,
    labels: labels,
    flat: !$("nested").checked,
    multi_label: $("multi-label").checked,
  };
  // untouched slider: the model's own threshold, which may depend on how many types are asked
  if (thresholdSet) request.threshold = parseFloat($("threshold").value);
  const headers = { "Content-Type": "application/json" };
  const key = $("api-key").value;
  if (key) headers["X-API-Key"] = key;
  setStatus("Working…", false);
  $("run").disabled = true;
  try {
    const resp = await fetch("/v1/extract", { method: "POST", headers, body: JSON.stringify(request) });
    const body = await resp.json().catch(() => null);
    if (!resp.ok) {
      const err = (body && body.error) || {};
      if (resp.status === 401) $("key-box").open = true;
      setStatus(`Error ${resp.status}: ${err.message || resp.statusText}` +
                (err.field ? ` (field: ${err.field})` : ""), true);
      return;
    }
    lastResult = { request, response: body };
    render(text, labels, body.results[0].entities);
    $("download").disabled = false;
    const n = body.results[0].entities.length;
    if (!thresholdSet) showThreshold(body.threshold);
    setStatus(`${n} ${n === 1 ? "entity" : "entities"} · threshold ${body.threshold.toFixed(2)}` +
              (thresholdSet ? "" : " (model's)") + ` · ${body.took_ms.toFixed(0)} ms`, false);
    document.body.dataset.state = "done";
  } catch (e) {
    setStatus(`Could not reach the server: ${e}`, true);
  } finally {
    $("run").disabled = false;
  }
}

function makeMark(text, ent, colours) {
  const mark = document.createElement("mark");
  mark.className = "ent";
  mark.dataset.label = ent.label;
  mark.dataset.score = ent.score == null ? "" : ent.score.toFixed(3);
  mark.dataset.start = ent.start;
  mark.dataset.end = ent.end;
  mark.style.background = colours[ent.label] || "#e5e7eb";
  mark.setAttribute("aria-label", `${ent.label}, score ${mark.dataset.score}`);
  return mark;
}

// Entities as nested marks: each entity contains the ones inside it; an entity that crosses
// another's boundary cannot nest and is listed only in the table.
function render(text, labels, entities) {
  const colours = colourMap(labels);
  const out = $("output");
  out.replaceChildren();
  const sorted = [...entities].sort((a, b) => a.start - b.start || b.end - a.end);
  const root = { start: 0, end: text.length, children: [] };
  const stack = [root];
  for (const ent of sorted) {
    while (stack.length > 1 && ent.start >= stack[stack.length - 1].end) stack.pop();
    const parent = stack[stack.length - 1];
    if (ent.end > parent.end) continue; // crosses a boundary
    const node = { ...ent, children: [] };
    parent.children.push(node);
    stack.push(node);
  }
  const draw = (node, into) => {
    let pos = node.start;
    for (const child of node.children) {
      if (child.start > pos) into.appendChild(document.createTextNode(text.slice(pos, child.start)));
      const mark = makeMark(text, child, colours);
      draw(child, mark);
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = child.label;
      mark.appendChild(tag);
      into.appendChild(mark);
      pos = child.end;
    }
    if (pos < node.end) into.appendChild(document.createTextNode(text.slice(pos, node.end)));
  };
  draw(root, out);

  const legend = $("legend");
  legend.replaceChildren();
  for (const lab of labels) {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.style.background = colours[lab];
    chip.textContent = lab;
    legend.appendChild(chip);
  }

  const tbody = $("entities").querySelector("tbody");
  tbody.replaceChildren();
  for (const ent of sorted) {
    const tr = document.createElement("tr");
    for (const v of [ent.text, ent.label, ent.score == null ? "" : ent.score.toFixed(3), ent.start, ent.end]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.appendChild(td);
    }
    tr.firstChild.style.background = colours[ent.label] || "";
    tbody.appendChild(tr);
  }
}

function showTip(ev) {
  const mark = ev.target.closest("mark.ent");
  const tip = $("tooltip");
  if (!mark) { tip.hidden = true; return; }
  tip.textContent = `${mark.dataset.label} · score ${mark.dataset.score}`;
  tip.hidden = false;
  tip.style.left = `${ev.clientX + 12}px`;
  tip.style.top = `${ev.clientY + 14}px`;
}

function download() {
  if (!lastResult) return;
  const blob = new Blob([JSON.stringify(lastResult, null, 2)], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "uniner-entities.json";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function showThreshold(value) {
  $("threshold").value = value;
  $("threshold-value").textContent = value.toFixed(2);
}

function rerunSoon() {
  if (!lastResult) return;
  clearTimeout(timer);
  timer = setTimeout(run, 250);
}

async function init() {
  $("run").addEventListener("click", run);
  $("download").addEventListener("click", download);
  $("threshold-reset").addEventListener("click", () => {
    thresholdSet = false;  // back to the model's own threshold on the next run
    $("threshold-reset").hidden = true;
    rerunSoon();
  });
  $("threshold").addEventListener("input", () => {
    thresholdSet = true;
    $("threshold-reset").hidden = false;
    $("threshold-value").textContent = parseFloat($("threshold").value).toFixed(2);
    rerunSoon();
  });
  $("nested").addEventListener("change", rerunSoon);
  $("multi-label").addEventListener("change", rerunSoon);
  $("output").addEventListener("mousemove", showTip);
  $("output").addEventListener("mouseleave", () => { $("tooltip").hidden = true; });
  $("text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) run();
  });
  try {
    const resp = await fetch("/v1/models");
    if (resp.ok) {
      const info = await resp.json();
      const m = info.models[0];
      $("model-name").textContent = `Model: ${m.name}`;
      showThreshold(m.default_threshold);
      $("multi-label").checked = Boolean(m.default_multi_label);
    } else if (resp.status === 401) {
      $("key-box").open = true;
    }
  } catch (e) { /* the page still works; errors show on the first run */ }
  document.body.dataset.state = "ready";
}

init();
