/**
 * Twilio reads and writes for callWatch. Discovery only finds SIDs; every write goes through the guarded writer
 * (fresh read, the policy's decision bound to this call, If-Match), so running one twice (a retry after a crash)
 * finds the resource already closed and reports that.
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { Twilio } from 'twilio';
import { isTerminalCallStatus } from '../shared/constants';
import { CALL_STILL_LIVE } from '../shared/errorTypes';
import { decideExecution } from '../policy/execution';
import { decideTask } from '../policy/task';
import type { CallFacts, PolicySettings } from '../policy/types';
import type { ReconcileResult } from '../shared/messages';
import { readStuckRecord, stuckInput } from './stuckFacts';
import { guardedExecutionWrite, guardedTaskWrite, type Guarded } from './guardedWrite';
import { executionPort, fetchCallFacts, taskPort, type PortDeps } from './twilioPorts';
import { callFacts, triggerFromContext } from './twilioFacts';
import { isNotFound, toActivityFailure } from './twilioErrors';

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

export interface ExecutionLink {
  flowSid: string;
  executionSid: string;
}

export interface TaskLink {
  workspaceSid: string;
  taskSid: string;
  assignmentStatus: string;
}

export interface ReconcileInput {
  /** The watched call, as the workflow knows it (its SID always set). */
  call: CallFacts & { sid: string };
  settings: PolicySettings;
  dryRun: boolean;
}


const OPEN_FIRST = ['pending', 'reserved', 'assigned', 'wrapping'];
/** Discovery looks for the call's Execution among those created this long before and after the watch's start. */
const DISCOVERY_WINDOW_MS = 10 * 60_000;

function resultOf(g: Guarded<{ state: string }, { kind: string; reason: string; detail?: string; recheckAtMs?: number }>): ReconcileResult {
  const a = g.action;
  return {
    result: g.result,
    action: { kind: a.kind, reason: a.reason, ...(a.detail ? { detail: a.detail } : {}) },
    observedStatus: g.facts.state,
    ...(a.recheckAtMs !== undefined ? { recheckAtMs: a.recheckAtMs } : {}),
  };
}

export function createCallActivities(deps: CallActivityDeps) {
  const { twilio, limit } = deps;
  const now = deps.now ?? Date.now;
  const ports: PortDeps = { twilio, now, request: (_kind, fn) => limit(fn) };

  async function readCall(callSid: string): Promise<CallInfo> {
    try {
      const call = await limit(() => twilio.calls(callSid).fetch());
      return { ...callFacts(call), from: call.from, to: call.to };
    } catch (err) {
      if (isNotFound(err)) return { sid: callSid, status: 'gone' };
      throw toActivityFailure(err, `fetch Call ${callSid}`);
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

    /**
     * Finds the Execution this call started: Executions of the given flows (all flows when none are
     * configured) created around the call's start whose initiated_by — or, for older records, whose
     * context trigger.call.CallSid — is the call. Pages to the end of the window (newest first, stopping at
     * the match), so a window with more than a page of Executions still finds it. Only the link: the
     * reconcile reads it fresh. The fallback for a call the linker did not place.
     */
    async discoverExecution(input: { callSid: string; flowSids: string[]; aroundMs: number }): Promise<ExecutionLink | null> {
      const { callSid, aroundMs } = input;
      let flowSids = input.flowSids;
      try {
        if (flowSids.length === 0) {
          const flows = await limit(() => twilio.studio.v2.flows.list({ pageSize: 50 }));
          flowSids = flows.map((f) => f.sid);
        }
        for (const flowSid of flowSids) {
          type Page = Awaited<ReturnType<ReturnType<typeof twilio.studio.v2.flows>['executions']['page']>>;
          let page: Page | undefined = await limit(() =>
            twilio.studio.v2.flows(flowSid).executions.page({
              dateCreatedFrom: new Date(aroundMs - DISCOVERY_WINDOW_MS),
              dateCreatedTo: new Date(aroundMs + DISCOVERY_WINDOW_MS),
              pageSize: 1000,
            }),
          );
          while (page) {
            for (const ex of page.instances) {
              let match = ex.initiatedBy === callSid;
              if (!match && !ex.initiatedBy) {
                const ctx = await limit(() => twilio.studio.v2.flows(flowSid).executions(ex.sid).executionContext().fetch());
                match = triggerFromContext(ctx.context).callSid === callSid;
              }
              if (match) return { flowSid, executionSid: ex.sid };
            }
            const current: Page = page;
            page = current.nextPageUrl ? ((await limit(async () => current.nextPage())) as Page | undefined) : undefined;
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
     * Task created after the call ended, or already closed, is found too. Only the link: list items may
     * carry no attributes, so the reconcile reads the Task fresh before deciding.
     */
    async discoverTask(input: { callSid: string; workspaceSids: string[] }): Promise<TaskLink | null> {
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
          const open = tasks.find((t) => OPEN_FIRST.includes(t.assignmentStatus)) ?? tasks[0];
          if (open) return { workspaceSid, taskSid: open.sid, assignmentStatus: open.assignmentStatus };
        }
        return null;
      } catch (err) {
        throw toActivityFailure(err, `discover Task of call ${callSid}`);
      }
    },

    /** Cancels or completes the call's Task if the policy approves it on a fresh read (If-Match on the write). */
    async reconcileTask(input: ReconcileInput & { workspaceSid: string; taskSid: string }): Promise<ReconcileResult> {
      const port = taskPort(ports, input.workspaceSid, (sid) => fetchCallFacts(ports, sid));
      try {
        const g = await guardedTaskWrite(port, {
          task: { sid: input.taskSid, state: 'unknown', attributes: { kind: 'unknown' }, source: 'list' },
          call: input.call,
          dryRun: input.dryRun,
          decide: (task, call) => decideTask({ nowMs: now(), task, call, watchedCallSid: input.call.sid, settings: input.settings }),
        });
        return resultOf(g);
      } catch (err) {
        throw toActivityFailure(err, `reconcile Task ${input.taskSid}`);
      }
    },

    /** Ends the call's Execution if the policy approves it on a fresh read. */
    async reconcileExecution(input: ReconcileInput & { flowSid: string; executionSid: string }): Promise<ReconcileResult> {
      const port = executionPort(ports, input.flowSid, (sid) => fetchCallFacts(ports, sid));
      try {
        const g = await guardedExecutionWrite(port, {
          execution: { sid: input.executionSid, state: 'unknown', trigger: 'unknown', flowSid: input.flowSid, source: 'list' },
          call: input.call,
          dryRun: input.dryRun,
          decide: (execution, call, flow) =>
            decideExecution({ nowMs: now(), execution, call, flow, watchedCallSid: input.call.sid, settings: input.settings }),
        });
        const r = resultOf(g);
        if (g.action.kind === 'end-execution' && (g.result === 'done' || g.result === 'dry-run')) {
          r.stuck = await readStuckRecord(ports, stuckInput(input.flowSid, g.facts, g.call ?? input.call));
        }
        return r;
      } catch (err) {
        throw toActivityFailure(err, `reconcile Execution ${input.executionSid}`);
      }
    },
  };
}

export type CallActivities = ReturnType<typeof createCallActivities>;
