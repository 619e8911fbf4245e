/** TaskRouter v1 (taskrouter.twilio.com): Workspaces, TaskChannels, Tasks (with ETag/If-Match), Events. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../core';
import { ExpressionError, evaluate, parseExpression, pinnedValue } from '../../policy/expression';
import type { Expr } from '../../policy/expression';
import { TASK_STATUSES } from '../../shared/constants';
import { TwilioHttpError, badRequest, clampPageSize, many, metaEnvelope, notFound, one, pageRecords, parseDateParam } from '../format';
import type { SortSpec } from '../format';
import { sendList } from '../listBody';
import { HOSTS, channelJson, eventJson, taskJson, workspaceJson } from '../serialize';
import type { Task, TaskStatus, TrEvent, Workspace } from '../state';
import { updateTaskFromApi } from '../taskApi';

type Q = Record<string, unknown>;

function pageIndex(q: Q): number {
  const n = Number(one(q.Page) ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

function parseOrdering(raw: string | undefined): SortSpec<Task>[] {
  if (!raw) return [{ key: (t) => t.dateCreated, dir: 'asc' }];
  const specs: SortSpec<Task>[] = [];
  const seen = new Set<string>();
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [attr, dir = 'asc'] = part.split(':');
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid Ordering ${raw}: order must be asc or desc`);
    const key = attr === 'DateCreated' ? (t: Task) => t.dateCreated : attr === 'Priority' ? (t: Task) => t.priority : attr === 'VirtualStartTime' ? (t: Task) => t.virtualStartTime : undefined;
    if (!key || !attr) throw badRequest(`Invalid Ordering ${raw}: attribute must be DateCreated, Priority or VirtualStartTime`);
    seen.add(attr);
    specs.push({ key, dir });
  }
  if (seen.has('DateCreated') && seen.has('VirtualStartTime')) throw badRequest('Ordering by DateCreated and VirtualStartTime together is not allowed');
  return specs.length ? specs : [{ key: (t) => t.dateCreated, dir: 'asc' }];
}

export function registerTaskRouterRoutes(app: FastifyInstance, core: Core): void {
  const { store } = core;
  const wsOf = (req: FastifyRequest): Workspace => {
    const sid = (req.params as { WorkspaceSid: string }).WorkspaceSid;
    const ws = store.workspaces.get(sid);
    if (!ws || ws.accountSid !== req.twilioAccount) throw notFound(`The requested resource /Workspaces/${sid} was not found`);
    return ws;
  };
  const taskOf = (req: FastifyRequest): Task => store.getTask(wsOf(req).sid, (req.params as { TaskSid: string }).TaskSid);
  const sendTask = (reply: FastifyReply, t: Task, code = 200) => reply.code(code).header('ETag', String(t.version)).send(taskJson(t, core.clock.now()));

  app.get('/taskrouter/v1/Workspaces', { config: { endpoint: 'taskrouter:Workspaces' } }, async (req) => {
    const q = req.query as Q;
    const name = one(q.FriendlyName);
    const items = [...store.workspaces.values()].filter((w) => w.accountSid === req.twilioAccount && (!name || w.friendlyName === name));
    const pageSize = clampPageSize(q.PageSize);
    const { page, next } = pageRecords(items, [{ key: (w) => w.dateCreated, dir: 'asc' }], pageSize, one(q.PageToken));
    return metaEnvelope('workspaces', page.map(workspaceJson), `${HOSTS.taskrouter}/v1/Workspaces`, { FriendlyName: name }, pageSize, pageIndex(q), next);
  });

  app.get('/taskrouter/v1/Workspaces/:WorkspaceSid', { config: { endpoint: 'taskrouter:Workspaces' } }, async (req) => workspaceJson(wsOf(req)));

  app.get('/taskrouter/v1/Workspaces/:WorkspaceSid/TaskChannels', { config: { endpoint: 'taskrouter:TaskChannels' } }, async (req) => {
    const ws = wsOf(req);
    const q = req.query as Q;
    const pageSize = clampPageSize(q.PageSize);
    const { page, next } = pageRecords(store.channels.get(ws.sid) ?? [], [{ key: (c) => c.dateCreated, dir: 'asc' }], pageSize, one(q.PageToken));
    return metaEnvelope('channels', page.map(channelJson), `${HOSTS.taskrouter}/v1/Workspaces/${ws.sid}/TaskChannels`, {}, pageSize, pageIndex(q), next);
  });

  app.get('/taskrouter/v1/Workspaces/:WorkspaceSid/Tasks', { config: { endpoint: 'taskrouter:Tasks' } }, async (req, reply) => {
    const ws = wsOf(req);
    const q = req.query as Q;
    const statuses = many(q.AssignmentStatus);
    for (const s of statuses) if (!TASK_STATUSES.includes(s as TaskStatus)) throw badRequest(`Invalid AssignmentStatus ${s}`);
    const evalRaw = one(q.EvaluateTaskAttributes);
    let expr: Expr | undefined;
    if (evalRaw !== undefined) {
      const remaining = core.evaluateRate.hit(`${ws.accountSid}:Task-List-EvaluateTaskAttributes`);
      const limit = String(core.evaluateRate.limitPerSecond);
      reply.header('X-Rate-Limit-Limit', limit).header('X-Rate-Limit-Config', 'Task-List-EvaluateTaskAttributes');
      if (remaining < 0) {
        throw new TwilioHttpError(429, 20429, 'Too many requests: Task-List-EvaluateTaskAttributes is limited to 3 requests per second', {
          'X-Rate-Limit-Limit': limit, 'X-Rate-Limit-Remaining': '0', 'X-Rate-Limit-Config': 'Task-List-EvaluateTaskAttributes',
        });
      }
      reply.header('X-Rate-Limit-Remaining', String(remaining));
      try {
        expr = parseExpression(evalRaw);
      } catch (err) {
        throw badRequest(`Invalid EvaluateTaskAttributes expression ${evalRaw}: ${err instanceof ExpressionError ? err.message : String(err)}`);
      }
    }
    const queueSid = one(q.TaskQueueSid);
    const queueName = one(q.TaskQueueName);
    const workflowSid = one(q.WorkflowSid);
    const workflowName = one(q.WorkflowName);
    const priorityRaw = one(q.Priority);
    const priority = priorityRaw === undefined ? undefined : Number(priorityRaw);
    const routingTarget = one(q.RoutingTarget);
    const hasAddons = one(q.HasAddons);
    const ordering = parseOrdering(one(q.Ordering));
    store.purgeClosedTasks();

    let source: Iterable<Task>[];
    const pinned = expr ? pinnedValue(expr, 'call_sid') : undefined;
    if (pinned !== undefined) source = [store.tasksByCall.get(pinned) ?? []];
    else if (statuses.length) source = [...new Set(statuses)].map((s) => store.tasksIn(ws.sid, s as TaskStatus));
    else source = TASK_STATUSES.map((s) => store.tasksIn(ws.sid, s));
    const wanted = statuses.length ? new Set(statuses) : undefined;
    const items: Task[] = [];
    for (const src of source) {
      for (const t of src) {
        if (t.workspaceSid !== ws.sid) continue;
        if (wanted && !wanted.has(t.status)) continue;
        if (queueSid && t.queueSid !== queueSid) continue;
        if (queueName && t.queueName !== queueName) continue;
        if (workflowSid && t.workflowSid !== workflowSid) continue;
        if (workflowName && t.workflowName !== workflowName) continue;
        if (priority !== undefined && t.priority !== priority) continue;
        if (routingTarget) continue; // no routing targets in the emulator
        if (hasAddons === 'true') continue;
        if (expr) {
          const a = store.parsedAttributes(t);
          if (!a.ok || !evaluate(expr, a.value)) continue;
        }
        items.push(t);
      }
    }
    const pageSize = clampPageSize(q.PageSize);
    const { page, next } = pageRecords(items, ordering, pageSize, one(q.PageToken));
    const now = core.clock.now();
    const withAttrs = core.settings.taskListAttributes === 'full';
    return sendList(reply, metaEnvelope(
      'tasks',
      page,
      `${HOSTS.taskrouter}/v1/Workspaces/${ws.sid}/Tasks`,
      {
        AssignmentStatus: statuses.length ? statuses : undefined, Priority: priorityRaw, WorkflowSid: workflowSid, WorkflowName: workflowName,
        TaskQueueSid: queueSid, TaskQueueName: queueName, EvaluateTaskAttributes: evalRaw, RoutingTarget: routingTarget, Ordering: one(q.Ordering), HasAddons: hasAddons,
      },
      pageSize,
      pageIndex(q),
      next,
    ), 'tasks', page, (t) => taskJson(t, now, withAttrs));
  });

  app.post('/taskrouter/v1/Workspaces/:WorkspaceSid/Tasks', { config: { endpoint: 'taskrouter:Tasks' } }, async (req, reply) => {
    const ws = wsOf(req);
    const b = (req.body ?? {}) as Q;
    const attributes = one(b.Attributes) ?? '{}';
    try {
      JSON.parse(attributes);
    } catch {
      throw badRequest('Attributes must be valid JSON');
    }
    const channel = one(b.TaskChannel) ?? 'default';
    if (!core.tr.channel(ws, channel)) throw badRequest(`TaskChannel ${channel} does not exist in workspace ${ws.sid}`);
    const workflowSid = one(b.WorkflowSid);
    if (workflowSid && !ws.workflows.some((w) => w.sid === workflowSid)) throw badRequest(`Workflow ${workflowSid} not found in workspace ${ws.sid}`);
    const queueSid = one(b.TaskQueueSid);
    if (queueSid && !ws.queues.some((w) => w.sid === queueSid)) throw badRequest(`TaskQueue ${queueSid} not found in workspace ${ws.sid}`);
    const timeout = one(b.Timeout) === undefined ? 86400 : Number(one(b.Timeout));
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 1_209_600) throw badRequest('Timeout must be between 1 and 1209600 seconds');
    const priority = one(b.Priority) === undefined ? 0 : Number(one(b.Priority));
    if (!Number.isInteger(priority) || priority < 0 || priority > 2_147_483_647) throw badRequest('Priority must be between 0 and 2147483647');
    const t = core.tr.create(ws, { attributes, channelUniqueName: channel, priority, timeout }, workflowSid, queueSid);
    return sendTask(reply, t, 201);
  });

  app.get('/taskrouter/v1/Workspaces/:WorkspaceSid/Tasks/:TaskSid', { config: { endpoint: 'taskrouter:Tasks' } }, async (req, reply) => sendTask(reply, taskOf(req)));

  app.post('/taskrouter/v1/Workspaces/:WorkspaceSid/Tasks/:TaskSid', { config: { endpoint: 'taskrouter:Tasks' } }, async (req, reply) => {
    const t = taskOf(req);
    const b = (req.body ?? {}) as Q;
    const ifMatch = req.headers['if-match'];
    const priorityRaw = one(b.Priority);
    updateTaskFromApi(store, t, {
      assignmentStatus: one(b.AssignmentStatus),
      reason: one(b.Reason),
      attributes: one(b.Attributes),
      priority: priorityRaw === undefined ? undefined : Number(priorityRaw),
      ifMatch: typeof ifMatch === 'string' ? ifMatch : undefined,
    });
    return sendTask(reply, t);
  });

  app.delete('/taskrouter/v1/Workspaces/:WorkspaceSid/Tasks/:TaskSid', { config: { endpoint: 'taskrouter:Tasks' } }, async (req, reply) => {
    const t = taskOf(req);
    const ifMatch = req.headers['if-match'];
    if (typeof ifMatch === 'string' && ifMatch.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1') !== String(t.version)) {
      throw new TwilioHttpError(412, 20001, `The If-Match header value ${ifMatch} does not match the current version ${t.version} of Task ${t.sid}`);
    }
    store.emitTaskEvent('task.deleted', t, 'Task deleted through the API', {});
    store.deleteTask(t);
    return reply.code(204).send();
  });

  app.get('/taskrouter/v1/Workspaces/:WorkspaceSid/Events', { config: { endpoint: 'taskrouter:Events' } }, async (req) => {
    const ws = wsOf(req);
    const q = req.query as Q;
    const f = {
      EventType: one(q.EventType), TaskSid: one(q.TaskSid), TaskQueueSid: one(q.TaskQueueSid), WorkerSid: one(q.WorkerSid), WorkflowSid: one(q.WorkflowSid),
      ReservationSid: one(q.ReservationSid), TaskChannel: one(q.TaskChannel), Sid: one(q.Sid), StartDate: one(q.StartDate), EndDate: one(q.EndDate), Minutes: one(q.Minutes),
    };
    const now = core.clock.now();
    let start = f.StartDate ? parseDateParam(f.StartDate) : undefined;
    const end = f.EndDate ? parseDateParam(f.EndDate) : undefined;
    if (f.StartDate && start === undefined) throw badRequest(`Invalid StartDate ${f.StartDate}`);
    if (f.EndDate && end === undefined) throw badRequest(`Invalid EndDate ${f.EndDate}`);
    if (start === undefined && end === undefined) start = now - Number(f.Minutes ?? 15) * 60_000;
    else if (f.Minutes !== undefined && start === undefined) start = (end ?? now) - Number(f.Minutes) * 60_000;
    const types = f.EventType ? new Set(f.EventType.split(',')) : undefined;
    const items = (store.events.get(ws.sid) ?? []).filter((e: TrEvent) => {
      if (start !== undefined && e.date < start) return false;
      if (end !== undefined && e.date > end) return false;
      if (types && !types.has(e.eventType)) return false;
      if (f.TaskSid && e.data.task_sid !== f.TaskSid) return false;
      if (f.TaskQueueSid && e.data.task_queue_sid !== f.TaskQueueSid) return false;
      if (f.WorkflowSid && e.data.workflow_sid !== f.WorkflowSid) return false;
      if (f.WorkerSid && e.data.worker_sid !== f.WorkerSid) return false;
      if (f.ReservationSid && e.data.reservation_sid !== f.ReservationSid) return false;
      if (f.TaskChannel && e.data.task_channel_unique_name !== f.TaskChannel && e.data.task_channel_sid !== f.TaskChannel) return false;
      if (f.Sid && e.sid !== f.Sid) return false;
      return true;
    });
    const pageSize = clampPageSize(q.PageSize);
    const { page, next } = pageRecords(items, [{ key: (e) => e.date, dir: 'desc' }], pageSize, one(q.PageToken));
    return metaEnvelope('events', page.map(eventJson), `${HOSTS.taskrouter}/v1/Workspaces/${ws.sid}/Events`, f, pageSize, pageIndex(q), next);
  });

  app.get('/taskrouter/v1/Workspaces/:WorkspaceSid/Events/:EventSid', { config: { endpoint: 'taskrouter:Events' } }, async (req) => {
    const ws = wsOf(req);
    const sid = (req.params as { EventSid: string }).EventSid;
    const e = (store.events.get(ws.sid) ?? []).find((x) => x.sid === sid);
    if (!e) throw notFound(`The requested resource /Workspaces/${ws.sid}/Events/${sid} was not found`);
    return eventJson(e);
  });
}
