/**
 * Where a stuck Execution was stuck and why: recorded for every Execution unstick ended (or would end, in dry run),
 * in the callWatch result's actions and the sweep report's actions. Optional everywhere: older results have none.
 */
export const STUCK_CAUSES = [
  'stop-after-hangup-before-twiml',
  'status-callback-misconfigured',
  'send-and-wait-without-timeout',
  'concurrent-calls-off',
  'outage-window',
  'unknown',
] as const;
export type StuckCause = (typeof STUCK_CAUSES)[number];

export interface StuckRecord {
  cause: StuckCause;
  /** Why the classifier chose that cause, in words. */
  detail: string;
  flowSid: string;
  /** The Flow revision the Execution ran (its flow_version), when known. */
  flowRevision?: number;
  /** The widget it was stuck in: its last Step's `transitioned_to` (`Trigger` when it has no Step). */
  widget?: string;
  /** That widget's `type` in the Flow definition. */
  widgetType?: string;
  transitionedFrom?: string;
  /** The last Step's `name` (the event that moved it). */
  stepName?: string;
  /** The number the call came in on (the Call's `to`), voice only. */
  calledNumber?: string;
  /** The Flow's `definition.flags.allow_concurrent_calls` was not true. */
  concurrentCallsOff?: boolean;
  /** When it was recorded (epoch ms). */
  atMs: number;
}
