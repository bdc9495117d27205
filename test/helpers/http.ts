/** A real HTTP/1.1 client for tests (node:http, no agent), plus raw-socket requests. */
import * as http from 'node:http';
import * as net from 'node:net';

export interface Reply {
  status: number;
  /** Response headers in order, names as sent. */
  headers: Array<[string, string]>;
  body: Buffer;
  text: string;
}

export interface Req {
  method?: string;
  path: string;
  headers?: Array<[string, string]>;
  body?: string | Buffer;
}

export function request(port: number, req: Req): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const flat: string[] = [];
    let hasHost = false;
    let hasLength = false;
    for (const [k, v] of req.headers ?? []) {
      if (k.toLowerCase() === 'host') hasHost = true;
      if (k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding') hasLength = true;
      flat.push(k, v);
    }
    if (!hasHost) flat.unshift('Host', `127.0.0.1:${port}`);
    if (!hasLength && req.body !== undefined) flat.push('Content-Length', String(Buffer.byteLength(req.body)));
    const r = http.request({ host: '127.0.0.1', port, method: req.method ?? 'GET', path: req.path, headers: flat, agent: false, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    r.setTimeout(30_000, () => r.destroy(new Error('client timeout')));
    if (req.body !== undefined) r.end(req.body); else r.end();
  });
}

/** All values of a response header (case-insensitive name). */
export function headerValues(reply: Reply, name: string): string[] {
  return reply.headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

export function header(reply: Reply, name: string): string | undefined {
  return headerValues(reply, name)[0];
}

/** Writes raw bytes and returns everything received until the server closes or `waitMs` passes. */
export function rawRequest(port: number, data: string | Buffer, waitMs = 2000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    let closed = false;
    const timer = setTimeout(() => { s.destroy(); resolve({ text: out, closed }); }, waitMs);
    s.on('data', (d) => { out += d.toString('latin1'); });
    s.on('close', () => { closed = true; clearTimeout(timer); resolve({ text: out, closed }); });
    s.on('error', () => undefined);
    s.write(data);
  });
}

/** The status code of the first response in raw text, or null. */
export function rawStatus(text: string): number | null {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return m === null ? null : Number(m[1]);
}
