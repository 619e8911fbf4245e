/** Small predicates over the policy's facts, shared by the callWatch and sweep rules. */
import { LIVE_CALL_STATUSES, OPEN_TASK_STATUSES, TERMINAL_CALL_STATUSES } from '../shared/constants';
import type { CallState, TaskState } from './types';

/**
 * Terminal call states. The seed cleaner's list omits `canceled`; Twilio lists `canceled` as terminal
 * (a call canceled while queued/ringing is over), so unstick includes it.
 */
export const TERMINAL_CALL_STATES: readonly CallState[] = TERMINAL_CALL_STATUSES;

export const isCallTerminal = (s: CallState): boolean => TERMINAL_CALL_STATES.includes(s);
export const isCallLive = (s: CallState): boolean => (LIVE_CALL_STATUSES as readonly CallState[]).includes(s);

/** Task states the policy may close: never-assigned ones are canceled, assigned ones completed. */
export const OPEN_TASK_STATES: readonly TaskState[] = OPEN_TASK_STATUSES;
export const isTaskOpen = (s: TaskState): s is 'pending' | 'reserved' | 'assigned' => OPEN_TASK_STATES.includes(s);
export const isTaskClosed = (s: TaskState): boolean => s === 'completed' || s === 'canceled' || s === 'gone';

/**
 * A fetch older than this is read again before a write is decided on it. The write itself carries the Task's ETag,
 * so this only bounds how old the other facts judged with it (its call, an Execution's Steps) may be.
 */
export const MAX_READ_AGE_MS = 30_000;

/** The shortest re-check interval the policy asks for (so a zero grace or max age never spins). */
export const MIN_RECHECK_MS = 1000;

/** "90s", "4m", "2h 5m" — for human-readable reasons. Deterministic (no locale). */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
}
