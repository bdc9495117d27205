/**
 * Per-request figures from the front end: answers by endpoint, method and status, aborts, body
 * bytes, and the request-to-acknowledgement latency of requests that stored records. No
 * allocation per request: nested maps of counters keyed by values the request already holds.
 */
import { performance } from 'node:perf_hooks';
import type { CapturedRequest } from '../http/captured-request';
import type { ExchangeObserver } from '../http/collector-server';
import { WindowedHistogram } from './windowed-histogram';
import { ACK_LATENCY_BOUNDS_US, BucketHistogram, EVENTS_PER_REQUEST_BOUNDS } from './bucket-histogram';
import { tp2EventCount } from '../payload/tracker-events';
import type { RequestsSnapshot } from './metrics-snapshot';
import { ENDPOINTS, endpointOf } from './endpoints';

type StatusCounts = Map<number, number>;

export class RequestMetrics implements ExchangeObserver {
  /** Per endpoint index: method → status → count. */
  private readonly answers: Array<Map<string, StatusCounts>> = ENDPOINTS.map(() => new Map());
  private readonly abortsByEndpoint = new Float64Array(ENDPOINTS.length);
  private bodyBytes = 0;
  /** Requests that stored records and were acknowledged with a 200 (for rates on the status page). */
  acknowledged = 0;
  readonly ackLatency = new WindowedHistogram();
  /** The same latencies in fixed buckets (they add up across instances). */
  readonly ackBuckets = new BucketHistogram(ACK_LATENCY_BOUNDS_US);
  /** Tracker events per acknowledged request (a tp2 batch is one record, many events). */
  readonly eventsPerRequest = new BucketHistogram(EVENTS_PER_REQUEST_BOUNDS);

  constructor(private readonly customPaths: Readonly<Record<string, string>>) {}

  answered(req: CapturedRequest, status: number, stored: boolean, bodyBytes: number, startedAt: number): void {
    const e = ENDPOINTS.indexOf(endpointOf(req.method, req.path, this.customPaths));
    const byMethod = this.answers[e]!;
    let byStatus = byMethod.get(req.method);
    if (byStatus === undefined) {
      // Methods are few (uWS accepts only tokens); bound the map anyway.
      if (byMethod.size >= 16) byStatus = this.otherMethod(byMethod);
      else byMethod.set(req.method, (byStatus = new Map()));
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.bodyBytes += bodyBytes;
    if (stored) {
      const us = (performance.now() - startedAt) * 1000;
      this.ackLatency.record(us);
      this.ackBuckets.record(us);
      if (status === 200 || status === 302) {
        this.acknowledged++;
        this.eventsPerRequest.record(ENDPOINTS[e] === 'tp2' ? tp2EventCount(req.body) : 1);
      }
    }
  }

  private readonly conns = { open: 0, refused: 0, evicted: 0 };

  connectionOpened(): void {
    this.conns.open++;
  }

  connectionClosed(): void {
    this.conns.open--;
  }

  connectionRefused(): void {
    this.conns.refused++;
  }

  connectionEvicted(): void {
    this.conns.evicted++;
  }

  aborted(req: CapturedRequest): void {
    this.abortsByEndpoint[ENDPOINTS.indexOf(endpointOf(req.method, req.path, this.customPaths))]!++;
  }

  private otherMethod(byMethod: Map<string, StatusCounts>): StatusCounts {
    let m = byMethod.get('other');
    if (m === undefined) byMethod.set('other', (m = new Map()));
    return m;
  }

  snapshot(): RequestsSnapshot {
    const answers: RequestsSnapshot['answers'] = [];
    ENDPOINTS.forEach((endpoint, i) => {
      for (const [method, byStatus] of this.answers[i]!) for (const [status, n] of byStatus) answers.push([endpoint, method, status, n]);
    });
    const aborts: Record<string, number> = {};
    ENDPOINTS.forEach((endpoint, i) => { aborts[endpoint] = this.abortsByEndpoint[i]!; });
    return { answers, aborts, connections: { ...this.conns }, bodyBytes: this.bodyBytes, acknowledged: this.acknowledged, ackLatency: this.ackLatency.snapshot(), ackRecent: this.ackLatency.snapshot(2), ackBuckets: this.ackBuckets.snapshot(), events: this.eventsPerRequest.snapshot() };
  }
}
