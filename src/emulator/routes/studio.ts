/** Studio v2 (studio.twilio.com): Flows, Executions, Execution Context, Steps, Step Context. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../core';
import { badRequest, clampPageSize, metaEnvelope, notFound, one, pageRecords, parseDateParam } from '../format';
import { sendList } from '../listBody';
import { HOSTS, executionContextJson, executionJson, flowJson, stepContextJson, stepJson } from '../serialize';
import type { Execution, ExecutionStatus, Flow } from '../state';

type Q = Record<string, unknown>;

function pageIndex(q: Q): number {
  const n = Number(one(q.Page) ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

export function registerStudioRoutes(app: FastifyInstance, core: Core): void {
  const { store } = core;
  const flowOf = (req: FastifyRequest): Flow => {
    const p = req.params as { FlowSid?: string; Sid?: string };
    const sid = p.FlowSid ?? p.Sid ?? '';
    const f = store.flows.get(sid);
    if (!f || f.accountSid !== req.twilioAccount) throw notFound(`The requested resource /Flows/${sid} was not found`);
    return f;
  };
  const execOf = (req: FastifyRequest): Execution => {
    const flow = flowOf(req);
    const p = req.params as { ExecutionSid?: string; Sid?: string };
    return store.getExecution(flow.sid, p.ExecutionSid ?? p.Sid ?? '');
  };

  app.get('/studio/v2/Flows', { config: { endpoint: 'studio:Flows' } }, async (req) => {
    const q = req.query as Q;
    const items = [...store.flows.values()].filter((f) => f.accountSid === req.twilioAccount);
    const pageSize = clampPageSize(q.PageSize);
    const { page, next } = pageRecords(items, [{ key: (f) => f.dateCreated, dir: 'asc' }], pageSize, one(q.PageToken));
    // The spec's list example carries `definition: null`; fetch a Flow for its definition.
    return metaEnvelope('flows', page.map((f) => flowJson(f, false)), `${HOSTS.studio}/v2/Flows`, {}, pageSize, pageIndex(q), next);
  });

  app.get('/studio/v2/Flows/:FlowSid', { config: { endpoint: 'studio:Flows' } }, async (req) => flowJson(flowOf(req)));

  app.get('/studio/v2/Flows/:FlowSid/Executions', { config: { endpoint: 'studio:Executions' } }, async (req, reply) => {
    const flow = flowOf(req);
    const q = req.query as Q;
    const status = one(q.status) ?? one(q.Status);
    if (status !== undefined && status !== 'active' && status !== 'ended') throw badRequest(`Invalid status ${status}: must be active or ended`);
    const fromRaw = one(q.DateCreatedFrom);
    const toRaw = one(q.DateCreatedTo);
    const from = fromRaw ? parseDateParam(fromRaw) : undefined;
    const to = toRaw ? parseDateParam(toRaw) : undefined;
    if (fromRaw && from === undefined) throw badRequest(`Invalid DateCreatedFrom ${fromRaw}`);
    if (toRaw && to === undefined) throw badRequest(`Invalid DateCreatedTo ${toRaw}`);
    const byStatus = store.executionsByFlow.get(flow.sid);
    const sources: Iterable<Execution>[] = status
      ? [byStatus?.get(status as ExecutionStatus) ?? []]
      : [byStatus?.get('active') ?? [], byStatus?.get('ended') ?? []];
    const items: Execution[] = [];
    for (const src of sources) {
      for (const e of src) {
        // Twilio compares at second precision (dates are serialised without milliseconds).
        const created = Math.floor(e.dateCreated / 1000) * 1000;
        if (from !== undefined && created < from) continue;
        if (to !== undefined && created >= to) continue;
        items.push(e);
      }
    }
    const pageSize = clampPageSize(q.PageSize);
    // Newest first, as Studio's logs list them.
    const { page, next } = pageRecords(items, [{ key: (e) => e.dateCreated, dir: 'desc' }], pageSize, one(q.PageToken));
    const withContext = core.settings.executionListContext === 'full';
    const envelope = metaEnvelope('executions', page, `${HOSTS.studio}/v2/Flows/${flow.sid}/Executions`, { status, DateCreatedFrom: fromRaw, DateCreatedTo: toRaw }, pageSize, pageIndex(q), next);
    return sendList(reply, envelope, 'executions', page, (e) => executionJson(e, withContext));
  });

  app.post('/studio/v2/Flows/:FlowSid/Executions', { config: { endpoint: 'studio:Executions' } }, async (req, reply) => {
    const flow = flowOf(req);
    const b = (req.body ?? {}) as Q;
    const to = one(b.To);
    const from = one(b.From);
    if (!to) throw badRequest('Missing required parameter To in the post body');
    if (!from) throw badRequest('Missing required parameter From in the post body');
    let parameters: Record<string, unknown> = {};
    const raw = one(b.Parameters);
    if (raw) {
      try {
        const v: unknown = JSON.parse(raw);
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        parameters = v as Record<string, unknown>;
      } catch {
        throw badRequest('Parameters must be a JSON object');
      }
    }
    const ex = core.studio.createRestExecution(flow, to, from, parameters, core.clock.now());
    return reply.code(201).send(executionJson(ex));
  });

  app.get('/studio/v2/Flows/:FlowSid/Executions/:ExecutionSid', { config: { endpoint: 'studio:Executions' } }, async (req) => executionJson(execOf(req)));

  app.post('/studio/v2/Flows/:FlowSid/Executions/:ExecutionSid', { config: { endpoint: 'studio:Executions' } }, async (req) => {
    const ex = execOf(req);
    const status = one(((req.body ?? {}) as Q).Status);
    if (status === undefined) throw badRequest('Missing required parameter Status in the post body');
    if (status !== 'ended') throw badRequest(`Invalid Status ${status}: only ended is allowed`);
    // Ending an ended execution is accepted unchanged (Twilio's behaviour here is undocumented).
    store.endExecution(ex, core.clock.now());
    return executionJson(ex);
  });

  app.delete('/studio/v2/Flows/:FlowSid/Executions/:ExecutionSid', { config: { endpoint: 'studio:Executions' } }, async (req, reply) => {
    store.deleteExecution(execOf(req));
    return reply.code(204).send();
  });

  app.get('/studio/v2/Flows/:FlowSid/Executions/:ExecutionSid/Context', { config: { endpoint: 'studio:ExecutionContext' } }, async (req) => executionContextJson(execOf(req)));

  app.get('/studio/v2/Flows/:FlowSid/Executions/:ExecutionSid/Steps', { config: { endpoint: 'studio:Steps' } }, async (req) => {
    const ex = execOf(req);
    const q = req.query as Q;
    const pageSize = clampPageSize(q.PageSize);
    const { page, next } = pageRecords(ex.steps, [{ key: (s) => s.dateCreated, dir: 'asc' }], pageSize, one(q.PageToken));
    return metaEnvelope('steps', page.map((s) => stepJson(ex, s)), `${HOSTS.studio}/v2/Flows/${ex.flowSid}/Executions/${ex.sid}/Steps`, {}, pageSize, pageIndex(q), next);
  });

  const stepOf = (req: FastifyRequest) => {
    const ex = execOf(req);
    const p = req.params as { StepSid?: string; Sid?: string };
    const sid = p.StepSid ?? p.Sid;
    const s = ex.steps.find((x) => x.sid === sid);
    if (!s) throw notFound(`The requested resource /Flows/${ex.flowSid}/Executions/${ex.sid}/Steps/${sid} was not found`);
    return { ex, s };
  };
  app.get('/studio/v2/Flows/:FlowSid/Executions/:ExecutionSid/Steps/:StepSid', { config: { endpoint: 'studio:Steps' } }, async (req) => {
    const { ex, s } = stepOf(req);
    return stepJson(ex, s);
  });
  app.get('/studio/v2/Flows/:FlowSid/Executions/:ExecutionSid/Steps/:StepSid/Context', { config: { endpoint: 'studio:StepContext' } }, async (req) => {
    const { ex, s } = stepOf(req);
    return stepContextJson(ex, s);
  });
}
