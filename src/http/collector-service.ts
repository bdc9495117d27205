/**
 * The collector's behaviour, independent of the HTTP server: routing in SSC 3.4 order, the network
 * user id, cookies, CORS, redirects, cookie bounce, do-not-track, and the record(s) to store.
 * The uWS front end (collector-server.ts) feeds it CapturedRequests and writes the ResponsePlans.
 */
import { randomUUID } from 'node:crypto';
import type { CollectorConfig, WalConfig } from '../config/types';
import { ARTIFACT, VERSION } from '../ops/version';
import { COLLECTOR_PAYLOAD_SCHEMA, type CollectorPayload } from '../payload/collector-payload';
import { type Serialized, serializeWithSplit } from '../payload/split-batch';
import type { CapturedRequest } from './captured-request';
import { forwardedFor } from './client-ip';
import { chooseCookieDomain, findCookie, isCookieValue, rewriteCookieHeader, SetCookieRenderer } from './cookies';
import { canonicalHeaderName } from './header-names';
import { parseOrigin } from './origin';
import { queryParam } from './query';
import { RedirectPolicy } from './redirect';
import { crossDomainXml, PIXEL, ROBOTS_TXT, statusText } from './static-responses';

export const ANONYMOUS_NUID = '00000000-0000-0000-0000-000000000000';

export interface ResponsePlan {
  status: string;
  /** Flat list: name, value, name, value… in sending order. */
  headers: string[];
  body: string | Buffer;
  /** HEAD: send the headers and the body's length only. */
  headOnly: boolean;
}

export interface Outcome {
  plan: ResponsePlan;
  /** Records to store before answering; null when nothing is stored. */
  records: Serialized | null;
}

/** Health as the front end needs it; the full pessimistic health comes with operations. */
export interface HealthSource {
  /** Null when healthy, else the reason. */
  unhealthyReason(): string | null;
  sinkHealthy(): boolean;
}

const TEXT_UTF8 = 'text/plain; charset=UTF-8';
const PIXEL_PATHS = new Set(['/i', '/ice.png']);

function plan(status: number, headers: string[], body: string | Buffer, headOnly = false): ResponsePlan {
  return { status: statusText(status), headers, body, headOnly };
}

/** Splits `/a/b` into its two segments, or null when the path has another shape. */
function twoSegments(path: string): boolean {
  if (path.length < 4 || path.charCodeAt(0) !== 0x2f) return false;
  const slash = path.indexOf('/', 1);
  return slash > 1 && slash < path.length - 1 && path.indexOf('/', slash + 1) < 0;
}

export class CollectorService {
  private readonly cookies: SetCookieRenderer;
  private readonly redirects: RedirectPolicy;
  private readonly dntPattern: RegExp | null;
  private readonly collectorName: string;
  private readonly hsts: string | null;
  private readonly p3p: string | null;
  private readonly crossDomain: string;
  private readonly maxAgeSeconds: string;

  constructor(
    private readonly cfg: CollectorConfig,
    private readonly wal: Pick<WalConfig, 'maxRecordBytes'>,
    sinkName: string,
    private readonly health: HealthSource,
    private readonly clock: () => number = Date.now,
  ) {
    this.cookies = new SetCookieRenderer(cfg.cookie);
    this.redirects = new RedirectPolicy(cfg.redirectDomains);
    this.dntPattern = cfg.doNotTrackCookie.enabled ? new RegExp(`^(?:${cfg.doNotTrackCookie.value})$`) : null;
    this.collectorName = `${ARTIFACT}-${VERSION}-${sinkName}`;
    this.hsts = cfg.hsts.enable ? `max-age=${Math.floor(cfg.hsts.maxAge / 1000)}; includeSubDomains` : null;
    this.p3p = cfg.p3p.enabled ? `policyref="${cfg.p3p.policyRef}", CP="${cfg.p3p.CP}"` : null;
    this.crossDomain = crossDomainXml(cfg.crossDomain.domains, cfg.crossDomain.secure);
    this.maxAgeSeconds = String(Math.floor(cfg.cors.accessControlMaxAge / 1000));
  }

  /** True when the request is routed to an event handler that reads a body. */
  readsBody(method: string, path: string): boolean {
    return method === 'post' && twoSegments(path) && !this.redirectsDisabledFor(path);
  }

  private redirectsDisabledFor(path: string): boolean {
    return !this.cfg.enableDefaultRedirect && path.startsWith('/r/') && path.indexOf('/', 3) < 0 && path.length > 3;
  }

  /** Routes one request (SSC 3.4 order) and decides the answer and what to store. */
  handle(req: CapturedRequest): Outcome {
    const { method, path } = req;
    if (this.redirectsDisabledFor(path)) return this.simple(404, TEXT_UTF8, 'redirects disabled');
    if (method === 'options') return { plan: this.preflight(req), records: null };
    if (twoSegments(path)) {
      if (method === 'post') return this.event(req, this.cfg.paths[path] ?? path, false);
      if (method === 'get' || method === 'head') return this.event(req, this.cfg.paths[path] ?? path, true);
      return this.notFound();
    }
    if (PIXEL_PATHS.has(path) && (method === 'get' || method === 'head')) return this.event(req, path, true);
    if (method !== 'get') return this.notFound();
    switch (path) {
      case '/': return this.root();
      case '/crossdomain.xml':
        return this.cfg.crossDomain.enabled ? this.simple(200, 'text/xml', this.crossDomain) : this.notFound();
      case '/health':
      case '/healthcheck': {
        const reason = this.health.unhealthyReason();
        return reason === null ? this.simple(200, TEXT_UTF8, 'ok') : this.simple(503, TEXT_UTF8, reason);
      }
      case '/sink-health':
        return this.health.sinkHealthy() ? this.simple(200, TEXT_UTF8, 'ok') : this.simple(503, TEXT_UTF8, 'Service Unavailable');
      case '/robots.txt': return this.simple(200, TEXT_UTF8, ROBOTS_TXT);
      default: return this.notFound();
    }
  }

  /** A plain answer with the HSTS header when configured. */
  simple(status: number, contentType: string, body: string): Outcome {
    const headers = this.hsts === null ? [] : ['Strict-Transport-Security', this.hsts];
    headers.push('Content-Type', contentType);
    return { plan: plan(status, headers, body), records: null };
  }

  notFound(): Outcome {
    return this.simple(404, TEXT_UTF8, 'Not found');
  }

  private root(): Outcome {
    const rr = this.cfg.rootResponse;
    if (!rr.enabled) return this.notFound();
    const headers = this.hsts === null ? [] : ['Strict-Transport-Security', this.hsts];
    for (const [k, v] of Object.entries(rr.headers)) headers.push(k, v);
    return { plan: plan(rr.statusCode, headers, rr.body), records: null };
  }

  private preflight(req: CapturedRequest): ResponsePlan {
    const origin = parseOrigin(req.origin);
    const headers = [
      'Access-Control-Allow-Origin', origin === null ? '*' : origin.allowOrigin,
      'Access-Control-Allow-Credentials', 'true',
      'Access-Control-Allow-Headers', 'Content-Type, SP-Anonymous',
      'Access-Control-Max-Age', this.maxAgeSeconds,
    ];
    if (this.hsts !== null) headers.push('Strict-Transport-Security', this.hsts);
    return plan(200, headers, '');
  }

  private requestCookie(req: CapturedRequest, name: string): string | null {
    for (const header of req.cookies) {
      const v = findCookie(header, name);
      if (v !== null) return v;
    }
    return null;
  }

  private event(req: CapturedRequest, path: string, pixelExpected: boolean): Outcome {
    const cfg = this.cfg;
    const now = this.clock();
    const query = req.query;
    const nuidParam = req.anonymous ? null : queryParam(query, 'nuid');
    const cookieValue = req.anonymous ? null : this.requestCookie(req, cfg.cookie.name);
    const bouncing = cfg.cookieBounce.enabled && query.includes(cfg.cookieBounce.name);
    const knownNuid = req.anonymous ? ANONYMOUS_NUID : nuidParam ?? cookieValue;
    const nuid = knownNuid ?? (bouncing ? cfg.cookieBounce.fallbackNetworkUserId : randomUUID());
    const isRedirect = path.startsWith('/r/');
    const origin = parseOrigin(req.origin);

    let doNotTrack = false;
    if (this.dntPattern !== null) {
      const dnt = this.requestCookie(req, cfg.doNotTrackCookie.name);
      doNotTrack = dnt !== null && this.dntPattern.test(dnt);
    }

    const headers: string[] = [];
    if (!doNotTrack && cfg.cookie.enabled) {
      const hadCookie = req.anonymous && this.requestCookie(req, cfg.cookie.name) !== null;
      if (!req.anonymous || hadCookie) {
        // A value with characters outside cookie-octet (from ?nuid=) is never echoed into Set-Cookie.
        if (req.anonymous || isCookieValue(nuid)) {
          const domain = chooseCookieDomain(cfg.cookie, origin === null ? [] : origin.hosts);
          for (const c of this.cookies.render(nuid, domain, now, req.anonymous)) headers.push('Set-Cookie', c);
        }
      }
    }
    if (this.p3p !== null) headers.push('P3P', this.p3p);
    if (pixelExpected) headers.push('Cache-Control', 'no-cache, no-store, must-revalidate');
    headers.push('Access-Control-Allow-Origin', origin === null ? '*' : origin.allowOrigin);
    headers.push('Access-Control-Allow-Credentials', 'true');
    if (this.hsts !== null) headers.push('Strict-Transport-Security', this.hsts);

    const headOnly = req.method === 'head';
    const bounce = cfg.cookieBounce.enabled && knownNuid === null && !bouncing && pixelExpected && !isRedirect;
    if (bounce) {
      headers.push('Location', this.bounceLocation(req));
      return { plan: plan(302, headers, '', headOnly), records: null };
    }

    const records = doNotTrack ? null : this.serialize(req, path, pixelExpected, nuid, now);
    if (isRedirect) {
      const target = this.redirects.target(queryParam(query, 'u'));
      if (target === null) return { plan: plan(400, headers, '', headOnly), records };
      headers.push('Location', target);
      return { plan: plan(302, headers, '', headOnly), records };
    }
    if (pixelExpected) {
      headers.push('Content-Type', 'image/gif');
      return { plan: plan(200, headers, PIXEL, headOnly), records };
    }
    headers.push('Content-Type', 'text/plain');
    return { plan: plan(200, headers, 'ok'), records };
  }

  private bounceLocation(req: CapturedRequest): string {
    const marker = `${this.cfg.cookieBounce.name}=true`;
    const target = `${req.path}?${req.query === '' ? marker : `${req.query}&${marker}`}`;
    const protoHeader = this.cfg.cookieBounce.forwardedProtocolHeader;
    if (protoHeader !== null && req.host !== null) {
      const i = req.names.indexOf(protoHeader.toLowerCase());
      const proto = i < 0 ? null : req.values[i]!.trim().toLowerCase();
      if ((proto === 'http' || proto === 'https') && /^[A-Za-z0-9.\-:[\]]+$/.test(req.host)) return `${proto}://${req.host}${target}`;
    }
    return target;
  }

  /** The record's header list: `Name: value` in arrival order, Cookie rewritten, anonymity applied. */
  private recordHeaders(req: CapturedRequest, contentType: string | null): string[] {
    const out: string[] = [];
    const { names, values } = req;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (name === 'cookie') {
        if (req.anonymous) continue;
        const rewritten = rewriteCookieHeader(values[i]!);
        if (rewritten !== null) out.push(`Cookie: ${rewritten}`);
        continue;
      }
      if (req.anonymous && (name === 'x-forwarded-for' || name === 'x-real-ip')) continue;
      out.push(`${canonicalHeaderName(name)}: ${values[i]!}`);
    }
    if (contentType !== null) out.push(contentType);
    return out;
  }

  private ipAddress(req: CapturedRequest): string {
    if (req.anonymous) return 'unknown';
    if (req.forwardedFor !== null) {
      const ip = forwardedFor(req.forwardedFor);
      if (ip !== null) return ip;
    }
    return req.peer;
  }

  private serialize(req: CapturedRequest, path: string, pixelExpected: boolean, nuid: string, now: number): Serialized {
    const contentType = pixelExpected || req.contentType === null ? null : req.contentType.toLowerCase();
    const payload: CollectorPayload = {
      schema: COLLECTOR_PAYLOAD_SCHEMA,
      ipAddress: this.ipAddress(req),
      timestamp: now,
      encoding: 'UTF-8',
      collector: this.collectorName,
      userAgent: req.userAgent,
      refererUri: req.referer,
      path,
      querystring: req.query,
      body: pixelExpected ? null : req.body ?? '',
      headers: this.recordHeaders(req, contentType),
      contentType,
      hostname: hostWithoutPort(req.host),
      networkUserId: nuid,
    };
    return serializeWithSplit(payload, { maxBytes: this.wal.maxRecordBytes, maxPayloadSize: this.cfg.networking.maxPayloadSize }, { artifact: ARTIFACT, version: VERSION }, new Date(now));
  }
}

/** Host header without its port (IPv6 literals keep their brackets). */
export function hostWithoutPort(host: string | null): string | null {
  if (host === null || host === '') return null;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close > 0 ? host.slice(0, close + 1) : host;
  }
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}
