/**
 * The status page: one self-contained HTML document (no build step, no external resources). Its
 * charts (records/s, p99 latency, non-2xx answers, WAL backlog, shipping and stream lag) start
 * from the server's history of the last minutes (/status/history.json) and take the newer
 * samples every second; the tables come from /status.json. Time axes are labelled in UTC.
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
.legend{font-size:11px;color:#555}
.ok{color:#1a7f37;font-weight:600} .bad{color:#cf222e;font-weight:600} #error{color:#cf222e}
</style></head><body>
<h1>Sluice <span id="health" class="bad">…</span></h1>
<div class="sub">version <span id="version">?</span> · <span id="shards">?</span> HTTP thread(s) · WAL instance(s) <span id="instance">?</span> · updated <span id="updated">never</span> <span id="error"></span></div>
<div class="grid">
<div class="card"><h2>Records stored per second (one per tracker request; split batches count each part)</h2><div class="value" id="rate">–</div><canvas id="c-rate"></canvas></div>
<div class="card"><h2>Request to acknowledgement, p99 (ms, last 10–20 s)</h2><div class="value" id="p99">–</div><canvas id="c-p99"></canvas></div>
<div class="card"><h2>Non-2xx answers per second (408 timeout, 413 too large, 503 cannot store, other 4xx/5xx)</h2><div class="value" id="non2xx">–</div><canvas id="c-non2xx"></canvas><div class="legend"><span style="color:#bf8700">■ 408</span> <span style="color:#8250df">■ 413</span> <span style="color:#cf222e">■ 503</span> <span style="color:#57606a">■ other</span></div></div>
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
<tr><td>answers 408 / 413 / 503 / other errors, since start</td><td id="t-errors">–</td></tr>
<tr><td>free disk (GiB)</td><td id="t-free">–</td></tr>
<tr><td>RSS (MiB) / event-loop delay (ms)</td><td id="t-proc">–</td></tr>
</table></div>
</div>
<script>
"use strict";
// Samples come from the server (one per second, its last minutes); the page keeps what it got.
let KEEP = 300;
let samples = [];
const $ = (id) => document.getElementById(id);
const fmt = (v, d) => (v === null || v === undefined || !isFinite(v)) ? "–" : Number(v).toFixed(d);
const clock = (t) => new Date(t).toISOString().slice(11, 19);
// lines: [[label, color, value(sample)]]; unit: the y axis' label.
function draw(id, unit, lines) {
  const c = $("c-" + id), dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  c.width = w * dpr; c.height = h * dpr;
  const g = c.getContext("2d"); g.scale(dpr, dpr); g.clearRect(0, 0, w, h);
  const left = 48, bottom = h - 18, right = w - 6;
  g.strokeStyle = "#ccc"; g.beginPath(); g.moveTo(left, 4); g.lineTo(left, bottom); g.lineTo(right, bottom); g.stroke();
  g.fillStyle = "#666"; g.font = "11px system-ui";
  const pts = samples.filter((s) => lines.some((l) => { const v = l[2](s); return v !== null && isFinite(v); }));
  if (pts.length === 0) { g.fillText("no data yet", left + 8, bottom / 2); return; }
  const t1 = pts[pts.length - 1].at, t0 = Math.min(pts[0].at, t1 - 60000);
  let max = 1e-9;
  for (const s of pts) for (const l of lines) { const v = l[2](s); if (v !== null && isFinite(v) && v > max) max = v; }
  max *= 1.1;
  g.fillText(fmt(max, max < 10 ? 2 : 0), 2, 12); g.fillText("0", 2, bottom); g.fillText(unit, 2, bottom / 2 + 4);
  // Time axis: start, middle and end in UTC, and the span.
  for (const [t, align] of [[t0, "left"], [(t0 + t1) / 2, "center"], [t1, "right"]]) {
    g.textAlign = align; g.fillText(clock(t), left + (right - left) * (t - t0) / Math.max(1, t1 - t0), h - 4);
  }
  g.textAlign = "left";
  const x = (t) => left + (right - left) * (t - t0) / Math.max(1, t1 - t0);
  for (const [, color, value] of lines) {
    g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
    let started = false;
    for (const s of pts) {
      const v = value(s);
      if (v === null || !isFinite(v)) { started = false; continue; }
      const y = bottom - (bottom - 4) * v / max;
      if (!started) { g.moveTo(x(s.at), y); started = true; } else g.lineTo(x(s.at), y);
    }
    g.stroke();
  }
}
function drawAll() {
  const n = (k) => (s) => s.non2xxPerSecond === null ? null : s.non2xxPerSecond[k];
  draw("rate", "rec/s", [["records", "#0969da", (s) => s.recordsPerSecond]]);
  draw("p99", "ms", [["p99", "#bf8700", (s) => s.p99Ms]]);
  draw("non2xx", "/s", [["408", "#bf8700", n("s408")], ["413", "#8250df", n("s413")], ["503", "#cf222e", n("s503")], ["other", "#57606a", n("other")]]);
  draw("backlog", "MiB", [["backlog", "#8250df", (s) => s.backlogBytes / 1048576]]);
  draw("lag", "s", [["lag", "#cf222e", (s) => s.shippingLagMs === null ? null : s.shippingLagMs / 1000]]);
  draw("slag", "s", [["lag", "#1a7f37", (s) => s.streamLagMs === null ? null : s.streamLagMs / 1000]]);
  const last = samples[samples.length - 1];
  if (last !== undefined) {
    $("rate").textContent = fmt(last.recordsPerSecond, 0);
    const e = last.non2xxPerSecond;
    $("non2xx").textContent = e === null ? "–" : fmt(e.s408 + e.s413 + e.s503 + e.other, 1);
  }
}
function render(s) {
  $("slag").textContent = s.streamLagMs === null ? "stream sink off" : fmt(s.streamLagMs / 1000, 1);
  $("t-stream").textContent = s.streamRecordsPut === null ? "stream sink off" : s.streamRecordsPut + " / " + (s.streamLastError || "none");
  $("p99").textContent = fmt(s.latencyMs.p99, 2);
  $("backlog").textContent = fmt(s.walBacklogBytes / 1048576, 1); $("lag").textContent = s.shippingLagMs === null ? "shipping off" : fmt(s.shippingLagMs / 1000, 1);
  $("health").textContent = s.healthy ? "healthy" : "unhealthy"; $("health").className = s.healthy ? "ok" : "bad";
  $("version").textContent = s.version; $("instance").textContent = s.instanceId; $("shards").textContent = s.shards;
  $("updated").textContent = new Date(s.at).toISOString(); $("error").textContent = "";
  const rows = s.health.map((c) => "<tr><td>" + c.name + "</td><td class=" + (c.ok ? "ok" : "bad") + ">" + (c.ok ? "ok" : "failing") + "</td><td></td></tr>");
  $("checks").innerHTML = rows.join("");
  Array.from($("checks").rows).forEach((r, i) => { r.cells[2].textContent = s.health[i].detail; });
  $("t-ack").textContent = s.acknowledged; $("t-records").textContent = s.goodRecords + " / " + s.badRecords;
  $("t-lat").textContent = [s.latencyMs.p50, s.latencyMs.p90, s.latencyMs.p999, s.latencyMs.max].map((v) => fmt(v, 2)).join(" / ");
  $("t-sealed").textContent = s.sealedSegments; $("t-shipped").textContent = s.segmentsShipped + " / " + s.shipRetries;
  $("t-err").textContent = s.shipLastError || "none"; $("t-free").textContent = s.freeDiskBytes === null ? "–" : fmt(s.freeDiskBytes / 1073741824, 1);
  $("t-proc").textContent = fmt(s.rssBytes / 1048576, 0) + " / " + fmt(s.eventLoopDelayMs, 1);
  $("t-errors").textContent = [s.answers.s408, s.answers.s413, s.answers.s503, s.answers.otherErrors].join(" / ");
}
async function poll() {
  try {
    const since = samples.length === 0 ? 0 : samples[samples.length - 1].at;
    const [h, st] = await Promise.all([fetch("status/history.json?since=" + since, { cache: "no-store" }), fetch("status.json", { cache: "no-store" })]);
    if (!h.ok || !st.ok) throw new Error("the collector answered " + h.status + " / " + st.status);
    const hist = await h.json();
    KEEP = hist.seconds;
    samples = samples.concat(hist.samples);
    if (samples.length > KEEP) samples = samples.slice(samples.length - KEEP);
    render(await st.json());
    drawAll();
  } catch (e) { $("error").textContent = "(" + e.message + ")"; }
  setTimeout(poll, 1000);
}
poll();
</script></body></html>
`;
