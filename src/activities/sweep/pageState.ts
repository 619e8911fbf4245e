/**
 * One sweep page activity's bookkeeping and plumbing: counts, action records, the maxActions budget, the heartbeat
 * checkpoint a retry resumes from, cancellation, and the counted, retried Twilio requests.
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { emptyCounts, pageProgressSignal, type PageProgress, type PageResult, type SweepActionRecord, type SweepCounts, type SweepError } from '../../shared/sweepTypes';
import type { Limit } from '../callActivities';
import { twilioStatus } from '../twilioErrors';
import { withTwilioRetry } from '../twilioRetry';

/** What a page activity heartbeats; read back from `activityInfo().heartbeatDetails` on a retry. */
export interface PageCheckpoint {
  /** The page to (re-)list on a retry: the oldest page of this activity not yet fully examined. */
  pageUrl?: string;
  /** The activity's own input pageUrl (tells whose checkpoint this is); absent in single-page checkpoints. */
  startUrl?: string | null;
  /** Pages of this activity fully examined before `pageUrl`. */
  pagesDone?: number;
  /** Every listed page was examined: a retry returns the result without listing again. */
  finished?: boolean;
  /** Where the listing goes on after the last examined page (kept for a `finished` checkpoint). */
  nextPageUrl?: string;
  /** Multi-Flow Execution activities: index (into the input's Flows) of the Flow `pageUrl` belongs to. */
  flowIndex?: number;
  /** SIDs of this page's resources (and of pages listed ahead of it) already examined (acted on, skipped, or failed). */
  handled: string[];
  counts: SweepCounts;
  actions: SweepActionRecord[];
  actionsOmitted: number;
  errors: SweepError[];
  budgetUsed: number;
  capReached: boolean;
}

export const MAX_ERRORS_PER_PAGE = 20;

export function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Twilio refused the credentials: stop the whole page (and, non-retryable, the sweep) at once. */
export const isAuthFailure = (err: unknown): boolean => twilioStatus(err) === 401 || twilioStatus(err) === 403;

function errorMessage(err: unknown): string {
  const status = twilioStatus(err);
  const msg = err instanceof Error ? err.message : String(err);
  return status ? `HTTP ${status}: ${msg}` : msg;
}

/** Runs `fn` over `items` with at most `concurrency` at once; stops taking new items once `stop()` is true. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>, stop: () => boolean): Promise<number> {
  let next = 0;
  let started = 0;
  const worker = async () => {
    while (next < items.length && !stop()) {
      const item = items[next++]!;
      started++;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return items.length - started;
}


/** Per-page bookkeeping: counts, action records, budget, checkpoint. */
export class PageState {
  handled: Set<string>;
  counts: SweepCounts;
  actions: SweepActionRecord[];
  actionsOmitted: number;
  errors: SweepError[];
  budgetUsed: number;
  capReached: boolean;
  readonly resumed: boolean;
  errorCap = MAX_ERRORS_PER_PAGE;
  /** Multi-page activities: the resume cursor (see PageCheckpoint). */
  cursor: { pageUrl?: string; pagesDone: number; finished: boolean; nextPageUrl?: string; flowIndex: number };

  constructor(
    private readonly input: { pageUrl?: string; budget: number | null; maxReportedActions: number },
    from: PageCheckpoint | undefined,
  ) {
    this.resumed = !!from;
    this.handled = new Set(from?.handled ?? []);
    this.counts = from?.counts ?? emptyCounts();
    this.actions = from?.actions ?? [];
    this.actionsOmitted = from?.actionsOmitted ?? 0;
    this.errors = from?.errors ?? [];
    this.budgetUsed = from?.budgetUsed ?? 0;
    this.capReached = from?.capReached ?? false;
    this.cursor = {
      pageUrl: from ? from.pageUrl : input.pageUrl,
      pagesDone: from?.pagesDone ?? 0,
      finished: from?.finished ?? false,
      nextPageUrl: from?.nextPageUrl,
      flowIndex: from?.flowIndex ?? 0,
    };
  }

  /** Takes one write from the maxActions budget; false once it is spent. */
  reserve(): boolean {
    if (this.input.budget !== null && this.budgetUsed >= this.input.budget) {
      this.capReached = true;
      return false;
    }
    this.budgetUsed++;
    if (this.input.budget !== null && this.budgetUsed >= this.input.budget) this.capReached = true;
    return true;
  }

  /** Keeps the action record while there is room in the report; past it only counts (no record is built). */
  record(base: Omit<SweepActionRecord, 'result' | 'atMs' | 'detail'>, result: SweepActionRecord['result'], atMs: number, detail?: string): void {
    if (this.actions.length >= this.input.maxReportedActions) {
      this.actionsOmitted++;
      return;
    }
    this.actions.push(detail === undefined ? { ...base, result, atMs } : { ...base, result, detail, atMs });
  }

  skip(reason: string): void {
    this.counts.skipped[reason] = (this.counts.skipped[reason] ?? 0) + 1;
  }

  error(sid: string | undefined, err: unknown): void {
    this.counts.errors++;
    if (this.errors.length < this.errorCap) this.errors.push({ sid, message: errorMessage(err) });
  }

  checkpoint(): PageCheckpoint {
    return {
      pageUrl: this.cursor.pageUrl,
      startUrl: this.input.pageUrl ?? null,
      pagesDone: this.cursor.pagesDone,
      finished: this.cursor.finished,
      nextPageUrl: this.cursor.nextPageUrl,
      ...(this.cursor.flowIndex ? { flowIndex: this.cursor.flowIndex } : {}),
      handled: [...this.handled],
      counts: this.counts,
      actions: this.actions,
      actionsOmitted: this.actionsOmitted,
      errors: this.errors,
      budgetUsed: this.budgetUsed,
      capReached: this.capReached,
    };
  }

  result(nextPageUrl: string | undefined, notExamined: number, pages: number, flowsDone?: number): PageResult {
    return {
      pages,
      ...(flowsDone === undefined ? {} : { flowsDone }),
      counts: this.counts,
      actions: this.actions,
      actionsOmitted: this.actionsOmitted,
      errors: this.errors,
      nextPageUrl,
      budgetUsed: this.budgetUsed,
      capReached: this.capReached,
      notExamined,
      resumed: this.resumed,
    };
  }
}


export interface PageEnv {
  limit: Limit;
  now: () => number;
  /** Heartbeat at most this often (the SDK throttles further). */
  checkpointEveryMs: number;
  /** Signal the workflow the counts so far this often while they change (0 = never). */
  progressEveryMs: number;
}

/** One page activity's plumbing: checkpoint, cancellation, counted and retried Twilio requests. */
export function pageRun(env: PageEnv, input: { pageUrl?: string; budget: number | null; maxReportedActions: number }) {
  const ctx = currentContext();
  const previous = ctx?.info.heartbeatDetails as PageCheckpoint | undefined;
  // A checkpoint belongs to the activity (first page) it was taken on; anything else is ignored.
  const mine = previous && (previous.startUrl === undefined ? previous.pageUrl === input.pageUrl : (previous.startUrl ?? undefined) === input.pageUrl);
  const st = new PageState(input, mine ? previous : undefined);
  let lastBeat = 0;
  const beat = (force = false) => {
    if (!ctx) return;
    const t = env.now();
    if (!force && t - lastBeat < env.checkpointEveryMs) return;
    lastBeat = t;
    ctx.heartbeat(st.checkpoint());
  };
  const cancelled = () => ctx?.cancellationSignal.aborted ?? false;

  async function request<T>(kind: 'read' | 'write', fn: () => Promise<T>): Promise<T> {
    return withTwilioRetry(
      () => {
        st.counts.requests[kind === 'read' ? 'reads' : 'writes']++;
        return env.limit(fn);
      },
      { onThrottled: () => st.counts.requests.throttled++, aborted: cancelled, ...(kind === 'write' ? { maxTransientAttempts: 1 } : {}) },
    );
  }

  /** Throws the cancellation (after a final checkpoint) if the activity was cancelled, e.g. on worker shutdown. */
  function throwIfCancelled(): void {
    if (!cancelled()) return;
    beat(true);
    const reason: unknown = ctx?.cancellationSignal.reason;
    throw reason instanceof CancelledFailure ? reason : new CancelledFailure(String(reason ?? 'cancelled'));
  }

  const progress = progressReporter(ctx, env, st);
  return { st, beat, request, cancelled, throwIfCancelled, close: progress.close };
}

export type PageRun = ReturnType<typeof pageRun>;

/** Runs a page activity's body with its plumbing; the result names the activity, so its progress signals stop counting. */
export async function withPageRun(env: PageEnv, input: { pageUrl?: string; budget: number | null; maxReportedActions: number }, body: (run: PageRun) => Promise<PageResult>): Promise<PageResult> {
  const run = pageRun(env, input);
  try {
    const r = await body(run);
    const id = currentContext()?.info.activityId;
    return id === undefined ? r : { ...r, activityId: id };
  } finally {
    await run.close();
  }
}

/**
 * Signals the activity's workflow its counts every `progressEveryMs` while they change (one signal in flight at
 * most; failures are ignored: progress is for display). `close` stops it and waits for the signal in flight, so
 * every signal reaches the history before the activity's result does.
 */
function progressReporter(ctx: Context | undefined, env: PageEnv, st: PageState): { close: () => Promise<void> } {
  const info = ctx?.info;
  if (!ctx || !info?.workflowExecution || env.progressEveryMs <= 0) return { close: async () => undefined };
  const { workflowId, runId } = info.workflowExecution;
  let inFlight: Promise<void> | undefined;
  let last = JSON.stringify({ c: st.counts, p: st.cursor.pagesDone });
  const send = (): void => {
    if (inFlight) return;
    const now = JSON.stringify({ c: st.counts, p: st.cursor.pagesDone });
    if (now === last) return;
    last = now;
    const p: PageProgress = { runId, activityId: info.activityId, attempt: info.attempt, counts: JSON.parse(now).c as SweepCounts, pagesDone: st.cursor.pagesDone };
    inFlight = ctx.client.workflow
      .getHandle(workflowId, runId)
      .signal(pageProgressSignal, p)
      .catch(() => undefined)
      .finally(() => (inFlight = undefined));
  };
  const timer = setInterval(send, env.progressEveryMs);
  timer.unref?.();
  return {
    close: async () => {
      clearInterval(timer);
      await inFlight;
    },
  };
}
