/** Turning twilio SDK instances into the policy's facts. Shared by callWatch and sweep activities. */
import { isCallStatus, isTerminalCallStatus, type TaskAssignmentStatus } from '../shared/constants';
import { readTaskAttributes } from '../policy/attributes';
import type { CallFacts, ExecutionFacts, ExecutionTrigger, TaskFacts } from '../policy/types';

function triggerOf(initiatedBy: string | null | undefined): ExecutionTrigger {
  if (!initiatedBy) return 'unknown';
  if (initiatedBy.startsWith('CA')) return 'call';
  if (/^(SM|MM|IM)/.test(initiatedBy)) return 'message';
  if (/^(CH|MB)/.test(initiatedBy)) return 'conversation';
  if (initiatedBy.startsWith('RQ') || initiatedBy.startsWith('FN')) return 'request';
  return 'unknown';
}

export const msOf = (d: Date | string | null | undefined): number | undefined => {
  if (d === null || d === undefined) return undefined;
  const t = d instanceof Date ? d.getTime() : new Date(d).getTime();
  return Number.isNaN(t) ? undefined : t;
};

export interface CallLike {
  sid: string;
  status: string;
  startTime?: Date | null;
  endTime?: Date | null;
  dateCreated?: Date | null;
  dateUpdated?: Date | null;
}

export function callFacts(call: CallLike): CallFacts {
  return {
    sid: call.sid,
    status: isCallStatus(call.status) ? call.status : 'unknown',
    startedAtMs: msOf(call.startTime) ?? msOf(call.dateCreated),
    endedAtMs: isTerminalCallStatus(call.status) ? msOf(call.endTime) ?? msOf(call.dateUpdated) : undefined,
  };
}

export interface TaskLike {
  sid: string;
  assignmentStatus: string;
  taskChannelUniqueName?: string | null;
  attributes?: string | null;
  dateCreated?: Date | null;
  dateUpdated?: Date | null;
}

const TASK_STATES: readonly string[] = ['pending', 'reserved', 'assigned', 'wrapping', 'completed', 'canceled'];

/** Task facts from a list item (`list`) or from a fetch (`fetch`, with its ETag and when it was read). */
export function taskFacts(t: TaskLike, from: { source: 'list' } | { source: 'fetch'; version: string | undefined; readAtMs: number }): TaskFacts {
  const facts: TaskFacts = {
    sid: t.sid,
    state: TASK_STATES.includes(t.assignmentStatus) ? (t.assignmentStatus as TaskAssignmentStatus) : 'unknown',
    channel: t.taskChannelUniqueName ?? undefined,
    attributes: readTaskAttributes(t.attributes, from.source),
    createdAtMs: msOf(t.dateCreated),
    statusSinceMs: msOf(t.dateUpdated),
    source: from.source,
  };
  if (from.source === 'fetch') {
    facts.readAtMs = from.readAtMs;
    if (from.version !== undefined) facts.version = from.version;
  }
  return facts;
}

export interface ExecutionLike {
  sid: string;
  status: string;
  flowSid?: string | null;
  flowVersion?: number | null;
  initiatedBy?: string | null;
  dateCreated?: Date | null;
  dateUpdated?: Date | null;
}

/** Execution facts from a list item or a fetch. The trigger comes from initiated_by (older records: see the context). */
export function executionFacts(ex: ExecutionLike, from: { source: 'list' } | { source: 'fetch'; readAtMs: number }): ExecutionFacts {
  const trigger = triggerOf(ex.initiatedBy);
  const facts: ExecutionFacts = {
    sid: ex.sid,
    state: ex.status === 'active' ? 'active' : ex.status === 'ended' ? 'ended' : 'unknown',
    trigger,
    createdAtMs: msOf(ex.dateCreated),
    updatedAtMs: msOf(ex.dateUpdated),
    source: from.source,
  };
  if (trigger === 'call' && ex.initiatedBy) facts.callSid = ex.initiatedBy;
  if (ex.flowSid) facts.flowSid = ex.flowSid;
  if (typeof ex.flowVersion === 'number') facts.flowRevision = ex.flowVersion;
  if (from.source === 'fetch') facts.readAtMs = from.readAtMs;
  return facts;
}

/** The trigger (and, for a call, its SID) from an Execution's context, for records without initiated_by. */
export function triggerFromContext(context: unknown): { trigger: ExecutionTrigger; callSid?: string } {
  const trig = (context as { trigger?: Record<string, { CallSid?: unknown } | undefined> } | undefined)?.trigger ?? {};
  if (trig['call']) return { trigger: 'call', ...(typeof trig['call'].CallSid === 'string' ? { callSid: trig['call'].CallSid } : {}) };
  if (trig['message']) return { trigger: 'message' };
  if (trig['conversation']) return { trigger: 'conversation' };
  if (trig['request']) return { trigger: 'request' };
  return { trigger: 'unknown' };
}
