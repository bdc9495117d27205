/**
 * The uWebSockets.js front end: copies each request out of uWS once, enforces the HTTP limits,
 * asks CollectorService what to answer and store, submits records to the sink and answers only
 * when the sink says they are durable.
 */
import { isUtf8 } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { CollectorConfig } from '../config/types';
import type { RecordSerializer, SerializeWaiter } from '../payload/record-serializer';
import type { Serialized } from '../payload/split-batch';
import type { CommitWaiter, RecordSink } from '../wal/record-sink';
import { addHeader, type CapturedRequest, emptyCapturedRequest, headerValue } from './captured-request';
import { renderPeer } from './client-ip';
import type { CollectorService, ResponsePlan } from './collector-service';
import { statusText } from './static-responses';
import type * as UwsTypes from 'uWebSockets.js';

type Uws = typeof UwsTypes;
type HttpResponse = UwsTypes.HttpResponse;
type HttpRequest = UwsTypes.HttpRequest;

const TEXT_UTF8 = 'text/plain; charset=UTF-8';

/** One request from capture to answer; also the serializer's and the sink's waiter. */
class Exchange implements SerializeWaiter, CommitWaiter {
  aborted = false;
  answered = false;
  /** In the server's queue of requests waiting for their records to be durable. */
  queued = false;
  /** Body bytes received so far. */
  chunks: Buffer[] = [];
  received = 0;
  plan: ResponsePlan | null = null;
  /** performance.now() at capture: monotonic, so a clock step cannot fire or hold a timeout. */
  startedAt: number;

  constructor(readonly server: CollectorServer, readonly res: HttpResponse, readonly req: CapturedRequest) {
    this.startedAt = performance.now();
  }

  onSerialized(records: Serialized | null, err: Error | null): void {
    this.server.store(this, records, err);
  }

  onCommitted(err: Error | null): void {
    if (err !== null) {
      this.server.answerText(this, 503, 'Service Unavailable: the event could not be stored');
      return;
    }
    const plan = this.plan;
    if (plan !== null) this.server.answer(this, plan);
  }
}

export interface CollectorServerOptions {
  config: CollectorConfig;
  service: CollectorService;
  serializer: RecordSerializer;
  sink: RecordSink;
  uws: Uws;
  onError: (err: unknown) => void;
  /** Hears of every answer (metrics); none by default. */
  observer?: ExchangeObserver;
}

/** What the front end reports of each request, once, when it is answered or aborted. */
export interface ExchangeObserver {
  /**
   * `stored`: the request had records to store (its latency is request to acknowledgement);
   * `bodyBytes`: body bytes received; `startedAt`: performance.now() at capture.
   */
  answered(req: CapturedRequest, status: number, stored: boolean, bodyBytes: number, startedAt: number): void;
  /** The client went away before its answer. */
  aborted(req: CapturedRequest, stored: boolean): void;
}

const NO_OBSERVER: ExchangeObserver = { answered: () => undefined, aborted: () => undefined };

/** The numeric code of a status line such as `200 OK`. */
function statusCode(line: string): number {
  return (line.charCodeAt(0) - 48) * 100 + (line.charCodeAt(1) - 48) * 10 + (line.charCodeAt(2) - 48);
}

/** Interval of the timeout sweeps (body read, response). */
const SWEEP_MS = 250;

export class CollectorServer {
  private readonly app: UwsTypes.TemplatedApp;
  private listenSocket: UwsTypes.us_listen_socket | null = null;
  private readonly reading = new Set<Exchange>();
  /** Requests waiting for durability, oldest first (mostly answered in this order). */
  private waiting: Array<Exchange | undefined> = [];
  private waitingHead = 0;
  private unanswered = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  private connections = 0;
  private port = -1;
  private readonly observer: ExchangeObserver;

  constructor(private readonly opts: CollectorServerOptions) {
    this.observer = opts.observer ?? NO_OBSERVER;
    this.app = opts.uws.App();
    this.app.filter((res, count) => {
      this.connections += Number(count);
      if (Number(count) > 0 && this.connections > opts.config.networking.maxConnections) res.close();
    });
    this.app.any('/*', (res, req) => {
      try {
        this.onRequest(res, req);
      } catch (err) {
        opts.onError(err);
        res.cork(() => {
          res.writeStatus(statusText(500)).writeHeader('Content-Type', TEXT_UTF8).end('Internal Server Error', true);
        });
      }
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (socket === false) {
          reject(new Error(`cannot listen on ${host}:${port}`));
          return;
        }
        this.listenSocket = socket;
        this.port = this.opts.uws.us_socket_local_port(socket);
        this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
        this.sweepTimer.unref();
        resolve(this.port);
      });
    });
  }

  /** Stops accepting connections; open connections are still answered. */
  stopListening(): void {
    if (this.listenSocket !== null) {
      this.opts.uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
  }

  /** Requests accepted but not yet answered. */
  inFlight(): number {
    return this.reading.size + this.unanswered;
  }

  close(): void {
    this.stopListening();
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.app.close();
  }

  private onRequest(res: HttpResponse, ureq: HttpRequest): void {
    const cfg = this.opts.config;
    const method = ureq.getMethod();
    const path = ureq.getUrl();
    const query = ureq.getQuery() ?? '';
    const req = emptyCapturedRequest(method, path, query, renderPeer(Buffer.from(res.getRemoteAddressAsText()).toString('latin1')));
    let headerBytes = 0;
    ureq.forEach((name, value) => {
      headerBytes += name.length + value.length + 4;
      addHeader(req, name, value);
    });
    const ex = new Exchange(this, res, req);
    res.onAborted(() => {
      ex.aborted = true;
      this.reading.delete(ex);
      if (!ex.answered) this.observer.aborted(ex.req, ex.plan !== null);
    });
    // Request line: METHOD SP target SP HTTP/1.1
    const lineLength = method.length + 1 + path.length + (query === '' ? 0 : query.length + 1) + 9;
    if (lineLength > cfg.networking.maxRequestLineLength) {
      this.answerText(ex, 400, 'Bad Request: request line too long', true);
      return;
    }
    if (headerBytes > cfg.networking.maxHeadersLength) {
      this.answerText(ex, 431, 'Request Header Fields Too Large', true);
      return;
    }
    if (!this.opts.service.readsBody(method, path)) {
      this.process(ex);
      return;
    }
    const declared = headerNumber(req, 'content-length');
    if (declared !== null && declared > cfg.networking.dropPayloadSize) {
      this.answerText(ex, 413, 'Payload Too Large', true);
      return;
    }
    this.reading.add(ex);
    res.onData((chunk, isLast) => this.onBodyChunk(ex, chunk, isLast));
  }

  private onBodyChunk(ex: Exchange, chunk: ArrayBuffer, isLast: boolean): void {
    if (ex.answered || ex.aborted) return;
    ex.received += chunk.byteLength;
    if (ex.received > this.opts.config.networking.dropPayloadSize) {
      this.reading.delete(ex);
      this.answerText(ex, 413, 'Payload Too Large', true);
      return;
    }
    // uWS reuses the chunk's memory after this call returns: copy it.
    if (chunk.byteLength > 0) ex.chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (!isLast) return;
    this.reading.delete(ex);
    const body = ex.chunks.length === 1 ? ex.chunks[0]! : Buffer.concat(ex.chunks, ex.received);
    ex.chunks = [];
    // Records carry text: invalid UTF-8 is replaced (U+FFFD), as a text decoder would.
    ex.req.body = isUtf8(body) ? body : Buffer.from(body.toString('utf8'), 'utf8');
    this.process(ex);
  }

  private process(ex: Exchange): void {
    const outcome = this.opts.service.handle(ex.req);
    if (outcome.job === null) {
      this.answer(ex, outcome.plan);
      return;
    }
    ex.plan = outcome.plan;
    // Queued before serializing: an inline serializer and `durability none` answer synchronously.
    ex.queued = true;
    this.unanswered++;
    this.waiting.push(ex);
    if (!this.opts.serializer.serialize(outcome.job, ex)) {
      this.answerText(ex, 503, 'Service Unavailable: the collector cannot store events now');
    }
  }

  /** Takes an answered request out of the queue; releases answered ones at its head. */
  private finish(ex: Exchange): void {
    ex.answered = true;
    if (!ex.queued) return;
    ex.queued = false;
    this.unanswered--;
    const w = this.waiting;
    let head = this.waitingHead;
    while (head < w.length && !w[head]!.queued) w[head++] = undefined;
    if (head === w.length) {
      this.waiting = [];
      head = 0;
    } else if (head > 4096 && head * 2 > w.length) {
      this.waiting = w.slice(head);
      head = 0;
    }
    this.waitingHead = head;
  }

  /** Hands the request's records to the sink; the answer goes out when they are durable. */
  store(ex: Exchange, records: Serialized | null, err: Error | null): void {
    if (records === null) {
      this.opts.onError(err);
      this.answerText(ex, 500, 'Internal Server Error: the event could not be serialized');
      return;
    }
    if (ex.answered) return;
    if (!this.opts.sink.submit(records.good, records.bad, ex)) {
      this.answerText(ex, 503, 'Service Unavailable: the collector cannot store events now');
    }
  }

  /** Writes a plan (corked). Safe to call after an abort or a timeout: it then does nothing. */
  answer(ex: Exchange, plan: ResponsePlan): void {
    const skip = ex.answered || ex.aborted;
    this.finish(ex);
    if (skip) return;
    this.observer.answered(ex.req, statusCode(plan.status), ex.plan !== null, ex.received, ex.startedAt);
    const res = ex.res;
    res.cork(() => {
      res.writeStatus(plan.status);
      const h = plan.headers;
      for (let i = 0; i < h.length; i += 2) res.writeHeader(h[i]!, h[i + 1]!);
      if (plan.headOnly) res.endWithoutBody(typeof plan.body === 'string' ? Buffer.byteLength(plan.body) : plan.body.length);
      else res.end(plan.body);
    });
  }

  answerText(ex: Exchange, status: number, body: string, close = false): void {
    const skip = ex.answered || ex.aborted;
    this.finish(ex);
    if (skip) return;
    this.observer.answered(ex.req, status, ex.plan !== null, ex.received, ex.startedAt);
    const res = ex.res;
    res.cork(() => {
      res.writeStatus(statusText(status)).writeHeader('Content-Type', TEXT_UTF8).end(body, close);
    });
  }

  /** Times out slow bodies (408, connection closed) and unacknowledged events (408). */
  private sweep(): void {
    const now = performance.now();
    const net = this.opts.config.networking;
    for (const ex of this.reading) {
      if (now - ex.startedAt <= net.bodyReadTimeout) continue;
      this.reading.delete(ex);
      this.answerText(ex, 408, 'Request timed out', true);
    }
    const expired: Exchange[] = [];
    for (let i = this.waitingHead; i < this.waiting.length; i++) {
      const ex = this.waiting[i];
      if (ex === undefined || !ex.queued) continue;
      if (now - ex.startedAt <= net.responseHeaderTimeout) break;
      expired.push(ex);
    }
    for (const ex of expired) this.answerText(ex, 408, 'Response timed out');
  }
}

function headerNumber(req: CapturedRequest, lower: string): number | null {
  const v = headerValue(req, lower);
  if (v === null) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
