/**
 * Signals, queries and updates of the callWatch workflow, and the shapes they carry.
 * Imported by the workflow, the webhook starter, the sweep and the CLI. Workflow-safe.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** A voice status callback (or a poll result) for the call. */
export interface CallStatusEvent {
  callSid: string;
  /** Twilio CallStatus: queued, ringing, in-progress, completed, canceled, failed, busy, no-answer. */
  status: string;
  /** Twilio's SequenceNumber (0 for the first callback of a call, increasing). */
  sequenceNumber?: number;
  /** Twilio's Timestamp, as epoch ms. */
  timestampMs?: number;
  /** CallDuration on the final callback, in seconds. */
  durationSec?: number;
  source: 'webhook' | 'poll' | 'sweep' | 'manual';
  from?: string;
  to?: string;
}

/** A TaskRouter workspace event for a Task whose attributes carry this call's `call_sid`. */
export interface TaskLinkEvent {
  callSid: string;
  workspaceSid: string;
  taskSid: string;
  eventType: string;
  assignmentStatus?: string;
  channel?: string;
  timestampMs?: number;
}

export const callStatusSignal = defineSignal<[CallStatusEvent]>('callStatus');
export const taskLinkSignal = defineSignal<[TaskLinkEvent]>('taskLink');

export interface ActionRecord {
  kind: 'end-execution' | 'cancel-task' | 'complete-task';
  sid: string;
  /** `done` = written; `already-closed` = found closed/gone when written; `dry-run` = decided, not written. */
  result: 'done' | 'already-closed' | 'dry-run' | 'capped';
  reason: string;
  atMs: number;
}

/** What a reconcile activity did with one resource: the policy's final answer on a fresh read, and the write's result. */
export interface ReconcileResult {
  /** `none`: nothing to do; `skipped`: the policy declined; `changed`: declined after the resource changed under us. */
  result: 'done' | 'dry-run' | 'already-closed' | 'skipped' | 'changed' | 'capped' | 'none';
  action: { kind: string; reason: string; detail?: string };
  /** The resource's status at the last read (Task assignment status, Execution status), or `gone`. */
  observedStatus?: string;
  /** When the answer could change by itself (the wrap limit), if ever. */
  recheckAtMs?: number;
}

export interface CallWatchState {
  callSid: string;
  phase: 'waiting-for-end' | 'grace' | 'reconciling' | 'done' | 'live-flagged';
  callStatus: string;
  lastSequenceNumber?: number;
  callEndedAtMs?: number;
  executionSid?: string;
  flowSid?: string;
  executionStatus?: string;
  taskSid?: string;
  workspaceSid?: string;
  taskStatus?: string;
  actions: ActionRecord[];
  skipped: { sid?: string; reason: string; detail?: string }[];
  /**
   * While the watch waits on a timer, when it fires and the watch looks again: the end of the first poll delay, the
   * max age while live, the end of the grace, the wrap limit. Unset while it works or when it is done. The retries of
   * the poll activity are the server's timers, not the workflow's, so they are not shown.
   */
  nextCheckAtMs?: number;
  outcome?: string;
  dryRun: boolean;
}

export const stateQuery = defineQuery<CallWatchState>('state');
/** Re-check the call now (skips the current wait); returns the state after that check. */
export const reconcileNowUpdate = defineUpdate<CallWatchState, []>('reconcileNow');

/** Durations and switches a callWatch runs with; built from config by whoever starts it (workflows can't read env). */
export interface CallWatchSettings {
  dryRun: boolean;
  graceMs: number;
  maxAgeMs: number;
  pollInitialMs: number;
  pollMaxMs: number;
  wrapLimitMs?: number;
  messagingIdleMs: number;
  taskReason: string;
  /** A Task created this long after its call ended is not the call's live Task. */
  postCallTaskAfterMs: number;
  /** UNSTICK_PROTECT_TASKS: Tasks whose attributes match are never written. */
  protectTasks?: string;
  /** Studio Flows to search for this call's Execution when no link arrives. */
  flowSids: string[];
  /** TaskRouter Workspaces to search for this call's Task when no link arrives. */
  workspaceSids: string[];
}

export interface CallWatchInput {
  callSid: string;
  startedBy: 'webhook' | 'sweep' | 'manual';
  settings: CallWatchSettings;
  from?: string;
  to?: string;
  /** When the call started, if the starter knows (epoch ms). */
  startedAtMs?: number;
  /** Carried across continueAsNew. */
  carried?: CallWatchState;
}
