/**
 * The HTTP front end: a TCP server whose connections (HttpConnection) frame requests strictly
 * (partial request lines buffered, pipelined requests answered in order, ambiguous framing
 * refused), each answer one write. For each request it copies what the collector reads, enforces
 * the HTTP limits, asks CollectorService what to answer and store, submits the records to the
 * sink and answers only when the sink says they are durable. (node:http did this before; its
 * per-request objects cost more CPU than the rest of the request: bench/RESULTS.md.)
 */
import { isUtf8 } from 'node:buffer';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CollectorConfig } from '../config/types';
import type { RecordSerializer } from '../payload/record-serializer';
import type { Serialized } from '../payload/split-batch';
import type { RecordSink } from '../wal/record-sink';
import { addHeader, emptyCapturedRequest } from './captured-request';
import { renderPeer } from '../payload/client-ip';
import type { CollectorService, ResponsePlan } from './collector-service';
import { AckQueue } from './ack-queue';
import type { Refusal } from './parser-refusal';
import { ConnectionGuard } from './connection-guard';
import { Exchange, type ExchangeObserver, type ExchangeOwner, NO_OBSERVER, statusCode } from './exchange';
import { type ConnectionLimits, HttpConnection, type RequestHandler, type ResponseSlot } from './http-connection';
import type { RequestHead } from './request-head';
import { responseBytes } from './response-bytes';

export type { ExchangeObserver } from './exchange';
import { statusText, TEXT_UTF8 } from './static-responses';

/**
 * Unanswered requests one connection may pipeline before it is read no further, and bytes of
 * answers its client may leave unread: past either, the connection is not read until answers go
 * out, so one client cannot queue unbounded work or memory.
 */
export const MAX_PIPELINED_PER_CONNECTION = 64;
export const MAX_WRITE_BUFFER_BYTES = 256 * 1024;

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

export class CollectorServer implements ExchangeOwner, RequestHandler<Exchange> {
  private readonly server: Server;
  private readonly guard: ConnectionGuard<HttpConnection<Exchange>>;
  private readonly limits: ConnectionLimits;
  private listening = false;
  /** After stopListening: answers close their connections, so clients move to other instances. */
  private draining = false;
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
    this.guard = new ConnectionGuard<HttpConnection<Exchange>>(net.maxConnections, this.observer);
    this.limits = {
      maxRequestLineLength: net.maxRequestLineLength,
      maxHeadersLength: net.maxHeadersLength,
      maxPipelined: MAX_PIPELINED_PER_CONNECTION,
      maxWriteBufferBytes: MAX_WRITE_BUFFER_BYTES,
    };
    // allowHalfOpen: a client that ends its side after its requests still gets its answers.
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.onConnection(socket));
  }

  private onConnection(socket: Socket): void {
    const conn = new HttpConnection(socket, renderPeer(socket.remoteAddress ?? ''), this, this.limits, (c) => this.guard.closed(c));
    if (this.draining) {
      conn.destroy();
      return;
    }
    this.guard.opened(conn);
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

  /** Stops accepting connections; idle ones close now, busy ones after their answers. */
  stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    this.draining = true;
    this.server.close();
    for (const conn of this.guard.all()) if (conn.idle) conn.destroy();
  }

  /** Requests accepted but not yet answered. */
  inFlight(): number {
    return this.reading.size + this.acks.size;
  }

  close(): void {
    this.stopListening();
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    for (const conn of this.guard.all()) conn.destroy();
  }

  begin(conn: HttpConnection<Exchange>, head: RequestHead, slot: ResponseSlot): Exchange | null {
    const cfg = this.opts.config;
    const method = head.method.toLowerCase();
    const url = head.target;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const req = emptyCapturedRequest(method, path, query, conn.peer);
    const { names, values } = head;
    for (let i = 0; i < names.length; i++) addHeader(req, names[i]!, values[i]!);
    const ex = new Exchange(this, slot, req, head.keepAlive, head.keepAlive && head.http10);
    try {
      if (!this.service.readsBody(method, path)) {
        // A body on a route that takes none is read and dropped, so the connection stays usable.
        this.process(ex);
        return null;
      }
      if (head.contentLength > cfg.networking.dropPayloadSize) {
        this.answerText(ex, 413, 'Payload Too Large', true);
        return null;
      }
      this.reading.add(ex);
      return ex;
    } catch (err) {
      this.failed(ex, err);
      return null;
    }
  }

  bodyData(ex: Exchange, chunk: Buffer): void {
    if (ex.answered || ex.aborted) return;
    ex.received += chunk.length;
    if (ex.received > this.opts.config.networking.dropPayloadSize) {
      this.reading.delete(ex);
      this.answerText(ex, 413, 'Payload Too Large', true);
      return;
    }
    if (chunk.length > 0) ex.chunks.push(chunk);
  }

  bodyEnd(ex: Exchange): void {
    if (ex.answered || ex.aborted) return;
    this.reading.delete(ex);
    const body = ex.chunks.length === 1 ? ex.chunks[0]! : Buffer.concat(ex.chunks, ex.received);
    ex.chunks = [];
    // Records carry text: invalid UTF-8 is replaced (U+FFFD), as a text decoder would.
    ex.req.body = isUtf8(body) ? body : Buffer.from(body.toString('utf8'), 'utf8');
    try {
      this.process(ex);
    } catch (err) {
      this.failed(ex, err);
    }
  }

  framingError(ex: Exchange, refusal: Refusal): void {
    this.reading.delete(ex);
    this.answerText(ex, refusal.status, refusal.body, true);
  }

  lost(ex: Exchange): void {
    if (ex.answered) return;
    ex.aborted = true;
    this.reading.delete(ex);
    this.observer.aborted(ex.req, ex.plan !== null);
  }

  /** A fault of this code while handling `ex`: logged, 500 and a close (never a crash). */
  private failed(ex: Exchange, err: unknown): void {
    this.opts.onError(err);
    this.reading.delete(ex);
    this.answerText(ex, 500, 'Internal Server Error', true);
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
    this.write(ex, plan.status, plan.headers, plan.body, plan.headOnly, false);
  }

  /** A text answer; `close`: a refused body is not read further, so the connection closes. */
  answerText(ex: Exchange, status: number, body: string, close = false): void {
    this.write(ex, statusText(status), ['Content-Type', TEXT_UTF8], body, false, close);
  }

  private write(ex: Exchange, statusLine: string, headers: readonly string[], body: string | Buffer, headOnly: boolean, close: boolean): void {
    const skip = ex.answered || ex.aborted;
    this.finish(ex);
    if (skip) return;
    const framing = { close: close || !ex.keepAlive || this.draining, keepAlive10: ex.keepAlive10, headOnly };
    let status = statusCode(statusLine);
    let bytes: Buffer;
    try {
      bytes = responseBytes(statusLine, headers, body, framing);
    } catch (err) {
      // A header that would split the response (responseBytes' invariant): 500, never the header.
      this.opts.onError(err);
      status = 500;
      framing.close = true;
      bytes = responseBytes(statusText(500), ['Content-Type', TEXT_UTF8], 'Internal Server Error', { ...framing, headOnly: false });
    }
    this.observer.answered(ex.req, status, ex.plan !== null, ex.received, ex.startedAt);
    ex.slot.conn.respond(ex.slot, bytes, framing.close);
  }

  /** Times out slow requests (408, connection closed), idle connections, and unacknowledged events (408). */
  private sweep(): void {
    const now = performance.now();
    const net = this.opts.config.networking;
    for (const conn of this.guard.all()) {
      if (conn.readingSince >= 0 && now - conn.readingSince > net.bodyReadTimeout) conn.expireRead();
      else if (net.idleTimeout > 0 && conn.idle && now - conn.idleSince > net.idleTimeout) conn.destroy();
    }
    const expired = this.acks.olderThan(now - net.responseHeaderTimeout);
    for (const ex of expired) this.answerText(ex, 408, 'Response timed out');
  }
}
