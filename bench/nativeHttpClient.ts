/**
 * EXPERIMENT for profiling only: a minimal httpClient for the twilio SDK on node:http instead of the SDK's
 * RequestClient (axios), to size the SDK's HTTP-layer CPU cost. Plain http to the emulator only — no TLS, no
 * retries, no redirects, no proxy. Used by `bench/profileHttp.ts` and by `npm run bench -- sweep --http-client node`.
 * unstick itself uses createTwilioClient (src/twilio/client.ts).
 */
import * as http from 'node:http';
import twilio from 'twilio';
import { twilioHostRewrite, type TwilioClient } from '../src/twilio/client';

interface SdkRequest {
  method: string;
  uri: string;
  username?: string;
  password?: string;
  headers?: Record<string, string>;
  params?: object;
  data?: object;
  timeout?: number;
}

/** Form/query encoding as the SDK does it (arrays as repeated parameters). */
function encode(o: object): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined && x !== null) p.append(k, String(x));
  return p.toString();
}

export class NodeHttpClient {
  private readonly agent: http.Agent;
  constructor(private readonly baseUrl: string, opts: { maxSockets?: number; timeoutMs?: number } = {}) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 100 });
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }
  private readonly timeoutMs: number;

  request(opts: SdkRequest): Promise<{ statusCode: number; body: string; headers: http.IncomingHttpHeaders }> {
    let url = twilioHostRewrite(opts.uri, this.baseUrl);
    if (opts.params && Object.keys(opts.params).length) url += (url.includes('?') ? '&' : '?') + encode(opts.params);
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.username) headers.Authorization = 'Basic ' + Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64');
    const body = opts.data ? encode(opts.data) : undefined;
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: opts.method.toUpperCase(), headers, agent: this.agent, timeout: opts.timeout ?? this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeout ?? this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

export function createNodeHttpTwilioClient(o: { accountSid: string; authToken: string; baseUrl: string; maxSockets?: number }): TwilioClient {
  return twilio(o.accountSid, o.authToken, { accountSid: o.accountSid, httpClient: new NodeHttpClient(o.baseUrl, { maxSockets: o.maxSockets }) as never });
}
