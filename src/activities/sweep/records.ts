/** Turning a sweep page's inputs into policy settings, and a guarded write's result into the page's counts and records. */
import type { PolicySettings } from '../../policy/types';
import type { ExecutionPageInput, SweepActionKind, SweepActionRecord, TaskPageInput } from '../../shared/sweepTypes';
import type { Guarded } from '../guardedWrite';
import { recordSweepBacklog } from '../metrics';
import type { PageState } from './pageState';

export function policySettings(input: TaskPageInput | ExecutionPageInput): PolicySettings {
  return {
    graceMs: input.graceMs,
    maxAgeMs: input.maxAgeMs,
    wrapLimitMs: input.wrapLimitMs,
    messagingIdleMs: input.messagingIdleMs,
    taskReason: input.taskReason,
    postCallTaskAfterMs: input.postCallTaskAfterMs,
    ...(input.protectTasks !== undefined ? { protectTasks: input.protectTasks } : {}),
  };
}

/** Counts and records a write the policy decided (done, dry run, capped, or found closed when written). */
export function tally(
  st: PageState,
  result: Guarded<unknown, unknown>['result'],
  kind: SweepActionKind,
  base: Omit<SweepActionRecord, 'result' | 'atMs' | 'detail'>,
  atMs: number,
): void {
  switch (result) {
    case 'done':
      st.counts.closed[kind]++;
      st.record(base, 'done', atMs);
      recordSweepBacklog(kind);
      return;
    case 'dry-run':
      st.counts.wouldClose[kind]++;
      st.record(base, 'dry-run', atMs);
      recordSweepBacklog(kind);
      return;
    case 'capped':
      st.counts.capped++;
      st.record(base, 'capped', atMs);
      recordSweepBacklog(kind);
      return;
    case 'already-closed':
      st.counts.alreadyClosed++;
      st.record(base, 'already-closed', atMs, 'gone (404) when written');
      return;
    default:
      st.counts.changed++;
  }
}
