/**
 * The admin port (loopback by default, never the public port): GET /metrics (Prometheus),
 * /health (every check, JSON; 200 or 503), /status (the live page), /status.json and
 * /status/history.json (the samples of the last minutes; `?since=<ms>` for the newer ones only).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminHostPolicy } from './admin-host';
import type { CollectorMetrics } from './collector-metrics';
import type { Lifecycle } from './lifecycle';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text';
import { STATUS_PAGE_HTML } from './status-page';
import { StatusHistory } from './status-history';

export class AdminServer {
  private readonly server: Server;
  /** The status page's last minutes: one sample per second while the admin port is up. */
  private readonly history: StatusHistory;
  private readonly historyTimer: NodeJS.Timeout;

  constructor(private readonly metrics: CollectorMetrics, private readonly lifecycle: Lifecycle, private readonly hosts: AdminHostPolicy, private readonly onError: (err: unknown) => void, historySeconds: number) {
    this.history = new StatusHistory(historySeconds);
    this.historyTimer = setInterval(() => {
      this.metrics.status().then((snap) => this.history.add(snap), () => undefined);
    }, 1000);
    this.historyTimer.unref();
    this.server = createServer((req, res) => {
      if (!this.hosts.allows(req.headers.host)) {
        res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end('Misdirected Request: this Host is not the admin port\'s (admin.allowedHosts)\n');
        return;
      }
      this.route(req.method ?? 'GET', req.url ?? '/', res).catch((err: unknown) => {
        onError(err);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('Internal Server Error\n');
      });
    });
    // The admin port serves operators and scrapers: small requests, short timeouts.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.maxHeadersCount = 100;
  }

  private async route(method: string, url: string, res: import('node:http').ServerResponse): Promise<void> {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method Not Allowed\n');
      return;
    }
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
    };
    switch (path) {
      case '/metrics':
        send(200, PROMETHEUS_CONTENT_TYPE, await this.metrics.prometheus());
        return;
      case '/health': {
        const checks = this.lifecycle.checks();
        const healthy = checks.every((c) => c.ok);
        send(healthy ? 200 : 503, 'application/json', `${JSON.stringify({ healthy, phase: this.lifecycle.phase, checks })}\n`);
        return;
      }
      case '/':
      case '/status':
        send(200, 'text/html; charset=utf-8', STATUS_PAGE_HTML);
        return;
      case '/status.json':
        send(200, 'application/json', JSON.stringify(await this.metrics.status()));
        return;
      case '/status/history.json': {
        const since = Number(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)).get('since') ?? 0);
        const samples = this.history.samples().filter((x) => !(x.at <= since));
        send(200, 'application/json', JSON.stringify({ seconds: this.history.capacity, samples }));
        return;
      }
      default:
        send(404, 'text/plain; charset=utf-8', 'Not Found: try /metrics, /health or /status\n');
    }
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.server.on('error', this.onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): void {
    clearInterval(this.historyTimer);
    this.server.close();
    this.server.closeAllConnections();
  }
}
