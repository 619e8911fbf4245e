/** The sweep's counts and action records: what a page activity returns and the workflow adds up. Workflow-safe. */
import type { StuckRecord } from './stuckTypes';

export type SweepActionKind = 'cancel-task' | 'complete-task' | 'end-execution';
/** `capped` = the policy would act, but maxActions was reached. (A write refused until re-decided is counted as `changed`, not recorded.) */
export type SweepActionResult = 'done' | 'already-closed' | 'dry-run' | 'capped';

export interface SweepActionRecord {
  kind: SweepActionKind;
  /** WT… or FN… */
  sid: string;
  /** WS… or FW… */
  parentSid: string;
  callSid?: string;
  /** Status the resource was in when decided (Task assignment status, or `active`). */
  fromStatus: string;
  result: SweepActionResult;
  reason: string;
  /** Messaging Executions: the widget it was stuck in. */
  widget?: string;
  /** Executions ended or found in dry run: where and why it was stuck (see README "Where Executions get stuck"). */
  stuck?: StuckRecord;
  detail?: string;
  atMs: number;
}

export interface SweepError {
  sid?: string;
  message: string;
}

export interface SweepCounts {
  tasksSeen: number;
  executionsSeen: number;
  /** Writes Twilio accepted, by kind. */
  closed: Record<SweepActionKind, number>;
  /** Dry run: writes that would have been made, by kind. */
  wouldClose: Record<SweepActionKind, number>;
  /** Found closed or gone when written (someone else was faster). */
  alreadyClosed: number;
  /** Changed under us and, decided again, left alone. */
  changed: number;
  /** Decided to act but not written because maxActions was reached. */
  capped: number;
  /** Nothing to do (e.g. the Execution already ended). */
  noAction: number;
  /** By reason: call-live, owned-by-callwatch, attributes-unparsable, … */
  skipped: Record<string, number>;
  errors: number;
  /** Live calls handed to a callWatch of their own (SweepInput.watchLiveCalls). Optional: older carried state lacks it. */
  watchesStarted?: number;
  /** Twilio requests made (including retries). */
  requests: { reads: number; writes: number; throttled: number };
}

export function emptyCounts(): SweepCounts {
  return {
    tasksSeen: 0,
    executionsSeen: 0,
    closed: { 'cancel-task': 0, 'complete-task': 0, 'end-execution': 0 },
    wouldClose: { 'cancel-task': 0, 'complete-task': 0, 'end-execution': 0 },
    alreadyClosed: 0,
    changed: 0,
    capped: 0,
    noAction: 0,
    skipped: {},
    errors: 0,
    requests: { reads: 0, writes: 0, throttled: 0 },
  };
}

/** Adds `b` into `a` (mutates and returns `a`). */
export function addCounts(a: SweepCounts, b: SweepCounts): SweepCounts {
  a.tasksSeen += b.tasksSeen;
  a.executionsSeen += b.executionsSeen;
  for (const k of Object.keys(a.closed) as SweepActionKind[]) {
    a.closed[k] += b.closed[k];
    a.wouldClose[k] += b.wouldClose[k];
  }
  a.alreadyClosed += b.alreadyClosed;
  a.changed += b.changed;
  a.capped += b.capped;
  a.noAction += b.noAction;
  for (const [r, n] of Object.entries(b.skipped)) a.skipped[r] = (a.skipped[r] ?? 0) + n;
  a.errors += b.errors;
  if (b.watchesStarted) a.watchesStarted = (a.watchesStarted ?? 0) + b.watchesStarted;
  a.requests.reads += b.requests.reads;
  a.requests.writes += b.requests.writes;
  a.requests.throttled += b.requests.throttled;
  return a;
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((x, y) => x + y, 0);
export const totalClosed = (c: SweepCounts): number => sum(c.closed);
export const totalWouldClose = (c: SweepCounts): number => sum(c.wouldClose);
export const totalSkipped = (c: SweepCounts): number => sum(c.skipped);
