// The front end's wire modules, each alone: the request head parser (strict framing), the body
// reader (Content-Length and chunked, split anywhere), the response bytes, and HttpConnection's
// order and bounds over a real socket (pipelining past its bound, a client that ends its side).
import * as net from 'node:net';
import t, { type Test } from 'tap';
import { BodyReader, MAX_CHUNK_LINE_BYTES } from '../src/http/body-reader';
import { HttpConnection, type RequestHandler, type ResponseSlot } from '../src/http/http-connection';
import { headOverflow, isRefusal, parseRequestHead, type RequestHead } from '../src/http/request-head';
import { responseBytes } from '../src/http/response-bytes';

const LIMITS = { maxRequestLineLength: 100, maxHeadersLength: 200 };

function head(text: string): RequestHead {
  const h = parseRequestHead(text, LIMITS);
  if (isRefusal(h)) throw new Error(`refused: ${h.status} ${h.body}`);
  return h;
}

t.test('request head: fields, names lower-cased, values trimmed, keep-alive by version', async (t) => {
  const h = head('GET /i?e=pv HTTP/1.1\r\nHost: a\r\nUser-Agent:  Mozilla/5.0 \t\r\nX-Obs: caf\xe9');
  t.same([h.method, h.target, h.http10, h.keepAlive], ['GET', '/i?e=pv', false, true]);
  t.same(h.names, ['host', 'user-agent', 'x-obs']);
  t.same(h.values, ['a', 'Mozilla/5.0', 'caf\xe9'], 'blanks trimmed, obs-text kept');
  t.equal(h.contentLength, -1);
  t.notOk(head('GET / HTTP/1.1\r\nConnection: close').keepAlive, '1.1 with close');
  t.notOk(head('GET / HTTP/1.0').keepAlive, '1.0 by default closes');
  t.ok(head('GET / HTTP/1.0\r\nConnection: Keep-Alive').keepAlive, '1.0 with keep-alive');
  t.ok(head('POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-Continue').expectContinue);
  const chunked = head('POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked');
  t.ok(chunked.chunked, 'chunked last');
  t.equal(head('POST / HTTP/1.1\r\nContent-Length: 0042').contentLength, 42);
});

t.test('request head: ambiguous or malformed heads are refused with 400, oversize with 400/431', async (t) => {
  const refused = (text: string): number => {
    const h = parseRequestHead(text, LIMITS);
    return isRefusal(h) ? h.status : 0;
  };
  for (const [what, text] of [
    ['two Content-Lengths', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1'],
    ['a list as Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 1, 1'],
    ['a sign in Content-Length', 'POST / HTTP/1.1\r\nContent-Length: +1'],
    ['Content-Length beside Transfer-Encoding', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked'],
    ['Transfer-Encoding not ending in chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip'],
    ['obs-fold', 'GET / HTTP/1.1\r\nX-A: a\r\n b'],
    ['a NUL', 'GET / HTTP/1.1\r\nX-A: a\0b'],
    ['a bare LF', 'GET / HTTP/1.1\nHost: a'],
    ['a bare CR', 'GET / HTTP/1.1\r\nX-A: a\rb'],
    ['a blank before the colon', 'GET / HTTP/1.1\r\nHost : a'],
    ['no colon', 'GET / HTTP/1.1\r\nHost'],
    ['HTTP/2.0', 'GET / HTTP/2.0'],
    ['a space in the target', 'GET /a b HTTP/1.1'],
    ['no version', 'GET /'],
    ['a method that is not a token', 'G(T / HTTP/1.1'],
  ] as const) t.equal(refused(text), 400, what);
  t.equal(refused('GET /a\x01b HTTP/1.1'), 400, 'a control character in the target');
  t.same(head('GET / HTTP/1.1\r\nX-A: a\x01b\tc').values, ['a\x01b\tc'], 'other controls in a value are kept (RFC 9110 5.5 lets a recipient; NUL, CR and LF are refused)');
  t.equal(refused(`GET /${'a'.repeat(100)} HTTP/1.1`), 400, 'request line past its limit');
  t.equal(refused(`GET / HTTP/1.1\r\nX-A: ${'a'.repeat(200)}`), 431, 'headers past theirs');
  t.equal(refused(`GET / HTTP/1.1\r\nX-A: ${'a'.repeat(180)}`), 0, 'headers within theirs');
});

t.test('head overflow before the end arrives: the line alone, then line and headers', async (t) => {
  t.equal(headOverflow(Buffer.from(`GET /${'a'.repeat(90)}`), 0, LIMITS), null, 'within the line limit: wait');
  t.equal(headOverflow(Buffer.from(`GET /${'a'.repeat(200)}`), 0, LIMITS)?.status, 400, 'a line past its limit with no CRLF: 400');
  t.equal(headOverflow(Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(150)}`), 0, LIMITS), null, 'line ended, head within both: wait');
  t.equal(headOverflow(Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(400)}`), 0, LIMITS)?.status, 431, 'past both: 431');
});

function readAll(reader: BodyReader, parts: Buffer[]): { data: string; rest: string } {
  let data = '';
  let rest = '';
  for (const p of parts) {
    const end = reader.feed(p, 0, (d) => { data += d.toString('latin1'); });
    if (reader.done || reader.failed) { rest += p.subarray(end).toString('latin1'); }
  }
  return { data, rest };
}

t.test('body reader: Content-Length and chunked, split at every offset, the next request left over', async (t) => {
  const next = 'GET / HTTP/1.1\r\n\r\n';
  const cl = Buffer.from(`hello world${next}`);
  const chunked = Buffer.from(`5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n${next}`);
  let ok = 0;
  for (const [whole, reader] of [[cl, () => new BodyReader(11, false)], [chunked, () => new BodyReader(-1, true)]] as const) {
    for (let at = 1; at < whole.length; at++) {
      const r = reader();
      const got = readAll(r, [whole.subarray(0, at), whole.subarray(at)]);
      if (r.done && got.data === 'hello world' && got.rest === next) ok++;
    }
  }
  t.equal(ok, cl.length - 1 + chunked.length - 1, 'every split of both framings');
  const empty = new BodyReader(0, false);
  t.ok(empty.done, 'Content-Length 0 is done at once');
});

t.test('body reader: broken chunked framing fails', async (t) => {
  for (const [what, raw] of [
    ['data longer than its size', '2\r\nabc\r\n0\r\n\r\n'],
    ['a size that is not hex', 'zz\r\nab\r\n0\r\n\r\n'],
    ['a size line ending in a bare LF', '2\nab\r\n0\r\n\r\n'],
    ['a size line past its bound', `${'0'.repeat(MAX_CHUNK_LINE_BYTES + 1)}\r\n`],
  ] as const) {
    const r = new BodyReader(-1, true);
    r.feed(Buffer.from(raw), 0, () => undefined);
    t.ok(r.failed, what);
  }
});

t.test('response bytes: one buffer, length, date, connection, HEAD, no header splitting', async (t) => {
  const body = Buffer.from('GIF89a');
  const r = responseBytes('200 OK', ['Content-Type', 'image/gif', 'Set-Cookie', 'sp=x'], body, { close: false, keepAlive10: false, headOnly: false }).toString('latin1');
  t.match(r, /^HTTP\/1\.1 200 OK\r\nContent-Type: image\/gif\r\nSet-Cookie: sp=x\r\nContent-Length: 6\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n\r\nGIF89a$/);
  const closing = responseBytes('400 Bad Request', [], 'Bad', { close: true, keepAlive10: false, headOnly: false }).toString('latin1');
  t.match(closing, /\r\nConnection: close\r\n\r\nBad$/);
  t.match(responseBytes('200 OK', [], 'x', { close: false, keepAlive10: true, headOnly: false }).toString(), /\r\nConnection: keep-alive\r\n/);
  const headOnly = responseBytes('200 OK', [], 'hello', { close: false, keepAlive10: false, headOnly: true }).toString();
  t.match(headOnly, /Content-Length: 5\r\n/);
  t.ok(headOnly.endsWith('\r\n\r\n'), 'HEAD: the length, no body');
  t.equal(responseBytes('200 OK', [], 'é', { close: false, keepAlive10: false, headOnly: false }).subarray(-2).toString('utf8'), 'é', 'a text body as UTF-8');
  t.throws(() => responseBytes('302 Found', ['Location', 'http://a/\r\nSet-Cookie: evil'], '', { close: false, keepAlive10: false, headOnly: false }), /split the response/);
});

/** A handler that records heads and answers only when told, over a real loopback socket. */
async function connectionUnderTest(t: Test, maxPipelined: number) {
  const begun: Array<{ head: RequestHead; slot: ResponseSlot; conn: HttpConnection<string> }> = [];
  const handler: RequestHandler<string> = {
    begin: (conn, head, slot) => { begun.push({ head, slot, conn }); return null; },
    bodyData: () => undefined,
    bodyEnd: () => undefined,
    framingError: () => undefined,
  };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    new HttpConnection<string>(socket, '127.0.0.1', handler, { ...LIMITS, maxPipelined, maxWriteBufferBytes: 64 * 1024 }, () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  return { begun, port: (server.address() as net.AddressInfo).port };
}

const answer = (n: number) => Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${String(n).length}\r\n\r\n${n}`);
const settle = () => new Promise((r) => setTimeout(r, 100));

t.test('HttpConnection: past maxPipelined unanswered requests it reads no further; answers in request order', async (t) => {
  const { begun, port } = await connectionUnderTest(t, 4);
  const client = net.connect(port, '127.0.0.1');
  t.teardown(() => client.destroy());
  let got = '';
  client.on('data', (d) => { got += d.toString('latin1'); });
  let requests = '';
  for (let i = 0; i < 10; i++) requests += `GET /${i} HTTP/1.1\r\n\r\n`;
  client.write(requests);
  await settle();
  t.equal(begun.length, 4, 'four requests taken, six held unparsed');
  // Answered out of order: nothing is written until the first is.
  begun[2]!.conn.respond(begun[2]!.slot, answer(2), false);
  begun[1]!.conn.respond(begun[1]!.slot, answer(1), false);
  await settle();
  t.equal(got, '', 'answers wait behind the first');
  begun[0]!.conn.respond(begun[0]!.slot, answer(0), false);
  await settle();
  t.match(got, /^HTTP.*\r\n\r\n0HTTP.*\r\n\r\n1HTTP.*\r\n\r\n2$/s, 'then 0, 1, 2 in order');
  t.equal(begun.length, 7, 'three answered: three more read');
  for (let i = 3; i < 10; i++) {
    while (begun.length <= i) await settle();
    begun[i]!.conn.respond(begun[i]!.slot, answer(i), false);
  }
  await settle();
  t.same([...got.matchAll(/\r\n\r\n(\d)/g)].map((m) => Number(m[1])), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'all ten, in order');
  t.same(begun.map((b) => b.head.target), Array.from({ length: 10 }, (_, i) => `/${i}`));
});

t.test('HttpConnection: a client that ends its side still gets every answer, then the close', async (t) => {
  const { begun, port } = await connectionUnderTest(t, 2);
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let got = '';
  client.on('data', (d) => { got += d.toString('latin1'); });
  const closed = new Promise((r) => client.on('end', r));
  client.end('GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\nGET /partial HTT');
  for (let i = 0; i < 3; i++) {
    while (begun.length <= i) await settle();
    begun[i]!.conn.respond(begun[i]!.slot, answer(i), false);
  }
  await closed;
  t.equal([...got.matchAll(/HTTP\/1\.1 200/g)].length, 3, 'three answers, the half-sent fourth dropped');
  t.equal(begun.length, 3);
});

t.test('HttpConnection: a client that does not read its answers is read no further past maxWriteBufferBytes', async (t) => {
  const begun: number[] = [];
  const big = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 524288\r\n\r\n'), Buffer.alloc(524288, 0x61)]);
  const handler: RequestHandler<string> = {
    begin: (conn, _head, slot) => { begun.push(1); conn.respond(slot, big, false); return null; },
    bodyData: () => undefined, bodyEnd: () => undefined, framingError: () => undefined,
  };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    new HttpConnection<string>(socket, '127.0.0.1', handler, { ...LIMITS, maxPipelined: 1000, maxWriteBufferBytes: 64 * 1024 }, () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  t.teardown(() => client.destroy());
  client.pause();
  client.write('GET / HTTP/1.1\r\n\r\n'.repeat(200));
  await new Promise((r) => setTimeout(r, 300));
  const whilePaused = begun.length;
  t.ok(whilePaused < 50, `the client reads nothing: ${whilePaused} of 200 requests taken (the kernel's buffers, then the bound)`);
  let bytes = 0;
  client.on('data', (d) => { bytes += d.length; });
  client.resume();
  while (begun.length < 200) await settle();
  await new Promise((r) => setTimeout(r, 300));
  t.equal(begun.length, 200, 'once it reads, every request is taken');
  t.equal(bytes, 200 * big.length, 'and answered');
});
