/**
 * The one way a call's `callWatch` is started (webhook, sweep, `unstick watch`): its workflow id, task queue, reuse
 * policy, search attributes and summary, and the event a watch that is already running hears instead.
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { CallWatchInput } from '../shared/messages';
import { CALL_WATCH_WORKFLOW_TYPE, callWorkflowId } from '../shared/names';
import { CallSidKey } from '../shared/searchAttributes';

type CallWatchFn = (input: CallWatchInput) => Promise<unknown>;

export interface CallWatchEvent<E> {
  signal: SignalDefinition<[E]>;
  event: E;
}

export interface HowToStartCallWatch<E = never> {
  taskQueue: string;
  /** Who starts it, with what settings, and what is known of the call (its SID is the `callSid` argument). */
  input: Omit<CallWatchInput, 'callSid' | 'carried'>;
  /** One line for the Web UI; clamped to Temporal's 200-byte limit. */
  summary: string;
  /**
   * Delivered in the same request that starts the watch, or to the watch already running (signalWithStart).
   * Without one, a running watch is only reported.
   */
  signal?: CallWatchEvent<E>;
}

export type StartCallWatchOutcome =
  /** A new run was started (known only when no signal was sent). */
  | { kind: 'started'; workflowId: string; runId: string }
  /** The signal was delivered: to the run it started, or to the one already running. Either way, one run. */
  | { kind: 'signalled'; workflowId: string; runId: string }
  /** A watch was already running (no signal was asked for): left as it is. */
  | { kind: 'running'; workflowId: string; runId: string }
  /** The call's watch already finished (REJECT_DUPLICATE, within retention): nothing started, the call is done. */
  | { kind: 'closed'; workflowId: string; status?: string };

/** Keeps a summary to one line within Temporal's 200-byte staticSummary limit. */
export function clampSummary(s: string): string {
  let out = s.replace(/[\r\n]+/g, ' ');
  while (Buffer.byteLength(out, 'utf8') > 200) out = out.slice(0, -1);
  return out;
}

/**
 * Starts the watch of `callSid`, never a second run for it: a finished watch (within retention) means the call was
 * handled, so it is reported as `closed`. Errors other than "already exists" are thrown to the caller.
 */
export async function startCallWatch<E = never>(client: Client, callSid: string, how: HowToStartCallWatch<E>): Promise<StartCallWatchOutcome> {
  const workflowId = callWorkflowId(callSid);
  const options: WorkflowStartOptions<CallWatchFn> = {
    workflowId,
    taskQueue: how.taskQueue,
    args: [{ ...how.input, callSid }],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [{ key: CallSidKey, value: callSid }],
    staticSummary: clampSummary(how.summary),
  };
  try {
    if (how.signal) {
      const handle = await client.workflow.signalWithStart<CallWatchFn, [E]>(CALL_WATCH_WORKFLOW_TYPE, {
        ...options,
        signal: how.signal.signal,
        signalArgs: [how.signal.event],
      });
      return { kind: 'signalled', workflowId, runId: handle.signaledRunId };
    }
    const handle = await client.workflow.start<CallWatchFn>(CALL_WATCH_WORKFLOW_TYPE, options);
    return { kind: 'started', workflowId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // signalWithStart only refuses a closed watch; start refuses a running one too.
    if (how.signal) return { kind: 'closed', workflowId };
    const d = await client.workflow.getHandle(workflowId).describe();
    if (d.status.name === 'RUNNING') return { kind: 'running', workflowId, runId: d.runId };
    return { kind: 'closed', workflowId, status: d.status.name };
  }
}
