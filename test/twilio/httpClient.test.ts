/**
 * TwilioHttpClient's undici transport against a tiny local server: what the SDK's RequestClient (axios) did —
 * query/form encoding, Basic auth, timeouts, no redirects, keep-alive — plus Retry-After surfacing and host rewrite.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { TwilioHttpClient, TwilioRetryAfterException, type RawResponseInfo } from '../../src/twilio/client';
import { isTransient } from '../../src/activities/twilioRetry';

/** What a request that must fail rejects with. */
function rejection(p: Promise<unknown>, expected: string): Promise<{ status?: unknown; code?: unknown; message: string }> {
  return p.then(
    () => assert.fail(`expected ${expected}`),
    (e: unknown) => e as { status?: unknown; code?: unknown; message: string },
  );
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  remotePort: number;
}

describe('TwilioHttpClient (undici transport)', () => {
  let server: http.Server;
  let baseUrl: string;
  const seen: Seen[] = [];
  let client: TwilioHttpClient;
  const responses: RawResponseInfo[] = [];
  let connections = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, remotePort: req.socket.remotePort ?? 0 });
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (path.endsWith('/hang')) return; // never answers
        if (path.endsWith('/drop')) return req.socket.destroy();
        if (path.endsWith('/throttled')) {
          res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '3' });
          return res.end(JSON.stringify({ code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 }));
        }
        if (path.endsWith('/moved')) {
          res.writeHead(302, { Location: '/elsewhere' });
          return res.end('');
        }
        if (path.endsWith('/text')) {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          return res.end('not json');
        }
        res.writeHead(200, { 'Content-Type': 'application/json', ETag: '"v1"' });
        res.end(JSON.stringify({ sid: 'WT' + '0'.repeat(32), ok: true }));
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new TwilioHttpClient({ baseUrl, timeout: 30_000, keepAlive: true, maxSockets: 4, onResponse: (r) => responses.push(r) });
  });

  after(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    seen.length = 0;
    responses.length = 0;
  });

  it('encodes params and form data as the SDK (qs, arrays repeated), sends Basic auth and the SDK headers', async () => {
    const res = await client.request({
      method: 'post',
      uri: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json',
      username: 'AC1',
      password: 's3cret',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'twilio-node/test', Accept: 'application/json' },
      params: { PageSize: 50, Status: ['queued', 'in progress'] },
      data: { To: '+15550001111', StatusCallbackEvent: ['initiated', 'answered'], Note: 'a&b=c é' },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.body, { sid: 'WT' + '0'.repeat(32), ok: true }); // parsed, as axios did
    const r = seen[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/api/2010-04-01/Accounts/AC1/Calls.json?PageSize=50&Status=queued&Status=in%20progress');
    assert.equal(r.body, 'To=%2B15550001111&StatusCallbackEvent=initiated&StatusCallbackEvent=answered&Note=a%26b%3Dc%20%C3%A9');
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)));
    assert.equal(r.headers.authorization, `Basic ${Buffer.from('AC1:s3cret').toString('base64')}`);
    assert.equal(r.headers['user-agent'], 'twilio-node/test');
    assert.equal(r.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(r.headers.accept, 'application/json');
    assert.equal(responses[0]!.uri, `${baseUrl}/api/2010-04-01/Accounts/AC1/Calls.json`);
    assert.equal(responses[0]!.method, 'POST');
    assert.equal(responses[0]!.headers.etag, '"v1"');
    assert.equal(client.lastResponse?.statusCode, 200);
  });

  it('serves the real SDK: an https Twilio URL is rewritten to the local server and the body parsed', async () => {
    const sdk = twilio('AC' + 'a'.repeat(32), 'token', { accountSid: 'AC' + 'a'.repeat(32), httpClient: client, autoRetry: false });
    const res = await sdk.taskrouter.v1.workspaces('WS' + '1'.repeat(32)).fetchWithHttpInfo();
    assert.equal(res.statusCode, 200);
    assert.equal(res.body.sid, 'WT' + '0'.repeat(32));
    assert.equal(res.headers.etag, '"v1"');
    assert.equal(seen[0]!.url, `/taskrouter/v1/Workspaces/WS${'1'.repeat(32)}`);
    assert.match(String(seen[0]!.headers['user-agent']), /^twilio-node\//);
    assert.equal(seen[0]!.headers.authorization, `Basic ${Buffer.from(`AC${'a'.repeat(32)}:token`).toString('base64')}`);
  });

  it('reuses keep-alive connections for sequential requests', async () => {
    const before = connections;
    for (let i = 0; i < 5; i++) await client.request({ method: 'get', uri: 'https://taskrouter.twilio.com/v1/Workspaces', headers: {} });
    assert.equal(seen.length, 5);
    // Connections stay open between requests: none is opened per request (one at most, if none was idle).
    assert.ok(connections - before <= 1, `${connections - before} new connections for 5 sequential requests`);
    assert.ok(new Set(seen.map((s) => s.remotePort)).size <= 2);
    assert.equal(seen[0]!.headers.connection, 'keep-alive');
  });

  it('caps sockets per host at maxSockets', async () => {
    await Promise.all(Array.from({ length: 12 }, () => client.request({ method: 'get', uri: 'https://taskrouter.twilio.com/v1/Workspaces', headers: {} })));
    assert.equal(seen.length, 12);
    assert.ok(new Set(seen.map((s) => s.remotePort)).size <= 4);
  });

  it('rejects a request with no answer within its timeout, without status, as a transient error', async () => {
    const t = Date.now();
    const err = await rejection(client.request({ method: 'get', uri: 'https://api.twilio.com/hang', headers: {}, timeout: 150 }), 'a timeout');
    assert.ok(Date.now() - t >= 140);
    // undici checks its timeouts on a coarse clock (under a second late), fine for Twilio's 15 s default.
    assert.ok(Date.now() - t < 3_000);
    assert.equal(err.status, undefined);
    assert.equal(err.code, 'ECONNABORTED');
    assert.match(err.message, /timeout of 150ms exceeded/);
    assert.ok(isTransient(err));
  });

  it('rejects a refused connection with its socket error code (transient)', async () => {
    const dead = new TwilioHttpClient({ baseUrl: 'http://127.0.0.1:1' });
    const err = await rejection(dead.request({ method: 'get', uri: 'https://api.twilio.com/x', headers: {} }), 'a refusal');
    assert.equal(err.status, undefined);
    assert.equal(err.code, 'ECONNREFUSED');
    assert.ok(isTransient(err));
    await dead.close();
  });

  it('rejects a connection the server drops with ECONNRESET (transient), and the next request still goes through', async () => {
    const err = await rejection(client.request({ method: 'get', uri: 'https://api.twilio.com/drop', headers: {} }), 'a reset');
    assert.equal(err.status, undefined);
    assert.equal(err.code, 'ECONNRESET');
    assert.ok(isTransient(err));
    const ok = await client.request({ method: 'get', uri: 'https://api.twilio.com/fine', headers: {} });
    assert.equal(ok.statusCode, 200);
  });

  it('turns a 429 with Retry-After into TwilioRetryAfterException', async () => {
    const err: unknown = await rejection(client.request({ method: 'get', uri: 'https://api.twilio.com/throttled', headers: {} }), 'a 429');
    assert.ok(err instanceof TwilioRetryAfterException);
    assert.equal(err.retryAfterMs, 3000);
    assert.equal(err.status, 429);
    assert.equal(err.code, 20429);
    assert.equal(responses[0]!.statusCode, 429);
  });

  it('does not follow redirects and keeps non-JSON bodies as text', async () => {
    const moved = await client.request({ method: 'get', uri: 'https://webhooks.twilio.com/moved', headers: {} });
    assert.equal(moved.statusCode, 302);
    assert.equal(moved.headers.location, '/elsewhere');
    assert.equal(seen.length, 1);
    const text = await client.request({ method: 'get', uri: 'https://api.twilio.com/text', headers: {} });
    assert.equal(text.body, 'not json');
  });
});
