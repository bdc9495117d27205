/**
 * The collector's behaviour, independent of the HTTP server: routing in SSC 3.4 order, the network
 * user id, cookies, CORS, redirects, cookie bounce, do-not-track, and the record(s) to store.
 * The uWS front end (collector-server.ts) feeds it CapturedRequests and writes the ResponsePlans.
 */
import { randomUUID } from 'node:crypto';
import type { CollectorConfig } from '../config/types';
import type { RecordJob } from '../payload/record-job';
import { type CapturedRequest, headerValue } from './captured-request';
import { findCookie, isCookieValue } from '../payload/cookie-header';
import { chooseCookieDomain, SetCookieRenderer } from './cookies';
import { parseOrigin } from './origin';
import { queryParam } from './query';
import { RedirectPolicy } from './redirect';
import { crossDomainXml, PIXEL, ROBOTS_TXT, statusText, TEXT_UTF8 } from './static-responses';

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
  /** The record to build and store before answering; null when nothing is stored. */
  job: RecordJob | null;
}

const EMPTY_BODY = Buffer.alloc(0);

/** Health as the front end needs it; the full pessimistic health comes with operations. */
export interface HealthSource {
  /** Null when healthy, else the reason. */
  unhealthyReason(): string | null;
  sinkHealthy(): boolean;
}

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
  private readonly hsts: string | null;
  private readonly p3p: string | null;
  private readonly crossDomain: string;
  private readonly maxAgeSeconds: string;

  constructor(
    private readonly cfg: CollectorConfig,
    private readonly health: HealthSource,
    private readonly clock: () => number = Date.now,
  ) {
    this.cookies = new SetCookieRenderer(cfg.cookie);
    this.redirects = new RedirectPolicy(cfg.redirectDomains);
    this.dntPattern = cfg.doNotTrackCookie.enabled ? new RegExp(`^(?:${cfg.doNotTrackCookie.value})$`) : null;
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
    if (method === 'options') return { plan: this.preflight(req), job: null };
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
    return { plan: plan(status, headers, body), job: null };
  }

  notFound(): Outcome {
    return this.simple(404, TEXT_UTF8, 'Not found');
  }

  private root(): Outcome {
    const rr = this.cfg.rootResponse;
    if (!rr.enabled) return this.notFound();
    const headers = this.hsts === null ? [] : ['Strict-Transport-Security', this.hsts];
    for (const [k, v] of Object.entries(rr.headers)) headers.push(k, v);
    return { plan: plan(rr.statusCode, headers, rr.body), job: null };
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
      return { plan: plan(302, headers, '', headOnly), job: null };
    }

    const job: RecordJob | null = doNotTrack ? null : {
      timestamp: now,
      anonymous: req.anonymous,
      peer: req.peer,
      forwardedFor: req.forwardedFor,
      path,
      query,
      body: pixelExpected ? null : req.body ?? EMPTY_BODY,
      contentType: pixelExpected || req.contentType === null ? null : req.contentType.toLowerCase(),
      userAgent: req.userAgent,
      referer: req.referer,
      host: req.host,
      nuid,
      names: req.names,
      values: req.values,
    };
    if (isRedirect) {
      const target = this.redirects.target(queryParam(query, 'u'));
      if (target === null) return { plan: plan(400, headers, '', headOnly), job };
      headers.push('Location', target);
      return { plan: plan(302, headers, '', headOnly), job };
    }
    if (pixelExpected) {
      headers.push('Content-Type', 'image/gif');
      return { plan: plan(200, headers, PIXEL, headOnly), job };
    }
    headers.push('Content-Type', 'text/plain');
    return { plan: plan(200, headers, 'ok'), job };
  }

  private bounceLocation(req: CapturedRequest): string {
    const marker = `${this.cfg.cookieBounce.name}=true`;
    const target = `${req.path}?${req.query === '' ? marker : `${req.query}&${marker}`}`;
    const protoHeader = this.cfg.cookieBounce.forwardedProtocolHeader;
    if (protoHeader !== null && req.host !== null) {
      const proto = headerValue(req, protoHeader.toLowerCase())?.trim().toLowerCase() ?? null;
      if ((proto === 'http' || proto === 'https') && /^[A-Za-z0-9.\-:[\]]+$/.test(req.host)) return `${proto}://${req.host}${target}`;
    }
    return target;
  }
}
