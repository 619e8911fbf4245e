/**
 * The one way unstick talks to Twilio: the real `twilio` SDK, aimed at real Twilio or, when
 * `config.baseUrl` is set, at the local emulator through an httpClient that rewrites Twilio hosts.
 * No SDK auto-retry: retries belong to Temporal activities.
 */
import * as http from 'node:http';
import pLimit from 'p-limit';
import * as qs from 'qs';
import twilio from 'twilio';
import type { TwilioConfig } from '../config';
import { UndiciTransport } from './undiciTransport';

import type RequestClient from 'twilio/lib/base/RequestClient';
import Request from 'twilio/lib/http/request';
import Response from 'twilio/lib/http/response';

type RequestOptions = RequestClient.RequestClientOptions;

export type TwilioClient = ReturnType<typeof twilio>;

const HOST_RE = /^(api|studio|taskrouter|webhooks)(\.[a-z0-9-]+)*\.twilio\.com$/i;

/**
 * Maps `https://<product>.twilio.com/<rest>` (also edge/region host forms) to `${baseUrl}/<product>/<rest>`;
 * any other URL is returned unchanged. Used by the SDK client and by the emulator for webhooks and 302s.
 */
export function twilioHostRewrite(url: string, baseUrl: string | undefined): string {
  if (!baseUrl) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  const m = HOST_RE.exec(u.hostname);
  if (!m) return url;
  return `${baseUrl.replace(/\/+$/, '')}/${m[1]!.toLowerCase()}${u.pathname}${u.search}`;
}

export interface RawResponseInfo {
  method: string;
  uri: string;
  statusCode: number;
  body: unknown;
  headers: Record<string, unknown>;
}

/** A request that got no answer (connection refused or dropped, timeout). */
export interface RawErrorInfo {
  method: string;
  uri: string;
  error: unknown;
}

export interface TwilioHttpClientOptions extends RequestOptions {
  baseUrl?: string;
  /**
   * Requests in flight at once, each counted from its write to the last byte of its answer: a window that contains
   * the one Twilio counts for its per-account concurrency limit, so the account never sees more. Default: no cap.
   */
  maxInFlight?: number;
  /** Called with every raw response (before the SDK parses it): used by contract tests and metrics. */
  onResponse?: (info: RawResponseInfo) => void;
  /** Called for every request that got no answer, before the error is thrown: used by metrics. */
  onError?: (info: RawErrorInfo) => void;
}

/**
 * The SDK's httpClient with host rewriting (emulator), a response tap and Retry-After surfacing. Requests go over
 * an undici keep-alive pool (see undiciTransport.ts), reproducing RequestClient.request's axios call; the
 * SDK's own axios path (`super.request`) is kept for what only it implements: 429 auto-retry (`autoRetry`, used by
 * the seed-cleaner baseline), PKCV `validationClient`, HTTP_PROXY, and debug logging.
 */
export class TwilioHttpClient extends twilio.RequestClient {
  private readonly baseUrl?: string;
  private readonly onResponse?: (info: RawResponseInfo) => void;
  private readonly onError?: (info: RawErrorInfo) => void;
  private readonly useAxios: boolean;
  private readonly inFlight?: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly transport: UndiciTransport;
  /** Basic credentials → header value, so the base64 is not redone per request. */
  private basicAuth?: { user: string; pass: string; header: string; encoded: string };

  constructor(opts: TwilioHttpClientOptions = {}) {
    const { baseUrl, onResponse, onError, maxInFlight, ...rest } = opts;
    super(rest);
    this.baseUrl = baseUrl;
    this.onResponse = onResponse;
    this.onError = onError;
    if (maxInFlight !== undefined && maxInFlight > 0) this.inFlight = pLimit(maxInFlight);
    this.useAxios = !!rest.autoRetry || !!rest.validationClient || !!process.env.HTTP_PROXY;
    this.transport = new UndiciTransport({ keepAlive: this.keepAlive, keepAliveMsecs: rest.keepAliveMsecs, maxSockets: rest.maxSockets ?? 100, ca: rest.ca });
    if (this.useAxios) {
      // The SDK only configures an https agent for axios; the emulator speaks plain http.
      this.axios.defaults.httpAgent = new http.Agent({ keepAlive: this.keepAlive, maxSockets: rest.maxSockets ?? 100 });
    }
  }

  /** Closes the connections this client holds (undici pool, and axios's plain-http agent when there is one). */
  async close(): Promise<void> {
    (this.axios.defaults.httpAgent as http.Agent | undefined)?.destroy();
    await this.transport.close();
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const uri = twilioHostRewrite(opts.uri, this.baseUrl);
    const exchange = () => (this.useAxios || opts.logLevel === 'debug' ? super.request<TData>({ ...opts, uri }) : this.send<TData>(opts, uri));
    const method = String(opts.method).toUpperCase();
    let res: Response<TData>;
    try {
      res = this.inFlight ? await this.inFlight(exchange) : await exchange();
    } catch (error) {
      this.onError?.({ method, uri, error });
      throw error;
    }
    this.onResponse?.({ method, uri, statusCode: res.statusCode, body: res.body, headers: res.headers ?? {} });
    const retryAfterMs = retryAfterOf(res.headers);
    if ((res.statusCode === 429 || res.statusCode === 503) && retryAfterMs !== undefined) {
      // The SDK's RestException drops headers; keep Twilio's Retry-After so activity retries can honour it.
      throw new TwilioRetryAfterException(res, retryAfterMs);
    }
    return res;
  }

  /** RequestClient.request's axios call, on undici. */
  private async send<TData>(opts: RequestClient.RequestOptions<TData>, uri: string): Promise<Response<TData>> {
    if (!opts.method) throw new Error('http method is required');
    if (!opts.uri) throw new Error('uri is required');
    const headers = (opts.headers ?? {}) as Record<string, string>;
    if (!headers.Connection && !headers.connection) headers.Connection = this.keepAlive ? 'keep-alive' : 'close';
    let auth: string | undefined;
    if (opts.username && opts.password) {
      let b = this.basicAuth;
      if (b?.user !== opts.username || b.pass !== opts.password) {
        const encoded = Buffer.from(`${opts.username}:${opts.password}`).toString('base64');
        b = this.basicAuth = { user: opts.username, pass: opts.password, encoded, header: `Basic ${encoded}` };
      }
      auth = b.encoded;
      headers.Authorization = b.header;
    } else if (opts.authStrategy) {
      headers.Authorization = await opts.authStrategy.getAuthString();
    }
    let body: string | undefined;
    if (opts.data) {
      const type = headers['Content-Type'];
      if (type === 'application/x-www-form-urlencoded') body = qs.stringify(opts.data, { arrayFormat: 'repeat' });
      else if (type === 'application/json') body = typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data);
      if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    let url = uri;
    if (opts.params) {
      const query = qs.stringify(opts.params, { arrayFormat: 'repeat' });
      if (query) url += (url.includes('?') ? '&' : '?') + query;
    }
    this.lastResponse = undefined;
    this.lastRequest = new Request({ method: opts.method, url: opts.uri, auth, params: opts.params, data: opts.data, headers });
    const raw = await this.transport.request({ method: String(opts.method).toUpperCase(), url, headers, body, timeoutMs: opts.timeout || this.defaultTimeout });
    const res = new Response<TData>(raw.statusCode, parseLikeAxios(raw.body) as TData, raw.headers);
    this.lastResponse = res;
    return res;
  }
}

/** axios's default response transform: JSON when it parses, else the text (so bodies look as they did under axios). */
function parseLikeAxios(text: string): unknown {
  if (!text) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A RestException (same status/code/message fields) that also carries the response's Retry-After. */
export class TwilioRetryAfterException extends twilio.RestException {
  constructor(
    response: { statusCode: number; body: unknown },
    public readonly retryAfterMs: number,
  ) {
    super(response as ConstructorParameters<typeof twilio.RestException>[0]);
  }
}

/** Retry-After in ms (seconds or an HTTP date), or undefined. */
function retryAfterOf(headers: unknown): number | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const raw = (headers as Record<string, unknown>)['retry-after'] ?? (headers as Record<string, unknown>)['Retry-After'];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(String(raw));
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export type CreateTwilioClientOptions = Pick<TwilioHttpClientOptions, 'onResponse' | 'onError'>;

export function createTwilioClient(config: TwilioConfig, opts: CreateTwilioClientOptions = {}): TwilioClient {
  if (!config.accountSid) throw new Error('TwilioConfig.accountSid is required (AC…)');
  const useKey = !!(config.apiKey && config.apiSecret);
  const username = useKey ? config.apiKey! : config.accountSid;
  const password = useKey ? config.apiSecret! : config.authToken;
  if (!password) throw new Error('TwilioConfig needs authToken, or apiKey and apiSecret');
  const httpClient = new TwilioHttpClient({
    baseUrl: config.baseUrl,
    timeout: config.requestTimeoutMs,
    keepAlive: true,
    maxSockets: Math.max(100, config.maxInFlight * 2),
    maxInFlight: config.maxInFlight,
    autoRetry: false,
    onResponse: opts.onResponse,
    onError: opts.onError,
  });
  return twilio(username, password, {
    accountSid: config.accountSid,
    httpClient,
    autoRetry: false,
    timeout: config.requestTimeoutMs,
    keepAlive: true,
  });
}

/** The ETag of a `*WithHttpInfo` response (axios lower-cases header names). */
export function etagOf(headers: unknown): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as Record<string, unknown>;
  const v = h.etag ?? h.ETag;
  return v === undefined || v === null ? undefined : String(v);
}

/** Fetches a TaskRouter Task with its ETag, for a read-verify-write with `If-Match`. */
export async function fetchTaskWithEtag(client: TwilioClient, workspaceSid: string, taskSid: string) {
  const res = await client.taskrouter.v1.workspaces(workspaceSid).tasks(taskSid).fetchWithHttpInfo();
  return { task: res.body, etag: etagOf(res.headers), statusCode: res.statusCode };
}
