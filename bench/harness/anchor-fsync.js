#!/usr/bin/env node
// Anchor A+log+fsync: the anchors' uWS server with its buffered access log (MODE=log of
// ../shared/bench/uws-anchor.js: the same handlers, line and cookie), made durable the way Sluice
// acknowledges: a request is answered only after its line has been written and fdatasync'd. Group
// commit with one sync in flight and no delay: lines that arrive while a sync runs go out in the
// next one, as in Sluice's WAL. No records, no headers beyond the line's, no shipping: what
// fsync acknowledgements alone cost a minimal JavaScript collector on this disk.
//
//   node bench/harness/anchor-fsync.js --port 8084 --log /path/access.log --anchors ../shared/bench
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const uWS = require('uWebSockets.js');
const { options } = require('./cli');

const opts = options('node bench/harness/anchor-fsync.js [options]: the uWS anchor with fsync acknowledgements', {
  port: { kind: 'number', default: 8084, help: 'port to listen on (loopback)' },
  log: { kind: 'string', default: path.join(process.cwd(), 'anchor-fsync.log'), help: 'the access log (on the disk under test)' },
  anchors: { kind: 'string', default: path.join(__dirname, '..', '..', '..', 'shared', 'bench'), help: "the anchors' folder (anchor-common.js)" },
});
const { GIF, nuidFromCookie, setCookie, logLine } = require(path.join(opts.anchors, 'anchor-common.js'));
const PORT = opts.port;
const LOG = opts.log;
const TP2 = '/com.snowplowanalytics.snowplow/tp2';

const fd = fs.openSync(LOG, 'a');
/** Lines not yet written, and the answers waiting for them (one per line). */
let lines = [];
let answers = [];
let syncing = false;

/** Writes the waiting lines and syncs them (one sync in flight); answers when they are durable. */
function commit() {
  if (syncing || lines.length === 0) return;
  syncing = true;
  const buf = Buffer.from(lines.join(''));
  const batch = answers;
  lines = [];
  answers = [];
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off);
  fs.fdatasync(fd, (err) => {
    if (err) throw err;
    syncing = false;
    for (const answer of batch) answer();
    commit();
  });
}

function keep(line, answer) {
  lines.push(line);
  answers.push(answer);
  commit();
}

function answerPixel(res, state, nuid) {
  if (state.aborted) return;
  res.cork(() => {
    res.writeStatus('200 OK')
      .writeHeader('Content-Type', 'image/gif')
      .writeHeader('Cache-Control', 'no-cache, no-store, must-revalidate')
      .writeHeader('Set-Cookie', setCookie(nuid))
      .end(GIF);
  });
}

const app = uWS.App();
app.get('/i', (res, req) => {
  const cookie = req.getHeader('cookie');
  const nuid = nuidFromCookie(cookie);
  const q = req.getQuery();
  const state = { aborted: false };
  res.onAborted(() => { state.aborted = true; });
  keep(logLine(Buffer.from(res.getRemoteAddressAsText()).toString('latin1'), 'GET', q ? '/i?' + q : '/i',
    req.getHeader('user-agent'), req.getHeader('referer'), cookie, nuid, null), () => answerPixel(res, state, nuid));
});

function tp2(res, req) {
  const cookie = req.getHeader('cookie');
  const origin = req.getHeader('origin') || '*';
  const nuid = nuidFromCookie(cookie);
  const meta = [Buffer.from(res.getRemoteAddressAsText()).toString('latin1'), req.getUrl(), req.getHeader('user-agent'), req.getHeader('referer')];
  const state = { aborted: false };
  let chunks = null;
  res.onAborted(() => { state.aborted = true; });
  res.onData((ab, isLast) => {
    const chunk = Buffer.from(new Uint8Array(ab)); // ab is only valid inside this callback
    if (!isLast) { (chunks || (chunks = [])).push(chunk); return; }
    const body = chunks ? Buffer.concat([...chunks, chunk]) : chunk;
    keep(logLine(meta[0], 'POST', meta[1], meta[2], meta[3], cookie, nuid, body.toString('latin1')), () => {
      if (state.aborted) return;
      res.cork(() => {
        res.writeStatus('200 OK')
          .writeHeader('Content-Type', 'text/plain; charset=UTF-8')
          .writeHeader('Access-Control-Allow-Origin', origin)
          .writeHeader('Access-Control-Allow-Credentials', 'true')
          .writeHeader('Set-Cookie', setCookie(nuid))
          .end('ok');
      });
    });
  });
}
app.post(TP2, tp2);
app.post('/tp2', tp2);
app.any('/*', (res) => { res.writeStatus('404 Not Found').end('not found'); });

let listenSocket = null;
app.listen('127.0.0.1', PORT, (s) => {
  if (!s) { console.error(`anchor-fsync: cannot listen on 127.0.0.1:${PORT}`); process.exit(1); }
  listenSocket = s;
});

function stop() {
  if (listenSocket) uWS.us_listen_socket_close(listenSocket);
  fs.closeSync(fd);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
