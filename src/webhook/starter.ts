/**
 * A call's `callWatch` started or signalled (startCallWatch) within the callback's budget, with back-pressure: at
 * most `maxInFlight` calls to Temporal at once, the others wait in a bounded FIFO queue (p-limit) for a slot. A slow
 * Temporal makes callbacks wait, not fail; 503 comes only when Temporal is unreachable (a failed probe, or a
 * connection error) or when a callback could not get through within its budget. Those are counted apart.
 */
import type { Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import pLimit from 'p-limit';
import type { CallWatchInput } from '../shared/messages';
import { startCallWatch } from '../temporal/startCallWatch';
import { createTemporalHealth, type TemporalHealth } from './health';

// Its home is startCallWatch; re-exported for the webhook's callers and tests.
export { clampSummary } from '../temporal/startCallWatch';

export type StartOutcome =
  /** Started a new callWatch or signalled the running one. */
  | { kind: 'signalled'; runId: string; waitedMs: number }
  /** The call's watch already closed (REJECT_DUPLICATE within retention): nothing started, the call is done. */
  | { kind: 'already-closed'; waitedMs: number }
  /** Temporal is unreachable (a failed probe or a connection error): the caller should answer 503 at once. */
  | { kind: 'unavailable'; error: string; waitedMs: number }
  /** Temporal is up, but this callback could not get through in time (its budget ran out, or the queue was full). */
  | { kind: 'overloaded'; reason: 'budget' | 'queue-full'; error: string; waitedMs: number }
  /** Temporal answered with an error that a retry will not fix (bad request, missing search attribute, …). */
  | { kind: 'failed'; error: string; waitedMs: number };

export interface SignalCallWatchRequest<E> {
  input: CallWatchInput;
  signal: SignalDefinition<[E]>;
  event: E;
  summary: string;
  /** When the callback arrived (ms since epoch); its budget counts from here. Default: now. */
  receivedAt?: number;
}

export interface StarterOptions {
  /** Total time a callback may take, queueing included (Twilio gives up on a webhook after 15 s). */
  budgetMs: number;
  /** Concurrent signalWithStart calls to Temporal. */
  maxInFlight: number;
  /** Callbacks waiting for a slot; one more is refused at once. */
  maxQueued: number;
  /** Deadline of one reachability probe (GetSystemInfo). */
  readinessTimeoutMs: number;
  /** A callback still waiting after this long has Temporal probed, unless Temporal answered something just before. */
  probeAfterMs?: number;
  now?: () => number;
}

export interface StarterStats {
  signalled: number;
  alreadyClosed: number;
  failed: number;
  /** 503 because Temporal was unreachable. */
  unavailable: number;
  /** 503 with Temporal up: the budget ran out while queued or in the call. */
  overBudget: number;
  /** 503 with Temporal up: the queue was full. */
  queueFull: number;
  inFlight: number;
  queued: number;
  /** The longest the queue has been. */
  maxQueuedSeen: number;
  /** The longest an accepted callback took, queueing included. */
  maxWaitedMs: number;
  temporal: TemporalHealth['state'];
}

// gRPC status codes that mean "not now", not "never": UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, CANCELLED.
const TRANSIENT_GRPC_CODES = new Set([14, 4, 8, 1]);
const DEADLINE_EXCEEDED = 4;
/** A callback whose slot comes with less budget left than this is not sent to Temporal at all. */
const MIN_CALL_MS = 100;

function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

class StartTimeout extends Error {}

export interface CallWatchStarter {
  signal<E>(req: SignalCallWatchRequest<E>): Promise<StartOutcome>;
  /** A cheap RPC (GetSystemInfo) that proves the frontend answers within the readiness deadline. */
  reachable(): Promise<boolean>;
  stats(): StarterStats;
  /**
   * Waits (at most `maxMs`) for Temporal calls that outlived their HTTP request. The SDK's retry interceptor can
   * keep a retry timer past our deadline; closing the connection under it would throw from that timer.
   */
  drain(maxMs?: number): Promise<void>;
}

type Verdict<T> = { kind: 'ok'; value: T } | { kind: 'error'; err: unknown } | { kind: 'budget' } | { kind: 'down' } | { kind: 'skipped' };

export function createCallWatchStarter(client: Client, taskQueue: string, opts: StarterOptions): CallWatchStarter {
  const now = opts.now ?? Date.now;
  const probeAfterMs = opts.probeAfterMs ?? 1000;
  const inFlight = new Set<Promise<unknown>>();
  const limit = pLimit(opts.maxInFlight);
  const counts = { signalled: 0, alreadyClosed: 0, failed: 0, unavailable: 0, overBudget: 0, queueFull: 0, maxQueuedSeen: 0, maxWaitedMs: 0 };

  /** Runs `fn` under a gRPC deadline, with a timer as backstop; the call itself is tracked until it settles. */
  async function bounded<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
    const call = client.withDeadline(deadline, fn);
    const tracked = call.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(tracked);
    void tracked.then(() => inFlight.delete(tracked));
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StartTimeout(`no answer from Temporal within ${Math.max(0, deadline - now())} ms`)), Math.max(0, deadline - now()) + 250);
    });
    try {
      return await Promise.race([call, backstop]);
    } finally {
      clearTimeout(timer);
    }
  }

  const health = createTemporalHealth({
    probe: () => bounded(now() + opts.readinessTimeoutMs, () => client.connection.workflowService.getSystemInfo({})),
    now,
  });

  /** Waits for a slot, then for Temporal, until the deadline or until Temporal is found down, whichever is first. */
  async function admitted<T>(deadline: number, fn: (deadline: number) => Promise<T>): Promise<Verdict<T>> {
    let abandoned = false;
    const work = limit(async (): Promise<Verdict<T>> => {
      if (abandoned || deadline - now() < MIN_CALL_MS) return { kind: 'skipped' };
      try {
        return { kind: 'ok', value: await fn(deadline) };
      } catch (err) {
        return { kind: 'error', err };
      }
    });
    counts.maxQueuedSeen = Math.max(counts.maxQueuedSeen, limit.pendingCount);
    const down = health.downSignal;
    let onDown: (() => void) | undefined;
    let budgetTimer: NodeJS.Timeout | undefined;
    const probeTimer = setTimeout(() => void health.check(), probeAfterMs);
    try {
      return await Promise.race([
        work,
        new Promise<Verdict<T>>((resolve) => (budgetTimer = setTimeout(() => resolve({ kind: 'budget' }), Math.max(0, deadline - now())))),
        new Promise<Verdict<T>>((resolve) => {
          onDown = () => resolve({ kind: 'down' });
          if (down.aborted) onDown();
          else down.addEventListener('abort', onDown, { once: true });
        }),
      ]);
    } finally {
      abandoned = true;
      clearTimeout(budgetTimer);
      clearTimeout(probeTimer);
      if (onDown) down.removeEventListener('abort', onDown);
    }
  }

  async function signal<E>(req: SignalCallWatchRequest<E>): Promise<StartOutcome> {
    const receivedAt = req.receivedAt ?? now();
    const deadline = receivedAt + opts.budgetMs;
    const waited = (): number => now() - receivedAt;
    const unavailable = (error: string): StartOutcome => {
      counts.unavailable++;
      return { kind: 'unavailable', error, waitedMs: waited() };
    };
    const overBudget = (error: string): StartOutcome => {
      if (health.state === 'down') return unavailable(error);
      counts.overBudget++;
      return { kind: 'overloaded', reason: 'budget', error, waitedMs: waited() };
    };
    if (health.state === 'down') {
      health.recheckIfDown();
      return unavailable('Temporal did not answer the last reachability probe');
    }
    if (limit.activeCount >= opts.maxInFlight && limit.pendingCount >= opts.maxQueued) {
      counts.queueFull++;
      return { kind: 'overloaded', reason: 'queue-full', error: `${limit.pendingCount} callbacks already wait for a Temporal slot`, waitedMs: waited() };
    }
    const verdict = await admitted(deadline, (d) =>
      bounded(d, () => startCallWatch(client, req.input.callSid, { taskQueue, input: req.input, summary: req.summary, signal: { signal: req.signal, event: req.event } })),
    );
    switch (verdict.kind) {
      case 'ok': {
        health.noteAnswer();
        const waitedMs = waited();
        counts.maxWaitedMs = Math.max(counts.maxWaitedMs, waitedMs);
        if (verdict.value.kind === 'closed') {
          counts.alreadyClosed++;
          return { kind: 'already-closed', waitedMs };
        }
        counts.signalled++;
        return { kind: 'signalled', runId: verdict.value.runId, waitedMs };
      }
      case 'down':
        return unavailable('Temporal did not answer a reachability probe while this callback waited');
      case 'budget':
      case 'skipped':
        return overBudget(`no answer from Temporal within the ${opts.budgetMs} ms budget (${limit.activeCount} in flight, ${limit.pendingCount} queued)`);
      case 'error': {
        const code = grpcCode(verdict.err);
        if (verdict.err instanceof StartTimeout || code === DEADLINE_EXCEEDED) return overBudget(message(verdict.err));
        if (code !== undefined && TRANSIENT_GRPC_CODES.has(code)) {
          // The SDK retried this until it gave up: whether Temporal answers at all decides which 503 it is.
          return (await health.probeNow()) ? overBudget(message(verdict.err)) : unavailable(message(verdict.err));
        }
        health.noteAnswer();
        counts.failed++;
        return { kind: 'failed', error: message(verdict.err), waitedMs: waited() };
      }
    }
  }

  return {
    signal,
    reachable: () => health.probeNow(),
    stats: () => ({ ...counts, inFlight: limit.activeCount, queued: limit.pendingCount, temporal: health.state }),
    async drain(maxMs = 15_000): Promise<void> {
      const until = now() + maxMs;
      // Queued callbacks still take their slot (or give up at their deadline), so wait for the queue too.
      while ((inFlight.size > 0 || limit.activeCount + limit.pendingCount > 0) && now() < until) {
        let timer: NodeJS.Timeout | undefined;
        const wait = inFlight.size > 0 ? Promise.allSettled([...inFlight]) : new Promise((r) => setTimeout(r, 20));
        await Promise.race([wait, new Promise((r) => (timer = setTimeout(r, until - now())))]);
        clearTimeout(timer);
      }
    },
  };
}
