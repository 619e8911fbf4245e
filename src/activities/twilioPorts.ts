/**
 * The guarded writer's ports on the real `twilio` SDK: fresh fetches mapped to policy facts (Tasks with their
 * ETag, Executions with their trigger, Steps as "where it waits", Flow definitions cached per revision), and the
 * two writes (Task update with If-Match, Execution `Status=ended`).
 */
import type { Twilio } from 'twilio';
import { flowFactsFromDefinition } from '../policy/flow';
import type { CallFacts, FlowFacts, WaitingFacts } from '../policy/types';
import { etagOf } from '../twilio/client';
import type { ExecutionPort, TaskPort } from './guardedWrite';
import { callFacts, executionFacts, msOf, taskFacts, triggerFromContext } from './twilioFacts';
import { isInvalidTransition, isNotFound, isPreconditionFailed } from './twilioErrors';

/** How every port request is made: counted, capped and retried as its caller wants. */
export type TwilioRequest = <T>(kind: 'read' | 'write', fn: () => Promise<T>) => Promise<T>;

export interface PortDeps {
  twilio: Twilio;
  request: TwilioRequest;
  now: () => number;
}

/** One read of a Call; 404 → `gone`. */
export async function fetchCallFacts(deps: PortDeps, callSid: string): Promise<CallFacts> {
  try {
    return callFacts(await deps.request('read', () => deps.twilio.calls(callSid).fetch()));
  } catch (err) {
    if (isNotFound(err)) return { sid: callSid, status: 'gone' };
    throw err;
  }
}

export function taskPort(deps: PortDeps, workspaceSid: string, fetchCall: (sid: string) => Promise<CallFacts> = (sid) => fetchCallFacts(deps, sid)): TaskPort {
  const tasks = deps.twilio.taskrouter.v1.workspaces(workspaceSid).tasks;
  return {
    async fetchTask(sid) {
      try {
        const res = await deps.request('read', () => tasks(sid).fetchWithHttpInfo());
        return taskFacts(res.body, { source: 'fetch', version: etagOf(res.headers), readAtMs: deps.now() });
      } catch (err) {
        if (isNotFound(err)) return { sid, state: 'gone', attributes: { kind: 'unknown' }, source: 'fetch', readAtMs: deps.now() };
        throw err;
      }
    },
    fetchCall,
    async updateTask(write, target) {
      try {
        await deps.request('write', () => tasks(write.sid).update({ assignmentStatus: target, reason: write.reason, ifMatch: write.version }));
        return 'done';
      } catch (err) {
        if (isNotFound(err)) return 'gone';
        if (isPreconditionFailed(err) || isInvalidTransition(err)) return 'conflict';
        throw err;
      }
    },
  };
}

/** A revision's definition never changes; a Flow read for another revision is kept only briefly. */
const FLOW_CACHE_MAX = 256;
const INEXACT_FLOW_TTL_MS = 5 * 60_000;
const flowCache = new Map<string, { flow: FlowFacts; exact: boolean; atMs: number }>();

async function readFlow(deps: PortDeps, flowSid: string, revision: number | undefined): Promise<FlowFacts> {
  const key = `${flowSid}@${revision ?? 'current'}`;
  const hit = flowCache.get(key);
  if (hit && (hit.exact || deps.now() - hit.atMs < INEXACT_FLOW_TTL_MS)) return hit.flow;
  let f;
  try {
    f = await deps.request('read', () => deps.twilio.studio.v2.flows(flowSid).fetch());
  } catch (err) {
    if (isNotFound(err)) return { kind: 'unreadable', sid: flowSid, detail: 'Flow not found (404)' };
    throw err;
  }
  const flow = flowFactsFromDefinition(flowSid, f.revision, f.definition);
  if (flow.kind === 'read') {
    if (flowCache.size >= FLOW_CACHE_MAX) flowCache.clear();
    const exact = revision !== undefined && flow.revision === revision;
    flowCache.set(key, { flow, exact, atMs: deps.now() });
    flowCache.set(`${flowSid}@${flow.revision}`, { flow, exact: true, atMs: deps.now() });
  }
  return flow;
}

export function executionPort(deps: PortDeps, flowSid: string, fetchCall: (sid: string) => Promise<CallFacts> = (sid) => fetchCallFacts(deps, sid)): ExecutionPort {
  const flowApi = deps.twilio.studio.v2.flows(flowSid);
  return {
    async fetchExecution(sid) {
      try {
        const ex = await deps.request('read', () => flowApi.executions(sid).fetch());
        const facts = executionFacts(ex, { source: 'fetch', readAtMs: deps.now() });
        if (!ex.initiatedBy) {
          const ctx = await deps.request('read', () => flowApi.executions(sid).executionContext().fetch());
          const t = triggerFromContext(ctx.context);
          facts.trigger = t.trigger;
          if (t.callSid) facts.callSid = t.callSid;
        }
        return facts;
      } catch (err) {
        if (isNotFound(err)) return { sid, state: 'gone', trigger: 'unknown', source: 'fetch', readAtMs: deps.now() };
        throw err;
      }
    },
    fetchCall,
    async fetchSteps(sid): Promise<WaitingFacts> {
      // An Execution ends after 1,000 Steps, so one page of 1,000 holds them all.
      const page = await deps.request('read', () => flowApi.executions(sid).steps.page({ pageSize: 1000 }));
      const readAtMs = deps.now();
      let newest: { widget: string; sinceMs: number } | undefined;
      for (const st of page.instances) {
        const at = msOf(st.dateCreated);
        if (at === undefined) continue;
        if (!newest || at >= newest.sinceMs) newest = { widget: st.transitionedTo, sinceMs: at };
      }
      return newest ? { kind: 'widget', ...newest, readAtMs } : { kind: 'no-steps', readAtMs };
    },
    fetchFlow: (sid, revision) => readFlow(deps, sid, revision),
    async endExecution(write) {
      try {
        await deps.request('write', () => flowApi.executions(write.sid).update({ status: 'ended' }));
        return 'done';
      } catch (err) {
        if (isNotFound(err)) return 'gone';
        throw err;
      }
    },
  };
}
