/**
 * The scripts that run in the browser, inlined into the page after uPlot. Plain ES2017 in a
 * string: the page has no build step and no network. They read the page's data from
 * <script id="kc-data" type="application/json"> and leave every chart in window.kcCharts.
 * Fault windows are drawn as DOM elements over each timeline (class fault-band, or
 * fault-instant for a crash at a fixed point; crash-marker for a worker crash), each with its
 * data-fault, data-target, data-start-ms and data-end-ms, so they can be inspected and tested.
 */

const COMMON = String.raw`
var data = JSON.parse(document.getElementById("kc-data").textContent);
window.kcCharts = [];
var PALETTE = ["#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];
function widthOf(el) { return Math.max(360, el.clientWidth || 900); }
function fmt(v) { return v == null ? "—" : String(Math.round(v * 10) / 10); }
`;

export const RUN_CLIENT = String.raw`(function () {
"use strict";
${COMMON}
var t = data.timeline;
var xs = t.startMs.map(function (ms) { return ms / 1000; });
var endS = Math.max(data.durationMs, t.startMs[t.startMs.length - 1] + t.bucketMs) / 1000;
var bucketS = t.bucketMs / 1000;
var familyColor = {};
function colorOf(label) {
  var family = label.replace(/#\d+$/, "");
  if (!(family in familyColor)) familyColor[family] = PALETTE[Object.keys(familyColor).length % PALETTE.length];
  return familyColor[family];
}
function secs(ms) { return (ms / 1000).toFixed(1) + " s"; }
function placeMarks(u) {
  var layer = u.over.querySelector(".kc-marks");
  if (!layer) {
    layer = document.createElement("div");
    layer.className = "kc-marks";
    u.over.appendChild(layer);
  }
  layer.textContent = "";
  data.faults.forEach(function (f, i) {
    var instant = f.endMs !== null && f.endMs === f.startMs;
    var end = f.endMs === null ? data.durationMs : f.endMs;
    var left = u.valToPos(f.startMs / 1000, "x");
    var right = u.valToPos(end / 1000, "x");
    var el = document.createElement("div");
    el.className = instant ? "fault-instant" : "fault-band";
    el.style.left = left + "px";
    el.style.width = Math.max(instant ? 2 : 1, right - left) + "px";
    el.style.setProperty("--c", colorOf(f.type));
    el.dataset.fault = f.type;
    el.dataset.target = f.target;
    el.dataset.startMs = String(f.startMs);
    el.dataset.endMs = f.endMs === null ? "" : String(f.endMs);
    el.title = f.type + " on " + f.target + ": " + secs(f.startMs) + " to " + (f.endMs === null ? "the end (never stopped)" : secs(f.endMs));
    var label = document.createElement("span");
    label.className = "mark-label";
    label.style.top = (2 + (i % 4) * 14) + "px";
    label.textContent = f.type + " → " + f.target;
    el.appendChild(label);
    layer.appendChild(el);
  });
  data.crashes.forEach(function (c) {
    var el = document.createElement("div");
    el.className = "crash-marker";
    el.style.left = u.valToPos(c.time / 1000, "x") + "px";
    el.dataset.worker = c.worker;
    el.dataset.timeMs = String(c.time);
    el.title = "worker " + c.worker + " crashed" + (c.point ? " at " + c.point : "") + " (" + secs(c.time) + ")";
    var label = document.createElement("span");
    label.className = "mark-label";
    label.textContent = "✕ " + c.worker;
    el.appendChild(label);
    layer.appendChild(el);
  });
}
function chart(id, title, series, columns, scales, axes) {
  var el = document.getElementById(id);
  if (!el) return null;
  var opts = {
    title: title,
    width: widthOf(el),
    height: 260,
    cursor: { sync: { key: "kc-timeline" } },
    scales: Object.assign({ x: { time: false, range: function () { return [0, endS]; } } }, scales),
    // Every timeline has a right axis of the same width, so their time axes line up.
    axes: [{ label: "seconds since the start" }].concat(axes.length > 1 ? axes : axes.concat([{ side: 1, size: 60, label: "", values: function () { return []; }, grid: { show: false }, ticks: { show: false } }])),
    series: [{ label: "t (s)", value: function (u, v) { return v == null ? "—" : v.toFixed(1); } }].concat(series),
    plugins: [{ hooks: { draw: [placeMarks] } }],
  };
  var u = new uPlot(opts, [xs].concat(columns), el);
  window.kcCharts.push(u);
  return u;
}
var bars = uPlot.paths.bars({ size: [1, Infinity], align: 1, gap: 0 });
// Stacked bars: each series is drawn up to its cumulative total, tallest first.
var okFail = t.ok.map(function (v, i) { return v + t.fail[i]; });
var total = okFail.map(function (v, i) { return v + t.unknown[i]; });
function raw(list) { return function (u, v, si, di) { return di == null ? "—" : String(list[di]); }; }
chart("chart-sends", "Send outcomes (messages per " + bucketS + " s, stacked)", [
  { label: "unknown", stroke: "#7f7f7f", fill: "#bdbdbd", paths: bars, points: { show: false }, value: raw(t.unknown) },
  { label: "fail", stroke: "#d62728", fill: "#f4a3a3", paths: bars, points: { show: false }, value: raw(t.fail) },
  { label: "ok", stroke: "#2ca02c", fill: "#98df8a", paths: bars, points: { show: false }, value: raw(t.ok) },
], [total, okFail, t.ok], { y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } }, [{ label: "messages", size: 60 }]);
chart("chart-latency", "Produce latency per batch, invoke → outcome (ms, log scale)", [
  { label: "p50", stroke: "#1f77b4", width: 2, value: function (u, v) { return fmt(v); } },
  { label: "p99", stroke: "#ff7f0e", width: 2, value: function (u, v) { return fmt(v); } },
], [t.p50Ms, t.p99Ms], { y: { distr: 3 } }, [{ label: "ms", size: 60 }]);
if (t.processed) {
  chart("chart-processor", "Processor: input records processed per " + bucketS + " s, and backlog (acked − processed)", [
    { label: "processed", stroke: "#1f77b4", fill: "rgba(31,119,180,0.15)", paths: bars, points: { show: false } },
    { label: "backlog", stroke: "#9467bd", width: 2, scale: "backlog" },
  ], [t.processed, t.backlog], { y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } }, backlog: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
  [{ label: "records", size: 60 }, { side: 1, size: 60, scale: "backlog", label: "backlog", grid: { show: false } }]);
}
document.body.dataset.chartsReady = "true";
})();`;

export const COMPARE_CLIENT = String.raw`(function () {
"use strict";
${COMMON}
var names = data.rows.map(function (r) { return r.profile; });
function barChart(id, title, yLabel, groups) {
  var el = document.getElementById(id);
  var k = groups.length;
  var w = 0.8 / k;
  var xs = [];
  var cols = groups.map(function () { return []; });
  names.forEach(function (_, i) {
    groups.forEach(function (g, j) {
      xs.push(i - 0.4 + w * (j + 0.5));
      groups.forEach(function (g2, j2) { cols[j2].push(j2 === j ? g.values[i] : null); });
    });
  });
  var bars = uPlot.paths.bars({ size: [0.9, 120] });
  var u = new uPlot({
    title: title,
    width: widthOf(el),
    height: 240,
    scales: {
      x: { time: false, range: function () { return [-0.5, names.length - 0.5]; } },
      y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } },
    },
    axes: [
      { splits: function () { return names.map(function (_, i) { return i; }); }, values: function (u, splits) { return splits.map(function (i) { return names[i] || ""; }); }, grid: { show: false } },
      { label: yLabel },
    ],
    series: [{ label: "profile", value: function (u, v) { return v == null ? "—" : names[Math.round(v)] || ""; } }].concat(groups.map(function (g) {
      return { label: g.label, stroke: g.color, fill: g.color + "99", paths: bars, points: { show: false }, value: function (u, v) { return fmt(v); } };
    })),
  }, [xs].concat(cols), el);
  window.kcCharts.push(u);
}
function column(key) { return data.rows.map(function (r) { return r[key]; }); }
barChart("chart-throughput", "Throughput (messages/s)", "msg/s", [{ label: "msg/s", color: "#1f77b4", values: column("throughput") }]);
barChart("chart-latency", "Produce latency per batch (ms)", "ms", [
  { label: "p50", color: "#1f77b4", values: column("p50Ms") },
  { label: "p99", color: "#ff7f0e", values: column("p99Ms") },
]);
barChart("chart-anomalies", "Anomalies end to end (messages)", "messages", [
  { label: "lost", color: "#d62728", values: column("lost") },
  { label: "duplicated", color: "#9467bd", values: column("duplicated") },
]);
document.body.dataset.chartsReady = "true";
})();`;
