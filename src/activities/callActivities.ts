/**
 * Twilio reads and writes for callWatch. Every write is read-verify-write and idempotent:
 * running one twice (a retry after a crash) finds the resource already closed and reports that.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { Twilio } from 'twilio';
import { isTerminalCallStatus, type TaskAssignmentStatus } from '../shared/constants';
import { parseTaskAttributes } from '../policy/attributes';
import type { CallFacts, ExecutionFacts, TaskFacts } from '../policy/types';
import type { ActionRecord } from '../shared/messages';
import { etagOf } from '../twilio/client';
import { callFacts, executionFacts, taskFacts, triggerOf } from './twilioFacts';
import { isInvalidTransition, isNotFound, isPreconditionFailed, toActivityFailure } from './twilioErrors';

export { triggerOf };

export type Limit = <T>(fn: () => Promise<T>) => Promise<T>;

export interface CallActivityDeps {
  twilio: Twilio;
  /** Per-process cap on Twilio requests in flight. */
  limit: Limit;
  now?: () => number;
}

export interface CallInfo extends CallFacts {
  from?: string;
  to?: string;
}

export interface LinkedExecution {
  flowSid: string;
  executionSid: string;
  facts: ExecutionFacts;
}

export interface LinkedTask {
  workspaceSid: string;
  taskSid: string;
  facts: TaskFacts;
}

export interface WriteOutcome {
  result: ActionRecord['result'];
  /** When the resource was not in the expected state: what it was instead (the caller decides again). */
  observedStatus?: string;
  detail?: string;
}

export const CALL_STILL_LIVE = 'CallStillLive';



export function createCallActivities(deps: CallActivityDeps) {
  const { twilio, limit } = deps;

  async function readCall(callSid: string): Promise<CallInfo> {
    try {
      const call = await limit(() => twilio.calls(callSid).fetch());
      return { ...callFacts(call), from: call.from, to: call.to };
    } catch (err) {
      if (isNotFound(err)) return { status: 'gone' };
      throw toActivityFailure(err, `fetch Call ${callSid}`);
    }
  }

  async function readExecution(flowSid: string, executionSid: string): Promise<ExecutionFacts> {
    try {
      const ex = await limit(() => twilio.studio.v2.flows(flowSid).executions(executionSid).fetch());
      return executionFacts(ex);
    } catch (err) {
      if (isNotFound(err)) return { sid: executionSid, state: 'gone', trigger: 'unknown' };
      throw toActivityFailure(err, `fetch Execution ${executionSid}`);
    }
  }

  async function readTaskWithEtag(workspaceSid: string, taskSid: string): Promise<{ facts: TaskFacts; etag?: string }> {
    try {
      const res = await limit(() => twilio.taskrouter.v1.workspaces(workspaceSid).tasks(taskSid).fetchWithHttpInfo());
      return { facts: taskFacts(res.body), etag: etagOf(res.headers) };
    } catch (err) {
      if (isNotFound(err)) return { facts: { sid: taskSid, state: 'gone' } };
      throw toActivityFailure(err, `fetch Task ${taskSid}`);
    }
  }

  return {
    /** One read of the Call. */
    async fetchCall(callSid: string): Promise<CallInfo> {
      return readCall(callSid);
    },

    /**
     * Polls by failing: while the call is live this throws a retryable, benign failure, so the
     * activity's retry policy (backoff up to the poll maximum) is the poll loop and no history grows.
     */
    async awaitCallEnd(callSid: string): Promise<CallInfo> {
      const info = await readCall(callSid);
      if (info.status === 'gone' || info.status === 'unknown' || isTerminalCallStatus(info.status)) return info;
      throw ApplicationFailure.create({
        message: `call ${callSid} is still ${info.status}`,
        type: CALL_STILL_LIVE,
        category: ApplicationFailureCategory.BENIGN,
      });
    },

    async fetchExecution(flowSid: string, executionSid: string): Promise<ExecutionFacts> {
      return readExecution(flowSid, executionSid);
    },

    async fetchTask(workspaceSid: string, taskSid: string): Promise<TaskFacts> {
      return (await readTaskWithEtag(workspaceSid, taskSid)).facts;
    },

    /**
     * Finds the Execution this call started: Executions of the given flows (all flows when none are
     * configured) created around the call's start whose initiated_by — or, for older records, whose
     * context trigger.call.CallSid — is the call.
     */
    async discoverExecution(input: { callSid: string; flowSids: string[]; aroundMs: number }): Promise<LinkedExecution | null> {
      const { callSid, aroundMs } = input;
      let flowSids = input.flowSids;
      try {
        if (flowSids.length === 0) {
          const flows = await limit(() => twilio.studio.v2.flows.list({ pageSize: 50 }));
          flowSids = flows.map((f) => f.sid);
        }
        for (const flowSid of flowSids) {
          const executions = await limit(() =>
            twilio.studio.v2.flows(flowSid).executions.list({
              dateCreatedFrom: new Date(aroundMs - 10 * 60_000),
              dateCreatedTo: new Date(aroundMs + 10 * 60_000),
              pageSize: 200,
              limit: 1000,
            }),
          );
          for (const ex of executions) {
            let match = ex.initiatedBy === callSid;
            if (!match && !ex.initiatedBy) {
              const ctx = await limit(() => twilio.studio.v2.flows(flowSid).executions(ex.sid).executionContext().fetch());
              const trigger = (ctx.context as { trigger?: { call?: { CallSid?: string } } } | undefined)?.trigger;
              match = trigger?.call?.CallSid === callSid;
            }
            if (match) {
              return {
                flowSid,
                executionSid: ex.sid,
                // Matched by the call's own SID: a call-triggered Execution even when initiated_by is missing.
                facts: { ...executionFacts(ex), trigger: triggerOf(ex.initiatedBy) === 'unknown' ? 'call' : triggerOf(ex.initiatedBy) },
              };
            }
          }
        }
        return null;
      } catch (err) {
        throw toActivityFailure(err, `discover Execution of call ${callSid}`);
      }
    },

    /**
     * Finds the call's Task with EvaluateTaskAttributes (Twilio allows 3 such requests per second per
     * account, so this activity runs on the rate-limited discovery task queue). No status filter, so a
     * Task created after the call ended, or already closed, is found too.
     */
    async discoverTask(input: { callSid: string; workspaceSids: string[] }): Promise<LinkedTask | null> {
      const { callSid } = input;
      try {
        let workspaceSids = input.workspaceSids;
        if (workspaceSids.length === 0) {
          const ws = await limit(() => twilio.taskrouter.v1.workspaces.list({ pageSize: 50 }));
          workspaceSids = ws.map((w) => w.sid);
        }
        for (const workspaceSid of workspaceSids) {
          const tasks = await limit(() =>
            twilio.taskrouter.v1.workspaces(workspaceSid).tasks.list({ evaluateTaskAttributes: `call_sid == "${callSid}"`, pageSize: 20, limit: 20 }),
          );
          // Prefer an open Task; several can exist after a transfer.
          const open = tasks.find((t) => ['pending', 'reserved', 'assigned', 'wrapping'].includes(t.assignmentStatus)) ?? tasks[0];
          if (open) {
            return {
              workspaceSid,
              taskSid: open.sid,
              facts: taskFacts(open),
            };
          }
        }
        return null;
      } catch (err) {
        throw toActivityFailure(err, `discover Task of call ${callSid}`);
      }
    },

    /** Ends an active Execution. Read first: an ended or deleted one is reported, not written. */
    async endExecution(input: { flowSid: string; executionSid: string; dryRun: boolean }): Promise<WriteOutcome> {
      const facts = await readExecution(input.flowSid, input.executionSid);
      if (facts.state !== 'active') return { result: 'already-closed', observedStatus: facts.state };
      if (input.dryRun) return { result: 'dry-run', observedStatus: 'active' };
      try {
        const ex = await limit(() => twilio.studio.v2.flows(input.flowSid).executions(input.executionSid).update({ status: 'ended' }));
        return { result: 'done', observedStatus: ex.status };
      } catch (err) {
        if (isNotFound(err)) return { result: 'already-closed', observedStatus: 'gone' };
        throw toActivityFailure(err, `end Execution ${input.executionSid}`);
      }
    },

    /**
     * Cancels or completes a Task, only if it is still in the status the decision was made on and
     * still belongs to this call; the write carries If-Match so a concurrent change wins over us.
     */
    async closeTask(input: {
      workspaceSid: string;
      taskSid: string;
      callSid: string;
      target: 'canceled' | 'completed';
      expectStatus: TaskAssignmentStatus;
      reason: string;
      dryRun: boolean;
    }): Promise<WriteOutcome> {
      const { facts, etag } = await readTaskWithEtag(input.workspaceSid, input.taskSid);
      if (facts.state === 'gone' || facts.state === 'canceled' || facts.state === 'completed') {
        return { result: 'already-closed', observedStatus: facts.state };
      }
      if (facts.state !== input.expectStatus) return { result: 'skipped', observedStatus: facts.state, detail: 'status changed since the decision' };
      const attrs = parseTaskAttributes(facts.attributes);
      if (!attrs.ok || attrs.callSid !== input.callSid) {
        return { result: 'skipped', observedStatus: facts.state, detail: `Task attributes do not carry call_sid ${input.callSid}` };
      }
      if (input.dryRun) return { result: 'dry-run', observedStatus: facts.state };
      try {
        const t = await limit(() =>
          twilio.taskrouter.v1
            .workspaces(input.workspaceSid)
            .tasks(input.taskSid)
            .update({ assignmentStatus: input.target, reason: input.reason, ...(etag ? { ifMatch: etag } : {}) }),
        );
        return { result: 'done', observedStatus: t.assignmentStatus };
      } catch (err) {
        if (isNotFound(err)) return { result: 'already-closed', observedStatus: 'gone' };
        if (isPreconditionFailed(err) || isInvalidTransition(err)) {
          const again = await readTaskWithEtag(input.workspaceSid, input.taskSid);
          return { result: 'skipped', observedStatus: again.facts.state, detail: 'Task changed under us (If-Match or transition refused)' };
        }
        throw toActivityFailure(err, `update Task ${input.taskSid} to ${input.target}`);
      }
    },
  };
}

export type CallActivities = ReturnType<typeof createCallActivities>;
