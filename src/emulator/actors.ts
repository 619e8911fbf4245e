/**
 * What the account's other actors do, in process: an agent or another app changing a Task, a callback Task created
 * after its call, a call ending, a Flow republished. Each goes through the same store and TaskRouter moves as the
 * simulator and the REST routes, so versions (ETags), timestamps and TaskRouter events come out as Twilio's would.
 * For tests of read-then-write races (see `admin.afterResponse`).
 */
import type { Core } from './core';
import type { CallStatus, Flow, FlowDefinition, FlowState, Task, TaskStatus } from './state';
import { isTerminalCallStatus } from '../shared/constants';

export interface TaskChange {
  /** New attributes: a JSON string (not validated, so a broken integration can be played) or an object. */
  attributes?: string | object;
  /**
   * Moves along TaskRouter's own path, one event-emitting step at a time: pending → reserved → assigned → wrapping →
   * completed (assigned → completed directly), pending/reserved → canceled, reserved → pending (reservation rejected).
   * A move to the current status changes nothing.
   */
  assignmentStatus?: TaskStatus;
  /** The reason a `canceled` or `completed` move records (without a move: set as the REST update sets it). */
  reason?: string;
}

export interface NewTaskParams {
  /** Default: the seeded workspace. */
  workspaceSid?: string;
  attributes: string | object;
  /** TaskChannel unique name or SID (default `default`, as the REST create). */
  channel?: string;
  /** Default `pending`; another status gets a reservation with the seeded worker. */
  assignmentStatus?: TaskStatus;
  /** Creation time, emulated epoch ms, not in the future (default now). */
  createdAtMs?: number;
  priority?: number;
  timeout?: number;
  /** No `task.created` / `task-queue.entered` events (default false: they are emitted and delivered). */
  quiet?: boolean;
}

const FORWARD: TaskStatus[] = ['pending', 'reserved', 'assigned', 'wrapping', 'completed'];
const attributesText = (a: string | object): string => (typeof a === 'string' ? a : JSON.stringify(a));

function liveTask(core: Core, sid: string): Task {
  const t = core.store.tasks.get(sid);
  if (!t || core.store.isPurged(t)) throw new Error(`no Task ${sid}`);
  return t;
}

/** The single steps from `from` to `to`, or undefined when TaskRouter has no such path. */
function taskPath(from: TaskStatus, to: TaskStatus): TaskStatus[] | undefined {
  if (from === to) return [];
  if (to === 'canceled') return from === 'pending' || from === 'reserved' ? ['canceled'] : undefined;
  if (from === 'reserved' && to === 'pending') return ['pending'];
  const i = FORWARD.indexOf(from);
  const j = FORWARD.indexOf(to);
  if (i < 0 || j < 0 || j <= i || from === 'completed') return undefined;
  const steps = FORWARD.slice(i + 1, j + 1);
  // An assigned Task is completed without passing through wrapping.
  return to === 'completed' ? steps.filter((s) => s !== 'wrapping') : steps;
}

export function updateTask(core: Core, sid: string, change: TaskChange): void {
  const { store, tr } = core;
  const t = liveTask(core, sid);
  const ws = store.workspaces.get(t.workspaceSid)!;
  const to = change.assignmentStatus;
  const path = to === undefined ? [] : taskPath(t.status, to);
  if (!path) throw new Error(`updateTask: Task ${sid} cannot go from ${t.status} to ${String(to)}`);
  if (change.attributes !== undefined) {
    store.setTaskAttributes(t, attributesText(change.attributes));
    store.emitTaskEvent('task.updated', t, 'Task attributes updated', {});
  }
  for (const step of path) {
    if (step === 'reserved') tr.reserve(ws, t);
    else if (step === 'assigned') tr.accept(ws, t);
    else if (step === 'wrapping') tr.wrap(ws, t);
    else if (step === 'completed') tr.complete(ws, t, change.reason);
    else if (step === 'canceled') tr.cancel(t, change.reason);
    else tr.reject(ws, t);
  }
  if (path.length === 0 && change.reason !== undefined) t.reason = change.reason;
}

export function createTask(core: Core, p: NewTaskParams): string {
  const ws = core.store.workspaces.get(p.workspaceSid ?? core.acct.workspaceSid);
  if (!ws) throw new Error(`no workspace ${String(p.workspaceSid)}`);
  const channel = p.channel ?? 'default';
  if (!core.tr.channel(ws, channel)) throw new Error(`no TaskChannel ${channel} in workspace ${ws.sid}`);
  const now = core.clock.now();
  if (p.createdAtMs !== undefined && p.createdAtMs > now) throw new Error(`createTask: createdAtMs ${p.createdAtMs} is in the future (now ${now})`);
  const t = core.tr.create(ws, {
    attributes: attributesText(p.attributes),
    channelUniqueName: channel,
    status: p.assignmentStatus,
    createdAt: p.createdAtMs,
    priority: p.priority,
    timeout: p.timeout,
    quiet: p.quiet,
  });
  return t.sid;
}

/**
 * Sets a call's status as Twilio's voice platform would. A terminal status sets `end_time` (= `endTimeMs`, default
 * now) and `duration`; an ended call keeps its status, but its `end_time` can be moved. No status callback is sent
 * (as if it was lost), except by a call the simulator is playing: it is told it was hung up and carries on from there
 * (its final callback, its Task's wrap-up or cancel).
 */
export function setCallStatus(core: Core, callSid: string, status: CallStatus, o: { endTimeMs?: number } = {}): void {
  const call = core.store.calls.get(callSid);
  if (!call) throw new Error(`no Call ${callSid}`);
  const terminal = isTerminalCallStatus;
  const now = core.clock.now();
  if (o.endTimeMs !== undefined) {
    if (!terminal(status)) throw new Error(`setCallStatus: endTimeMs needs a terminal status, not ${status}`);
    const earliest = call.answeredAt ?? call.startTime ?? call.dateCreated;
    if (o.endTimeMs < earliest || o.endTimeMs > now) throw new Error(`setCallStatus: endTimeMs must lie between the call's start or answer (${earliest}) and now (${now})`);
  }
  if (terminal(call.status)) {
    if (status !== call.status) throw new Error(`setCallStatus: Call ${callSid} already ended ${call.status}`);
    if (o.endTimeMs === undefined) return;
    call.endTime = call.dateUpdated = o.endTimeMs;
    call.duration = call.answeredAt !== null ? Math.max(0, Math.round((o.endTimeMs - call.answeredAt) / 1000)) : 0;
    return;
  }
  core.store.setCallStatus(call, status, terminal(status) ? o.endTimeMs ?? now : now);
  if (terminal(status) && core.sim.isScripted(callSid)) core.sim.hangup(callSid);
}

function normalizeDefinition(d: unknown): FlowDefinition {
  const def = structuredClone(d) as Partial<FlowDefinition> | null;
  if (!def || typeof def !== 'object' || !Array.isArray(def.states)) throw new Error('a Flow definition needs a states array');
  for (const s of def.states as Partial<FlowState>[]) {
    if (!s || typeof s.name !== 'string' || typeof s.type !== 'string') throw new Error('every Flow state needs a name and a type');
    s.transitions ??= [];
    s.properties ??= {};
  }
  return {
    description: def.description ?? '',
    states: def.states,
    initial_state: def.initial_state ?? 'Trigger',
    flags: { allow_concurrent_calls: def.flags?.allow_concurrent_calls ?? true },
  };
}

function flowOf(core: Core, flowSid: string): Flow {
  const f = core.store.flows.get(flowSid);
  if (!f) throw new Error(`no Flow ${flowSid}`);
  return f;
}

/** Publishes a new revision of the Flow (revision + 1); Executions keep the `flow_version` they started on. */
export function setFlowDefinition(core: Core, flowSid: string, definition: unknown): number {
  const f = flowOf(core, flowSid);
  f.definition = normalizeDefinition(definition);
  f.revision++;
  f.dateUpdated = core.clock.now();
  return f.revision;
}

/** Republishes the Flow with every Send & Wait for Reply widget's `timeout` set (or removed, for undefined). */
export function setSendAndWaitTimeout(core: Core, flowSid: string, timeout: string | undefined): number {
  const def = structuredClone(flowOf(core, flowSid).definition);
  const widgets = def.states.filter((s) => s.type === 'send-and-wait-for-reply');
  if (!widgets.length) throw new Error(`Flow ${flowSid} has no Send & Wait for Reply widget`);
  for (const w of widgets) {
    if (timeout === undefined) delete w.properties.timeout;
    else w.properties.timeout = timeout;
  }
  return setFlowDefinition(core, flowSid, def);
}

/** A new published Flow at revision 1 (numbers are not pointed at it: pass its SID to `seedExecutions`). */
export function createFlow(core: Core, p: { friendlyName: string; definition: unknown }): string {
  const now = core.clock.now();
  const f: Flow = {
    seq: core.store.nextSeq(),
    sid: core.store.sids.make('FW'),
    accountSid: core.acct.accountSid,
    friendlyName: p.friendlyName,
    definition: normalizeDefinition(p.definition),
    revision: 1,
    dateCreated: now,
    dateUpdated: now,
  };
  core.store.flows.set(f.sid, f);
  return f.sid;
}
