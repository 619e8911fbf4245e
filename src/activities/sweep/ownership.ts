/**
 * One owner per call: a call with a running callWatch is left to it (one visibility query per page of CallSids),
 * and a live call the sweep meets can be handed to a callWatch of its own.
 */
import type { Client } from '@temporalio/client';
import type { CallFacts, TaskFacts } from '../../policy/types';
import { taskLinkSignal } from '../../shared/messages';
import { CALL_WATCH_WORKFLOW_TYPE, callSidOfWorkflowId } from '../../shared/names';
import { CallSidKey, TaskSidKey } from '../../shared/searchAttributes';
import type { LiveCallWatch } from '../../shared/sweepTypes';
import { startCallWatch } from '../../temporal/startCallWatch';
import { currentContext } from './pageState';

/** Ownership queries of at most this many CallSids are not split further when they fail. */
const MIN_OWNERSHIP_SPLIT = 100;

export interface OwnershipEnv {
  /** Temporal client; default: the worker's client (activity context). */
  temporal?: Client;
  /** CallSids per visibility query (at most 1,000). */
  ownershipChunk: number;
}

/**
 * CallSids (of `sids`) that have a running callWatch: those calls are left to it. With `by: 'task'`, Task SIDs that a
 * running callWatch has linked (its `TaskSid` search attribute): a list item without attributes does not say its
 * call, but the watch that owns it does.
 */
export async function ownedByCallWatch(env: OwnershipEnv, sids: readonly string[], by: 'call' | 'task' = 'call'): Promise<Set<string>> {
  const owned = new Set<string>();
  const unique = [...new Set(sids)];
  if (unique.length === 0) return owned;
  const client = env.temporal ?? currentContext()?.client;
  if (!client) throw new Error('no Temporal client for the callWatch ownership check (run inside an activity or pass env.temporal)');
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += env.ownershipChunk) chunks.push(unique.slice(i, i + env.ownershipChunk));
  const query = async (chunk: string[]): Promise<void> => {
    const q = `WorkflowType = '${CALL_WATCH_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ${by === 'call' ? 'CallSid' : 'TaskSid'} IN (${chunk.map((s) => `'${s}'`).join(', ')})`;
    try {
      for await (const wf of client.workflow.list({ query: q, pageSize: chunk.length })) {
        const sid = by === 'call' ? wf.typedSearchAttributes.get(CallSidKey) ?? callSidOfWorkflowId(wf.workflowId) : wf.typedSearchAttributes.get(TaskSidKey);
        if (sid) owned.add(sid);
      }
    } catch (err) {
      // A visibility store that refuses a long IN list gets halves of it; small lists fail as they are.
      if (chunk.length <= MIN_OWNERSHIP_SPLIT) throw err;
      const half = Math.ceil(chunk.length / 2);
      await Promise.all([query(chunk.slice(0, half)), query(chunk.slice(half))]);
    }
  };
  await Promise.all(chunks.map(query));
  return owned;
}

/**
 * Hands a live call to a callWatch of its own (one owner per call from then on), linked to the Task the sweep saw.
 * A call whose watch already finished is not watched twice. Returns true when the call has a running watch now.
 */
export async function watchLiveCall(
  env: OwnershipEnv,
  watch: LiveCallWatch,
  callSid: string,
  call: CallFacts | undefined,
  task: { workspaceSid: string; facts: TaskFacts },
): Promise<boolean> {
  const client = env.temporal ?? currentContext()?.client;
  if (!client) return false;
  const outcome = await startCallWatch(client, callSid, {
    taskQueue: watch.taskQueue,
    input: { startedBy: 'sweep', settings: watch.settings, startedAtMs: call?.startedAtMs },
    summary: `call ${callSid} (handed over by a sweep)`,
    signal: {
      signal: taskLinkSignal,
      event: {
        callSid,
        workspaceSid: task.workspaceSid,
        taskSid: task.facts.sid,
        eventType: 'sweep.live-call',
        assignmentStatus: task.facts.state,
        channel: task.facts.channel,
      },
    },
  });
  return outcome.kind !== 'closed';
}

/**
 * Ownership of CallSids learnt one at a time (a Task's call_sid from its fresh read, when the list carried no
 * attributes), asked in batches: the requests made within `delayMs` (or `maxBatch` of them) share one visibility
 * query, since each query costs the server far more than its length does.
 */
export function ownershipBatcher(env: OwnershipEnv, opts: { maxBatch?: number; delayMs?: number } = {}): (callSid: string) => Promise<boolean> {
  const maxBatch = Math.min(opts.maxBatch ?? 200, env.ownershipChunk);
  const delayMs = opts.delayMs ?? 10;
  let pending: { sid: string; resolve: (owned: boolean) => void; reject: (err: unknown) => void }[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    if (timer) clearTimeout(timer);
    timer = undefined;
    try {
      const owned = await ownedByCallWatch(env, batch.map((b) => b.sid));
      for (const b of batch) b.resolve(owned.has(b.sid));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  };
  return (sid) =>
    new Promise<boolean>((resolve, reject) => {
      pending.push({ sid, resolve, reject });
      if (pending.length >= maxBatch) void flush();
      else timer ??= setTimeout(() => void flush(), delayMs);
    });
}
