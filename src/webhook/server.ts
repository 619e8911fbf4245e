/**
 * The webhook starter: Twilio callbacks in, `signalWithStart` on the call's `callWatch` out.
 * Every request is checked (signature, then shape) before anything reaches Temporal.
 */
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import pino from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config';
import { callWatchSettingsFromConfig } from '../shared/callWatchSettings';
import { callStatusSignal, taskLinkSignal, type CallWatchInput, type CallWatchSettings } from '../shared/messages';
import { HEALTH_PATHS, studioFlowWebhookUrl, TASKROUTER_EVENTS_PATH, VOICE_STATUS_PATH } from '../shared/names';
import { callStartEstimate, parseTaskRouterEvent, parseVoiceStatus, type FormParams } from './params';
import { hasValidSignature } from './signature';
import { instrumentWebhook, noteOutcome, serveMetrics } from './metrics';
import { createCallWatchStarter, type StartOutcome, type StarterStats } from './starter';
import { registerEventStreamsRoute } from './eventStreams';

export interface WebhookDeps {
  config: Config;
  client: Client;
  log?: pino.Logger;
  now?: () => number;
  /** Overrides config.webhook.trustProxy: honour X-Forwarded-Proto/-Host when WEBHOOK_PUBLIC_URL is unset. */
  trustProxy?: boolean;
  /** Overrides config.webhook.requestBudgetMs: the time a callback may take, queueing for a Temporal slot included. */
  temporalTimeoutMs?: number;
  /** Overrides config.webhook.maxInFlight / maxQueued. */
  maxInFlight?: number;
  maxQueued?: number;
  /** Deadline for the /readyz probe (default 2 s). */
  readinessTimeoutMs?: number;
}

/** Used when the config leaves them out; loadConfig's defaults are the same. */
export const WEBHOOK_DEFAULTS = { requestBudgetMs: 10_000, maxInFlight: 32, maxQueued: 1000 } as const;

const OTHER_METHODS_THAN_POST = ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH'] as const;
const OTHER_METHODS_THAN_GET = ['POST', 'PUT', 'DELETE', 'PATCH'] as const;

const statsOf = new WeakMap<FastifyInstance, () => StarterStats>();
const metricsOf = new WeakMap<FastifyInstance, Registry>();

/** What a webhook server has answered so far (signalled, refused as unavailable or over budget, …) and its queue. */
export function webhookStats(app: FastifyInstance): StarterStats {
  const stats = statsOf.get(app);
  if (!stats) throw new Error('not a server made by createWebhookServer');
  return stats();
}

function formParams(request: FastifyRequest): FormParams | undefined {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) return undefined;
  const body = request.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as FormParams) : undefined;
}

function refuse(reply: FastifyReply, code: number, error: string): FastifyReply {
  return reply.code(code).type('application/json').send({ error });
}

export function createWebhookServer(deps: WebhookDeps): FastifyInstance {
  const { config, client } = deps;
  const accountSid = config.twilio.accountSid;
  if (!accountSid) throw new Error('the webhook needs TWILIO_ACCOUNT_SID: callbacks from other accounts are refused');
  if (!config.twilio.authToken) throw new Error('the webhook needs TWILIO_AUTH_TOKEN: Twilio signs every webhook with the account auth token');
  const authToken: string = config.twilio.authToken;
  const log = deps.log ?? pino({ name: 'unstick-webhook', level: config.logLevel });
  const now = deps.now ?? Date.now;
  const readinessTimeoutMs = deps.readinessTimeoutMs ?? 2000;
  const publicUrl = config.webhook.publicUrl;
  const taskQueue = config.temporal.taskQueue;
  const settings: CallWatchSettings = callWatchSettingsFromConfig(config);
  const starter = createCallWatchStarter(client, taskQueue, {
    budgetMs: deps.temporalTimeoutMs ?? config.webhook.requestBudgetMs ?? WEBHOOK_DEFAULTS.requestBudgetMs,
    maxInFlight: deps.maxInFlight ?? config.webhook.maxInFlight ?? WEBHOOK_DEFAULTS.maxInFlight,
    maxQueued: deps.maxQueued ?? config.webhook.maxQueued ?? WEBHOOK_DEFAULTS.maxQueued,
    readinessTimeoutMs,
    now,
  });

  const app = Fastify({
    logger: false,
    bodyLimit: config.webhook.maxBodyBytes,
    trustProxy: deps.trustProxy ?? config.webhook.trustProxy ?? false,
  });
  metricsOf.set(app, instrumentWebhook(app).registry);
  // Twilio posts form-encoded bodies only; anything else is refused before a handler runs.
  app.removeAllContentTypeParsers();
  void app.register(formbody, { bodyLimit: config.webhook.maxBodyBytes });

  app.setErrorHandler((err: { statusCode?: number; code?: string; message?: string }, request, reply) => {
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      log.info({ route: request.url, contentType: request.headers['content-type'], decision: 'refused', httpStatus: 400 }, 'body is not form-encoded');
      return refuse(reply, 400, 'body must be application/x-www-form-urlencoded');
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ route: request.url, err: err.message }, 'unexpected error');
    else log.info({ route: request.url, code: err.code, decision: 'refused', httpStatus: status }, err.message ?? 'refused');
    return refuse(reply, status, status === 413 ? 'body too large' : status === 500 ? 'internal error' : (err.message ?? 'bad request'));
  });
  // Let Temporal calls that outlived their request settle, so the caller may close the connection after us.
  app.addHook('onClose', async () => starter.drain());
  app.setNotFoundHandler((request, reply) => {
    log.info({ method: request.method, route: request.url, httpStatus: 404 }, 'unknown route');
    return refuse(reply, 404, 'not found');
  });

  /** Signature first (403), then shape; returns the params only for a request that may go on. */
  function signedParams(request: FastifyRequest, reply: FastifyReply, route: string): FormParams | undefined {
    const params = formParams(request);
    if (!params) {
      log.info({ route, decision: 'refused', httpStatus: 400 }, 'body is not form-encoded');
      void refuse(reply, 400, 'body must be application/x-www-form-urlencoded');
      return undefined;
    }
    if (!hasValidSignature(authToken, request, publicUrl, params)) {
      const present = typeof request.headers['x-twilio-signature'] === 'string';
      log.warn({ route, decision: 'refused', httpStatus: 403, signature: present ? 'invalid' : 'missing' }, 'X-Twilio-Signature check failed');
      void refuse(reply, 403, 'invalid X-Twilio-Signature');
      return undefined;
    }
    return params;
  }

  // A callback accepted (signalled, already closed, ignored) is logged at debug: one line per callback would bury
  // everything else. Refusals and Temporal failures keep info/warn/error.
  function answerAfterStart(outcome: StartOutcome, reply: FastifyReply, fields: Record<string, unknown>, done: () => FastifyReply): FastifyReply {
    switch (outcome.kind) {
      case 'signalled':
        noteOutcome(reply, 'signalled');
        log.debug({ ...fields, decision: 'signalled', runId: outcome.runId }, 'callWatch signalled');
        return done();
      case 'already-closed':
        noteOutcome(reply, 'already-closed');
        log.debug({ ...fields, decision: 'already-closed' }, 'callWatch already closed; nothing started');
        return done();
      case 'unavailable':
        noteOutcome(reply, 'unavailable');
        log.error({ ...fields, decision: 'temporal-unavailable', err: outcome.error, refused: starter.stats().unavailable }, 'Temporal unreachable');
        return refuse(reply.header('retry-after', '5'), 503, 'Temporal is unavailable');
      case 'overloaded': {
        noteOutcome(reply, 'overloaded');
        const stats = starter.stats();
        const refused = outcome.reason === 'queue-full' ? stats.queueFull : stats.overBudget;
        log.error({ ...fields, decision: 'over-budget', reason: outcome.reason, err: outcome.error, refused, inFlight: stats.inFlight, queued: stats.queued }, 'Temporal is up but too slow for this callback');
        return refuse(reply.header('retry-after', '5'), 503, 'Temporal is too slow right now');
      }
      case 'failed':
        noteOutcome(reply, 'failed');
        log.error({ ...fields, decision: 'temporal-error', err: outcome.error }, 'Temporal refused the signalWithStart');
        return refuse(reply, 500, 'could not signal the call watch');
    }
  }

  app.post(VOICE_STATUS_PATH, async (request, reply) => {
    const route = VOICE_STATUS_PATH;
    const params = signedParams(request, reply, route);
    if (!params) return reply;
    const parsed = parseVoiceStatus(params, accountSid);
    if (!parsed.ok) {
      log.info({ route, decision: 'refused', httpStatus: 400, reason: parsed.reason }, 'malformed voice status callback');
      return refuse(reply, 400, parsed.reason);
    }
    const event = parsed.value.event;
    const flowSid = event.to ? config.webhook.flowRedirects[event.to] : undefined;
    const input: CallWatchInput = { callSid: event.callSid, startedBy: 'webhook', settings };
    if (event.from) input.from = event.from;
    if (event.to) input.to = event.to;
    const startedAtMs = callStartEstimate(event) ?? (event.sequenceNumber === 0 ? now() : undefined);
    if (startedAtMs !== undefined) input.startedAtMs = startedAtMs;
    const summary = `call ${event.callSid}${event.from ? ` from ${event.from}` : ''}${event.to ? ` to ${event.to}` : ''}`;

    const received = now() - reply.elapsedTime;
    const outcome = await starter.signal({ input, signal: callStatusSignal, event, summary, receivedAt: received });
    const fields = { route, callSid: event.callSid, callStatus: event.status, sequenceNumber: event.sequenceNumber, ms: now() - received };
    const done = (): FastifyReply => {
      if (flowSid) return reply.code(302).header('location', studioFlowWebhookUrl(accountSid, flowSid)).send();
      return reply.code(204).send();
    };
    if (flowSid && (outcome.kind === 'unavailable' || outcome.kind === 'overloaded' || outcome.kind === 'failed')) {
      // Studio ends its Execution only when it gets the status callback; losing it would make the very stuck
      // Execution unstick exists to close. The sweep will still find this call.
      noteOutcome(reply, 'redirected-without-watch');
      log.error({ ...fields, decision: 'redirected-without-watch', err: outcome.error, flowSid }, 'Temporal failed; redirecting to Studio anyway');
      return done();
    }
    return answerAfterStart(outcome, reply, { ...fields, flowSid }, done);
  });

  app.post(TASKROUTER_EVENTS_PATH, async (request, reply) => {
    const route = TASKROUTER_EVENTS_PATH;
    const params = signedParams(request, reply, route);
    if (!params) return reply;
    const ack = (): FastifyReply => reply.code(204).header('content-type', 'application/json').send();
    const decision = parseTaskRouterEvent(params, accountSid);
    if (decision.kind === 'refuse') {
      log.info({ route, decision: 'refused', httpStatus: 400, reason: decision.reason }, 'malformed TaskRouter event');
      return refuse(reply, 400, decision.reason);
    }
    if (decision.kind === 'ignore') {
      noteOutcome(reply, 'ignored');
      log.debug({ route, decision: 'ignored', reason: decision.reason, eventType: decision.eventType, taskSid: decision.taskSid }, 'TaskRouter event not linked to a call');
      return ack();
    }
    const link = decision.link;
    const input: CallWatchInput = { callSid: link.callSid, startedBy: 'webhook', settings };
    if (decision.from) input.from = decision.from;
    if (decision.to) input.to = decision.to;
    const summary = `call ${link.callSid} (task ${link.taskSid})`;
    const received = now() - reply.elapsedTime;
    const outcome = await starter.signal({ input, signal: taskLinkSignal, event: link, summary, receivedAt: received });
    const fields = { route, callSid: link.callSid, taskSid: link.taskSid, eventType: link.eventType, ms: now() - received };
    return answerAfterStart(outcome, reply, fields, ack);
  });

  registerEventStreamsRoute(app, { accountSid, authToken, publicUrl, settings, starter, log, registry: metricsOf.get(app)!, maxBodyBytes: config.webhook.maxBodyBytes, ...(config.webhook.eventStreamsBasicAuth ? { basicAuth: config.webhook.eventStreamsBasicAuth } : {}) });

  app.get('/healthz', async (_request, reply) => reply.code(200).send({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (await starter.reachable()) return reply.code(200).send({ status: 'ready' });
    log.warn({ route: '/readyz', httpStatus: 503 }, 'Temporal is not reachable');
    return reply.code(503).send({ status: 'temporal-unreachable' });
  });

  for (const url of [VOICE_STATUS_PATH, TASKROUTER_EVENTS_PATH]) {
    app.route({ method: [...OTHER_METHODS_THAN_POST], url, handler: async (_r, reply) => refuse(reply.header('allow', 'POST'), 405, 'method not allowed') });
  }
  for (const url of HEALTH_PATHS) {
    app.route({ method: [...OTHER_METHODS_THAN_GET], url, handler: async (_r, reply) => refuse(reply.header('allow', 'GET, HEAD'), 405, 'method not allowed') });
  }
  statsOf.set(app, () => starter.stats());
  return app;
}

export interface RunningWebhook {
  /** Where this process listens (loopback when bound to all interfaces). */
  url: string;
  /** The URL Twilio should call (WEBHOOK_PUBLIC_URL, else `url`). */
  publicUrl: string;
  server: FastifyInstance;
  /** GET URL of the webhook's Prometheus metrics, when WEBHOOK_METRICS_ADDRESS is set. */
  metricsUrl?: string;
  stats(): StarterStats;
  close(): Promise<void>;
}

/** Listens on config.webhook.host/port (port 0 = any free port). Does not close the Temporal client. */
export async function startWebhook(config: Config, client: Client, opts: Omit<WebhookDeps, 'config' | 'client'> = {}): Promise<RunningWebhook> {
  const server = createWebhookServer({ ...opts, config, client });
  await server.listen({ host: config.webhook.host, port: config.webhook.port });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : config.webhook.port;
  const host = ['0.0.0.0', '::', ''].includes(config.webhook.host) ? '127.0.0.1' : config.webhook.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const metrics = config.webhook.metricsAddress ? await serveMetrics(metricsOf.get(server)!, config.webhook.metricsAddress) : undefined;
  return {
    url,
    publicUrl: config.webhook.publicUrl ?? url,
    server,
    ...(metrics ? { metricsUrl: metrics.url } : {}),
    stats: () => webhookStats(server),
    close: async () => {
      await server.close();
      await metrics?.close();
    },
  };
}
