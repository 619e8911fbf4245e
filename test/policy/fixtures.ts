// Shared fixtures for the policy tests: a fixed clock, SIDs, settings and attribute variants.
import type { CallState, ExecutionAction, ExecutionState, ExecutionTrigger, PolicySettings, TaskAction, TaskState } from '../../src/policy';

export const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;

export const CALL_SID = 'CA' + '0123456789abcdef'.repeat(2);
export const OTHER_CALL_SID = 'CA' + 'fedcba9876543210'.repeat(2);
export const TASK_SID = 'WT' + '1'.repeat(32);
export const EXEC_SID = 'FN' + '2'.repeat(32);
export const TASK_REASON = 'unstick: closed stuck voice task';

export const SETTINGS: PolicySettings = Object.freeze({
  graceMs: 1 * MIN,
  maxAgeMs: 4 * HOUR,
  messagingIdleMs: 4 * HOUR,
  taskReason: TASK_REASON,
});
export const settings = (over: Partial<PolicySettings> = {}): PolicySettings => Object.freeze({ ...SETTINGS, ...over });

export const CALL_STATES: readonly CallState[] = ['queued', 'ringing', 'in-progress', 'completed', 'canceled', 'failed', 'busy', 'no-answer', 'unknown', 'gone'];
export const LIVE: readonly CallState[] = ['queued', 'ringing', 'in-progress'];
export const TERMINAL: readonly CallState[] = ['completed', 'canceled', 'failed', 'busy', 'no-answer'];
export const EXECUTION_STATES: readonly ExecutionState[] = ['active', 'ended', 'gone', 'unknown'];
export const TRIGGERS: readonly ExecutionTrigger[] = ['call', 'message', 'conversation', 'request', 'unknown'];
export const TASK_STATES: readonly TaskState[] = ['pending', 'reserved', 'assigned', 'wrapping', 'completed', 'canceled', 'gone', 'unknown'];

/** Task attribute variants, as Twilio returns them (JSON strings). */
export const ATTRS = {
  valid: JSON.stringify({ from_country: 'US', call_sid: CALL_SID, direction: 'inbound' }),
  unparsable: '{"call_sid": "' + CALL_SID + '", ',
  custom: JSON.stringify({ call_sid: CALL_SID, custom_orchestration: true }),
  noCallSid: JSON.stringify({ from: '+15550000000', direction: 'inbound' }),
} as const;
export type AttrVariant = keyof typeof ATTRS;

/** A compact rendering of an action for table assertions: 'none', 'end-execution', 'cancel-task:pending', 'skip:call-live'. */
export function brief(a: ExecutionAction | TaskAction): string {
  switch (a.kind) {
    case 'none':
      return 'none';
    case 'skip':
      return `skip:${a.reason}`;
    case 'end-execution':
      return 'end-execution';
    default:
      return `${a.kind}:${a.expectStatus}`;
  }
}
