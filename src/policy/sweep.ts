/**
 * The sweep's rules, one resource at a time.
 *
 * Tasks follow the seed cleaner (Twilio's published script): open voice Tasks whose `call_sid` names a
 * call in a terminal state are closed (`assigned` → completed, `pending`/`reserved` → canceled).
 * Differences, all on the side of leaving things alone except the first:
 * - `canceled` counts as a terminal call state (Twilio lists it as terminal; the script's list omits it);
 * - custom orchestration markers, a malformed `call_sid`, or a channel hint in the attributes that
 *   contradicts `voice` → skip;
 * - a call that ended less than `graceMs` ago (end time known) → skip `grace-period`.
 */
import { parseTaskAttributes } from './attributes';
import { classifyChannel, hintContradictsVoice } from './channels';
import { formatDuration, isCallLive, isCallTerminal, isTaskOpen } from './facts';
import type { CallFacts, ExecutionAction, ExecutionFacts, PolicySettings, SweepExecutionInput, SweepTaskInput, TaskAction, TaskFacts } from './types';

type Precheck = { final: TaskAction } | { callSid: string };

function precheckTask(task: TaskFacts, channels: readonly string[] = []): Precheck {
  if (!isTaskOpen(task.state)) return { final: { kind: 'none', reason: `task not open (${task.state})` } };
  const attrs = parseTaskAttributes(task.attributes);
  if (!attrs.ok) return { final: { kind: 'skip', reason: 'attributes-unparsable', detail: attrs.detail } };
  if (attrs.customOrchestration) return { final: { kind: 'skip', reason: 'custom-orchestration', detail: 'custom orchestration marker in attributes' } };
  switch (classifyChannel(task.channel, channels)) {
    case 'not-voice':
      return { final: { kind: 'skip', reason: 'not-voice', detail: `task channel ${task.channel}` } };
    case 'unknown':
      return { final: { kind: 'skip', reason: 'unknown-channel', detail: task.channel ? `task channel ${task.channel}` : 'task has no channel' } };
    case 'voice':
      break;
  }
  if (hintContradictsVoice(attrs.channelHint)) {
    return { final: { kind: 'skip', reason: 'not-voice', detail: `voice task but attributes say channelType ${attrs.channelHint}` } };
  }
  if (attrs.callSid === undefined) return { final: { kind: 'skip', reason: 'no-call-sid', detail: attrs.callSidProblem ?? 'attributes have no call_sid' } };
  return { callSid: attrs.callSid };
}

/** The Call SID the sweep must fetch to judge this Task, or undefined when the Task is decided without it. */
export function taskNeedsCall(task: TaskFacts): string | undefined {
  const pre = precheckTask(task);
  return 'callSid' in pre ? pre.callSid : undefined;
}

/** Skip reasons for a call we may not act on yet, or undefined when the call is over (past the grace if its end is known). */
function callBlocks(call: CallFacts | undefined, expectedSid: string | undefined, nowMs: number, s: PolicySettings) {
  if (!call) return { kind: 'skip', reason: 'call-unknown', detail: 'call not fetched' } as const;
  if (expectedSid !== undefined && call.sid !== undefined && call.sid !== expectedSid) {
    return { kind: 'skip', reason: 'call-sid-mismatch', detail: `fetched call ${call.sid}, expected ${expectedSid}` } as const;
  }
  if (isCallLive(call.status)) return { kind: 'skip', reason: 'call-live', detail: `call ${call.status}` } as const;
  if (!isCallTerminal(call.status)) {
    return { kind: 'skip', reason: 'call-unknown', detail: call.status === 'gone' ? 'call not found (404)' : 'call status unknown' } as const;
  }
  // Unknown end time: the seed cleaner's rule (no grace). The fetch should supply end_time or date_updated.
  if (call.endedAtMs !== undefined && nowMs < call.endedAtMs + s.graceMs) {
    return { kind: 'skip', reason: 'grace-period', detail: `call ended ${formatDuration(nowMs - call.endedAtMs)} ago` } as const;
  }
  return undefined;
}

/** The sweep's answer for one Task (given the Call named by its `call_sid`, when fetched). */
export function decideSweepTask(input: SweepTaskInput): TaskAction {
  const { nowMs, task, call, settings: s, channels } = input;
  const pre = precheckTask(task, channels);
  if ('final' in pre) return pre.final;
  const blocked = callBlocks(call, pre.callSid, nowMs, s);
  if (blocked) return blocked;
  if (task.state === 'assigned') return { kind: 'complete-task', sid: task.sid, reason: s.taskReason, expectStatus: 'assigned' };
  // precheckTask only lets open states through: pending or reserved here.
  return { kind: 'cancel-task', sid: task.sid, reason: s.taskReason, expectStatus: task.state as 'pending' | 'reserved' };
}

/** Whether the sweep needs the Execution's Call to judge it (an active, call-triggered Execution). */
export const executionNeedsCall = (execution: ExecutionFacts): boolean => execution.state === 'active' && execution.trigger === 'call';

/** The sweep's answer for one Execution (given its Call, for voice ones). */
export function decideSweepExecution(input: SweepExecutionInput): ExecutionAction {
  const { nowMs, execution, call, settings: s } = input;
  if (execution.state !== 'active') return { kind: 'none', reason: `execution not active (${execution.state})` };
  switch (execution.trigger) {
    case 'call': {
      const blocked = callBlocks(call, undefined, nowMs, s);
      if (blocked) return blocked;
      return { kind: 'end-execution', sid: execution.sid, reason: `call ${call?.status}; execution still active after the call ended` };
    }
    case 'message':
    case 'conversation': {
      const last = execution.lastStepAtMs ?? execution.createdAtMs;
      if (last === undefined) return { kind: 'skip', reason: 'messaging-not-idle', detail: 'no activity time known' };
      const idle = nowMs - last;
      if (idle < s.messagingIdleMs) {
        return { kind: 'skip', reason: 'messaging-not-idle', detail: `idle ${formatDuration(idle)} of ${formatDuration(s.messagingIdleMs)}` };
      }
      return { kind: 'end-execution', sid: execution.sid, reason: `${execution.trigger} execution idle for ${formatDuration(idle)}` };
    }
    case 'request':
    case 'unknown':
      return { kind: 'skip', reason: 'execution-trigger-unknown', detail: `execution triggered by ${execution.trigger}` };
  }
}
