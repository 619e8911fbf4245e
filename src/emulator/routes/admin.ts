/** `/_emulator/…`: the admin API over HTTP (JSON in and out), mirroring `EmulatorAdmin`. */
import type { FastifyInstance } from 'fastify';
import type { EmulatorAdmin, NumberSettings, WorkspaceSettings } from '../admin';
import type { EmulatorSettings } from '../core';
import type { FaultSettings } from '../faults';
import type { CreateCallParams } from '../simulator';
import type { WebhookDelivery } from '../webhooks';
import type { Core } from '../core';
import { TwilioHttpError } from '../format';

declare module 'fastify' {
  interface FastifyInstance {
    emulatorAdmin?: EmulatorAdmin;
  }
}

type B = Record<string, unknown>;

export function registerAdminRoutes(app: FastifyInstance, core: Core): void {
  const cfg = { config: { endpoint: 'admin:*' } };
  const admin = (): EmulatorAdmin => {
    if (!app.emulatorAdmin) throw new TwilioHttpError(503, 20500, 'admin not ready');
    return app.emulatorAdmin;
  };
  const body = (b: unknown): B => (b && typeof b === 'object' ? (b as B) : {});
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof TwilioHttpError) throw err;
      throw new TwilioHttpError(400, 20001, err instanceof Error ? err.message : String(err));
    }
  };

  app.get('/_emulator', cfg, async () => ({
    url: core.baseUrl(),
    accountSid: core.acct.accountSid,
    authToken: core.acct.authToken,
    apiKey: core.acct.apiKey,
    seeded: core.acct,
  }));
  app.post('/_emulator/reset', cfg, async () => {
    admin().reset();
    return { ok: true };
  });
  app.get('/_emulator/clock', cfg, async () => admin().clock.get());
  app.post('/_emulator/clock', cfg, async (req) => {
    const b = body(req.body);
    return wrap(() => {
      if (b.real) return admin().clock.real();
      if (b.set !== undefined) admin().clock.set(b.set as string | number, !!b.freeze);
      if (b.advanceMs !== undefined) admin().clock.advance(Number(b.advanceMs));
      return admin().clock.get();
    });
  });
  app.post('/_emulator/calls', cfg, async (req, reply) => {
    const b = body(req.body);
    const run = wrap(() => admin().createCall(b as CreateCallParams));
    if (b.wait) await admin().whenSettled(run.id);
    return reply.code(201).send(admin().runState(run.id));
  });
  app.get('/_emulator/runs/:id', cfg, async (req) => {
    const s = admin().runState((req.params as { id: string }).id);
    if (!s) throw new TwilioHttpError(404, 20404, 'no such run');
    return s;
  });
  app.post('/_emulator/calls/:sid/hangup', cfg, async (req) => ({ hungUp: admin().hangup((req.params as { sid: string }).sid) }));
  app.get('/_emulator/traffic', cfg, async () => admin().listTraffic());
  app.post('/_emulator/traffic', cfg, async (req, reply) => reply.code(201).send(wrap(() => admin().startTraffic(body(req.body) as never))));
  app.delete('/_emulator/traffic/:id', cfg, async (req) => {
    const t = admin().stopTraffic((req.params as { id: string }).id);
    if (!t) throw new TwilioHttpError(404, 20404, 'no such traffic generator');
    return t;
  });
  app.get('/_emulator/faults', cfg, async () => admin().faults());
  app.get('/_emulator/event-streams', cfg, async () => admin().eventStreams());
  app.put('/_emulator/event-streams', cfg, async (req) => wrap(() => ({ sink: admin().setEventStreamsSink(body(req.body) as never) ?? null })));
  app.delete('/_emulator/event-streams', cfg, async () => ({ sink: admin().setEventStreamsSink(undefined) ?? null }));
  app.put('/_emulator/faults', cfg, async (req) => wrap(() => admin().setFaults(body(req.body) as Partial<FaultSettings>)));
  app.post('/_emulator/faults', cfg, async (req, reply) => reply.code(201).send({ id: wrap(() => admin().addFault(body(req.body) as never)) }));
  app.post('/_emulator/limits', cfg, async (req) => wrap(() => admin().setLimits(body(req.body) as Parameters<EmulatorAdmin['setLimits']>[0])));
  app.delete('/_emulator/faults', cfg, async () => {
    admin().clearFaults();
    return admin().faults();
  });
  app.get('/_emulator/snapshot', cfg, async (req) => admin().snapshot({ runs: Number((req.query as B).runs ?? 200) }));
  app.get('/_emulator/counters', cfg, async () => admin().counters());
  app.post('/_emulator/counters/reset', cfg, async () => admin().resetCounters());
  app.post('/_emulator/seed/tasks', cfg, async (req, reply) => reply.code(201).send(wrap(() => admin().seedTasks(body(req.body) as never))));
  app.post('/_emulator/seed/executions', cfg, async (req, reply) => reply.code(201).send(wrap(() => admin().seedExecutions(body(req.body) as never))));
  app.post('/_emulator/workspaces/:sid', cfg, async (req) => {
    wrap(() => admin().setWorkspace((req.params as { sid: string }).sid, body(req.body) as WorkspaceSettings));
    return { ok: true };
  });
  app.post('/_emulator/numbers/:sid', cfg, async (req) => {
    wrap(() => admin().setNumber((req.params as { sid: string }).sid, body(req.body) as NumberSettings));
    return { ok: true };
  });
  app.post('/_emulator/settings', cfg, async (req) => admin().updateSettings(body(req.body) as Partial<EmulatorSettings>));
  app.get('/_emulator/webhooks', cfg, async (req) => {
    const q = req.query as B;
    return admin().webhookLog({ callSid: q.callSid as string | undefined, kind: q.kind as WebhookDelivery['kind'] | undefined });
  });
}
