/** Twilio's call statuses and TaskRouter's Task assignment statuses, as the policy and the workflows read them. Workflow-safe. */
export const TERMINAL_CALL_STATUSES = ['completed', 'canceled', 'failed', 'busy', 'no-answer'] as const;
export const LIVE_CALL_STATUSES = ['queued', 'ringing', 'in-progress'] as const;
export type CallStatus = (typeof TERMINAL_CALL_STATUSES)[number] | (typeof LIVE_CALL_STATUSES)[number];
export const isTerminalCallStatus = (s: string): boolean => (TERMINAL_CALL_STATUSES as readonly string[]).includes(s);
export const isCallStatus = (s: string): s is CallStatus =>
  isTerminalCallStatus(s) || (LIVE_CALL_STATUSES as readonly string[]).includes(s);

export const OPEN_TASK_STATUSES = ['pending', 'reserved', 'assigned'] as const;
export const TASK_STATUSES = ['pending', 'reserved', 'assigned', 'wrapping', 'completed', 'canceled'] as const;
export type TaskAssignmentStatus = (typeof TASK_STATUSES)[number];
