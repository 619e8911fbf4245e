/**
 * The policy's vocabulary: what is known about a call, its Studio Execution and its TaskRouter Task,
 * and what to do about them. Pure data; workflow-safe (no Node imports).
 */
import type { CallStatus, TaskAssignmentStatus } from '../shared/constants';

/** `unknown` = not read yet or the read failed; `gone` = Twilio answered 404 (the Call does not exist). */
export type CallState = CallStatus | 'unknown' | 'gone';
export type ExecutionState = 'active' | 'ended' | 'gone' | 'unknown';
export type TaskState = TaskAssignmentStatus | 'gone' | 'unknown';

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

export interface ExecutionFacts {
  sid: string;
  state: ExecutionState;
  /** What started it: `call` for inbound voice (initiated_by CA…), `message` for SMS/webchat, … */
  trigger: ExecutionTrigger;
  createdAtMs?: number;
  /** date_created of the newest Step (or date_updated of the Execution when Steps are unknown). */
  lastStepAtMs?: number;
}

export interface TaskFacts {
  sid: string;
  state: TaskState;
  /** task_channel_unique_name: voice, chat, sms, … */
  channel?: string;
  /** The Task's attributes exactly as Twilio returns them: a JSON string (may be malformed). */
  attributes?: string;
  /** date_updated of the Task (when it entered its current assignment status), epoch ms. */
  statusSinceMs?: number;
}

export interface PolicySettings {
  /** After the call's end, how long Studio and TaskRouter get to clean up by themselves. */
  graceMs: number;
  /** A call still live this long after it started is re-checked, flagged, and left alone. */
  maxAgeMs: number;
  /** If set, a Task `wrapping` this long after the call ended is completed; unset = leave wrapping to the agent. */
  wrapLimitMs?: number;
  /** A messaging (SMS/webchat) Execution with no Step for this long is ended. */
  messagingIdleMs: number;
  /** Task reason written on cancel/complete. */
  taskReason: string;
}

/** Reasons the policy declines to act; stable strings, used as report keys and in search attributes. */
export type SkipReason =
  | 'call-live'
  | 'call-unknown'
  | 'attributes-unparsable'
  | 'custom-orchestration'
  | 'no-call-sid'
  | 'unknown-channel'
  | 'not-voice'
  | 'wrapping-left-to-agent'
  | 'messaging-not-idle'
  | 'execution-trigger-unknown'
  | 'owned-by-callwatch'
  /** Sweep only: the call ended less than `graceMs` ago; Studio/TaskRouter may still clean up by themselves. */
  | 'grace-period'
  /** The Task's `call_sid` names a different call than the one we know about. */
  | 'call-sid-mismatch';

export type ExecutionAction =
  | { kind: 'end-execution'; sid: string; reason: string }
  | { kind: 'none'; reason: string }
  | { kind: 'skip'; reason: SkipReason; detail?: string };

export type TaskAction =
  | { kind: 'cancel-task' | 'complete-task'; sid: string; reason: string; expectStatus: TaskAssignmentStatus }
  | { kind: 'none'; reason: string }
  | { kind: 'skip'; reason: SkipReason; detail?: string };

export interface CallDecision {
  execution: ExecutionAction;
  task: TaskAction;
  /** When to look again (epoch ms); undefined = nothing left to wait for. */
  nextCheckAtMs?: number;
  /** Why we wait: the call is live, or the grace period after its end is running. */
  waitReason?: 'call-live' | 'grace' | 'call-unknown' | 'wrap-limit';
  /** True when the call is still live past maxAge: flag it, never close it. */
  flagLongLive: boolean;
}

/** The parsed, policy-relevant part of a Task's attributes. */
export type ParsedTaskAttributes =
  | {
      ok: true;
      /** Only a well-formed Call SID (`CA` + 32 hex digits). */
      callSid?: string;
      /** Set when `call_sid` is present but not a Call SID (then `callSid` is absent): what was wrong. */
      callSidProblem?: string;
      customOrchestration: boolean;
      channelHint?: string;
    }
  | { ok: false; reason: 'attributes-unparsable'; detail: string };

export interface CallDecisionInput {
  nowMs: number;
  call: CallFacts;
  execution?: ExecutionFacts;
  task?: TaskFacts;
  settings: PolicySettings;
}

export interface SweepTaskInput {
  nowMs: number;
  task: TaskFacts;
  /** The Call named by the Task's `call_sid` (see `taskNeedsCall`); absent when not fetched. */
  call?: CallFacts;
  settings: PolicySettings;
  /** TaskChannel unique names known in the workspace, in addition to the built-in list. */
  channels?: readonly string[];
}

export interface SweepExecutionInput {
  nowMs: number;
  execution: ExecutionFacts;
  /** The Call that started the Execution (voice only); absent when not fetched. */
  call?: CallFacts;
  settings: PolicySettings;
}
