/**
 * Progress of a running page activity: the activity signals its workflow every few seconds with what it has counted
 * so far, so the `progress` query and the Web UI's current details grow while a long page runs, not only when it
 * ends. Display only: the workflow never decides anything on it. Workflow-safe.
 */
import { defineSignal } from '@temporalio/workflow';
import { addCounts, emptyCounts, type SweepCounts } from './sweepCounts';

export interface PageProgress {
  /** The workflow run the activity belongs to (a signal from a run before a continueAsNew is ignored). */
  runId: string;
  /** The activity's id in that run, and its attempt: an attempt's counts include what earlier attempts checkpointed. */
  activityId: string;
  attempt: number;
  /** Counts of this page activity so far (cumulative over its attempts, from its checkpoint). */
  counts: SweepCounts;
  /** List pages of this activity fully examined so far. */
  pagesDone: number;
}

export const pageProgressSignal = defineSignal<[PageProgress]>('sweepPageProgress');

/**
 * The workflow's view of its running page activity. `accept` takes a signal unless it comes from another run, from
 * an activity already merged, or from an older attempt than the one shown; `finish` is called with the id of an
 * activity whose result was merged (its counts are then in the totals, so its signals are dropped).
 */
export class RunningPage {
  private live: PageProgress | undefined;
  private readonly finished = new Set<string>();

  constructor(private readonly runId: string) {}

  accept(p: PageProgress): boolean {
    if (p.runId !== this.runId || this.finished.has(p.activityId)) return false;
    if (this.live && this.live.activityId === p.activityId && p.attempt < this.live.attempt) return false;
    this.live = p;
    return true;
  }

  finish(activityId: string | undefined): void {
    if (activityId !== undefined) this.finished.add(activityId);
    if (activityId === undefined || this.live?.activityId === activityId) this.live = undefined;
  }

  /** The totals so far plus the running activity's counts (a new object). */
  counts(totals: SweepCounts): SweepCounts {
    const c = addCounts(emptyCounts(), totals);
    return this.live ? addCounts(c, this.live.counts) : c;
  }

  get pagesDone(): number {
    return this.live?.pagesDone ?? 0;
  }

  get running(): boolean {
    return this.live !== undefined;
  }
}
