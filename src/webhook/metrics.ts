/**
 * The webhook's Prometheus metrics (prom-client; the webhook is a Temporal client, not a worker, so the SDK's Runtime
 * exports nothing for it): callbacks by route, outcome and HTTP status, and their latency. Served on a listener of
 * its own (WEBHOOK_METRICS_ADDRESS), never on the port Twilio reaches.
 */
import { createServer, type Server } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';
import { HEALTH_PATHS } from '../shared/names';

/** What happened to a callback, beyond its status code. */
export type CallbackOutcome = 'signalled' | 'already-closed' | 'ignored' | 'unavailable' | 'overloaded' | 'failed' | 'refused' | 'redirected-without-watch';

const outcomes = new WeakMap<FastifyReply, CallbackOutcome>();

/** Tags the reply with what the handler decided; the response hook counts it. */
export function noteOutcome(reply: FastifyReply, outcome: CallbackOutcome): void {
  outcomes.set(reply, outcome);
}

export interface WebhookMetrics {
  registry: Registry;
}

/** Counts every response of `app` but the probes'. Routes are the registered paths (unknown paths count as `unmatched`). */
export function instrumentWebhook(app: FastifyInstance): WebhookMetrics {
  const registry = new Registry();
  const callbacks = new Counter({
    name: 'unstick_webhook_callbacks_total',
    help: 'Requests answered, by route, outcome and HTTP status',
    labelNames: ['route', 'outcome', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'unstick_webhook_duration_seconds',
    help: 'Time from request to answer, queueing for a Temporal slot included',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if ((HEALTH_PATHS as readonly string[]).includes(route)) return;
    const status = reply.statusCode;
    const outcome = outcomes.get(reply) ?? (status === 302 ? 'signalled' : status < 300 ? 'signalled' : status === 503 ? 'unavailable' : 'refused');
    callbacks.inc({ route, outcome, status: String(status) });
    duration.observe({ route }, reply.elapsedTime / 1000);
  });
  return { registry };
}

/** Serves `registry` on GET /metrics at `address` (host:port). */
export async function serveMetrics(registry: Registry, address: string): Promise<{ url: string; close: () => Promise<void> }> {
  const idx = address.lastIndexOf(':');
  const host = address.slice(0, idx).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(idx + 1));
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}/metrics`, close: () => new Promise((r) => server.close(() => r())) };
}
