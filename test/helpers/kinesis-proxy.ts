/**
 * A Kinesis proxy in front of kinesalite that misbehaves on request, as a real stream does: 'down'
 * answers every call with a 500 InternalFailure (an outage); 'throttle' forwards only part of each
 * PutRecords batch and answers ProvisionedThroughputExceededException for the rest, in the
 * partial-failure shape of the real API (FailedRecordCount, per-record ErrorCode); `latencyMs`
 * slows every answer.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startKinesis, type TestKinesis } from './kinesis';

export type ProxyMode = { kind: 'pass' } | { kind: 'down' } | { kind: 'throttle'; refuseShare: number };

export interface KinesisProxy {
  endpoint: string;
  mode: ProxyMode;
  /** Added before every answer: a slower stream keeps more batches in flight. */
  latencyMs: number;
  counts: { calls: number; refusedCalls: number; throttledRecords: number; forwardedRecords: number };
  stop(): Promise<void>;
}

interface PutBody { StreamName: string; Records: Array<{ Data: string; PartitionKey: string }> }

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(targetPort: number, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    headers['content-length'] = String(body.length);
    const out = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers }, (res) => {
      void readBody(res).then((b) => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string' && k !== 'content-length') h[k] = v;
        resolve({ status: res.statusCode ?? 500, headers: h, body: b });
      }, reject);
    });
    out.on('error', reject);
    out.end(body);
  });
}

export async function startKinesisProxy(targetPort: number): Promise<KinesisProxy> {
  const proxy: KinesisProxy = { endpoint: '', mode: { kind: 'pass' }, latencyMs: 0, counts: { calls: 0, refusedCalls: 0, throttledRecords: 0, forwardedRecords: 0 }, stop: async () => undefined };
  const answer = (res: ServerResponse, status: number, obj: object): void => {
    const b = Buffer.from(JSON.stringify(obj));
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': String(b.length) });
    res.end(b);
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (proxy.latencyMs > 0) await new Promise((r) => setTimeout(r, proxy.latencyMs));
      const target = req.headers['x-amz-target'];
      const mode = proxy.mode;
      proxy.counts.calls++;
      if (mode.kind === 'down') {
        proxy.counts.refusedCalls++;
        answer(res, 500, { __type: 'InternalFailure', message: 'the test proxy is down' });
        return;
      }
      if (mode.kind === 'throttle' && target === 'Kinesis_20131202.PutRecords') {
        const put = JSON.parse(body.toString('utf8')) as PutBody;
        const refuse = put.Records.map(() => Math.random() < mode.refuseShare);
        const kept = put.Records.filter((_, i) => !refuse[i]);
        let results: Array<Record<string, string>> = [];
        if (kept.length > 0) {
          const r = await forward(targetPort, req, Buffer.from(JSON.stringify({ ...put, Records: kept })));
          if (r.status !== 200) { res.writeHead(r.status, r.headers); res.end(r.body); return; }
          results = (JSON.parse(r.body.toString('utf8')) as { Records: Array<Record<string, string>> }).Records;
        }
        let k = 0;
        const merged = put.Records.map((_, i) => refuse[i]
          ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard (test proxy)' }
          : results[k++]!);
        const failed = merged.filter((m) => m['ErrorCode'] !== undefined).length;
        proxy.counts.throttledRecords += refuse.filter(Boolean).length;
        proxy.counts.forwardedRecords += kept.length;
        answer(res, 200, { FailedRecordCount: failed, Records: merged });
        return;
      }
      const r = await forward(targetPort, req, body);
      if (target === 'Kinesis_20131202.PutRecords') proxy.counts.forwardedRecords += (JSON.parse(body.toString('utf8')) as PutBody).Records.length;
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    })().catch((e: unknown) => { res.destroy(e as Error); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return proxy;
}

/** kinesalite with `streams` of `shards` shards and this proxy in front, both stopped at the test's end. */
export async function kinesisBehindProxy(t: { teardown(fn: () => unknown): void }, streams: readonly string[], shards = 2, latencyMs = 0): Promise<{ kinesis: TestKinesis; proxy: KinesisProxy }> {
  const kinesis = await startKinesis();
  t.teardown(() => kinesis.stop());
  await kinesis.createStreams(streams, shards);
  const proxy = await startKinesisProxy(kinesis.port);
  t.teardown(() => proxy.stop());
  proxy.latencyMs = latencyMs;
  return { kinesis, proxy };
}
