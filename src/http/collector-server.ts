/**
 * The HTTP front end (node:http, whose llhttp parser buffers partial request lines, answers
 * pipelined requests in order and refuses ambiguous framing): copies each request once, enforces
 * the HTTP limits, asks CollectorService what to answer and store, submits records to the sink
 * and answers only when the sink says they are durable.
 */
import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CollectorConfig } from '../config/types';
import type { RecordSerializer } from '../payload/record-serializer';
import type { Serialized } from '../payload/split-batch';
import type { RecordSink } from '../wal/record-sink';
import { addHeader, type CapturedRequest, emptyCapturedRequest, headerValue } from './captured-request';
import { renderPeer } from '../payload/client-ip';
import type { CollectorService, ResponsePlan } from './collector-service';
import { AckQueue } from './ack-queue';
import { parserRefusal, rawAnswer } from './parser-refusal';
import { ConnectionGuard } from './connection-guard';
import { Exchange, type ExchangeObserver, type ExchangeOwner, NO_OBSERVER, statusCode } from './exchange';

export type { ExchangeObserver } from './exchange';
import { statusText, TEXT_UTF8 } from './static-responses';


export interface CollectorServerOptions {
  config: CollectorConfig;
  service: CollectorService;
  serializer: RecordSerializer;
  sink: RecordSink;
  onError: (err: unknown) => void;
  /** Hears of every answer (metrics); none by default. */
  observer?: ExchangeObserver;
}

/** Interval of the timeout sweeps (body read, response). */
const SWEEP_MS = 250;

export class CollectorServer implements ExchangeOwner {
  private readonly server: Server;
  private readonly guard: ConnectionGuard;
  private listening = false;
  private readonly reading = new Set<Exchange>();
  /** Requests waiting for durability. */
  private readonly acks = new AckQueue<Exchange>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly observer: ExchangeObserver;
  /** What requests are answered with; replaced on a reload (SIGHUP), in-flight requests keep their plan. */
  private service: CollectorService;

  constructor(private readonly opts: CollectorServerOptions) {
    this.observer = opts.observer ?? NO_OBSERVER;
    this.service = opts.service;
    const net = opts.config.networking;
    this.guard = new ConnectionGuard(net.maxConnections, this.observer);
    this.server = createServer({
      // llhttp's bound covers the request line and the headers together; each has its own check
      // in onRequest, so this only stops what both could never accept.
      maxHeaderSize: net.maxRequestLineLength + net.maxHeadersLength + 1024,
      requireHostHeader: false,
      joinDuplicateHeaders: false,
      keepAliveTimeout: net.idleTimeout,
      // A request's headers must arrive within bodyReadTimeout too: the slow-client bound.
      headersTimeout: net.bodyReadTimeout,
      // The body's timeout is the sweep's (408 from this server, with the metrics).
      requestTimeout: 0,
      connectionsCheckingInterval: 1000,
      noDelay: true,
    }, (req, res) => {
      try {
        this.onRequest(req, res);
      } catch (err) {
        opts.onError(err);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': TEXT_UTF8, Connection: 'close' }).end('Internal Server Error');
      }
    });
    // Header bytes are the bound (as SSC's), not their count: keep every header for the checks.
    this.server.maxHeadersCount = 0;
    this.server.on('connection', (socket: Socket) => this.guard.opened(socket));
    this.server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => this.onClientError(err, socket));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`cannot listen on ${host}:${port}: ${e.message}`));
      this.server.once('error', onError);
      this.server.listen({ host, port, backlog: 1024 }, () => {
        this.server.off('error', onError);
        this.listening = true;
        this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
        this.sweepTimer.unref();
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Answers the next requests with `service` (a reloaded configuration's behaviour). */
  replaceService(service: CollectorService): void {
    this.service = service;
  }

  /** Stops accepting connections; open connections are still answered. */
  stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    this.server.close();
  }

  /** Requests accepted but not yet answered. */
  inFlight(): number {
    return this.reading.size + this.acks.size;
  }

  close(): void {
    this.stopListening();
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.server.closeAllConnections();
  }

  /** A request the parser refused: 400 (or 431, 408), then the connection closes. */
  private onClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, body } = parserRefusal(err, this.opts.config.networking.maxRequestLineLength);
    // A body that broke its framing (a chunk without its CRLF): that request itself gets the answer.
    for (const ex of this.reading) {
      if (ex.res.socket !== socket) continue;
      this.reading.delete(ex);
      this.answerText(ex, status, body, true);
      return;
    }
    this.guard.refuse(socket, rawAnswer(status, body));
  }

  private onRequest(ureq: IncomingMessage, res: ServerResponse): void {
    const cfg = this.opts.config;
    const socket = ureq.socket;
    this.guard.requestStarted(socket);
    const method = (ureq.method ?? 'GET').toLowerCase();
    const url = ureq.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const req = emptyCapturedRequest(method, path, query, renderPeer(socket.remoteAddress ?? ''));
    const raw = ureq.rawHeaders;
    let headerBytes = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      headerBytes += name.length + value.length + 4;
      addHeader(req, name.toLowerCase(), value);
    }
    const ex = new Exchange(this, res, req);
    res.once('close', () => {
      this.guard.requestEnded(socket);
      if (ex.answered) return;
      ex.aborted = true;
      this.reading.delete(ex);
      this.observer.aborted(ex.req, ex.plan !== null);
    });
    // Request line: METHOD SP target SP HTTP/1.1
    const lineLength = method.length + 1 + url.length + 9;
    if (lineLength > cfg.networking.maxRequestLineLength) {
      this.answerText(ex, 400, 'Bad Request: request line too long', true);
      return;
    }
    if (headerBytes > cfg.networking.maxHeadersLength) {
      this.answerText(ex, 431, 'Request Header Fields Too Large', true);
      return;
    }
    if (!this.service.readsBody(method, path)) {
      // A body on a route that takes none is read and dropped, so the connection stays usable.
      ureq.resume();
      this.process(ex);
      return;
    }
    const declared = headerNumber(req, 'content-length');
    if (declared !== null && declared > cfg.networking.dropPayloadSize) {
      this.answerText(ex, 413, 'Payload Too Large', true);
      return;
    }
    this.reading.add(ex);
    ureq.on('data', (chunk: Buffer) => this.onBodyChunk(ex, chunk));
    ureq.on('end', () => this.onBodyEnd(ex));
  }

  private onBodyChunk(ex: Exchange, chunk: Buffer): void {
    if (ex.answered || ex.aborted) return;
    ex.received += chunk.length;
    if (ex.received > this.opts.config.networking.dropPayloadSize) {
      this.reading.delete(ex);
      this.answerText(ex, 413, 'Payload Too Large', true);
      return;
    }
    if (chunk.length > 0) ex.chunks.push(chunk);
  }

  private onBodyEnd(ex: Exchange): void {
    if (ex.answered || ex.aborted) return;
    this.reading.delete(ex);
    const body = ex.chunks.length === 1 ? ex.chunks[0]! : Buffer.concat(ex.chunks, ex.received);
    ex.chunks = [];
    // Records carry text: invalid UTF-8 is replaced (U+FFFD), as a text decoder would.
    ex.req.body = isUtf8(body) ? body : Buffer.from(body.toString('utf8'), 'utf8');
    this.process(ex);
  }

  private process(ex: Exchange): void {
    const outcome = this.service.handle(ex.req);
    if (outcome.job === null) {
      this.answer(ex, outcome.plan);
      return;
    }
    ex.plan = outcome.plan;
    // Queued before serializing: an inline serializer and `durability none` answer synchronously.
    this.acks.add(ex);
    if (!this.opts.serializer.serialize(outcome.job, ex)) {
      this.answerText(ex, 503, 'Service Unavailable: the collector cannot store events now');
    }
  }

  /** Marks a request answered (and takes it out of the queue of acknowledgements). */
  private finish(ex: Exchange): void {
    ex.answered = true;
    this.acks.remove(ex);
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

  /** Writes a plan. Safe to call after an abort or a timeout: it then does nothing. */
  answer(ex: Exchange, plan: ResponsePlan): void {
    const skip = ex.answered || ex.aborted;
    this.finish(ex);
    if (skip) return;
    const code = statusCode(plan.status);
    this.observer.answered(ex.req, code, ex.plan !== null, ex.received, ex.startedAt);
    // writeHead sends the headers as given: the length goes with them (HEAD: the body's length, no body).
    const length = typeof plan.body === 'string' ? Buffer.byteLength(plan.body) : plan.body.length;
    const res = ex.res.writeHead(code, plan.status.slice(4), [...plan.headers, 'Content-Length', String(length)]);
    if (plan.headOnly) res.end(); else res.end(plan.body);
  }

  answerText(ex: Exchange, status: number, body: string, close = false): void {
    const skip = ex.answered || ex.aborted;
    this.finish(ex);
    if (skip) return;
    this.observer.answered(ex.req, status, ex.plan !== null, ex.received, ex.startedAt);
    const length = String(Buffer.byteLength(body));
    const headers = close ? ['Content-Type', TEXT_UTF8, 'Content-Length', length, 'Connection', 'close'] : ['Content-Type', TEXT_UTF8, 'Content-Length', length];
    ex.res.writeHead(status, statusText(status).slice(4), headers).end(body);
    // The rest of a refused body is not read: the connection goes once the answer is out.
    if (close) ex.res.once('finish', () => ex.res.socket?.destroySoon());
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
    const expired = this.acks.olderThan(now - net.responseHeaderTimeout);
    for (const ex of expired) this.answerText(ex, 408, 'Response timed out');
  }
}

function headerNumber(req: CapturedRequest, lower: string): number | null {
  const v = headerValue(req, lower);
  if (v === null) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
