/**
 * One client connection of the front end: frames requests out of the byte stream (heads by
 * request-head.ts, bodies by BodyReader), hands them to the handler, and writes the answers in
 * request order (a pipelined request answered before the one ahead of it waits in its slot).
 * Bounded: at most `maxPipelined` requests unanswered per connection and a write buffer of
 * `maxWriteBufferBytes` before it stops reading (a client that sends but does not read cannot
 * grow the collector's memory).
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BodyReader } from './body-reader';
import type { Refusal } from './parser-refusal';
import { type HeadLimits, headOverflow, isRefusal, parseRequestHead, type RequestHead } from './request-head';
import { CONTINUE, refusalBytes } from './response-bytes';

const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');
const BAD_FRAMING: Refusal = { status: 400, body: 'Bad Request' };
const READ_TIMEOUT: Refusal = { status: 408, body: 'Request timed out' };

/** Whoever waits on a slot: told when the connection goes before its answer is written. */
export interface SlotOwner {
  connectionLost(): void;
}

/** What writes a slot's answer: its connection. */
export interface Responder {
  respond(slot: ResponseSlot, response: Buffer, close: boolean): void;
}

/** The place of one request's answer in its connection's order. */
export class ResponseSlot {
  response: Buffer | null = null;
  close = false;
  owner: SlotOwner | null = null;
  constructor(readonly conn: Responder) {}
}

/** What receives the connection's requests (the collector server). */
export interface RequestHandler<T> {
  /** A request's head; its answer goes in `slot`. Returns its body's receiver, or null to drop the body. */
  begin(conn: HttpConnection<T>, head: RequestHead, slot: ResponseSlot): T | null;
  bodyData(target: T, data: Buffer): void;
  bodyEnd(target: T): void;
  /** The body of `target` broke its framing or did not arrive in time: `target` answers, with a close. */
  framingError(target: T, refusal: Refusal): void;
}

export interface ConnectionLimits extends HeadLimits {
  maxPipelined: number;
  maxWriteBufferBytes: number;
}

export class HttpConnection<T> implements Responder {
  /** Answers owed, in request order. */
  private readonly slots: ResponseSlot[] = [];
  /** Unparsed input: a head not yet complete, or input held while the pipeline is full. */
  private pending: Buffer | null = null;
  /** Offset into `pending` up to which no head end was found (a trickled head is not rescanned). */
  private scanned = 0;
  private body: BodyReader | null = null;
  private bodyTarget: T | null = null;
  /** Reading stopped for good (an answer with close was queued, or the peer ended). */
  private stopped = false;
  private paused = false;
  private peerEnded = false;
  private ending = false;
  private closed = false;
  /** performance.now() when the request being read began arriving; -1 between requests. */
  readingSince = -1;
  /** performance.now() when the connection last had nothing owed and nothing half-read. */
  idleSince: number;
  readonly peer: string;

  constructor(readonly socket: Socket, peer: string, private readonly handler: RequestHandler<T>, private readonly limits: ConnectionLimits, private readonly onClose: (conn: HttpConnection<T>) => void) {
    this.peer = peer;
    this.idleSince = performance.now();
    // Each answer is one write, sent at once (no Nagle delay behind the previous one's ACK).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onPeerEnd());
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onSocketClose());
  }

  /** No request half-read and no answer owed: may be evicted or timed out as idle. */
  get idle(): boolean {
    return this.slots.length === 0 && this.readingSince < 0;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Queues `response` in `slot`; written once every answer ahead of it is. `close`: the last one. */
  respond(slot: ResponseSlot, response: Buffer, close: boolean): void {
    if (this.closed || this.ending || slot.response !== null) return;
    slot.response = response;
    slot.close = close;
    if (close) this.stopReading();
    this.flush();
  }

  /** Answers a request the parser refused, after the answers owed, and closes. */
  refuse(refusal: Refusal): void {
    const slot = this.openSlot();
    this.respond(slot, refusalBytes(refusal), true);
  }

  private openSlot(): ResponseSlot {
    const slot = new ResponseSlot(this);
    this.slots.push(slot);
    return slot;
  }

  private flush(): void {
    const slots = this.slots;
    let wrote = false;
    while (slots.length > 0 && slots[0]!.response !== null) {
      const slot = slots.shift()!;
      if (!wrote && slots.length > 0 && slots[0]!.response !== null) this.socket.cork();
      wrote = true;
      this.socket.write(slot.response!);
      if (slot.close) {
        this.endAfterWrites();
        break;
      }
    }
    if (this.socket.writableCorked > 0) this.socket.uncork();
    if (!wrote) return;
    if (this.slots.length === 0 && this.readingSince < 0) this.idleSince = performance.now();
    this.maybeResume();
    if (this.peerEnded && !this.paused && this.slots.length === 0 && this.body === null) this.endAfterWrites();
  }

  private endAfterWrites(): void {
    this.stopReading();
    if (this.closed || this.ending) return;
    this.ending = true;
    // Answers owed behind a closing one are dropped with the connection.
    this.dropOwed();
    this.socket.end();
    this.socket.once('finish', () => this.socket.destroy());
  }

  private stopReading(): void {
    this.stopped = true;
    this.pending = null;
    this.body = null;
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    this.parse(buf, 0);
  }

  private parse(buf: Buffer, from: number): void {
    let off = from;
    while (off < buf.length && !this.stopped) {
      if (this.body !== null) {
        off = this.readBody(buf, off);
        continue;
      }
      if (this.slots.length >= this.limits.maxPipelined || this.writeBufferFull()) {
        this.hold(buf, off);
        return;
      }
      // Empty lines before a request line are ignored (RFC 9112 §2.2).
      while (off + 1 < buf.length && buf[off] === 0x0d && buf[off + 1] === 0x0a && this.scanned === 0) off += 2;
      if (off >= buf.length) return;
      if (this.readingSince < 0) this.readingSince = performance.now();
      const searchFrom = Math.max(off, off + this.scanned - 3);
      const end = buf.indexOf(CRLF2, searchFrom);
      if (end < 0) {
        const overflow = headOverflow(buf, off, this.limits);
        if (overflow !== null) {
          this.refuse(overflow);
          return;
        }
        this.pending = off === 0 ? buf : buf.subarray(off);
        this.scanned = buf.length - off;
        return;
      }
      this.scanned = 0;
      const head = parseRequestHead(buf.toString('latin1', off, end), this.limits);
      off = end + 4;
      if (isRefusal(head)) {
        this.refuse(head);
        return;
      }
      const slot = this.openSlot();
      const target = this.handler.begin(this, head, slot);
      if (this.stopped) return;
      if (head.contentLength > 0 || head.chunked) {
        if (target !== null && head.expectContinue && this.slots.length === 1) this.socket.write(CONTINUE);
        this.body = new BodyReader(head.contentLength, head.chunked);
        this.bodyTarget = target;
      } else {
        this.readingSince = -1;
        if (target !== null) this.handler.bodyEnd(target);
      }
    }
  }

  private readBody(buf: Buffer, off: number): number {
    const reader = this.body!;
    const target = this.bodyTarget;
    const next = reader.feed(buf, off, target === null ? noop : (data) => this.handler.bodyData(target, data));
    if (reader.failed) {
      this.failBody(target, BAD_FRAMING);
      return buf.length;
    }
    if (reader.done) {
      this.body = null;
      this.bodyTarget = null;
      this.readingSince = -1;
      if (target !== null) this.handler.bodyEnd(target);
    }
    return next;
  }

  /** Answers written and not yet taken by the client reach maxWriteBufferBytes. */
  private writeBufferFull(): boolean {
    return this.socket.writableLength >= this.limits.maxWriteBufferBytes;
  }

  /** Keeps the unparsed input and stops reading until answers go out (pipeline or write bound). */
  private hold(buf: Buffer, off: number): void {
    this.pending = off === 0 ? buf : buf.subarray(off);
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (!this.paused || this.stopped) return;
    if (this.slots.length >= this.limits.maxPipelined || this.writeBufferFull()) return;
    this.paused = false;
    const held = this.pending;
    this.pending = null;
    if (held !== null) this.parse(held, 0);
    if (this.paused) return;
    if (this.peerEnded) this.finishPeerEnd();
    else if (!this.stopped) this.socket.resume();
  }

  /** The request being read began arriving more than bodyReadTimeout ago: 408 and close. */
  expireRead(): void {
    if (this.stopped) return;
    const target = this.body !== null ? this.bodyTarget : null;
    this.failBody(target, READ_TIMEOUT);
  }

  /** A body (or head) that cannot complete: its request answers `refusal` with a close. */
  private failBody(target: T | null, refusal: Refusal): void {
    this.body = null;
    this.bodyTarget = null;
    this.readingSince = -1;
    if (target !== null) this.handler.framingError(target, refusal);
    else this.refuse(refusal);
    this.stopReading();
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    // Input held while the pipeline is full is still parsed as answers go out (maybeResume).
    if (!this.paused) this.finishPeerEnd();
  }

  /** The client sent all it will: a body cut off can never complete (400); a half-sent head is dropped. */
  private finishPeerEnd(): void {
    if (this.body !== null) this.failBody(this.bodyTarget, BAD_FRAMING);
    else this.stopReading();
    if (this.slots.length === 0) this.endAfterWrites();
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopReading();
    this.dropOwed();
    this.onClose(this);
  }

  /** Forgets the answers not yet written; requests still waiting for theirs are told. */
  private dropOwed(): void {
    for (const slot of this.slots.splice(0)) if (slot.response === null) slot.owner?.connectionLost();
  }
}

function noop(): void {}
