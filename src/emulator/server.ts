/** The fastify app: Twilio's REST conventions (auth, errors, headers), faults and counters, then the routes. */
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from './core';
import type { FaultOutcome } from './faults';
import { TwilioHttpError, errorBody } from './format';
import { registerAdminRoutes } from './routes/admin';
import { registerApiRoutes } from './routes/api2010';
import { registerStudioRoutes } from './routes/studio';
import { registerTaskRouterRoutes } from './routes/taskrouter';
import { registerWebhookRoutes } from './routes/webhooks';

declare module 'fastify' {
  interface FastifyContextConfig {
    endpoint?: string;
  }
  interface FastifyRequest {
    twilioAccount?: string;
    /** An `answerLost` fault: the request is handled, then its answer is lost this way (in onSend). */
    lostAnswer?: FaultOutcome;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isLoopback(addr: string | undefined): boolean {
  return !!addr && (addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1' || addr.startsWith('127.'));
}

/** Returns the account SID the request authenticates as, or undefined. */
function authenticate(core: Core, header: string | undefined): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  const user = decoded.slice(0, i);
  const pass = decoded.slice(i + 1);
  const a = core.acct;
  if (user === a.accountSid && pass === a.authToken) return a.accountSid;
  if (user === a.apiKey.sid && pass === a.apiKey.secret) return a.accountSid;
  return undefined;
}

function faultError(status: 429 | 500 | 503, retryAfter: number | undefined): TwilioHttpError {
  const headers: Record<string, string> = {};
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  const msg = status === 429 ? 'Too Many Requests' : status === 503 ? 'Service Unavailable' : 'Internal Server Error';
  return new TwilioHttpError(status, status === 429 ? 20429 : 20500, msg, headers);
}

function sendError(reply: FastifyReply, err: TwilioHttpError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(err.status).type('application/json').send(err.body());
}

export function buildServer(core: Core, opts: { logger?: boolean } = {}): FastifyInstance {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 10 * 1024 * 1024, keepAliveTimeout: 65_000, forceCloseConnections: true });
  void app.register(formbody);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const endpoint = req.routeOptions.config.endpoint ?? 'unknown';
    const method = req.method.toUpperCase();
    core.counters.request(endpoint, method);
    reply.header('Twilio-Request-Id', core.store.sids.make('RQ'));
    const product = endpoint.split(':')[0];
    if (product === 'admin') {
      if (core.settings.adminOpenOnLoopback && isLoopback(req.socket.remoteAddress)) return;
      if (authenticate(core, req.headers.authorization)) return;
      return sendError(reply.header('WWW-Authenticate', 'Basic realm="Twilio emulator admin"'), new TwilioHttpError(401, 20003, 'Authenticate'));
    }
    const rest = product === 'api' || product === 'studio' || product === 'taskrouter';
    if (rest) {
      const who = authenticate(core, req.headers.authorization);
      if (!who) {
        reply.header('WWW-Authenticate', 'Basic realm="Twilio API"');
        return reply.code(401).type('application/json').send(errorBody(401, 20003, 'Authenticate', 'Your AccountSid or AuthToken was incorrect.'));
      }
      req.twilioAccount = who;
      // Twilio's account limit is on REST requests in flight; webhooks to Studio do not count.
      const n = core.counters.enter(who);
      let left = false;
      const leave = () => {
        if (!left) {
          left = true;
          core.counters.leave(who);
        }
      };
      reply.raw.once('close', leave);
      reply.header('Twilio-Concurrent-Requests', String(n));
      if (core.faults.maxInFlight > 0 && n > core.faults.maxInFlight) {
        return sendError(reply, new TwilioHttpError(429, 20429, 'Too Many Requests'));
      }
    }
    const d = core.faults.decide(endpoint, method);
    if (d.latencyMs > 0) await sleep(d.latencyMs);
    if (d.drop) {
      core.counters.dropped++;
      req.raw.socket.destroy();
      return reply.hijack();
    }
    if (d.status) return sendError(reply, faultError(d.status, d.retryAfter));
    if (d.lostAnswer) req.lostAnswer = d.lostAnswer;
  });

  // After-response hooks run here: the answer is final but not yet written (see hooks.ts).
  app.addHook('onSend', (req, reply, payload, done) => {
    core.hooks.answered({ method: req.method.toUpperCase(), endpoint: req.routeOptions.config.endpoint ?? 'unknown', path: req.url.split('?')[0]!, status: reply.statusCode });
    const lost = req.lostAnswer;
    if (!lost) return done(null, payload);
    // The request was handled (a write applied); the client never learns how it went.
    req.lostAnswer = undefined;
    core.counters.answersLost++;
    if (lost.drop || !lost.status) {
      core.counters.dropped++;
      req.raw.socket.destroy();
      return done(null, payload);
    }
    const err = faultError(lost.status, lost.retryAfter);
    for (const h of Object.keys(reply.getHeaders())) if (h !== 'twilio-request-id' && h !== 'twilio-concurrent-requests') reply.removeHeader(h);
    for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    reply.code(err.status).type('application/json');
    done(null, JSON.stringify(err.body()));
  });

  app.addHook('onResponse', async (req, reply) => {
    core.counters.answered(req.routeOptions.config.endpoint ?? 'unknown', reply.statusCode);
  });

  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof TwilioHttpError) return sendError(reply, err);
    const e = err as { statusCode?: number; message?: string; code?: string };
    if (e.statusCode && e.statusCode < 500) return sendError(reply, new TwilioHttpError(e.statusCode, 20001, e.message ?? 'Bad request'));
    return sendError(reply, new TwilioHttpError(500, 20500, `Internal Server Error: ${e.message ?? String(err)}`));
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new TwilioHttpError(404, 20404, `The requested resource ${req.url.split('?')[0]} was not found`)));

  registerApiRoutes(app, core);
  registerStudioRoutes(app, core);
  registerTaskRouterRoutes(app, core);
  registerWebhookRoutes(app, core);
  registerAdminRoutes(app, core);
  return app;
}
