/**
 * `POST /twilio/event-streams`: an Event Streams webhook sink. The body is a JSON array of CloudEvents, signed like
 * every Twilio webhook with a JSON body: `X-Twilio-Signature` is HMAC-SHA1 (auth token) of the full URL, whose
 * `bodySHA256` query parameter is the hex SHA-256 of the raw body. A request whose signature or body hash does not
 * verify is refused (403) before its body is even parsed.
 *
 * Delivery is at-least-once and unordered, so every event only links (or reports a status) to the call's watch by
 * signalWithStart on the same workflow id callbacks use; the watch's handlers make duplicates and late events change
 * nothing. No event writes anything by itself: the watch's reconcile reads each resource fresh and the policy decides.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pino from 'pino';
import { Counter, type Registry } from 'prom-client';
import twilio from 'twilio';
import { callStatusSignal, executionLinkSignal, taskLinkSignal, type CallWatchInput, type CallWatchSettings } from '../shared/messages';
import { EVENT_STREAMS_PATH } from '../shared/names';
import { parseEventBatch, type EventDecision } from './cloudEvents';
import { noteOutcome } from './metrics';
import type { CallWatchStarter, StartOutcome } from './starter';

export interface EventStreamsDeps {
  accountSid: string;
  authToken: string;
  publicUrl: string | undefined;
  settings: CallWatchSettings;
  starter: CallWatchStarter;
  log: pino.Logger;
  registry: Registry;
  maxBodyBytes: number;
  /** `user:password` (WEBHOOK_EVENT_STREAMS_BASIC_AUTH): when set, the Sink's Basic auth header must carry it. */
  basicAuth?: string;
}

/** Event Streams sends the destination URL's user info as a Basic Authorization header on every request. */
export function hasBasicAuth(expected: string, header: unknown): boolean {
  if (typeof header !== 'string') return false;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return false;
  const got = createHash('sha256').update(Buffer.from(m[1]!, 'base64').toString('utf8')).digest();
  return timingSafeEqual(got, createHash('sha256').update(expected).digest());
}

/** As signature.ts: the URL Twilio requested, from the public URL when configured. */
function requestedUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return `${publicUrl.replace(/\/+$/, '')}${request.url}`;
  return `${request.protocol}://${request.host}${request.url}`;
}

/** X-Twilio-Signature over the full URL and the body's SHA-256 in its `bodySHA256` query parameter. */
export function hasValidBodySignature(authToken: string, signature: unknown, url: string, rawBody: string): boolean {
  if (typeof signature !== 'string' || signature === '') return false;
  let hasHash: boolean;
  try {
    hasHash = new URL(url).searchParams.has('bodySHA256');
  } catch {
    return false;
  }
  return hasHash && twilio.validateRequestWithBody(authToken, signature, url, rawBody);
}

function signalFor(d: EventDecision, settings: CallWatchSettings, starter: CallWatchStarter): Promise<StartOutcome> | undefined {
  const base = (callSid: string): CallWatchInput => ({ callSid, startedBy: 'event-streams', settings });
  switch (d.kind) {
    case 'execution':
      return starter.signal({ input: base(d.link.callSid), signal: executionLinkSignal, event: d.link, summary: `call ${d.link.callSid} (execution ${d.link.executionSid})` });
    case 'task': {
      const input = base(d.link.callSid);
      if (d.from) input.from = d.from;
      if (d.to) input.to = d.to;
      return starter.signal({ input, signal: taskLinkSignal, event: d.link, summary: `call ${d.link.callSid} (task ${d.link.taskSid})` });
    }
    case 'call':
      return starter.signal({ input: base(d.event.callSid), signal: callStatusSignal, event: d.event, summary: `call ${d.event.callSid}` });
    default:
      return undefined;
  }
}

export function registerEventStreamsRoute(app: FastifyInstance, deps: EventStreamsDeps): void {
  const { log, starter, settings } = deps;
  const events = new Counter({
    name: 'unstick_webhook_stream_events_total',
    help: 'Event Streams events received, by decision (execution, task, call, ignore, skip) and signal outcome',
    labelNames: ['decision', 'outcome'] as const,
    registers: [deps.registry],
  });
  const refuse = (reply: FastifyReply, code: number, error: string): FastifyReply => reply.code(code).type('application/json').send({ error });
  const route = EVENT_STREAMS_PATH;

  void app.register(async (scope) => {
    // The signature covers the raw bytes: the body stays a string until it has been verified.
    scope.addContentTypeParser(/^application\/(cloudevents-batch\+)?json\b/i, { parseAs: 'string', bodyLimit: deps.maxBodyBytes }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((err: { statusCode?: number; code?: string; message?: string }, _request, reply) => {
      const status = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 400 : err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      const error = status === 400 && err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'body must be application/json' : status === 413 ? 'body too large' : status === 500 ? 'internal error' : (err.message ?? 'bad request');
      if (status === 500) log.error({ route, err: err.message }, 'unexpected error');
      else log.info({ route, code: err.code, decision: 'refused', httpStatus: status }, error);
      return refuse(reply, status, error);
    });
    scope.post(route, async (request, reply) => {
      const raw = typeof request.body === 'string' ? request.body : undefined;
      if (raw === undefined) {
        log.info({ route, decision: 'refused', httpStatus: 400 }, 'Event Streams body is not JSON');
        return refuse(reply, 400, 'body must be application/json');
      }
      if (deps.basicAuth !== undefined && !hasBasicAuth(deps.basicAuth, request.headers.authorization)) {
        log.warn({ route, decision: 'refused', httpStatus: 401, authorization: request.headers.authorization ? 'invalid' : 'missing' }, 'Event Streams Basic auth check failed');
        return refuse(reply.header('www-authenticate', 'Basic realm="unstick"'), 401, 'Basic auth required');
      }
      if (!hasValidBodySignature(deps.authToken, request.headers['x-twilio-signature'], requestedUrl(request, deps.publicUrl), raw)) {
        const present = typeof request.headers['x-twilio-signature'] === 'string';
        log.warn({ route, decision: 'refused', httpStatus: 403, signature: present ? 'invalid' : 'missing' }, 'Event Streams signature check failed');
        return refuse(reply, 403, 'invalid X-Twilio-Signature');
      }
      const batch = parseEventBatch(raw, deps.accountSid);
      if (!batch.ok) {
        log.info({ route, decision: 'refused', httpStatus: 400, reason: batch.reason }, 'malformed Event Streams batch');
        return refuse(reply, 400, batch.reason);
      }
      const pending: { d: EventDecision; p: Promise<StartOutcome> }[] = [];
      for (const d of batch.events) {
        const p = signalFor(d, settings, starter);
        if (p) pending.push({ d, p });
        else if (d.kind === 'skip') {
          events.inc({ decision: 'skip', outcome: 'none' });
          log.info({ route, decision: 'skipped', eventId: d.id, eventType: d.type, reason: d.reason }, 'malformed event skipped');
        } else {
          events.inc({ decision: 'ignore', outcome: 'none' });
          log.debug({ route, decision: 'ignored', eventId: d.id, eventType: d.kind === 'ignore' ? d.type : undefined, reason: d.kind === 'ignore' ? d.reason : undefined }, 'event not used');
        }
      }
      const outcomes = await Promise.all(pending.map(({ p }) => p));
      let retry: StartOutcome | undefined;
      outcomes.forEach((o, i) => {
        const d = pending[i]!.d;
        events.inc({ decision: d.kind, outcome: o.kind });
        if (o.kind === 'unavailable' || o.kind === 'overloaded' || o.kind === 'failed') retry ??= o;
        log.debug({ route, eventId: d.kind === 'skip' ? undefined : d.id, decision: o.kind }, 'event signalled');
      });
      if (retry) {
        // Twilio redelivers a batch that was not accepted; the events already signalled change nothing the second time.
        noteOutcome(reply, retry.kind === 'unavailable' ? 'unavailable' : retry.kind === 'overloaded' ? 'overloaded' : 'failed');
        log.error({ route, decision: retry.kind, err: 'error' in retry ? retry.error : undefined, events: batch.events.length }, 'Event Streams batch not fully signalled');
        return refuse(reply.header('retry-after', '5'), 503, 'could not signal every call watch');
      }
      noteOutcome(reply, pending.length ? 'signalled' : 'ignored');
      return reply.code(200).type('application/json').send({ received: batch.events.length, signalled: pending.length });
    });
    scope.route({
      method: ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH'],
      url: route,
      handler: async (_r, reply) => refuse(reply.header('allow', 'POST'), 405, 'method not allowed'),
    });
  });
}
