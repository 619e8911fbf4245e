/**
 * Defaults of the reconciler's settings: what config takes when a variable is unset, and what the workflows take
 * when an input leaves a field out (hand-started runs, Schedules written by older versions). Grouped as Config is.
 * Workflow-safe.
 */
import type { SweepChannel } from './names';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULTS = {
  callWatch: {
    /** UNSTICK_GRACE_PERIOD: after a call's end, how long Studio and TaskRouter get to clean up by themselves. */
    graceMs: 2 * MINUTE,
    /** UNSTICK_MAX_AGE: a call live for this long is flagged. */
    maxAgeMs: 4 * HOUR,
    /** UNSTICK_POLL_INITIAL, UNSTICK_POLL_MAX: the call status poll's first and longest interval. */
    pollInitialMs: 30_000,
    pollMaxMs: 5 * MINUTE,
    /** UNSTICK_TASK_REASON: written on the Tasks unstick cancels or completes. */
    taskReason: 'unstick: closed stuck voice Task after the call ended',
  },
  sweep: {
    /** UNSTICK_SWEEP_INTERVAL, UNSTICK_SWEEP_CATCHUP */
    intervalMs: 15 * MINUTE,
    catchupMs: HOUR,
    /** UNSTICK_SWEEP_MAX_ACTIONS: writes per sweep; 0 = no cap. */
    maxActions: 500,
    /** UNSTICK_SWEEP_CONCURRENCY: Twilio's REST limit is on requests in flight per account; stay a little under the usual cap. */
    concurrency: 40,
    /** UNSTICK_EXECUTION_THRESHOLD: Studio's own advice: Executions older than ~4 h without progress are stuck. */
    executionThresholdMs: 4 * HOUR,
    /** UNSTICK_SWEEP_CHANNELS */
    channels: ['voice', 'sms', 'webchat'] as const satisfies readonly SweepChannel[],
  },
  policy: {
    /** UNSTICK_POST_CALL_TASK_AFTER: a Task created this long after its call ended is not the call's live Task. */
    postCallTaskAfterMs: 2 * MINUTE,
  },
} as const;
