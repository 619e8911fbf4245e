/** The `UnstickOutcome` search-attribute values and how a decision (or a set of actions) maps onto them. */
import type { CallDecision, ExecutionAction, TaskAction } from './types';

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
} as const;
export type UnstickOutcome = (typeof OUTCOME)[keyof typeof OUTCOME];
export const UNSTICK_OUTCOMES: readonly UnstickOutcome[] = Object.values(OUTCOME);

export type PolicyAction = ExecutionAction | TaskAction;
export type WriteAction = Extract<PolicyAction, { kind: 'end-execution' | 'cancel-task' | 'complete-task' }>;
export const isWriteAction = (a: PolicyAction): a is WriteAction =>
  a.kind === 'end-execution' || a.kind === 'cancel-task' || a.kind === 'complete-task';

export interface OutcomeInput {
  /** A callWatch decision; its two actions count as `actions`, and its wait/flag as watching/live-flagged. */
  decision?: CallDecision;
  /** Decided actions (e.g. the sweep's, one per resource). */
  actions?: readonly PolicyAction[];
  /**
   * Results of the writes actually attempted (callWatch `ActionRecord.result`: 'done', 'dry-run', …).
   * When given, they decide closed/dry-run instead of the decided write actions.
   */
  results?: readonly string[];
  /** Decided writes were not made (dry run). */
  dryRun?: boolean;
}

/**
 * closed/dry-run (any write) > live-flagged > watching (a next check is due) > skipped (any skip) > clean.
 */
export function summarizeOutcome(input: OutcomeInput): UnstickOutcome {
  const { decision, results, dryRun = false } = input;
  const actions: PolicyAction[] = [...(decision ? [decision.execution, decision.task] : []), ...(input.actions ?? [])];
  if (results !== undefined) {
    if (results.includes('done')) return OUTCOME.closed;
    if (results.includes('dry-run')) return OUTCOME.dryRun;
  } else if (actions.some(isWriteAction)) {
    return dryRun ? OUTCOME.dryRun : OUTCOME.closed;
  }
  if (decision?.flagLongLive) return OUTCOME.liveFlagged;
  if (decision?.nextCheckAtMs !== undefined) return OUTCOME.watching;
  if (actions.some((a) => a.kind === 'skip')) return OUTCOME.skipped;
  return OUTCOME.clean;
}
