/**
 * A call's `callWatch` started or signalled (startCallWatch) within a deadline, with the outcomes the HTTP layer needs.
 */
import type { Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { CallWatchInput } from '../shared/messages';
import { startCallWatch } from '../temporal/startCallWatch';

// Its home is startCallWatch; re-exported for the webhook's callers and tests.
export { clampSummary } from '../temporal/startCallWatch';

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

export interface CallWatchStarter {
  signal<E>(req: SignalCallWatchRequest<E>): Promise<StartOutcome>;
  /** A cheap RPC (GetSystemInfo) that proves the frontend answers within the readiness deadline. */
  reachable(): Promise<boolean>;
  /**
   * Waits (at most `maxMs`) for Temporal calls that outlived their HTTP request. The SDK's retry interceptor can
   * keep a retry timer past our deadline; closing the connection under it would throw from that timer.
   */
  drain(maxMs?: number): Promise<void>;
}

export function createCallWatchStarter(
  client: Client,
  taskQueue: string,
  opts: { timeoutMs: number; readinessTimeoutMs: number },
): CallWatchStarter {
  const inFlight = new Set<Promise<unknown>>();

  /** Runs `fn` under a gRPC deadline, with a timer as backstop; the call itself is tracked until it settles. */
  async function bounded<T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    const call = client.withDeadline(Date.now() + timeoutMs, fn);
    const tracked = call.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(tracked);
    void tracked.then(() => inFlight.delete(tracked));
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StartTimeout(`no answer from Temporal within ${timeoutMs} ms`)), timeoutMs + 250);
    });
    try {
      return await Promise.race([call, backstop]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async signal<E>(req: SignalCallWatchRequest<E>): Promise<StartOutcome> {
      try {
        const started = await bounded(opts.timeoutMs, () =>
          startCallWatch(client, req.input.callSid, { taskQueue, input: req.input, summary: req.summary, signal: { signal: req.signal, event: req.event } }),
        );
        if (started.kind === 'closed') return { kind: 'already-closed' };
        return { kind: 'signalled', runId: started.runId };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const code = grpcCode(err);
        if (err instanceof StartTimeout || (code !== undefined && TRANSIENT_GRPC_CODES.has(code))) return { kind: 'unavailable', error: message };
        return { kind: 'failed', error: message };
      }
    },

    async reachable(): Promise<boolean> {
      try {
        await bounded(opts.readinessTimeoutMs, () => client.connection.workflowService.getSystemInfo({}));
        return true;
      } catch {
        return false;
      }
    },

    async drain(maxMs = 15_000): Promise<void> {
      if (inFlight.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => (timer = setTimeout(r, maxMs)))]);
      clearTimeout(timer);
    },
  };
}
