/**
 * TaskRouter's REST update of a Task (POST /Workspaces/{WS}/Tasks/{WT}): the If-Match check, the transitions the API
 * allows, attributes and priority, each with the workspace event TaskRouter sends.
 */
import { TwilioHttpError, badRequest } from './format';
import type { Task } from './records';
import type { Store } from './state';

export interface TaskUpdate {
  assignmentStatus?: string;
  reason?: string;
  attributes?: string;
  priority?: number;
  ifMatch?: string;
}

/** Applies a REST update to a task with TaskRouter's transition rules. */
export function updateTaskFromApi(store: Store, t: Task, p: TaskUpdate): void {
  if (p.ifMatch !== undefined && normalizeEtag(p.ifMatch) !== String(t.version)) {
    throw new TwilioHttpError(412, 20001, `The If-Match header value ${p.ifMatch} does not match the current version ${t.version} of Task ${t.sid}`);
  }
  const ws = t.workspaceSid;
  const where = `${t.sid} in workspace ${ws} for account ${t.accountSid}`;
  if (p.assignmentStatus !== undefined && p.attributes !== undefined && ['wrapping', 'completed'].includes(p.assignmentStatus)) {
    throw badRequest('Changing the AssignmentStatus to wrapping or completed and the Attributes requires two separate requests');
  }
  if (p.attributes !== undefined) {
    try {
      JSON.parse(p.attributes);
    } catch {
      throw badRequest(`Invalid Attributes: ${p.attributes.slice(0, 60)} is not valid JSON`);
    }
  }
  const now = store.clock.now();
  if (p.assignmentStatus !== undefined) {
    const to = p.assignmentStatus;
    if (to === 'canceled') {
      if (t.status !== 'pending' && t.status !== 'reserved') throw badRequest(`Cannot cancel task ${where} because it is not pending or reserved`);
      store.setTaskStatus(t, 'canceled', p.reason ?? null, now);
      store.emitTaskEvent('task.canceled', t, p.reason ?? 'Task canceled', {});
    } else if (to === 'completed') {
      if (t.status !== 'assigned' && t.status !== 'wrapping') throw badRequest(`Cannot complete task ${where} because it is not assigned or wrapping`);
      store.setTaskStatus(t, 'completed', p.reason ?? null, now);
      store.emitTaskEvent('task.completed', t, p.reason ?? 'Task completed', {});
    } else if (to === 'wrapping') {
      if (t.status !== 'assigned') throw badRequest(`Cannot wrap up a task ${where} because it's not currently assigned`);
      store.setTaskStatus(t, 'wrapping', p.reason ?? t.reason, now);
      store.emitTaskEvent('task.wrapup', t, 'Task wrapping up', {});
    } else if (['pending', 'reserved', 'assigned'].includes(to)) {
      throw badRequest(`Cannot set AssignmentStatus of task ${where} to ${to}: only canceled, wrapping or completed can be set through the API`);
    } else {
      throw badRequest(`Invalid AssignmentStatus ${to}`);
    }
  } else if (p.reason !== undefined) {
    t.reason = p.reason;
  }
  if (p.attributes !== undefined) {
    store.setTaskAttributes(t, p.attributes, now);
    store.emitTaskEvent('task.updated', t, 'Task attributes updated', {});
  }
  if (p.priority !== undefined && p.priority !== t.priority) {
    t.priority = p.priority;
    t.dateUpdated = now;
    t.version++;
    store.emitTaskEvent('task.updated', t, 'Task priority updated', {});
  }
}

function normalizeEtag(v: string): string {
  return v.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}
