/**
 * One owner per call: a call with a running callWatch is left to it (one visibility query per page of CallSids),
 * and a live call the sweep meets can be handed to a callWatch of its own.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { CallFacts, TaskFacts } from '../../policy/types';
import { callWorkflowId } from '../../shared/constants';
import { CALL_WATCH_WORKFLOW_TYPE, taskLinkSignal, type CallWatchInput } from '../../shared/messages';
import { CallSidKey } from '../../shared/searchAttributes';
import type { LiveCallWatch } from '../../shared/sweepTypes';
import { currentContext } from './pageState';

/** Ownership queries of at most this many CallSids are not split further when they fail. */
const MIN_OWNERSHIP_SPLIT = 100;

export interface OwnershipEnv {
  /** Temporal client; default: the worker's client (activity context). */
  temporal?: Client;
  /** CallSids per visibility query (at most 1,000). */
  ownershipChunk: number;
}

/** CallSids (of `sids`) that have a running callWatch: those calls are left to it. */
export async function ownedByCallWatch(env: OwnershipEnv, sids: readonly string[]): Promise<Set<string>> {
  const owned = new Set<string>();
  const unique = [...new Set(sids)];
  if (unique.length === 0) return owned;
  const client = env.temporal ?? currentContext()?.client;
  if (!client) throw new Error('no Temporal client for the callWatch ownership check (run inside an activity or pass env.temporal)');
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += env.ownershipChunk) chunks.push(unique.slice(i, i + env.ownershipChunk));
  const query = async (chunk: string[]): Promise<void> => {
    const q = `WorkflowType = '${CALL_WATCH_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND CallSid IN (${chunk.map((s) => `'${s}'`).join(', ')})`;
    try {
      for await (const wf of client.workflow.list({ query: q, pageSize: chunk.length })) {
        const sid = wf.typedSearchAttributes.get(CallSidKey) ?? (wf.workflowId.startsWith('call:') ? wf.workflowId.slice(5) : undefined);
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
 * REJECT_DUPLICATE: a call whose watch already finished is not watched twice. Returns true when one was started.
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
  try {
    const handle = await client.workflow.signalWithStart(CALL_WATCH_WORKFLOW_TYPE, {
      workflowId: callWorkflowId(callSid),
      taskQueue: watch.taskQueue,
      args: [{ callSid, startedBy: 'sweep', settings: watch.settings, startedAtMs: call?.startedAtMs } satisfies CallWatchInput],
      signal: taskLinkSignal,
      signalArgs: [
        {
          callSid,
          workspaceSid: task.workspaceSid,
          taskSid: task.facts.sid,
          eventType: 'sweep.live-call',
          assignmentStatus: task.facts.state,
          channel: task.facts.channel,
        },
      ],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: CallSidKey, value: callSid }],
      staticSummary: `call ${callSid} (handed over by a sweep)`,
    });
    return handle.signaledRunId !== undefined;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}
