/**
 * An in-memory model of the Twilio resources the guarded writer touches, behind its `TaskPort` / `ExecutionPort`:
 *
 * - Tasks carry a version bumped on every change (the ETag); an update with If-Match and another version is
 *   refused (412, `conflict`); TaskRouter's transitions are enforced: cancel only from pending/reserved, complete
 *   only from assigned/wrapping, anything else is refused (`conflict`); a deleted Task is 404 (`gone`).
 * - Calls only move forward (queued → ringing → in-progress → a terminal status, with its end time).
 * - Executions keep the Flow revision they started on; their Steps say where they wait; Studio has no If-Match, so
 *   ending an active Execution always succeeds (an ended or deleted one is 404, `gone`).
 * - Flows keep every revision's definition. `flowReads: 'current'` answers a Flow read with the current revision,
 *   as the real port does (`flows(sid).fetch()`); `'exact'` with the revision asked for (as a FlowRevisions read would).
 *
 * Before every port call the scenario's next "gap" is applied: the clock moves and the world changes (an agent,
 * Studio, a caller, an operator). Every port call is recorded with the model state it saw, so a test can ask the
 * policy what it would have answered on the true state at any moment.
 */
import type { CloseTask, EndExecution, ExecutionAction, TaskAction } from '../../src/policy/types';
import {
  flowFactsFromDefinition,
  readTaskAttributes,
  type CallFacts,
  type ExecutionFacts,
  type ExecutionTrigger,
  type FlowFacts,
  type TaskFacts,
  type WaitingFacts,
} from '../../src/policy';
import type { CallStatus, TaskAssignmentStatus } from '../../src/shared/constants';
import type { ExecutionPort, TaskPort } from '../../src/activities/guardedWrite';

export interface ModelCall {
  sid: string;
  status: CallStatus;
  startedAtMs: number;
  endedAtMs?: number;
}

export interface ModelTask {
  sid: string;
  status: TaskAssignmentStatus;
  channel?: string;
  /** Raw JSON, as Twilio stores it. */
  attributes: string;
  createdAtMs: number;
  updatedAtMs: number;
  version: number;
  deleted: boolean;
}

export interface ModelExecution {
  sid: string;
  flowSid: string;
  /** The Flow revision it runs (the truth). */
  revision: number;
  /** The revision its record shows (flow_version); undefined: the record does not say. */
  flowVersion?: number;
  status: 'active' | 'ended';
  /** undefined: older records; the trigger is then in the context. */
  initiatedBy?: string;
  context: { trigger: ExecutionTrigger; callSid?: string };
  createdAtMs: number;
  updatedAtMs: number;
  steps: { widget: string; atMs: number }[];
  deleted: boolean;
}

export interface ModelWidget {
  name: string;
  type: string;
  timeout?: string;
}

export interface ModelFlow {
  sid: string;
  revision: number;
  /** Every revision's states; undefined = that definition cannot be read. */
  revisions: Record<number, ModelWidget[] | undefined>;
}

export interface ModelState {
  now: number;
  calls: Record<string, ModelCall>;
  tasks: Record<string, ModelTask>;
  executions: Record<string, ModelExecution>;
  flows: Record<string, ModelFlow>;
  /** Whether Task fetches carry an ETag. */
  etags: boolean;
  /** Whether Task updates honour If-Match (false only in the control test that shows why it matters). */
  ifMatch: boolean;
  flowReads: 'current' | 'exact';
}

/** One change the world makes between two port calls. */
export type Change =
  | { t: 'tick'; ms: number }
  /** An agent or TaskRouter moves the Task (applied only when TaskRouter allows that transition). */
  | { t: 'task-status'; to: TaskAssignmentStatus }
  /** Someone updates the Task's attributes. */
  | { t: 'task-attrs'; set: 'custom' | 'protected' | 'live-call' | 'ended-call' | 'harmless' }
  | { t: 'task-delete' }
  /** A live call ends now (`which`: the Task's/Execution's first call, or the other one). */
  | { t: 'call-ends'; which: 0 | 1 }
  /** A message arrives: the Execution moves to a widget. */
  | { t: 'reply'; widget: string }
  /** Studio ends the Execution by itself (a widget timed out, the Flow reached its end). */
  | { t: 'execution-ends' }
  | { t: 'execution-delete' }
  /** A new revision of the Flow is published; running Executions keep theirs. */
  | { t: 'publish'; timeouts: (string | undefined)[] };

export const TASK_TRANSITIONS: Readonly<Record<TaskAssignmentStatus, readonly TaskAssignmentStatus[]>> = {
  pending: ['reserved', 'canceled'],
  reserved: ['assigned', 'pending', 'canceled'],
  assigned: ['wrapping', 'completed'],
  wrapping: ['completed'],
  completed: [],
  canceled: [],
};

const TERMINAL: readonly string[] = ['completed', 'canceled', 'failed', 'busy', 'no-answer'];

export type PortOp =
  | { op: 'fetchTask' | 'fetchCall' | 'fetchExecution' | 'fetchSteps'; sid: string; atMs: number; before: ModelState; changed: boolean }
  | { op: 'fetchFlow'; sid: string; atMs: number; before: ModelState; changed: boolean; result: FlowFacts }
  | { op: 'updateTask'; sid: string; atMs: number; before: ModelState; changed: boolean; write: CloseTask; target: string; outcome: 'done' | 'gone' | 'conflict'; why?: string }
  | { op: 'endExecution'; sid: string; atMs: number; before: ModelState; changed: boolean; write: EndExecution; outcome: 'done' | 'gone' };

export const snapshot = (m: ModelState): ModelState => structuredClone(m);

/** The SIDs the scenario's changes refer to. */
export interface Cast {
  taskSid?: string;
  executionSid?: string;
  flowSid?: string;
  /** [the resource's own call, another call]. */
  calls: [string, string];
  /** Attribute values used by `task-attrs`. */
  liveCallSid: string;
  endedCallSid: string;
}

/** Applies one change (a no-op when it does not apply to the current state). Returns whether anything but the clock changed. */
export function applyChange(m: ModelState, cast: Cast, c: Change): boolean {
  const bump = (t: ModelTask) => {
    t.version++;
    t.updatedAtMs = m.now;
  };
  const task = cast.taskSid === undefined ? undefined : m.tasks[cast.taskSid];
  const ex = cast.executionSid === undefined ? undefined : m.executions[cast.executionSid];
  switch (c.t) {
    case 'tick':
      m.now += c.ms;
      return false;
    case 'task-status':
      if (!task || task.deleted || !TASK_TRANSITIONS[task.status].includes(c.to)) return false;
      task.status = c.to;
      bump(task);
      return true;
    case 'task-attrs': {
      if (!task || task.deleted) return false;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(task.attributes) as Record<string, unknown>;
        if (value === null || typeof value !== 'object' || Array.isArray(value)) value = {};
      } catch {
        value = {};
      }
      if (c.set === 'custom') value['custom_orchestration'] = true;
      else if (c.set === 'protected') value['vip'] = true;
      else if (c.set === 'live-call') value['call_sid'] = cast.liveCallSid;
      else if (c.set === 'ended-call') value['call_sid'] = cast.endedCallSid;
      else value['priority_note'] = `touched at ${m.now}`;
      task.attributes = JSON.stringify(value);
      bump(task);
      return true;
    }
    case 'task-delete':
      if (!task || task.deleted) return false;
      task.deleted = true;
      return true;
    case 'call-ends': {
      const call = m.calls[cast.calls[c.which]];
      if (!call || TERMINAL.includes(call.status)) return false;
      call.status = 'completed';
      call.endedAtMs = m.now;
      return true;
    }
    case 'reply':
      if (!ex || ex.deleted || ex.status !== 'active') return false;
      ex.steps.push({ widget: c.widget, atMs: m.now });
      ex.updatedAtMs = m.now;
      return true;
    case 'execution-ends':
      if (!ex || ex.deleted || ex.status !== 'active') return false;
      ex.status = 'ended';
      ex.updatedAtMs = m.now;
      return true;
    case 'execution-delete':
      if (!ex || ex.deleted) return false;
      ex.deleted = true;
      return true;
    case 'publish': {
      const flow = cast.flowSid === undefined ? undefined : m.flows[cast.flowSid];
      if (!flow) return false;
      const current = flow.revisions[flow.revision];
      if (!current) return false;
      let i = 0;
      const next = current.map((w) => (w.type === 'send-and-wait-for-reply' ? withTimeout(w, c.timeouts[i++ % Math.max(1, c.timeouts.length)]) : { ...w }));
      flow.revision++;
      flow.revisions[flow.revision] = next;
      return true;
    }
  }
}

const withTimeout = (w: ModelWidget, timeout: string | undefined): ModelWidget => (timeout === undefined ? { name: w.name, type: w.type } : { ...w, timeout });

// --- fresh reads of the model, as the real ports map Twilio's answers ---

export function taskFactsOf(m: ModelState, sid: string): TaskFacts {
  const t = m.tasks[sid];
  if (!t || t.deleted) return { sid, state: 'gone', attributes: { kind: 'unknown' }, source: 'fetch', readAtMs: m.now };
  return {
    sid,
    state: t.status,
    ...(t.channel === undefined ? {} : { channel: t.channel }),
    attributes: readTaskAttributes(t.attributes, 'fetch'),
    createdAtMs: t.createdAtMs,
    statusSinceMs: t.updatedAtMs,
    source: 'fetch',
    ...(m.etags ? { version: `"${t.version}"` } : {}),
    readAtMs: m.now,
  };
}

/** A Task as a list page shows it: no attributes (Twilio's spec: null outside a fetch), no ETag. */
export function listedTaskOf(m: ModelState, sid: string): TaskFacts {
  const t = m.tasks[sid]!;
  return { sid, state: t.status, ...(t.channel === undefined ? {} : { channel: t.channel }), attributes: readTaskAttributes(null, 'list'), createdAtMs: t.createdAtMs, source: 'list' };
}

export function callFactsOf(m: ModelState, sid: string): CallFacts {
  const c = m.calls[sid];
  if (!c) return { sid, status: 'gone' };
  return { sid, status: c.status, startedAtMs: c.startedAtMs, ...(TERMINAL.includes(c.status) && c.endedAtMs !== undefined ? { endedAtMs: c.endedAtMs } : {}) };
}

const triggerOf = (initiatedBy: string): ExecutionTrigger =>
  initiatedBy.startsWith('CA') ? 'call' : /^(SM|MM|IM)/.test(initiatedBy) ? 'message' : /^(CH|MB)/.test(initiatedBy) ? 'conversation' : /^(RQ|FN)/.test(initiatedBy) ? 'request' : 'unknown';

export function executionFactsOf(m: ModelState, sid: string, source: 'fetch' | 'list' = 'fetch'): ExecutionFacts {
  const e = m.executions[sid];
  if (!e || e.deleted) return { sid, state: 'gone', trigger: 'unknown', source: 'fetch', readAtMs: m.now };
  // initiated_by when the record has it, else (a fetch only) the context.
  const trigger = e.initiatedBy !== undefined ? triggerOf(e.initiatedBy) : source === 'fetch' ? e.context.trigger : 'unknown';
  const callSid = e.initiatedBy?.startsWith('CA') ? e.initiatedBy : source === 'fetch' && e.initiatedBy === undefined ? e.context.callSid : undefined;
  return {
    sid,
    state: e.status,
    trigger,
    ...(trigger === 'call' && callSid !== undefined ? { callSid } : {}),
    createdAtMs: e.createdAtMs,
    updatedAtMs: e.updatedAtMs,
    flowSid: e.flowSid,
    ...(e.flowVersion === undefined ? {} : { flowRevision: e.flowVersion }),
    source,
    ...(source === 'fetch' ? { readAtMs: m.now } : {}),
  };
}

export class NotFound extends Error {
  readonly status = 404;
}

export function stepsOf(m: ModelState, sid: string): WaitingFacts {
  const e = m.executions[sid];
  if (!e || e.deleted) throw new NotFound(`Execution ${sid} not found`);
  let newest: { widget: string; atMs: number } | undefined;
  for (const st of e.steps) if (!newest || st.atMs >= newest.atMs) newest = st;
  return newest ? { kind: 'widget', widget: newest.widget, sinceMs: newest.atMs, readAtMs: m.now } : { kind: 'no-steps', readAtMs: m.now };
}

export function flowFactsOf(m: ModelState, sid: string, revision?: number): FlowFacts {
  const f = m.flows[sid];
  if (!f) return { kind: 'unreadable', sid, detail: 'Flow not found (404)' };
  const rev = m.flowReads === 'exact' && revision !== undefined && revision in f.revisions ? revision : f.revision;
  const states = f.revisions[rev];
  const definition = states && { states: states.map((w) => ({ name: w.name, type: w.type, properties: w.timeout === undefined ? {} : { timeout: w.timeout } })) };
  return flowFactsFromDefinition(sid, rev, definition);
}

// --- the ports ---

/** Applies the scenario's next gap and remembers what the call saw. */
class Gaps {
  private i = 0;
  constructor(
    readonly m: ModelState,
    private readonly cast: Cast,
    private readonly gaps: readonly (readonly Change[])[],
    readonly trace: PortOp[],
  ) {}
  next(): { atMs: number; before: ModelState; changed: boolean } {
    let changed = false;
    for (const c of this.gaps[this.i++] ?? []) changed = applyChange(this.m, this.cast, c) || changed;
    return { atMs: this.m.now, before: snapshot(this.m), changed };
  }
}

export function modelTaskPort(m: ModelState, cast: Cast, gaps: readonly (readonly Change[])[], trace: PortOp[]): TaskPort {
  const g = new Gaps(m, cast, gaps, trace);
  return {
    async fetchTask(sid) {
      trace.push({ op: 'fetchTask', sid, ...g.next() });
      return taskFactsOf(m, sid);
    },
    async fetchCall(sid) {
      trace.push({ op: 'fetchCall', sid, ...g.next() });
      return callFactsOf(m, sid);
    },
    async updateTask(write, target) {
      const at = g.next();
      const t = m.tasks[write.sid];
      let outcome: 'done' | 'gone' | 'conflict';
      let why: string | undefined;
      if (!t || t.deleted) outcome = 'gone';
      else if (m.ifMatch && write.version !== `"${t.version}"`) [outcome, why] = ['conflict', '412'];
      else if (!(target === 'canceled' ? ['pending', 'reserved'] : ['assigned', 'wrapping']).includes(t.status)) [outcome, why] = ['conflict', 'transition'];
      else {
        t.status = target as TaskAssignmentStatus;
        t.version++;
        t.updatedAtMs = m.now;
        outcome = 'done';
      }
      trace.push({ op: 'updateTask', sid: write.sid, ...at, write, target, outcome, ...(why ? { why } : {}) });
      return outcome;
    },
  };
}

export function modelExecutionPort(m: ModelState, cast: Cast, gaps: readonly (readonly Change[])[], trace: PortOp[]): ExecutionPort {
  const g = new Gaps(m, cast, gaps, trace);
  return {
    async fetchExecution(sid) {
      trace.push({ op: 'fetchExecution', sid, ...g.next() });
      return executionFactsOf(m, sid);
    },
    async fetchCall(sid) {
      trace.push({ op: 'fetchCall', sid, ...g.next() });
      return callFactsOf(m, sid);
    },
    async fetchSteps(sid) {
      trace.push({ op: 'fetchSteps', sid, ...g.next() });
      return stepsOf(m, sid);
    },
    async fetchFlow(sid, revision) {
      const at = g.next();
      const result = flowFactsOf(m, sid, revision);
      trace.push({ op: 'fetchFlow', sid, ...at, result });
      return result;
    },
    async endExecution(write) {
      const at = g.next();
      const e = m.executions[write.sid];
      let outcome: 'done' | 'gone';
      if (!e || e.deleted || e.status !== 'active') outcome = 'gone';
      else {
        e.status = 'ended';
        e.updatedAtMs = m.now;
        outcome = 'done';
      }
      trace.push({ op: 'endExecution', sid: write.sid, ...at, write, outcome });
      return outcome;
    },
  };
}

// --- the policy's answer on the true state ---

type TaskDecide = (task: TaskFacts, call: CallFacts | undefined) => TaskAction;
type ExecutionDecide = (execution: ExecutionFacts, call: CallFacts | undefined, flow: FlowFacts | undefined) => ExecutionAction;

/** What the policy answers on fresh reads of everything it asks for, all made at `m.now` (no gaps). */
export function truthForTask(m: ModelState, sid: string, decide: TaskDecide): TaskAction {
  let task = taskFactsOf(m, sid);
  let call: CallFacts | undefined;
  for (let i = 0; i < 8; i++) {
    const a = decide(task, call);
    if (a.kind !== 'read') return a;
    if (a.what === 'task') task = taskFactsOf(m, sid);
    else call = callFactsOf(m, a.sid);
  }
  throw new Error(`no answer on fresh facts for Task ${sid}: the policy keeps asking to read`);
}

/**
 * The same for an Execution: fresh Execution, Steps and call; the Flow as `m.flowReads` answers, or as `readFlow`
 * says (e.g. the definition the writer actually read).
 */
export function truthForExecution(m: ModelState, sid: string, decide: ExecutionDecide, readFlow = (flowSid: string, revision?: number) => flowFactsOf(m, flowSid, revision)): ExecutionAction {
  const fresh = (): ExecutionFacts => {
    const ex = executionFactsOf(m, sid);
    return ex.state === 'gone' ? ex : { ...ex, waiting: stepsOf(m, sid) };
  };
  let ex = fresh();
  let call: CallFacts | undefined;
  let flow: FlowFacts | undefined;
  for (let i = 0; i < 8; i++) {
    const a = decide(ex, call, flow);
    if (a.kind !== 'read') return a;
    if (a.what === 'execution' || a.what === 'steps') ex = fresh();
    else if (a.what === 'call') call = callFactsOf(m, a.sid);
    else if (a.what === 'flow') flow = readFlow(a.sid, a.revision);
    else throw new Error(`an Execution decision asked to read ${a.what}`);
  }
  throw new Error(`no answer on fresh facts for Execution ${sid}: the policy keeps asking to read`);
}
