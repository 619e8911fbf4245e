/** The `UnstickOutcome` search-attribute values, and how decisions and write results map onto them. */
import type { CallDecision, CloseTask, EndExecution, ExecutionAction, TaskAction } from './types';

export const OUTCOME = {
  /** Nothing was open (or nothing needed doing). */
  clean: 'clean',
  /** At least one write happened. */
  closed: 'closed',
  /** Writes were decided but not made (dry run). */
  dryRun: 'dry-run',
  /** The call is still live past its max age: flagged, left alone. */
  liveFlagged: 'live-flagged',
  /** Something open was left alone for a reason (see the skip reasons). */
  skipped: 'skipped',
  /** Still waiting (call live, grace period, wrap limit, call status unknown). */
  watching: 'watching',
  /** Sweep: some resources could not be examined (Twilio kept failing); see the report's errors. */
  errors: 'errors',
} as const;
export type UnstickOutcome = (typeof OUTCOME)[keyof typeof OUTCOME];
export const UNSTICK_OUTCOMES: readonly UnstickOutcome[] = Object.values(OUTCOME);

export type PolicyAction = ExecutionAction | TaskAction;
export type WriteAction = EndExecution | CloseTask;
export const isWriteAction = (a: PolicyAction): a is WriteAction =>
  a.kind === 'end-execution' || a.kind === 'cancel-task' || a.kind === 'complete-task';

/** What a writer did with a decision (callWatch `ActionRecord.result`, the sweep's action records). */
export type WriteResult = 'done' | 'dry-run' | 'already-closed' | 'skipped' | 'changed' | 'capped';

export interface OutcomeInput {
  /** A callWatch decision; its two actions count as `actions`, and its wait/flag as watching/live-flagged. */
  decision?: CallDecision;
  /** The final decisions of the writers (one per resource). */
  actions?: readonly PolicyAction[];
  /** Results of the writes actually attempted. When given, they decide closed/dry-run. */
  results?: readonly WriteResult[];
  /** Examinations that failed (sweep). */
  errors?: number;
  /** Decided writes were not made (dry run). */
  dryRun?: boolean;
}

/**
 * errors > closed/dry-run (any write) > live-flagged > watching (a next check is due) > skipped (any skip) > clean.
 */
export function summarizeOutcome(input: OutcomeInput): UnstickOutcome {
  const { decision, results, dryRun = false } = input;
  if ((input.errors ?? 0) > 0) return OUTCOME.errors;
  const actions: PolicyAction[] = [...(decision ? [decision.execution, decision.task] : []), ...(input.actions ?? [])];
  if (results !== undefined) {
    if (results.includes('done')) return OUTCOME.closed;
    if (results.includes('dry-run')) return OUTCOME.dryRun;
  } else if (actions.some(isWriteAction)) {
    return dryRun ? OUTCOME.dryRun : OUTCOME.closed;
  }
  if (decision?.flagLongLive) return OUTCOME.liveFlagged;
  if (decision?.nextCheckAtMs !== undefined) return OUTCOME.watching;
  if (actions.some((a) => a.kind === 'skip') || results?.some((r) => r === 'skipped' || r === 'changed')) return OUTCOME.skipped;
  return OUTCOME.clean;
}
