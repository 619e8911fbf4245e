/**
 * One HTTP exchange on node:http / node:https with a keep-alive agent per scheme: what the twilio SDK's
 * RequestClient gets from axios, at about half the CPU. Any status resolves (as the SDK's validateStatus does),
 * redirects are not followed, and failures before a response reject with a Node-style `code` (no `status`).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

export interface NodeTransportOptions {
  keepAlive?: boolean;
  keepAliveMsecs?: number;
  /** Sockets per host. */
  maxSockets?: number;
  maxFreeSockets?: number;
  maxTotalSockets?: number;
  scheduling?: 'fifo' | 'lifo';
  /** CA bundle for https (else TWILIO_CA_BUNDLE, as the SDK, else Node's default roots). */
  ca?: string | Buffer;
  /** Idle-socket timeout for the agents (the SDK gives its https agent the request timeout). */
  timeout?: number;
}

export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Socket inactivity limit, as axios's `timeout` (req.setTimeout). */
  timeoutMs: number;
}

export interface TransportResponse {
  statusCode: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** A request that got no answer within its timeout; `code` matches axios's so retry classification is unchanged. */
export class TransportTimeoutError extends Error {
  readonly code = 'ECONNABORTED';
  constructor(timeoutMs: number) {
    super(`timeout of ${timeoutMs}ms exceeded`);
    this.name = 'TransportTimeoutError';
  }
}

export class NodeTransport {
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;

  constructor(opts: NodeTransportOptions = {}) {
    const common = {
      keepAlive: opts.keepAlive !== false,
      keepAliveMsecs: opts.keepAliveMsecs,
      maxSockets: opts.maxSockets ?? 100,
      maxFreeSockets: opts.maxFreeSockets,
      maxTotalSockets: opts.maxTotalSockets,
      scheduling: opts.scheduling,
      timeout: opts.timeout,
    };
    // Undefined keys would override Node's defaults; drop them.
    const defined = Object.fromEntries(Object.entries(common).filter(([, v]) => v !== undefined));
    const ca = opts.ca ?? (process.env.TWILIO_CA_BUNDLE !== undefined ? fs.readFileSync(process.env.TWILIO_CA_BUNDLE) : undefined);
    this.httpAgent = new http.Agent(defined);
    this.httpsAgent = new https.Agent(ca === undefined ? defined : { ...defined, ca });
  }

  request(r: TransportRequest): Promise<TransportResponse> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      let req: http.ClientRequest;
      try {
        const isHttps = r.url.startsWith('https:');
        const options: http.RequestOptions = { method: r.method, headers: r.headers, agent: isHttps ? this.httpsAgent : this.httpAgent };
        const onResponse = (res: http.IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            if (settled) return;
            settled = true;
            resolve({ statusCode: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'), headers: res.headers });
          });
        };
        req = isHttps ? https.request(r.url, options, onResponse) : http.request(r.url, options, onResponse);
      } catch (err) {
        // Bad URL or header value: thrown synchronously by node.
        fail(err as Error);
        return;
      }
      req.on('error', fail);
      if (r.timeoutMs > 0) {
        req.setTimeout(r.timeoutMs, () => {
          const err = new TransportTimeoutError(r.timeoutMs);
          fail(err);
          req.destroy(err);
        });
      }
      req.end(r.body);
    });
  }

  /** Destroys every socket of both agents, in-flight ones included (for shutdown and tests). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
