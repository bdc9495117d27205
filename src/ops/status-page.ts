/**
 * The status page: one self-contained HTML document (no build step, no external resources) that
 * polls /status.json every second and draws live charts of records/s, p99 latency, WAL backlog
 * shipping lag and stream lag on canvases, with the health checks beside them.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:16px;background:#fafafa;color:#222}
h1{font-size:20px;margin:0 0 4px} .sub{color:#666;margin-bottom:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}
.card h2{font-size:13px;margin:0 0 6px;color:#555;font-weight:600}
.value{font-size:22px;font-weight:600} canvas{width:100%;height:140px;display:block}
table{border-collapse:collapse;width:100%} td{padding:3px 6px;border-bottom:1px solid #eee;vertical-align:top}
.ok{color:#1a7f37;font-weight:600} .bad{color:#cf222e;font-weight:600} #error{color:#cf222e}
</style></head><body>
<h1>Sluice <span id="health" class="bad">…</span></h1>
<div class="sub">version <span id="version">?</span> · <span id="shards">?</span> HTTP thread(s) · WAL instance(s) <span id="instance">?</span> · updated <span id="updated">never</span> <span id="error"></span></div>
<div class="grid">
<div class="card"><h2>Records stored per second (one per tracker request; split batches count each part)</h2><div class="value" id="rate">–</div><canvas id="c-rate"></canvas></div>
<div class="card"><h2>Request to acknowledgement, p99 (ms, last 10–20 s)</h2><div class="value" id="p99">–</div><canvas id="c-p99"></canvas></div>
<div class="card"><h2>WAL backlog (MiB not yet shipped)</h2><div class="value" id="backlog">–</div><canvas id="c-backlog"></canvas></div>
<div class="card"><h2>Shipping lag (s, age of the oldest event not in S3)</h2><div class="value" id="lag">–</div><canvas id="c-lag"></canvas></div>
<div class="card"><h2>Stream lag (s, age of the oldest event on disk not yet in the stream)</h2><div class="value" id="slag">–</div><canvas id="c-slag"></canvas></div>
<div class="card"><h2>Health checks</h2><table id="checks"></table></div>
<div class="card"><h2>Totals</h2><table>
<tr><td>acknowledged requests</td><td id="t-ack">–</td></tr>
<tr><td>good / bad records</td><td id="t-records">–</td></tr>
<tr><td>latency p50 / p90 / p99.9 / max (ms)</td><td id="t-lat">–</td></tr>
<tr><td>sealed segments waiting</td><td id="t-sealed">–</td></tr>
<tr><td>segments shipped / upload retries</td><td id="t-shipped">–</td></tr>
<tr><td>last shipping error</td><td id="t-err">–</td></tr>
<tr><td>stream records put / last stream error</td><td id="t-stream">–</td></tr>
<tr><td>free disk (GiB)</td><td id="t-free">–</td></tr>
<tr><td>RSS (MiB) / event-loop delay (ms)</td><td id="t-proc">–</td></tr>
</table></div>
</div>
<script>
"use strict";
const KEEP = 300;
const series = { rate: [], p99: [], backlog: [], lag: [], slag: [] };
let prev = null;
const $ = (id) => document.getElementById(id);
const fmt = (v, d) => (v === null || v === undefined || !isFinite(v)) ? "–" : Number(v).toFixed(d);
function push(name, t, v) { const s = series[name]; s.push([t, v]); if (s.length > KEEP) s.shift(); }
function draw(name, color) {
  const c = $("c-" + name), dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  c.width = w * dpr; c.height = h * dpr;
  const g = c.getContext("2d"); g.scale(dpr, dpr); g.clearRect(0, 0, w, h);
  const pts = series[name].filter((p) => p[1] !== null && isFinite(p[1]));
  const left = 48, bottom = h - 16;
  g.strokeStyle = "#ccc"; g.beginPath(); g.moveTo(left, 4); g.lineTo(left, bottom); g.lineTo(w - 4, bottom); g.stroke();
  g.fillStyle = "#666"; g.font = "11px system-ui";
  if (pts.length === 0) { g.fillText("no data yet", left + 8, bottom / 2); return; }
  const t1 = pts[pts.length - 1][0], t0 = Math.min(pts[0][0], t1 - 60000);
  const max = Math.max(1e-9, ...pts.map((p) => p[1])) * 1.1;
  g.fillText(fmt(max, max < 10 ? 2 : 0), 2, 12); g.fillText("0", 2, bottom);
  g.fillText(Math.round((t1 - t0) / 1000) + " s", w - 40, h - 3);
  g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
  pts.forEach((p, i) => {
    const x = left + (w - 4 - left) * (p[0] - t0) / Math.max(1, t1 - t0);
    const y = bottom - (bottom - 4) * p[1] / max;
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
}
function render(s) {
  const t = s.at;
  const rate = prev === null || t <= prev.at ? null : (s.goodRecords + s.badRecords - prev.goodRecords - prev.badRecords) * 1000 / (t - prev.at);
  prev = s;
  push("rate", t, rate); push("p99", t, s.latencyMs.p99);
  push("backlog", t, s.walBacklogBytes / 1048576); push("lag", t, s.shippingLagMs === null ? null : s.shippingLagMs / 1000);
  push("slag", t, s.streamLagMs === null ? null : s.streamLagMs / 1000);
  $("slag").textContent = s.streamLagMs === null ? "stream sink off" : fmt(s.streamLagMs / 1000, 1);
  $("t-stream").textContent = s.streamRecordsPut === null ? "stream sink off" : s.streamRecordsPut + " / " + (s.streamLastError || "none");
  $("rate").textContent = fmt(rate, 0); $("p99").textContent = fmt(s.latencyMs.p99, 2);
  $("backlog").textContent = fmt(s.walBacklogBytes / 1048576, 1); $("lag").textContent = s.shippingLagMs === null ? "shipping off" : fmt(s.shippingLagMs / 1000, 1);
  $("health").textContent = s.healthy ? "healthy" : "unhealthy"; $("health").className = s.healthy ? "ok" : "bad";
  $("version").textContent = s.version; $("instance").textContent = s.instanceId; $("shards").textContent = s.shards;
  $("updated").textContent = new Date(t).toISOString(); $("error").textContent = "";
  const rows = s.health.map((c) => "<tr><td>" + c.name + "</td><td class=" + (c.ok ? "ok" : "bad") + ">" + (c.ok ? "ok" : "failing") + "</td><td></td></tr>");
  $("checks").innerHTML = rows.join("");
  Array.from($("checks").rows).forEach((r, i) => { r.cells[2].textContent = s.health[i].detail; });
  $("t-ack").textContent = s.acknowledged; $("t-records").textContent = s.goodRecords + " / " + s.badRecords;
  $("t-lat").textContent = [s.latencyMs.p50, s.latencyMs.p90, s.latencyMs.p999, s.latencyMs.max].map((v) => fmt(v, 2)).join(" / ");
  $("t-sealed").textContent = s.sealedSegments; $("t-shipped").textContent = s.segmentsShipped + " / " + s.shipRetries;
  $("t-err").textContent = s.shipLastError || "none"; $("t-free").textContent = s.freeDiskBytes === null ? "–" : fmt(s.freeDiskBytes / 1073741824, 1);
  $("t-proc").textContent = fmt(s.rssBytes / 1048576, 0) + " / " + fmt(s.eventLoopDelayMs, 1);
  draw("rate", "#0969da"); draw("p99", "#bf8700"); draw("backlog", "#8250df"); draw("lag", "#cf222e"); draw("slag", "#1a7f37");
}
async function poll() {
  try {
    const r = await fetch("status.json", { cache: "no-store" });
    if (!r.ok) throw new Error("status.json answered " + r.status);
    render(await r.json());
  } catch (e) { $("error").textContent = "(" + e.message + ")"; }
  setTimeout(poll, 1000);
}
poll();
</script></body></html>
`;
