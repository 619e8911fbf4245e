/**
 * The policy's vocabulary: what is known about a call, its Studio Execution and its TaskRouter Task (and where
 * each fact came from), and what to do about them. Pure data; workflow-safe (no Node imports).
 */
import type { CallStatus, TaskAssignmentStatus } from '../shared/constants';

/** `unknown` = not read yet or the read failed; `gone` = Twilio answered 404 (the Call does not exist). */
export type CallState = CallStatus | 'unknown' | 'gone';
export type ExecutionState = 'active' | 'ended' | 'gone' | 'unknown';
export type TaskState = TaskAssignmentStatus | 'gone' | 'unknown';

/**
 * Where a fact came from. `fetch`: a read of that one resource (for a Task, with its ETag), the only source a
 * write may be decided on. `list`: a list page item, an event or a signal; good enough to nominate a candidate or
 * to leave something alone, never to write.
 */
export type FactSource = 'fetch' | 'list';

export interface CallFacts {
  status: CallState;
  /** The Call's SID when known; lets the policy refuse a Task whose `call_sid` names another call. */
  sid?: string;
  /** When the call ended (Twilio end_time, or when the terminal status was first seen), epoch ms. */
  endedAtMs?: number;
  /** When the call started (Twilio start_time / date_created), epoch ms. */
  startedAtMs?: number;
}

export type ExecutionTrigger = 'call' | 'message' | 'conversation' | 'request' | 'unknown';

/** Where an active Execution waits: the widget its newest Step transitioned to, and since when. */
export type WaitingFacts =
  | { kind: 'widget'; widget: string; sinceMs: number; readAtMs: number }
  /** The Execution has no Steps (it has not left the Trigger). */
  | { kind: 'no-steps'; readAtMs: number };

export interface ExecutionFacts {
  sid: string;
  state: ExecutionState;
  /** What started it: `call` for inbound voice (initiated_by CA…), `message` for SMS/webchat, … */
  trigger: ExecutionTrigger;
  /** The Call that started it (voice), from initiated_by or the Execution's context. */
  callSid?: string;
  createdAtMs?: number;
  /** date_updated of the Execution. */
  updatedAtMs?: number;
  flowSid?: string;
  /** The Flow revision it runs (flow_version). */
  flowRevision?: number;
  source: FactSource;
  /** When the fetch was made (epoch ms); only for `source: 'fetch'`. */
  readAtMs?: number;
  /** From its Steps; undefined = not read. */
  waiting?: WaitingFacts;
}

/** One widget of a Flow definition, as far as the policy needs it. */
export interface WidgetFacts {
  type: string;
  /** Send & Wait For Reply: its `timeout` property (seconds, as Twilio stores it: a string); undefined when absent. */
  timeout?: unknown;
}

/** A Flow's definition at one revision, or why it could not be read. */
export type FlowFacts =
  | { kind: 'read'; sid: string; revision: number; widgets: Record<string, WidgetFacts> }
  | { kind: 'unreadable'; sid: string; detail: string };

/** A Task's attributes as the policy sees them. Never `undefined`: a list item without them is `unknown`. */
export type TaskAttributes =
  | { kind: 'unknown' }
  | { kind: 'unparsable'; detail: string }
  | {
      kind: 'parsed';
      /** The attributes object (for the operator's protection expression). */
      value: Record<string, unknown>;
      /** Only a well-formed Call SID (`CA` + 32 hex digits). */
      callSid?: string;
      /** Set when `call_sid` is present but not a Call SID (then `callSid` is absent): what was wrong. */
      callSidProblem?: string;
      customOrchestration: boolean;
      channelHint?: string;
    };

export interface TaskFacts {
  sid: string;
  state: TaskState;
  /** task_channel_unique_name: voice, chat, sms, … */
  channel?: string;
  attributes: TaskAttributes;
  /** date_created of the Task, epoch ms. */
  createdAtMs?: number;
  /** date_updated of the Task (when it entered its current assignment status), epoch ms. */
  statusSinceMs?: number;
  source: FactSource;
  /** The ETag of the fetch these facts came from; a write carries it as If-Match. */
  version?: string;
  /** When the fetch was made (epoch ms); only for `source: 'fetch'`. */
  readAtMs?: number;
}

export interface PolicySettings {
  /** After the call's end, how long Studio and TaskRouter get to clean up by themselves. */
  graceMs: number;
  /** A call still live this long after it started is re-checked, flagged, and left alone. */
  maxAgeMs: number;
  /** If set, a Task `wrapping` this long after the call ended is completed; unset = leave wrapping to the agent. */
  wrapLimitMs?: number;
  /**
   * A messaging Execution not waiting in a widget with a timeout is ended after this long without a Step; a voice
   * Execution whose call cannot be found (404) after this long since it was created.
   */
  messagingIdleMs: number;
  /** Task reason written on cancel/complete. */
  taskReason: string;
  /** A Task created this long after its call ended is not the call's live Task (a callback, a voicemail). */
  postCallTaskAfterMs: number;
  /** Operator protection: a TaskRouter-style expression over Task attributes; a matching Task is never written. */
  protectTasks?: string;
  /** A fetch older than this is read again before a write. Default `MAX_READ_AGE_MS`. */
  maxReadAgeMs?: number;
}

/** Reasons the policy declines to act; stable strings, used as report keys and in search attributes. */
export type SkipReason =
  | 'call-live'
  | 'call-unknown'
  | 'attributes-unparsable'
  | 'custom-orchestration'
  | 'protected'
  | 'post-call-task'
  | 'no-call-sid'
  | 'unknown-channel'
  | 'not-voice'
  | 'wrapping-left-to-agent'
  | 'messaging-not-idle'
  | 'execution-trigger-unknown'
  | 'owned-by-callwatch'
  | 'channel-not-swept'
  /** The call ended less than `graceMs` ago (or when it ended is unknown); Studio/TaskRouter may still clean up. */
  | 'grace-period'
  /** The Task's (or Execution's) call is not the one we know about. */
  | 'call-sid-mismatch'
  /** The Flow definition could not be read, so the widget's timeout is unknown. */
  | 'flow-unreadable'
  /** A fetched Task came without an ETag: a write could not carry If-Match. */
  | 'task-version-unknown'
  /** The resource kept changing between our read and our write. */
  | 'changed-under-us';

/** A read the policy needs before it can decide (the writer performs it and asks again). */
export interface ReadFirst {
  kind: 'read';
  what: 'task' | 'call' | 'execution' | 'steps' | 'flow';
  /** The SID to read (the call for `call`, the Flow for `flow`). */
  sid: string;
  /** `flow`: the revision wanted. */
  revision?: number;
  reason: string;
}

export interface Skip {
  kind: 'skip';
  reason: SkipReason;
  detail?: string;
  /** When this answer could change by itself (e.g. the wrap limit, a widget timeout), if known. */
  recheckAtMs?: number;
}

export interface NoAction {
  kind: 'none';
  reason: string;
}

export interface EndExecution {
  kind: 'end-execution';
  sid: string;
  reason: string;
  /** Messaging: the widget it was stuck in. */
  widget?: string;
}

export interface CloseTask {
  kind: 'cancel-task' | 'complete-task';
  sid: string;
  reason: string;
  expectStatus: TaskAssignmentStatus;
  /** The ETag the decision was made on: sent as If-Match. */
  version: string;
}

export type ExecutionAction = EndExecution | NoAction | Skip | ReadFirst;
export type TaskAction = CloseTask | NoAction | Skip | ReadFirst;

export interface CallDecision {
  execution: ExecutionAction;
  task: TaskAction;
  /** When to look again (epoch ms); undefined = nothing left to wait for. */
  nextCheckAtMs?: number;
  /** Why we wait: the call is live, its status is unknown, the grace period or the wrap limit is running. */
  waitReason?: 'call-live' | 'grace' | 'call-unknown' | 'wrap-limit' | 'widget-timeout';
  /** True when the call is still live past maxAge: flag it, never close it. */
  flagLongLive: boolean;
}

/** The inputs every resource decision takes. */
interface DecisionContext {
  nowMs: number;
  settings: PolicySettings;
  /** callWatch: the call this watch belongs to; the resource must be that call's. */
  watchedCallSid?: string;
  /** Sweep: the resource's call has a running callWatch (which owns it). */
  ownedByCallWatch?: boolean;
}

export interface TaskDecisionInput extends DecisionContext {
  task: TaskFacts;
  /** The call named by the Task's `call_sid` (when read), or the watched call. */
  call?: CallFacts;
  /** TaskChannel unique names known not to be voice, in addition to the built-in list. */
  channels?: readonly string[];
}

export interface ExecutionDecisionInput extends DecisionContext {
  execution: ExecutionFacts;
  /** The call that started it (voice), when read; or the watched call. */
  call?: CallFacts;
  /** The Execution's Flow at its revision (messaging), when read. */
  flow?: FlowFacts;
  /** Sweep: the channels being swept (`voice`, `sms`, `webchat`, …); undefined = all. */
  sweptChannels?: readonly string[];
}

export interface CallDecisionInput {
  nowMs: number;
  call: CallFacts;
  execution?: ExecutionFacts;
  task?: TaskFacts;
  settings: PolicySettings;
}
