#!/usr/bin/env python3
"""scripts/trace_html.py TRACE_JSON OUT_HTML: one run's timeline as one self-contained page.

TRACE_JSON is what the runner's --trace_json=FILE writes (docs/REPORTS.md "The trace as JSON");
scripts/repro.sh --html FILE runs both. The page needs nothing else: the trace is embedded as JSON
and drawn by the inline script (SVG), with inline CSS and the browser's default fonts; no network,
no external script, style sheet or font. The same JSON gives the same bytes.

Exit status: 0 written; 2 usage error, TRACE_JSON missing / not a trace, OUT_HTML not writable.
"""
import json
import os
import sys

USAGE = "usage: scripts/trace_html.py TRACE_JSON OUT_HTML   (exit: 0 written, 2 usage or file error)"

CSS = r"""
:root { --label-w: 270px; --bg: #fbfbfa; --fg: #1d2330; --muted: #667085; --line: #d8dce3; --fatal: #d92d20; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 12px 16px 8px; border-bottom: 1px solid var(--line); background: #fff; }
h1 { font-size: 16px; margin: 0 0 4px; font-weight: 600; }
h2 { font-size: 14px; margin: 18px 16px 6px; }
.mono, pre, code, .sig { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.headline { font-weight: 600; }
.headline.fail { color: var(--fatal); }
.headline.ok { color: #067647; }
.meta { color: var(--muted); }
.pair { margin-top: 6px; display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; }
.pair b { color: var(--fatal); }
#scroller { overflow-x: auto; overflow-y: hidden; border-bottom: 1px solid var(--line); background: #fff; }
#canvas { position: relative; }
#labels { position: sticky; left: 0; width: var(--label-w); z-index: 3; background: #fff; border-right: 1px solid var(--line); }
.lane-label, .row-label { position: absolute; left: 0; width: var(--label-w); padding: 2px 8px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.lane-label .n { font-weight: 600; }
.lane-label .r { color: var(--muted); font-size: 11px; overflow: hidden; text-overflow: ellipsis; }
.lane-label.tall .r { display: block; }
.lane-label.has-fatal .n { color: var(--fatal); }
.row-label { color: var(--muted); font-size: 11px; padding-top: 6px; }
#tracks { position: absolute; top: 0; }
.lane-bg { fill: #fff; }
.lane-bg.odd { fill: #f5f6f8; }
.ev { stroke: none; cursor: pointer; }
.ev:hover, .ev.sel { stroke: #111; stroke-width: 1.5; }
.ev-text { font-size: 11px; pointer-events: none; fill: #111; }
.k-call { fill: #9ec5fe; } .k-pnp { fill: #c3b5f5; } .k-power { fill: #f7c873; } .k-interrupt { fill: #f4a7c3; }
.k-hardware { fill: #f29d8d; } .k-memory { fill: #d5d9e0; } .k-image { fill: #7bd3c1; } .k-rundown { fill: #8fd694; }
.k-lock { fill: #e7b3f0; } .k-sync { fill: #b8d8f0; } .k-thread { fill: #c9c9a3; } .k-input { fill: #ffd866; }
.k-deferred { fill: #a3d9e6; } .k-request { fill: #f3c6a5; } .k-failure { fill: var(--fatal); } .k-other { fill: #e4e6ea; }
.fatal-cell { stroke: var(--fatal); stroke-width: 3; }
#fatal-link { fill: none; stroke: var(--fatal); stroke-width: 2.5; stroke-dasharray: 6 3; }
.fatal-tag { font-size: 11px; font-weight: 700; fill: var(--fatal); }
.band { fill: #ffe9a8; stroke: #d4a514; stroke-width: 1; cursor: pointer; }
.band.skipped { fill: #eee; stroke: #bbb; }
.band.shutdown { fill: #fbd0c9; stroke: #d46b5a; }
.band-text { font-size: 11px; pointer-events: none; }
.tick { stroke: #c6cbd3; } .tick-text { font-size: 10px; fill: var(--muted); }
#info { position: sticky; bottom: 0; z-index: 4; background: #fffef5; border-top: 2px solid #e9d98c; padding: 6px 16px; min-height: 64px;
        display: grid; grid-template-columns: minmax(380px, 1fr) 2fr; gap: 4px 24px; }
#info .k { color: var(--muted); }
#info table { border-collapse: collapse; }
#info td { padding: 0 8px 0 0; vertical-align: top; }
#legend { padding: 4px 16px; color: var(--muted); font-size: 11px; }
#zoom button { font: inherit; font-size: 11px; margin-right: 4px; padding: 0 6px; cursor: pointer; }
#legend svg.sw { margin: 0 3px 0 10px; vertical-align: -1px; }
table.trace { border-collapse: collapse; margin: 0 16px 24px; }
table.trace td, table.trace th { padding: 1px 8px; border-bottom: 1px solid #eef0f3; text-align: left; white-space: nowrap; }
table.trace tr.fatal { background: #fde7e5; font-weight: 600; }
table.trace tr.sel { outline: 2px solid #111; }
table.trace td.m { color: var(--fatal); font-weight: 700; }
pre { margin: 0 16px; padding: 8px; background: #fff; border: 1px solid var(--line); overflow-x: auto; }
details { margin: 0 0 8px; }
summary { cursor: pointer; margin: 14px 16px 6px; font-weight: 600; }
"""

JS = r"""
"use strict";
const D = JSON.parse(document.getElementById("trace-data").textContent);
const SVGNS = "http://www.w3.org/2000/svg";
const N = D.steps.length;
const LABEL_W = 270, AXIS_H = 22, BAND_H = 30, PAD = 140; // PAD: room for the last cell's tag
// Lanes share ~60% of the window's height, each 22..34 px: a dozen fit as they are, forty scroll with the page.
const ROW_H = Math.max(22, Math.min(34, Math.floor(window.innerHeight * 0.6 / Math.max(D.lanes.length, 1))));
// One column per trace event on a shared axis: as wide as the window allows, within 14..120 px.
// The zoom buttons change it; the page opens with the fatal pair in view (narrower columns if it must).
const AVAIL = Math.max(200, window.innerWidth - LABEL_W - 24);
let W = Math.max(14, Math.min(120, Math.floor(AVAIL / Math.max(N, 1))));
const lanes = D.lanes;
const fail = D.failure;
const pair = fail && fail.fatal_pair ? fail.fatal_pair : null;
function el(tag, attrs, parent, ns) {
  const e = ns ? document.createElementNS(SVGNS, tag) : document.createElement(tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function txt(tag, text, attrs, parent, ns) { const e = el(tag, attrs || {}, parent, ns); e.textContent = text; return e; }
function clip(s, px) { const n = Math.max(0, Math.floor(px / 6.4)); return s.length <= n ? s : (n > 1 ? s.slice(0, n - 1) + "\u2026" : ""); }
const laneY = l => AXIS_H + BAND_H + l * ROW_H;
const H = laneY(lanes.length) + 4;

// Which events are the fatal pair (or, without one, the failure's own event).
const role = {};
if (pair) {
  if (pair.access && pair.access.trace_event >= 0) role[pair.access.trace_event] = "access";
  if (pair.teardown && pair.teardown.trace_event >= 0)
    role[pair.teardown.trace_event] = role[pair.teardown.trace_event] ? "both" : "teardown";
} else if (fail && fail.event >= 0) role[fail.event] = "failure";

// ---- header
const hd = document.getElementById("head");
txt("h1", "teardown-fuzz timeline: " + D.target + " / " + D.variant, {}, hd);
txt("div", "input " + D.input + " \u00b7 " + N + " trace events \u00b7 " + D.result.steps + " steps \u00b7 " +
    lanes.length + " model threads", {class: "meta"}, hd);
if (fail) {
  const code = fail.code ? fail.code + " " : "";
  txt("div", "==TDF== " + fail.class + " " + code + fail.name + " " + fail.where + " step=" + fail.step +
      " thread=" + (fail.lane >= 0 ? lanes[fail.lane].label : "main"), {class: "headline fail mono", id: "headline"}, hd);
  txt("div", "SIGNATURE " + fail.signature, {class: "sig"}, hd);
  txt("div", "DETAIL " + fail.detail, {class: "mono"}, hd);
  if (pair) {
    const p = el("div", {class: "pair", id: "pair-summary"}, hd);
    if (pair.object && pair.object.text) { txt("b", "object", {}, p); txt("span", pair.object.text, {class: "mono"}, p); }
    for (const side of ["teardown", "access"]) {
      const s = pair[side];
      txt("b", side === "access" ? "faulting access" : "teardown step", {}, p);
      if (!s) { txt("span", "none: this failure's key names no teardown step (docs/REPORTS.md)", {class: "meta"}, p); continue; }
      const lane = s.lane >= 0 ? lanes[s.lane].label : "main";
      txt("span", (s.what ? s.what + " " : "") + "at step " + s.step + " on " + lane + (s.frame ? " in " + s.frame : "") +
          (s.trace_event < 0 ? " (not in the trace)" : ""), {class: "mono"}, p);
    }
    /* A lock cycle's object is the lock; without one the text is who waits for whom (model/kernel/wait_graph.c). */
    if (pair.lock_cycle) { txt("b", pair.object ? "lock cycle" : "who waits for whom", {}, p); txt("span", pair.lock_cycle, {class: "mono"}, p); }
  }
} else {
  txt("div", "no failure: the run ended cleanly (" + D.result.class + ")", {class: "headline ok", id: "headline"}, hd);
}

// ---- the timeline: labels (sticky) and the tracks (SVG)
const canvas = document.getElementById("canvas");
canvas.style.height = H + "px";
const labels = document.getElementById("labels");
labels.style.height = H + "px";
txt("div", "step", {class: "row-label", style: "top:0;height:" + AXIS_H + "px;padding-top:3px"}, labels);
txt("div", "input events", {class: "row-label", style: "top:" + AXIS_H + "px;height:" + BAND_H + "px"}, labels);
lanes.forEach((L, l) => {
  const d = el("div", {class: "lane-label", id: "lane-label-" + l, "data-lane": l, "data-fiber": L.fiber,
                        style: "top:" + laneY(l) + "px;height:" + ROW_H + "px",
                        title: L.label + "\nrole: " + L.role + (L.device ? "\ncreated for: " + L.device : "") +
                               "\nat the end: " + L.end_state + (L.waiting_on ? " on " + L.waiting_on : "") +
                               (L.stack ? "\nstack: " + L.stack : "")}, labels);
  if (ROW_H >= 30) d.classList.add("tall"); // the driver/role line under the name, else beside it
  txt("span", L.name, {class: "n"}, d);
  d.appendChild(document.createTextNode(" "));
  txt("span", L.driver + " \u00b7 " + L.role + (L.input_event >= 0 ? " of input event #" + L.input_event : "") +
      (L.device ? (L.input_event >= 0 ? " \u00b7 to " : " \u00b7 for ") + L.device : ""), {class: "r"}, d);
  if (Object.keys(role).some(i => D.steps[i].lane === l)) d.classList.add("has-fatal");
});
const svg = el("svg", {id: "tracks", height: H, style: "left:" + LABEL_W + "px"}, canvas, true);
let cells = [], selected = -1;
// Draws the tracks at the current column width W (again at every zoom).
function draw() {
  svg.textContent = "";
  cells = [];
  canvas.style.width = (LABEL_W + N * W + PAD) + "px";
  svg.setAttribute("width", N * W + PAD);
  const defs = el("defs", {}, svg, true);
  const mk = el("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
                           orient: "auto-start-reverse"}, defs, true);
  el("path", {d: "M0,0 L10,5 L0,10 z", fill: "#d92d20"}, mk, true);
  lanes.forEach((L, l) => el("rect", {class: "lane-bg" + (l % 2 ? " odd" : ""), x: 0, y: laneY(l), width: N * W + PAD,
                                      height: ROW_H}, svg, true));
  // axis: the step number every ~90 px
  const every = Math.max(1, Math.ceil(90 / W));
  for (let i = 0; i < N; i += every) {
    el("line", {class: "tick", x1: i * W, x2: i * W, y1: AXIS_H - 6, y2: H}, svg, true);
    txt("text", String(D.steps[i].step), {class: "tick-text", x: i * W + 2, y: AXIS_H - 8}, svg, true);
  }
  // input events band
  const bandY = AXIS_H + 3, bandH = BAND_H - 6;
  D.input_events.forEach(ev => {
    if (!ev.reached) return;
    const x = ev.first * W, w = Math.max(W, (ev.last - ev.first + 1) * W);
    const r = el("rect", {class: "band" + (ev.skipped ? " skipped" : ""), id: "input-event-" + ev.index,
                          "data-index": ev.index, x: x + 1, y: bandY, width: Math.max(1, w - 2), height: bandH, rx: 3}, svg, true);
    txt("title", "input event #" + ev.index + ": " + ev.name + " " + ev.arg + "\n" + ev.text + "\nsteps from " + ev.step,
        {}, r, true);
    r.addEventListener("click", () => select(ev.first, true));
    txt("text", clip("#" + ev.index + " " + ev.name + " " + ev.arg + (ev.skipped ? " (skipped)" : ""), w - 6),
        {class: "band-text", x: x + 4, y: bandY + bandH / 2 + 4}, svg, true);
  });
  if (D.shutdown >= 0) {
    const x = D.shutdown * W, w = Math.max(W, (N - D.shutdown) * W);
    const r = el("rect", {class: "band shutdown", id: "input-event-shutdown", x: x + 1, y: bandY, width: Math.max(1, w - 2),
                          height: bandH, rx: 3}, svg, true);
    txt("title", "end of the input's events: the system removes every device (orderly, no veto)", {}, r, true);
    txt("text", clip("end of events: remove every device", w - 6), {class: "band-text", x: x + 4, y: bandY + bandH / 2 + 4},
        svg, true);
  }
  // the events, one cell each
  D.steps.forEach(s => {
    const x = s.i * W, y = laneY(s.lane);
    const r = el("rect", {class: "ev k-" + s.kind, id: "ev-" + s.i, "data-i": s.i, "data-step": s.step, "data-lane": s.lane,
                          x: x + (W >= 6 ? 1 : 0), y: y + 5, width: Math.max(1, W >= 6 ? W - 2 : W - 0.3), height: ROW_H - 10, rx: 2}, svg, true);
    txt("title", "step " + s.step + " \u00b7 " + lanes[s.lane].label + "\n" + s.text + (s.object ? "\nobject: " + s.object : "") +
        (s.owner ? "\nowner: " + s.owner : "") + (s.state ? "\nstate: " + s.state : ""), {}, r, true);
    if (W >= 40) txt("text", clip(s.op, W - 6), {class: "ev-text", x: x + 4, y: y + ROW_H / 2 + 4}, svg, true);
    r.addEventListener("mouseenter", () => show(s.i));
    r.addEventListener("click", () => select(s.i, false));
    cells.push(r);
  });
  // the fatal pair: both cells marked, joined by an arrow from the teardown step to the access
  function center(i) { return [i * W + W / 2, laneY(D.steps[i].lane) + ROW_H / 2]; }
  for (const i in role) {
    const r = cells[i];
    r.classList.add("fatal-cell");
    if (role[i] === "access" || role[i] === "both") r.id = "fatal-access";
    else if (role[i] === "teardown") r.id = "fatal-teardown";
    else r.id = "failure-event";
    const [cx, cy] = center(+i);
    txt("text", role[i] === "both" ? "teardown+access" : role[i], {class: "fatal-tag", x: cx + 4, y: cy - ROW_H / 2 + 1}, svg, true);
  }
  if (pair && pair.access && pair.teardown && pair.access.trace_event >= 0 && pair.teardown.trace_event >= 0 &&
      pair.access.trace_event !== pair.teardown.trace_event) {
    const from = pair.teardown.trace_event, to = pair.access.trace_event;
    const [x1, y1] = center(from), [x2, y2] = center(to);
    const bend = Math.max(24, Math.abs(x2 - x1) / 3);
    const link = el("path", {id: "fatal-link", "marker-end": "url(#arrow)", "data-from": from, "data-to": to,
                             d: "M" + x1 + "," + y1 + " C" + (x1 + bend) + "," + (y1 - 0) + " " + (x2 - bend) + "," + y2 +
                                " " + (x2 - 4) + "," + y2}, svg, true);
    txt("title", "fatal pair: the teardown step at " + pair.teardown.step + " and the access at " + pair.access.step, {}, link, true);
  }
  if (selected >= 0) cells[selected].classList.add("sel");
}
const unreached = D.input_events.filter(e => !e.reached);
if (unreached.length)
  txt("div", "not reached (the run stopped first): " + unreached.map(e => "#" + e.index + " " + e.name + " " + e.arg).join(", "),
      {class: "meta", id: "unreached"}, document.getElementById("head"));
// ---- legend
const leg = document.getElementById("legend");
leg.appendChild(document.createTextNode("kinds:"));
[...new Set(D.steps.map(s => s.kind))].sort().forEach(k => {
  const sw = el("svg", {class: "sw", width: 10, height: 10}, leg, true); // the swatch takes the kind's CSS fill
  el("rect", {class: "k-" + k, width: 10, height: 10, rx: 2}, sw, true);
  leg.appendChild(document.createTextNode(k));
});

// ---- details of one event (hover), and the world the trace had built by then
const info = document.getElementById("info");
function show(i) {
  const s = D.steps[i];
  info.textContent = "";
  const left = el("div", {}, info), right = el("div", {}, info);
  const t = el("table", {}, left);
  const row = (k, v) => { if (v === null || v === undefined || v === "") return; const tr = el("tr", {}, t);
                          txt("td", k, {class: "k"}, tr); txt("td", String(v), {class: "mono"}, tr); };
  row("event", "#" + s.i + " at step " + s.step + (role[i] ? " \u2014 fatal pair: " + role[i] : ""));
  row("thread", lanes[s.lane].label);
  row("operation", s.op + "  (" + s.kind + ")");
  row("text", s.text);
  row("object", s.object);
  row("owner", s.owner);
  row("state", s.state);
  const w = D.worlds[s.world];
  if (w) {
    const wt = el("table", {}, right);
    const wr = (k, v) => { const tr = el("tr", {}, wt); txt("td", k, {class: "k"}, tr); txt("td", v, {class: "mono"}, tr); };
    w.devices.forEach(d => wr(d.name, "PnP " + d.pnp + ", power " + (d.power || "?") + " (since step " + d.since + ")"));
    w.images.forEach(m => wr("image " + m.name, m.state));
    w.rundowns.forEach(r => wr("rundown" + (r.owner ? " of " + r.owner : ""), r.state || "?"));
  }
}
// ---- the trace as a table (the text trace, with the pair marked)
const tb = document.getElementById("trace-body");
const rows = [];
D.steps.forEach(s => {
  const tr = el("tr", {id: "row-" + s.i, class: role[s.i] ? "fatal" : ""}, tb);
  txt("td", role[s.i] ? ">>" : "", {class: "m"}, tr);
  txt("td", String(s.step), {}, tr);
  txt("td", lanes[s.lane].label, {}, tr);
  txt("td", s.text, {class: "mono"}, tr);
  txt("td", s.state || "", {class: "mono"}, tr);
  tr.addEventListener("click", () => select(s.i, true));
  rows.push(tr);
});
const scroller = document.getElementById("scroller");
function select(i, scroll) {
  if (selected >= 0) { cells[selected].classList.remove("sel"); rows[selected].classList.remove("sel"); }
  selected = i;
  cells[i].classList.add("sel"); rows[i].classList.add("sel");
  show(i);
  if (scroll) scroller.scrollLeft = Math.max(0, i * W - (scroller.clientWidth - LABEL_W) / 2);
  else rows[i].scrollIntoView({block: "nearest"});
}
// Start at the failure: the fatal pair (or the failing event) in view, its access shown.
const focus = Object.keys(role).map(Number);
const lo = focus.length ? Math.min(...focus) : 0, hi = focus.length ? Math.max(...focus) : N - 1;
function centreOn(a, b) { scroller.scrollLeft = Math.max(0, ((a + b + 1) / 2) * W - (scroller.clientWidth - LABEL_W) / 2); }
function zoom(w, a, b) { W = Math.max(1, Math.min(160, w)); draw(); centreOn(a, b); }
// A pair wider than the window: columns narrow enough to show both ends, with a little room around.
if (focus.length && (hi - lo + 16) * W > AVAIL) W = Math.max(1, AVAIL / (hi - lo + 16));
draw();
const zb = document.getElementById("zoom");
const mid = () => { const c = (scroller.scrollLeft + (scroller.clientWidth - LABEL_W) / 2) / W; return [c, c]; };
[["\u2212", "narrower columns", () => zoom(W / 1.6, ...mid())],
 ["+", "wider columns", () => zoom(W * 1.6, ...mid())],
 ["fatal pair", "fit the fatal pair (or the failing event) in the window", () => zoom(Math.min(120, AVAIL / (hi - lo + 16)), lo, hi)],
 ["whole run", "fit the whole run in the window", () => zoom(AVAIL / Math.max(N, 1), 0, N - 1)]].forEach(([t, h, f]) => {
  const b = txt("button", t, {type: "button", title: h}, zb);
  b.addEventListener("click", f);
});
if (focus.length) {
  centreOn(lo, hi);
  show(pair && pair.access && pair.access.trace_event >= 0 ? pair.access.trace_event : focus[0]);
} else if (N) {
  show(N - 1);
  scroller.scrollLeft = scroller.scrollWidth;
}
document.getElementById("input-text").textContent = D.input_text;
document.body.setAttribute("data-rendered", "1");
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header id="head"></header>
<noscript><p>This page draws the timeline with its inline script; the trace is in the JSON below.</p></noscript>
<div id="legend"><span id="zoom"></span> </div>
<div id="scroller"><div id="canvas"><div id="labels"></div></div></div>
<div id="info"></div>
<details><summary>input (text form, docs/INPUT.md)</summary><pre id="input-text"></pre></details>
<details open><summary>trace (one row per event; &gt;&gt; marks the fatal pair)</summary>
<table class="trace"><thead><tr><th></th><th>step</th><th>thread</th><th>event</th><th>state</th></tr></thead>
<tbody id="trace-body"></tbody></table></details>
<script type="application/json" id="trace-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""


def fail(msg):
    print("trace_html.py: " + msg, file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(USAGE)
        return 0
    if len(argv) != 3:
        fail("expected TRACE_JSON and OUT_HTML\n" + USAGE)
    src, out = argv[1], argv[2]
    try:
        with open(src, "rb") as f:
            trace = json.loads(f.read().decode("utf-8"))
    except OSError as e:
        fail("cannot read %s: %s" % (src, e.strerror))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail("%s is not valid JSON: %s" % (src, e))
    if not isinstance(trace, dict) or trace.get("schema") != "teardown-fuzz-trace/1":
        fail("%s is not a teardown-fuzz trace (schema teardown-fuzz-trace/1, the runner's --trace_json)" % src)
    for key in ("lanes", "steps", "input_events", "worlds"):
        if not isinstance(trace.get(key), list):
            fail("%s has no '%s' list" % (src, key))
    f = trace.get("failure")
    title = "teardown-fuzz %s/%s: %s" % (trace.get("target"), trace.get("variant"),
                                          f["signature"] if f else "no failure")
    # The JSON goes into a <script> element: every '<' escaped, so no '</script>' or '<!--' can end it.
    data = json.dumps(trace, ensure_ascii=True, separators=(",", ":")).replace("<", "\\u003c")
    esc = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    page = PAGE.format(title=esc, css=CSS, js=JS, data=data)
    tmp = out + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as o:
            o.write(page)
        os.replace(tmp, out)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        fail("cannot write %s: %s" % (out, e.strerror))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
