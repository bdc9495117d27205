/**
 * One request from capture to answer, the serializer's and the sink's waiter, and what the front
 * end reports of it (ExchangeObserver: the metrics).
 */
import { performance } from 'node:perf_hooks';
import type { SerializeWaiter } from '../payload/record-serializer';
import type { Serialized } from '../payload/split-batch';
import type { CommitWaiter } from '../wal/record-sink';
import type { CapturedRequest } from './captured-request';
import type { ResponsePlan } from './collector-service';
import type { ConnectionObserver } from './connection-guard';
import type { ResponseSlot, SlotOwner } from './http-connection';

/** What answers an exchange: the front end (collector-server.ts). */
export interface ExchangeOwner {
  store(ex: Exchange, records: Serialized | null, err: Error | null): void;
  answer(ex: Exchange, plan: ResponsePlan): void;
  answerText(ex: Exchange, status: number, body: string, close?: boolean): void;
  /** The client's connection went before the answer. */
  lost(ex: Exchange): void;
}

/** One request from capture to answer; also the serializer's and the sink's waiter. */
export class Exchange implements SerializeWaiter, CommitWaiter, SlotOwner {
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

  constructor(readonly server: ExchangeOwner, readonly slot: ResponseSlot, readonly req: CapturedRequest, readonly keepAlive: boolean, readonly keepAlive10: boolean) {
    this.startedAt = performance.now();
    slot.owner = this;
  }

  connectionLost(): void {
    this.server.lost(this);
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

/** What the front end reports of each request, once, when it is answered or aborted. */
export interface ExchangeObserver extends ConnectionObserver {
  /**
   * `stored`: the request had records to store (its latency is request to acknowledgement);
   * `bodyBytes`: body bytes received; `startedAt`: performance.now() at capture.
   */
  answered(req: CapturedRequest, status: number, stored: boolean, bodyBytes: number, startedAt: number): void;
  /** The client went away before its answer. */
  aborted(req: CapturedRequest, stored: boolean): void;
}

export const NO_OBSERVER: ExchangeObserver = {
  answered: () => undefined, aborted: () => undefined,
  connectionOpened: () => undefined, connectionClosed: () => undefined, connectionRefused: () => undefined, connectionEvicted: () => undefined,
};

/** The numeric code of a status line such as `200 OK`. */
export function statusCode(line: string): number {
  return (line.charCodeAt(0) - 48) * 100 + (line.charCodeAt(1) - 48) * 10 + (line.charCodeAt(2) - 48);
}

