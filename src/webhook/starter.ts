/**
 * signalWithStart on a call's `callWatch`, bounded by a deadline, with the outcomes the HTTP layer needs.
 */
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { callWorkflowId } from '../shared/constants';
import { CALL_WATCH_WORKFLOW_TYPE, type CallWatchInput } from '../shared/messages';
import { CallSidKey } from '../shared/searchAttributes';

type CallWatchFn = (input: CallWatchInput) => Promise<unknown>;

export type StartOutcome =
  /** Started a new callWatch or signalled the running one. */
  | { kind: 'signalled'; runId: string }
  /** The call's watch already closed (REJECT_DUPLICATE within retention): nothing started, the call is done. */
  | { kind: 'already-closed' }
  /** Temporal could not be reached in time: the caller should answer 503. */
  | { kind: 'unavailable'; error: string }
  /** Temporal answered with an error that a retry will not fix (bad request, missing search attribute, …). */
  | { kind: 'failed'; error: string };

export interface SignalCallWatchRequest<E> {
  input: CallWatchInput;
  signal: SignalDefinition<[E]>;
  event: E;
  summary: string;
}

// gRPC status codes that mean "not now", not "never": UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, CANCELLED.
const TRANSIENT_GRPC_CODES = new Set([14, 4, 8, 1]);

function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

class StartTimeout extends Error {}

/** Keeps a summary to one line within Temporal's 200-byte staticSummary limit. */
export function clampSummary(s: string): string {
  let out = s.replace(/[\r\n]+/g, ' ');
  while (Buffer.byteLength(out, 'utf8') > 200) out = out.slice(0, -1);
  return out;
}

export async function signalCallWatch<E>(
  client: Client,
  taskQueue: string,
  req: SignalCallWatchRequest<E>,
  timeoutMs: number,
): Promise<StartOutcome> {
  const callSid = req.input.callSid;
  let timer: NodeJS.Timeout | undefined;
  try {
    // withDeadline bounds each gRPC call (and its retries); the timer is a backstop for a connection that never opens.
    const call = client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.signalWithStart<CallWatchFn, [E]>(CALL_WATCH_WORKFLOW_TYPE, {
        workflowId: callWorkflowId(callSid),
        taskQueue,
        args: [req.input],
        signal: req.signal,
        signalArgs: [req.event],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [{ key: CallSidKey, value: callSid }],
        staticSummary: clampSummary(req.summary),
      }),
    );
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StartTimeout(`no answer from Temporal within ${timeoutMs} ms`)), timeoutMs + 250);
    });
    const handle = await Promise.race([call, backstop]);
    return { kind: 'signalled', runId: handle.signaledRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'already-closed' };
    const message = err instanceof Error ? err.message : String(err);
    const code = grpcCode(err);
    if (err instanceof StartTimeout || (code !== undefined && TRANSIENT_GRPC_CODES.has(code))) return { kind: 'unavailable', error: message };
    return { kind: 'failed', error: message };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** A cheap RPC that proves the frontend answers. */
export async function temporalReachable(client: Client, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const probe = client.withDeadline(Date.now() + timeoutMs, () => client.connection.workflowService.getSystemInfo({}));
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StartTimeout('timeout')), timeoutMs + 250);
    });
    await Promise.race([probe, backstop]);
    return true;
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}
