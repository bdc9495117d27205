// Crash test of the stream sink: a load client records every event id that got a 200; the
// collector (both sinks on) is killed with SIGKILL at random moments; after the last restart has
// drained, every acknowledged id is in the stream. Duplicates are allowed only where the collector
// said so: records it sent again after a restart (sluice_stream_resent_records_total, summed over
// the runs) bound the ids seen twice.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from './helpers/http';
import { KINESIS_ENV, pixelOutcome } from './helpers/kinesis';
import { kinesisBehindProxy } from './helpers/kinesis-proxy';
import { metric } from './helpers/metrics';
import { decodeRecord } from './helpers/records';
import { peakRss, recordScenario } from './helpers/reliability';
import { shipEnv, startS3 } from './helpers/s3';
import { startServer } from './helpers/server';

const KILLS = 12;
const CLIENTS = 8;

t.test(`stream sink: SIGKILL ${KILLS} times under load`, async (t) => {
  // A stream answering in 150 ms keeps batches in flight when a kill lands, so restarts resend.
  const { kinesis, proxy } = await kinesisBehindProxy(t, ['good', 'bad'], 2, 150);
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const walDir = join(mkdtempSync(join(tmpdir(), 'sluice-stream-crash-')), 'wal');
  const config = {
    collector: { preTerminationPeriod: '0 s', streams: { good: { name: 'good', buffer: { recordLimit: 50 } }, bad: { name: 'bad' } } },
    wal: { maxSegmentAgeMs: '400 ms' },
    stream: { maxInFlightBatches: 4 },
  };
  const env = { ...KINESIS_ENV, ...shipEnv(s3, 1), SLUICE_WAL_DIR: walDir, SLUICE_KINESIS_ENDPOINT: proxy.endpoint, SLUICE_WAL_SEGMENT_BYTES: String(16 * 1024 * 1024) };
  const acked = new Set<string>();
  let seq = 0;
  let resent = 0;
  let peak = 0;
  let crashes = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    const s = await startServer({ env, config });
    let running = true;
    const client = async (): Promise<void> => {
      while (running) {
        const id = `k${kill}-${seq++}`;
        try {
          const r = await request(s.port, { path: `/i?e=pv&eid=${id}` });
          if (r.status === 200) acked.add(id);
        } catch { /* cut by the kill: not acknowledged */ }
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    // Long enough for the restart's resends to go out and be reported (stats every 500 ms).
    await new Promise((r) => setTimeout(r, 1200 + Math.random() * 800));
    try {
      resent += (await metric(s.adminPort!, 'sluice_stream_resent_records_total')) ?? 0;
    } catch { /* the scrape raced the kill below: this run's count stays unknown, so the bound is checked loosely */ }
    if (s.proc.exitCode !== null) crashes++;
    peak = Math.max(peak, peakRss(s.proc.pid));
    s.proc.kill('SIGKILL');
    await s.exited;
    running = false;
    await Promise.all(clients);
  }
  // The last start recovers the last crash, resends from the checkpoint and drains on SIGTERM.
  const last = await startServer({ env, config });
  await new Promise((r) => setTimeout(r, 1500));
  resent += (await metric(last.adminPort!, 'sluice_stream_resent_records_total')) ?? 0;
  t.equal(await last.stop('SIGTERM'), 0, 'the last run drains and exits 0');

  const { lost, extra } = await pixelOutcome(kinesis, 'good', acked, (d) => decodeRecord(d).querystring!);
  t.ok(acked.size > 1000, `${acked.size} events acknowledged over ${KILLS} kills`);
  t.equal(lost.length, 0, `acknowledged events missing from the stream: ${lost.length} ${lost.slice(0, 5).join(',')}`);
  t.ok(resent > 0, `restarts resent what was in flight at the kills: ${resent} records`);
  t.ok(extra <= resent, `records in the stream twice (${extra}) are within those the collector reported resending (${resent})`);
  t.equal(crashes, 0, 'no run died before its kill');
  recordScenario({
    id: 'crash-stream-sigkill', group: 'crash', title: `Stream sink (and S3): SIGKILL ${KILLS} times under load (${CLIENTS} clients), restart each time`,
    kills: KILLS, acknowledged: acked.size, lost: lost.length, duplicates: Math.max(0, extra - resent), crashes, peakRssBytes: peak,
    notes: `${extra} records put twice, all among the ${resent} the collector reported resending after restarts (sluice_stream_resent_records_total); duplicates counts any beyond that`,
  }, lost.length === 0 && extra <= resent && crashes === 0);
});
