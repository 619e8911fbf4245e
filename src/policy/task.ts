/**
 * The one rule for a TaskRouter Task, for every writer (callWatch, the sweep, anything later).
 *
 * Open voice Tasks whose call is over are closed, as Twilio's published cleaner does (`assigned` → completed,
 * `pending`/`reserved` → canceled), except: a Task that is not certainly the call's live Task, or that someone
 * else orchestrates, protects or is still working on, is never written. A write is only ever decided on a fresh
 * fetch of the Task, and carries that fetch's ETag; on anything less the answer is "read first".
 */
import type { TaskAssignmentStatus } from '../shared/constants';
import { classifyChannel, hintContradictsVoice } from './channels';
import { protectionFromSource, isProtected } from './expression';
import { formatDuration, isCallLive, isCallTerminal, isTaskClosed, MAX_READ_AGE_MS } from './facts';
import type { CallFacts, Skip, TaskAction, TaskDecisionInput, TaskFacts } from './types';

const skip = (reason: Skip['reason'], detail: string, recheckAtMs?: number): Skip =>
  recheckAtMs === undefined ? { kind: 'skip', reason, detail } : { kind: 'skip', reason, detail, recheckAtMs };

/** Whether these facts are a fetch recent enough to write on. */
export function isFreshTask(task: TaskFacts, nowMs: number, maxReadAgeMs = MAX_READ_AGE_MS): boolean {
  return task.source === 'fetch' && task.readAtMs !== undefined && nowMs - task.readAtMs <= maxReadAgeMs;
}

/** Why this call does not (yet) let us close what it left behind, or undefined when it is over and past the grace. */
export function callBlocks(call: CallFacts, nowMs: number, graceMs: number): Skip | undefined {
  if (isCallLive(call.status)) return skip('call-live', `call ${call.status}`);
  if (!isCallTerminal(call.status)) return skip('call-unknown', call.status === 'gone' ? 'call not found (404)' : 'call status unknown');
  if (call.endedAtMs === undefined) return skip('grace-period', 'when the call ended is unknown');
  const graceEnd = call.endedAtMs + graceMs;
  if (nowMs < graceEnd) return skip('grace-period', `call ended ${formatDuration(nowMs - call.endedAtMs)} ago`, graceEnd);
  return undefined;
}

/** The decision for one Task. See the module comment. */
export function decideTask(input: TaskDecisionInput): TaskAction {
  const { nowMs, task, call, settings: s } = input;
  if (isTaskClosed(task.state)) return { kind: 'none', reason: `task already ${task.state}` };
  const readTask = (reason: string): TaskAction => ({ kind: 'read', what: 'task', sid: task.sid, reason });
  if (task.state === 'unknown') return readTask('task status unknown');

  const attrs = task.attributes;
  if (attrs.kind === 'unknown') return readTask('attributes not read');
  if (attrs.kind === 'unparsable') return skip('attributes-unparsable', attrs.detail);
  if (attrs.customOrchestration) return skip('custom-orchestration', 'custom orchestration marker in attributes');
  if (s.protectTasks !== undefined && isProtected(protectionFromSource(s.protectTasks), attrs.value)) {
    return skip('protected', `matches UNSTICK_PROTECT_TASKS (${s.protectTasks})`);
  }
  switch (classifyChannel(task.channel, input.channels)) {
    case 'not-voice':
      return skip('not-voice', `task channel ${task.channel}`);
    case 'unknown':
      return skip('unknown-channel', task.channel ? `task channel ${task.channel}` : 'task has no channel');
    case 'voice':
      break;
  }
  if (hintContradictsVoice(attrs.channelHint)) return skip('not-voice', `voice task but attributes say channelType ${attrs.channelHint}`);
  const callSid = attrs.callSid;
  if (callSid === undefined) return skip('no-call-sid', attrs.callSidProblem ?? 'attributes have no call_sid');
  if (input.watchedCallSid !== undefined && callSid !== input.watchedCallSid) {
    return skip('call-sid-mismatch', `task call_sid ${callSid} is not call ${input.watchedCallSid}`);
  }
  if (input.ownedByCallWatch) return skip('owned-by-callwatch', `call ${callSid} has a running callWatch`);

  if (!call || call.sid !== callSid) {
    return { kind: 'read', what: 'call', sid: callSid, reason: call ? `task now names call ${callSid}` : 'call not read' };
  }
  const blocked = callBlocks(call, nowMs, s.graceMs);
  if (blocked) return blocked;
  const end = call.endedAtMs!;
  if (task.createdAtMs === undefined) {
    if (task.source !== 'fetch') return readTask('creation time unknown');
    return skip('post-call-task', 'when the task was created is unknown');
  }
  if (task.createdAtMs > end + s.postCallTaskAfterMs) {
    return skip('post-call-task', `task created ${formatDuration(task.createdAtMs - end)} after the call ended`);
  }

  let close: { kind: 'cancel-task' | 'complete-task'; expectStatus: TaskAssignmentStatus } | undefined;
  switch (task.state) {
    case 'pending':
    case 'reserved':
      close = { kind: 'cancel-task', expectStatus: task.state };
      break;
    case 'assigned':
      close = { kind: 'complete-task', expectStatus: 'assigned' };
      break;
    case 'wrapping': {
      if (s.wrapLimitMs === undefined) return skip('wrapping-left-to-agent', 'no wrap limit configured');
      const limitAt = end + s.wrapLimitMs;
      if (nowMs < limitAt) return skip('wrapping-left-to-agent', `wrap limit ${formatDuration(s.wrapLimitMs)} not reached`, limitAt);
      close = { kind: 'complete-task', expectStatus: 'wrapping' };
      break;
    }
  }
  if (!close) return { kind: 'none', reason: `task ${task.state}` };
  // Everything above may be judged on a list item; a write only on a fresh fetch, with its version.
  if (!isFreshTask(task, nowMs, s.maxReadAgeMs)) return readTask(task.source === 'fetch' ? 'last read too old to write on' : 'decided on a list item');
  if (task.version === undefined) return skip('task-version-unknown', 'the fetch carried no ETag, so the write could not carry If-Match');
  return { kind: close.kind, sid: task.sid, reason: s.taskReason, expectStatus: close.expectStatus, version: task.version };
}

/** The Call SID a Task's attributes name, when they were read and carry a well-formed one. */
export const taskCallSid = (task: TaskFacts): string | undefined => (task.attributes.kind === 'parsed' ? task.attributes.callSid : undefined);
