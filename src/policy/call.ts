/**
 * The callWatch rule: given what is known about one call, its Studio Execution and its TaskRouter Task,
 * what to do now and when to look again. A live call, a call we cannot see, or a call that ended less
 * than `graceMs` ago never leads to a write.
 */
import { parseTaskAttributes } from './attributes';
import { hintContradictsVoice, VOICE_CHANNEL } from './channels';
import { formatDuration, isCallLive, isCallTerminal, isTaskClosed, MIN_RECHECK_MS } from './facts';
import type {
  CallDecision,
  CallDecisionInput,
  CallFacts,
  ExecutionAction,
  ExecutionFacts,
  PolicySettings,
  TaskAction,
  TaskFacts,
} from './types';

const NO_EXECUTION: ExecutionAction = { kind: 'none', reason: 'no execution known' };
const NO_TASK: TaskAction = { kind: 'none', reason: 'no task known' };

const GRACE: { kind: 'none'; reason: string } = { kind: 'none', reason: 'grace period' };

/** The answer for an Execution/Task that is absent or already closed (nothing to do whatever the call), else undefined. */
function settledExecution(execution: ExecutionFacts | undefined): ExecutionAction | undefined {
  if (!execution) return NO_EXECUTION;
  if (execution.state === 'ended' || execution.state === 'gone') return { kind: 'none', reason: `execution already ${execution.state}` };
  return undefined;
}

function settledTask(task: TaskFacts | undefined): TaskAction | undefined {
  if (!task) return NO_TASK;
  if (isTaskClosed(task.state)) return { kind: 'none', reason: `task already ${task.state}` };
  return undefined;
}

function decideExecution(execution: ExecutionFacts | undefined, call: CallFacts, end: number, nowMs: number, s: PolicySettings): ExecutionAction {
  const settled = settledExecution(execution);
  if (settled || !execution) return settled ?? NO_EXECUTION;
  if (execution.state === 'unknown') return { kind: 'none', reason: 'execution state unknown' };
  // callWatch links an Execution to its call by the Execution's context; `unknown` only means
  // initiated_by was unreadable. A messaging or REST-triggered Execution tied to a call is suspicious.
  if (execution.trigger !== 'call' && execution.trigger !== 'unknown') {
    return { kind: 'skip', reason: 'execution-trigger-unknown', detail: `execution triggered by ${execution.trigger}, not by the call` };
  }
  const ago = call.endedAtMs === undefined ? 'at an unknown time' : `${formatDuration(nowMs - end)} ago`;
  return {
    kind: 'end-execution',
    sid: execution.sid,
    reason: `call ${call.status} ${ago}; execution still active after the ${formatDuration(s.graceMs)} grace period`,
  };
}

interface TaskDecision {
  action: TaskAction;
  /** When this Task's answer could change by itself (the wrap limit), if ever. */
  recheckAtMs?: number;
}

function decideTask(task: TaskFacts | undefined, call: CallFacts, end: number, nowMs: number, s: PolicySettings): TaskDecision {
  const settled = settledTask(task);
  if (settled || !task) return { action: settled ?? NO_TASK };
  if (task.state === 'unknown') return { action: { kind: 'none', reason: 'task state unknown' } };

  let hint: string | undefined;
  if (task.attributes !== undefined) {
    const attrs = parseTaskAttributes(task.attributes);
    if (!attrs.ok) return { action: { kind: 'skip', reason: 'attributes-unparsable', detail: attrs.detail } };
    if (attrs.customOrchestration) return { action: { kind: 'skip', reason: 'custom-orchestration', detail: 'custom orchestration marker in attributes' } };
    if (call.sid !== undefined && attrs.callSid !== undefined && attrs.callSid !== call.sid) {
      return { action: { kind: 'skip', reason: 'call-sid-mismatch', detail: `task call_sid ${attrs.callSid} is not call ${call.sid}` } };
    }
    hint = attrs.channelHint;
  }
  if (task.channel !== undefined && task.channel !== VOICE_CHANNEL) {
    return { action: { kind: 'skip', reason: 'not-voice', detail: `task channel ${task.channel}` } };
  }
  if (hintContradictsVoice(hint)) return { action: { kind: 'skip', reason: 'not-voice', detail: `attributes say channelType ${hint}` } };

  switch (task.state) {
    case 'pending':
    case 'reserved':
      return { action: { kind: 'cancel-task', sid: task.sid, reason: s.taskReason, expectStatus: task.state } };
    case 'assigned':
      return { action: { kind: 'complete-task', sid: task.sid, reason: s.taskReason, expectStatus: 'assigned' } };
    case 'wrapping': {
      if (s.wrapLimitMs === undefined) {
        return { action: { kind: 'skip', reason: 'wrapping-left-to-agent', detail: 'no wrap limit configured' } };
      }
      const limitAt = end + s.wrapLimitMs;
      if (nowMs >= limitAt) return { action: { kind: 'complete-task', sid: task.sid, reason: s.taskReason, expectStatus: 'wrapping' } };
      return {
        action: { kind: 'skip', reason: 'wrapping-left-to-agent', detail: `wrap limit ${formatDuration(s.wrapLimitMs)} not reached` },
        recheckAtMs: limitAt,
      };
    }
    default: // completed/canceled/gone were settled above
      return { action: { kind: 'none', reason: `task ${task.state}` } };
  }
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
    return {
      execution: settledExecution(execution) ?? { kind: 'skip', reason: 'call-live', detail },
      task: settledTask(task) ?? { kind: 'skip', reason: 'call-live', detail },
      nextCheckAtMs,
      waitReason: 'call-live',
      flagLongLive,
    };
  }

  if (!isCallTerminal(call.status)) {
    // `unknown` (not read / read failed) or `gone` (404): we cannot prove the call is over.
    const detail = call.status === 'gone' ? 'call not found (404)' : 'call status unknown';
    return {
      execution: settledExecution(execution) ?? { kind: 'skip', reason: 'call-unknown', detail },
      task: settledTask(task) ?? { kind: 'skip', reason: 'call-unknown', detail },
      nextCheckAtMs: nowMs + Math.max(s.graceMs, MIN_RECHECK_MS),
      waitReason: 'call-unknown',
      flagLongLive: false,
    };
  }

  // The caller records when it first saw the terminal status; without that, "now" is the end and the grace restarts.
  const end = call.endedAtMs ?? nowMs;
  const graceEnd = end + s.graceMs;
  if (nowMs < graceEnd) {
    return {
      execution: settledExecution(execution) ?? GRACE,
      task: settledTask(task) ?? GRACE,
      nextCheckAtMs: graceEnd,
      waitReason: 'grace',
      flagLongLive: false,
    };
  }

  const t = decideTask(task, call, end, nowMs, s);
  return {
    execution: decideExecution(execution, call, end, nowMs, s),
    task: t.action,
    ...(t.recheckAtMs !== undefined ? { nextCheckAtMs: t.recheckAtMs, waitReason: 'wrap-limit' as const } : {}),
    flagLongLive: false,
  };
}
