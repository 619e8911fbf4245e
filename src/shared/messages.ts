/**
 * Signals, queries and updates of the callWatch workflow, and the shapes they carry.
 * Imported by the workflow, the webhook starter, the sweep and the CLI. Workflow-safe.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StuckRecord } from './stuckTypes';

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

/**
 * What the linker (src/workflows/linker.ts) placed for this call from its list pages: the Execution whose
 * `initiated_by` is the call, and/or the Task whose `call_sid` is the call. Only links: the watch's reconcile reads
 * each resource fresh before the policy decides anything.
 */
export interface LinksEvent {
  callSid: string;
  execution?: { flowSid: string; executionSid: string };
  task?: { workspaceSid: string; taskSid: string; assignmentStatus?: string };
}

/**
 * A Studio Execution of this call, from an Event Streams `com.twilio.studio.flow.execution.*` event whose
 * `started_by` is the call. Only a link, as the linker's: the reconcile reads the Execution fresh before deciding.
 */
export interface ExecutionLinkEvent {
  callSid: string;
  flowSid: string;
  executionSid: string;
  /** The event type it came from (started / ended): informational, never a reason to write. */
  eventType: string;
  timestampMs?: number;
}

export const callStatusSignal = defineSignal<[CallStatusEvent]>('callStatus');
export const executionLinkSignal = defineSignal<[ExecutionLinkEvent]>('executionLink');
export const taskLinkSignal = defineSignal<[TaskLinkEvent]>('taskLink');
export const linksSignal = defineSignal<[LinksEvent]>('links');
/**
 * The linker's live check did not find this call among the account's live calls: a watch still waiting for its end
 * reads the Call now (its final callback may have been lost). A watch that knows the end ignores it.
 */
export const checkCallSignal = defineSignal<[]>('checkCall');

export interface ActionRecord {
  kind: 'end-execution' | 'cancel-task' | 'complete-task';
  sid: string;
  /** `done` = written; `already-closed` = found closed/gone when written; `dry-run` = decided, not written. */
  result: 'done' | 'already-closed' | 'dry-run' | 'capped';
  reason: string;
  atMs: number;
  /** An Execution ended or found in dry run: where and why it was stuck. */
  stuck?: StuckRecord;
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
  /** An Execution ended or found in dry run: where and why it was stuck. */
  stuck?: StuckRecord;
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
  /** Status callbacks heard from the webhook (absent: none). */
  callbacks?: number;
  /** Where the links came from: `linker`, `event` (TaskRouter or Event Streams via the webhook), `discovery`. */
  linkedBy?: { execution?: string; task?: string };
}

/** What linker passes counted: one pass's (its activity's result) or the sum of all (the linker's progress). */
export interface LinkCounts {
  /** Executions and Tasks listed (new ones, after de-duplication). */
  executionsListed: number;
  tasksListed: number;
  /** Twilio requests made: list pages and Task fetches (list attributes null). */
  listRequests: number;
  taskFetches: number;
  /** Watches signalled their links, and links given up on (no running watch within the retry window). */
  linked: number;
  unplaced: number;
  /** Watches started by the linker for links whose call had none (its callbacks lost, or the webhook down). */
  started: number;
  /** Watches told to read their Call by a live check (not among the live calls). */
  nudged: number;
}

const LINK_COUNT_KEYS = ['executionsListed', 'tasksListed', 'listRequests', 'taskFetches', 'linked', 'unplaced', 'started', 'nudged'] as const satisfies readonly (keyof LinkCounts)[];

export const emptyLinkCounts = (): LinkCounts => ({ executionsListed: 0, tasksListed: 0, listRequests: 0, taskFetches: 0, linked: 0, unplaced: 0, started: 0, nudged: 0 });

/** Adds `b`'s counts to `a`'s. */
export function addLinkCounts(a: LinkCounts, b: LinkCounts): void {
  // Progress carried from a run before a key existed lacks it.
  for (const k of LINK_COUNT_KEYS) a[k] = (a[k] ?? 0) + (b[k] ?? 0);
}

/** What the linker has done so far (its `state` query and the Web UI's current details). */
export interface LinkerProgress extends LinkCounts {
  passes: number;
  /** Live checks made. */
  liveChecks: number;
  lastPassAtMs?: number;
  lastPassMs?: number;
}

export const linkerStateQuery = defineQuery<LinkerProgress>('state');

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
  /**
   * UNSTICK_LINK_WAIT: until this long after the call's start, a watch with no link yet waits for the linker's (or a
   * TaskRouter event's) before discovering on its own. Absent or 0: no wait.
   */
  linkWaitMs?: number;
  /**
   * UNSTICK_POLL_WITH_CALLBACKS: the poll interval of a watch whose call sends status callbacks (the webhook started
   * it, or it has heard one): its poll is only the backstop for a lost final callback. Absent: pollMaxMs.
   */
  pollWithCallbacksMs?: number;
}

export interface CallWatchInput {
  callSid: string;
  /**
   * `event-streams`: started from an Event Streams event; `linker`: by the linker for a call with no watch. Neither has
   * heard a callback, so it polls its call as such.
   */
  startedBy: 'webhook' | 'event-streams' | 'sweep' | 'linker' | 'manual';
  settings: CallWatchSettings;
  from?: string;
  to?: string;
  /** When the call started, if the starter knows (epoch ms). */
  startedAtMs?: number;
  /** Carried across continueAsNew. */
  carried?: CallWatchState;
}

export const LINKER_WORKFLOW_TYPE = 'linker';
/** One linker per account (and namespace): `unstick-linker:AC…`. */
export const linkerWorkflowId = (accountSid: string): string => `unstick-linker:${accountSid || 'unconfigured'}`;
