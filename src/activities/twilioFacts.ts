/** Turning twilio SDK instances into the policy's facts. Shared by callWatch and sweep activities. */
import { isCallStatus, isTerminalCallStatus, type TaskAssignmentStatus } from '../shared/constants';
import type { CallFacts, ExecutionFacts, TaskFacts } from '../policy/types';
import type { ExecutionTrigger } from '../policy/types';

export function triggerOf(initiatedBy: string | null | undefined): ExecutionTrigger {
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
  dateUpdated?: Date | null;
}

export function taskFacts(t: TaskLike): TaskFacts {
  return {
    sid: t.sid,
    state: t.assignmentStatus as TaskAssignmentStatus,
    channel: t.taskChannelUniqueName ?? undefined,
    attributes: t.attributes ?? undefined,
    statusSinceMs: msOf(t.dateUpdated),
  };
}

export interface ExecutionLike {
  sid: string;
  status: string;
  initiatedBy?: string | null;
  dateCreated?: Date | null;
  dateUpdated?: Date | null;
}

export function executionFacts(ex: ExecutionLike): ExecutionFacts {
  return {
    sid: ex.sid,
    state: ex.status === 'active' ? 'active' : 'ended',
    trigger: triggerOf(ex.initiatedBy),
    createdAtMs: msOf(ex.dateCreated),
    lastStepAtMs: msOf(ex.dateUpdated),
  };
}
