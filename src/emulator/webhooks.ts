/**
 * Outgoing webhooks as Twilio sends them: form-encoded POSTs signed with `X-Twilio-Signature`
 * (HMAC-SHA1 over the URL and sorted params, keyed by the auth token), `302` followed by re-POSTing the
 * same body to the `Location` (re-signed for the new URL), Twilio hosts mapped to the emulator.
 */
import twilio from 'twilio';
import { twilioHostRewrite } from '../twilio/client';

export interface WebhookDelivery {
  kind: 'status-callback' | 'taskrouter-event' | 'incoming-call';
  url: string;
  method: string;
  params: Record<string, string>;
  /** Every URL requested, in order (the first one plus redirects). */
  hops: { url: string; status: number | null; error?: string }[];
  finalStatus: number | null;
  dropped: boolean;
  at: string;
  callSid?: string;
  eventType?: string;
}

export interface WebhookSenderOptions {
  authToken: () => string;
  /** The emulator's own base URL, for mapping Twilio hosts. */
  baseUrl: () => string;
  timeoutMs?: number;
  /** Retries after a connection failure or timeout (Twilio's default is 1). */
  retries?: number;
  logSize?: number;
}

export class WebhookSender {
  readonly log: WebhookDelivery[] = [];
  private readonly logSize: number;
  private inFlight = new Set<AbortController>();
  closed = false;

  constructor(private readonly opts: WebhookSenderOptions) {
    this.logSize = opts.logSize ?? 2000;
  }

  private record(d: WebhookDelivery): void {
    this.log.push(d);
    if (this.log.length > this.logSize) this.log.splice(0, this.log.length - this.logSize);
  }

  recordDropped(d: Omit<WebhookDelivery, 'hops' | 'finalStatus' | 'dropped' | 'at'>): void {
    this.record({ ...d, hops: [], finalStatus: null, dropped: true, at: new Date().toISOString() });
  }

  /** Sends a signed webhook; resolves with the delivery record (never rejects). */
  async send(d: Omit<WebhookDelivery, 'hops' | 'finalStatus' | 'dropped' | 'at'>): Promise<WebhookDelivery> {
    const delivery: WebhookDelivery = { ...d, hops: [], finalStatus: null, dropped: false, at: new Date().toISOString() };
    this.record(delivery);
    let url = d.url;
    for (let hop = 0; hop < 6 && !this.closed; hop++) {
      const res = await this.post(url, d.method, d.params);
      delivery.hops.push({ url, status: res.status, ...(res.error ? { error: res.error } : {}) });
      delivery.finalStatus = res.status;
      if (res.status !== null && [301, 302, 303, 307, 308].includes(res.status) && res.location) {
        url = new URL(res.location, url).toString();
        continue;
      }
      break;
    }
    return delivery;
  }

  private async post(url: string, method: string, params: Record<string, string>): Promise<{ status: number | null; location?: string; error?: string }> {
    const body = new URLSearchParams(params).toString();
    // A GET carries the parameters in the query string, and the signature covers that full URL.
    const requested = method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}${body}` : url;
    const signature = twilio.getExpectedTwilioSignature(this.opts.authToken(), requested, method === 'GET' ? {} : params);
    const target = twilioHostRewrite(requested, this.opts.baseUrl());
    const attempts = 1 + (this.opts.retries ?? 1);
    let lastError = '';
    for (let i = 0; i < attempts && !this.closed; i++) {
      const ac = new AbortController();
      this.inFlight.add(ac);
      const timer = setTimeout(() => ac.abort(), this.opts.timeoutMs ?? 15000);
      try {
        const res = await fetch(target, {
          method,
          redirect: 'manual',
          signal: ac.signal,
          headers: {
            'X-Twilio-Signature': signature,
            'User-Agent': 'TwilioProxy/1.1',
            Accept: '*/*',
            'Cache-Control': 'max-age=259200',
            ...(method === 'GET' ? {} : { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }),
          },
          body: method === 'GET' ? undefined : body,
        });
        await res.arrayBuffer().catch(() => undefined);
        return { status: res.status, location: res.headers.get('location') ?? undefined };
      } catch (err) {
        lastError = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      } finally {
        clearTimeout(timer);
        this.inFlight.delete(ac);
      }
    }
    return { status: null, error: lastError };
  }

  close(): void {
    this.closed = true;
    for (const ac of this.inFlight) ac.abort();
  }
}
