/**
 * One HTTP exchange on an undici Agent (a keep-alive connection pool per origin): what the twilio SDK's
 * RequestClient gets from axios, at a fraction of the CPU (undici writes a request in one socket write and skips
 * node:http's stream machinery). Any status resolves (as the SDK's validateStatus does), redirects are not followed,
 * and failures before a response reject with a Node-style `code` (no `status`), so retry classification sees the
 * same errors as under axios.
 */
import * as fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, errors } from 'undici';

export interface TransportOptions {
  /** Keep connections open between requests (default true). */
  keepAlive?: boolean;
  /** How long an idle connection is kept, ms (undici's default 4 s). */
  keepAliveMsecs?: number;
  /** Connections per origin. */
  maxSockets?: number;
  /** CA bundle for https (else TWILIO_CA_BUNDLE, as the SDK, else Node's default roots). */
  ca?: string | Buffer;
}

export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** No response headers, or no body data, for this long: rejects with TransportTimeoutError. */
  timeoutMs: number;
}

export interface TransportResponse {
  statusCode: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** A request that got no answer within its timeout; `code` matches axios's so retry classification is unchanged. */
class TransportTimeoutError extends Error {
  readonly code = 'ECONNABORTED';
  constructor(timeoutMs: number) {
    super(`timeout of ${timeoutMs}ms exceeded`);
    this.name = 'TransportTimeoutError';
  }
}

/** undici's own error codes, as the Node socket codes axios (node:http) reported for the same failures. */
const NODE_CODE: Record<string, string> = {
  UND_ERR_SOCKET: 'ECONNRESET',
  UND_ERR_CONNECT_TIMEOUT: 'ETIMEDOUT',
};

function normalize(err: unknown, timeoutMs: number): Error {
  if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError) return new TransportTimeoutError(timeoutMs);
  if (err instanceof errors.UndiciError) {
    const code = NODE_CODE[err.code];
    if (code) return Object.assign(new Error(`${err.message} (${err.code})`, { cause: err }), { code });
  }
  return err instanceof Error ? err : new Error(String(err));
}

export class UndiciTransport {
  readonly agent: Agent;

  constructor(opts: TransportOptions = {}) {
    const ca = opts.ca ?? (process.env.TWILIO_CA_BUNDLE !== undefined ? fs.readFileSync(process.env.TWILIO_CA_BUNDLE) : undefined);
    this.agent = new Agent({
      connections: opts.maxSockets ?? 100,
      pipelining: opts.keepAlive === false ? 0 : 1,
      ...(opts.keepAliveMsecs !== undefined ? { keepAliveTimeout: opts.keepAliveMsecs } : {}),
      ...(ca !== undefined ? { connect: { ca } } : {}),
    });
  }

  async request(r: TransportRequest): Promise<TransportResponse> {
    try {
      const m = SPLIT_URL.exec(r.url);
      if (!m) throw new TypeError(`not an absolute http(s) URL: ${r.url}`);
      const res = await this.agent.request({
        origin: m[1]!,
        path: m[2] || '/',
        method: r.method as 'GET',
        headers: r.headers,
        body: r.body,
        headersTimeout: r.timeoutMs,
        bodyTimeout: r.timeoutMs,
      });
      return { statusCode: res.statusCode, body: await res.body.text(), headers: res.headers as IncomingHttpHeaders };
    } catch (err) {
      throw normalize(err, r.timeoutMs);
    }
  }

  /** Closes every connection, in-flight ones included (for shutdown and tests). */
  close(): Promise<void> {
    return this.agent.destroy();
  }
}

/** `scheme://host[:port]` and the rest (path, query) of an absolute URL, without a URL object per request. */
const SPLIT_URL = /^(https?:\/\/[^/?#]+)([^#]*)/i;
