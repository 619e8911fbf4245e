/**
 * The only way unstick writes to Twilio: read, let the policy judge, write with the version read.
 *
 * A writer hands in what it knows (a list item, a link from a signal) and the policy call that judges it. The policy
 * answers "read X first" until the facts it needs are fresh fetches; only then can it answer with a write, which
 * carries the fetched Task's ETag as If-Match. A 412 or a refused transition means the Task changed between our read
 * and our write: read again and decide again, a bounded number of times. Twilio is reached only through a port, so
 * the same loop serves callWatch, the sweep and the property tests.
 */
import type {
  CallFacts,
  CloseTask,
  EndExecution,
  ExecutionAction,
  ExecutionFacts,
  FlowFacts,
  ReadFirst,
  TaskAction,
  TaskFacts,
  WaitingFacts,
} from '../policy/types';
import type { WriteResult } from '../policy/outcome';
import { recordGuardedWrite } from './metrics';
import { isTransient } from './twilioRetry';

export interface TaskPort {
  /** A fresh fetch (`source: 'fetch'`, `version` = its ETag, `readAtMs`); 404 → `state: 'gone'`. */
  fetchTask(sid: string): Promise<TaskFacts>;
  fetchCall(sid: string): Promise<CallFacts>;
  /** `conflict`: 412 (If-Match) or a refused transition; `gone`: 404. */
  updateTask(write: CloseTask, target: 'canceled' | 'completed'): Promise<'done' | 'gone' | 'conflict'>;
}

export interface ExecutionPort {
  /** A fresh fetch, its trigger and call known (from initiated_by, else its context); 404 → `state: 'gone'`. */
  fetchExecution(sid: string): Promise<ExecutionFacts>;
  fetchCall(sid: string): Promise<CallFacts>;
  /** Where it waits: its newest Step. */
  fetchSteps(sid: string): Promise<WaitingFacts>;
  fetchFlow(flowSid: string, revision?: number): Promise<FlowFacts>;
  /** `gone`: 404. */
  endExecution(write: EndExecution): Promise<'done' | 'gone'>;
}

/** `none`: nothing to do on the facts handed in; `already-closed`: a read (or the write) found it closed. */
export type GuardedResult = WriteResult | 'none';
/** An Execution's end carries no version, so nothing refuses it as `changed`. */
export type GuardedExecutionResult = Exclude<GuardedResult, 'changed'>;

export interface Guarded<F, A, R extends GuardedResult = GuardedResult> {
  result: R;
  /** The policy's last answer (for `done`/`dry-run`/`capped`: the write). */
  action: A;
  /** The facts that answer was given on. */
  facts: F;
  call?: CallFacts;
  /** Writes refused because the resource changed under us. */
  conflicts: number;
}

interface GuardOptions {
  dryRun: boolean;
  /** Asked right before a write (or a dry-run record): false = the maxActions budget is spent. */
  reserve?: () => boolean;
  /** Re-decisions after a refused write. Default 3. */
  maxConflicts?: number;
}

export interface GuardedTaskInput extends GuardOptions {
  task: TaskFacts;
  call?: CallFacts;
  decide: (task: TaskFacts, call: CallFacts | undefined) => TaskAction;
}

export interface GuardedExecutionInput extends GuardOptions {
  execution: ExecutionFacts;
  call?: CallFacts;
  flow?: FlowFacts;
  decide: (execution: ExecutionFacts, call: CallFacts | undefined, flow: FlowFacts | undefined) => ExecutionAction;
}

const MAX_CONFLICTS = 3;
/** Reads the policy may ask for in one guarded write (each fact at most twice, plus re-reads after conflicts). */
const MAX_STEPS = 12;

function recorded<G extends Guarded<unknown, { kind: string; reason?: string }, GuardedResult>>(g: G): G {
  recordGuardedWrite(g.action.kind, g.result, g.action.kind === 'skip' ? g.action.reason : undefined);
  return g;
}

/**
 * A write whose answer was lost (5xx, timeout, dropped connection) may have been applied: `unknown`, never retried
 * as it was. Other failures (401, 400, …) are thrown.
 */
async function answerOf<T>(write: () => Promise<T>): Promise<T | 'unknown'> {
  try {
    return await write();
  } catch (err) {
    if (isTransient(err)) return 'unknown';
    throw err;
  }
}

const isClosedTask = (t: TaskFacts) => t.state === 'completed' || t.state === 'canceled' || t.state === 'gone';
const changedUnderUs = (detail: string) => ({ kind: 'skip', reason: 'changed-under-us', detail }) as const;

function settle<F, A extends { kind: string }>(action: A, facts: F, call: CallFacts | undefined, conflicts: number, closedNow: boolean, wasOpen: boolean): Guarded<F, A> {
  if (conflicts > 0 && action.kind !== 'none') return { result: 'changed', action, facts, call, conflicts };
  return settleUnversioned(action, facts, call, conflicts, closedNow, wasOpen);
}

function settleUnversioned<F, A extends { kind: string }>(action: A, facts: F, call: CallFacts | undefined, conflicts: number, closedNow: boolean, wasOpen: boolean): Guarded<F, A, GuardedExecutionResult> {
  if (action.kind === 'none') return { result: closedNow && (wasOpen || conflicts > 0) ? 'already-closed' : 'none', action, facts, call, conflicts };
  return { result: 'skipped', action, facts, call, conflicts };
}

/** Closes a Task only if the policy approves it on a fresh fetch, with If-Match; see the module comment. */
export async function guardedTaskWrite(port: TaskPort, input: GuardedTaskInput): Promise<Guarded<TaskFacts, TaskAction>> {
  return recorded(await decideAndWriteTask(port, input));
}

async function decideAndWriteTask(port: TaskPort, input: GuardedTaskInput): Promise<Guarded<TaskFacts, TaskAction>> {
  let task = input.task;
  let call = input.call;
  const wasOpen = !isClosedTask(task);
  let conflicts = 0;
  const maxConflicts = input.maxConflicts ?? MAX_CONFLICTS;
  for (let step = 0; step < MAX_STEPS; step++) {
    const action = input.decide(task, call);
    if (action.kind === 'read') {
      if (action.what === 'task') task = await port.fetchTask(task.sid);
      else if (action.what === 'call') call = await port.fetchCall(action.sid);
      else throw new Error(`a Task decision asked to read ${action.what}`);
      continue;
    }
    if (action.kind !== 'cancel-task' && action.kind !== 'complete-task') return settle(action, task, call, conflicts, isClosedTask(task), wasOpen);
    if (input.reserve && !input.reserve()) return { result: 'capped', action, facts: task, call, conflicts };
    if (input.dryRun) return { result: 'dry-run', action, facts: task, call, conflicts };
    const outcome = await answerOf(() => port.updateTask(action, action.kind === 'cancel-task' ? 'canceled' : 'completed'));
    if (outcome === 'unknown') {
      // Perhaps applied: never resend on old facts. A fresh read says whether it is closed now.
      if (++conflicts > maxConflicts) return { result: 'changed', action: changedUnderUs(`no answer to the write ${conflicts} times`), facts: task, call, conflicts };
      task = await port.fetchTask(task.sid);
      continue;
    }
    if (outcome === 'done') return { result: 'done', action, facts: task, call, conflicts };
    if (outcome === 'gone') return { result: 'already-closed', action, facts: { ...task, state: 'gone' }, call, conflicts };
    if (++conflicts > maxConflicts) {
      return { result: 'changed', action: changedUnderUs(`refused ${conflicts} times (If-Match or transition)`), facts: task, call, conflicts };
    }
    task = await port.fetchTask(task.sid);
  }
  return { result: conflicts > 0 ? 'changed' : 'skipped', action: changedUnderUs('the facts kept changing while they were read'), facts: task, call, conflicts };
}

/** Ends an Execution only if the policy approves it on a fresh fetch (and, for messaging, fresh Steps). */
export async function guardedExecutionWrite(port: ExecutionPort, input: GuardedExecutionInput): Promise<Guarded<ExecutionFacts, ExecutionAction, GuardedExecutionResult>> {
  return recorded(await decideAndWriteExecution(port, input));
}

async function decideAndWriteExecution(port: ExecutionPort, input: GuardedExecutionInput): Promise<Guarded<ExecutionFacts, ExecutionAction, GuardedExecutionResult>> {
  let ex = input.execution;
  let call = input.call;
  let flow = input.flow;
  const wasOpen = ex.state !== 'ended' && ex.state !== 'gone';
  let lostAnswers = 0;
  for (let step = 0; step < MAX_STEPS; step++) {
    const action = input.decide(ex, call, flow);
    if (action.kind === 'read') {
      ({ ex, call, flow } = await readFor(port, action, ex, call, flow));
      continue;
    }
    if (action.kind !== 'end-execution') return settleUnversioned(action, ex, call, 0, ex.state === 'ended' || ex.state === 'gone', wasOpen);
    if (input.reserve && !input.reserve()) return { result: 'capped', action, facts: ex, call, conflicts: 0 };
    if (input.dryRun) return { result: 'dry-run', action, facts: ex, call, conflicts: 0 };
    const outcome = await answerOf(() => port.endExecution(action));
    if (outcome === 'unknown') {
      // Studio has no If-Match: a resend after a lost answer would be a second write. Read, then decide again.
      if (++lostAnswers > MAX_CONFLICTS) return { result: 'skipped', action: changedUnderUs(`no answer to the end ${lostAnswers} times`), facts: ex, call, conflicts: 0 };
      ({ ex, call, flow } = await readFor(port, { kind: 'read', what: 'execution', sid: ex.sid, reason: 'the end got no answer' }, ex, call, flow));
      continue;
    }
    return { result: outcome === 'done' ? 'done' : 'already-closed', action, facts: outcome === 'done' ? ex : { ...ex, state: 'gone' }, call, conflicts: 0 };
  }
  return { result: 'skipped', action: changedUnderUs('the facts kept changing while they were read'), facts: ex, call, conflicts: 0 };
}

async function readFor(port: ExecutionPort, action: ReadFirst, ex: ExecutionFacts, call: CallFacts | undefined, flow: FlowFacts | undefined) {
  switch (action.what) {
    case 'execution':
      // Steps read earlier stay valid for their own age; the policy checks it.
      return { ex: { ...(await port.fetchExecution(ex.sid)), ...(ex.waiting ? { waiting: ex.waiting } : {}) }, call, flow };
    case 'steps':
      return { ex: { ...ex, waiting: await port.fetchSteps(ex.sid) }, call, flow };
    case 'call':
      return { ex, call: await port.fetchCall(action.sid), flow };
    case 'flow':
      return { ex, call, flow: await port.fetchFlow(action.sid, action.revision) };
    case 'task':
      throw new Error('an Execution decision asked to read a Task');
  }
}
