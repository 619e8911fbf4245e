/**
 * The callWatch rule: given what is known about one call, its Studio Execution and its TaskRouter Task, what to do
 * now and when to look again. A live call, a call we cannot see, or a call that ended less than `graceMs` ago
 * never leads to a write; past that, the Task and the Execution are judged by the same rules as every other writer
 * uses (`decideTask`, `decideExecution`), bound to this call.
 */
import { decideExecution } from './execution';
import { isCallLive, isCallTerminal, MIN_RECHECK_MS } from './facts';
import { decideTask } from './task';
import type { CallDecision, CallDecisionInput, ExecutionAction, ExecutionFacts, NoAction, Skip, TaskAction, TaskFacts } from './types';

const NO_EXECUTION: NoAction = { kind: 'none', reason: 'no execution known' };
const NO_TASK: NoAction = { kind: 'none', reason: 'no task known' };
const GRACE: NoAction = { kind: 'none', reason: 'grace period' };

/** The answer for an Execution/Task that is absent or already closed (nothing to do whatever the call), else undefined. */
function settledExecution(execution: ExecutionFacts | undefined): ExecutionAction | undefined {
  if (!execution) return NO_EXECUTION;
  if (execution.state === 'ended' || execution.state === 'gone') return { kind: 'none', reason: `execution already ${execution.state}` };
  return undefined;
}

function settledTask(task: TaskFacts | undefined): TaskAction | undefined {
  if (!task) return NO_TASK;
  if (task.state === 'completed' || task.state === 'canceled' || task.state === 'gone') return { kind: 'none', reason: `task already ${task.state}` };
  return undefined;
}

/** The callWatch decision. See the module comment; `nextCheckAtMs` is the earliest time the answer could change. */
export function decideCall(input: CallDecisionInput): CallDecision {
  const { nowMs, call, execution, task, settings: s } = input;

  if (isCallLive(call.status)) {
    const detail = `call ${call.status}`;
    const known = call.startedAtMs !== undefined;
    const maxAgeAt = (call.startedAtMs ?? nowMs) + s.maxAgeMs;
    const flagLongLive = known && nowMs >= maxAgeAt;
    // Before max age: look again when it is reached. At/after it (or start unknown): one more max age from now.
    const nextCheckAtMs = known && !flagLongLive ? maxAgeAt : nowMs + Math.max(s.maxAgeMs, MIN_RECHECK_MS);
    const live: Skip = { kind: 'skip', reason: 'call-live', detail };
    return {
      execution: settledExecution(execution) ?? live,
      task: settledTask(task) ?? live,
      nextCheckAtMs,
      waitReason: 'call-live',
      flagLongLive,
    };
  }

  if (!isCallTerminal(call.status)) {
    // `unknown` (not read / read failed) or `gone` (404): we cannot prove the call is over.
    const unknown: Skip = { kind: 'skip', reason: 'call-unknown', detail: call.status === 'gone' ? 'call not found (404)' : 'call status unknown' };
    return {
      execution: settledExecution(execution) ?? unknown,
      task: settledTask(task) ?? unknown,
      nextCheckAtMs: nowMs + Math.max(s.graceMs, MIN_RECHECK_MS),
      waitReason: 'call-unknown',
      flagLongLive: false,
    };
  }

  // The caller records when it first saw the terminal status; without that, "now" is the end and the grace restarts.
  const ended = { ...call, endedAtMs: call.endedAtMs ?? nowMs };
  const graceEnd = ended.endedAtMs + s.graceMs;
  if (nowMs < graceEnd) {
    return {
      execution: settledExecution(execution) ?? GRACE,
      task: settledTask(task) ?? GRACE,
      nextCheckAtMs: graceEnd,
      waitReason: 'grace',
      flagLongLive: false,
    };
  }

  const bound = { nowMs, settings: s, call: ended, watchedCallSid: call.sid };
  const taskAction = settledTask(task) ?? decideTask({ ...bound, task: task! });
  const executionAction = settledExecution(execution) ?? decideExecution({ ...bound, execution: execution! });
  const recheck = [taskAction, executionAction]
    .map((a) => (a.kind === 'skip' ? a.recheckAtMs : undefined))
    .filter((t): t is number => t !== undefined);
  const decision: CallDecision = { execution: executionAction, task: taskAction, flagLongLive: false };
  if (recheck.length > 0) {
    decision.nextCheckAtMs = Math.max(Math.min(...recheck), nowMs + MIN_RECHECK_MS);
    decision.waitReason = taskAction.kind === 'skip' && taskAction.recheckAtMs !== undefined ? 'wrap-limit' : 'widget-timeout';
  }
  return decision;
}
