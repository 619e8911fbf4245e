/**
 * Pure parsing of Twilio webhook parameters (form fields, already decoded) into the callWatch signal payloads.
 * Nothing here talks to Temporal or the network, so each rule is testable on its own.
 */
import { isCallSid } from '../policy/attributes';
import { isCallStatus } from '../shared/constants';
import type { CallStatusEvent, TaskLinkEvent } from '../shared/messages';

export type FormParams = Record<string, unknown>;

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const WORKSPACE_SID = /^WS[0-9a-fA-F]{32}$/;
const TASK_SID = /^WT[0-9a-fA-F]{32}$/;

export { isCallSid };

/** `initiated` is a status-callback event name that Twilio also reports as CallStatus on that event. */
const isCallbackCallStatus = (s: string): boolean => s === 'initiated' || isCallStatus(s);

/** A single-valued form field; a repeated field (array) or a missing one is `undefined`. */
function field(params: FormParams, name: string): string | undefined {
  const v = params[name];
  return typeof v === 'string' ? v : undefined;
}

function nonNegativeInt(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,15}$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/** Twilio's voice `Timestamp` is RFC 2822 (e.g. `Tue, 14 Jan 2025 10:00:00 +0000`). */
export function parseRfc2822(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? ms : undefined;
}

/** TaskRouter's `Timestamp` is believed to be epoch seconds; accept epoch ms and date strings too. */
export function parseEventTimestamp(raw: string | undefined): number | undefined {
  if (!raw) return undefined;
  const t = raw.trim();
  if (/^\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  }
  return parseRfc2822(t);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface VoiceStatusCallback {
  accountSid: string;
  event: CallStatusEvent;
}

/** Validates a voice status callback. `accountSid` is ours: a callback for another account is refused. */
export function parseVoiceStatus(params: FormParams, accountSid: string): Parsed<VoiceStatusCallback> {
  const callSid = field(params, 'CallSid');
  if (callSid === undefined) return { ok: false, reason: 'CallSid is missing' };
  if (!isCallSid(callSid)) return { ok: false, reason: 'CallSid is not CA + 32 hex digits' };
  const account = field(params, 'AccountSid');
  if (account === undefined || !ACCOUNT_SID.test(account)) return { ok: false, reason: 'AccountSid is missing or malformed' };
  if (account !== accountSid) return { ok: false, reason: 'AccountSid is not this account' };
  const status = field(params, 'CallStatus');
  if (status === undefined) return { ok: false, reason: 'CallStatus is missing' };
  if (!isCallbackCallStatus(status)) return { ok: false, reason: `CallStatus ${JSON.stringify(status.slice(0, 40))} is unknown` };

  const event: CallStatusEvent = { callSid, status, source: 'webhook' };
  const seq = nonNegativeInt(field(params, 'SequenceNumber'));
  if (seq !== undefined) event.sequenceNumber = seq;
  const ts = parseRfc2822(field(params, 'Timestamp'));
  if (ts !== undefined) event.timestampMs = ts;
  const duration = nonNegativeInt(field(params, 'CallDuration'));
  if (duration !== undefined) event.durationSec = duration;
  const from = field(params, 'From');
  if (from) event.from = from;
  const to = field(params, 'To');
  if (to) event.to = to;
  return { ok: true, value: { accountSid: account, event } };
}

/** When the call began, as far as one callback tells: its own time on an early event, or end time minus duration. */
export function callStartEstimate(event: CallStatusEvent): number | undefined {
  if (event.timestampMs === undefined) return undefined;
  const early = event.sequenceNumber === 0 || ['queued', 'initiated', 'ringing'].includes(event.status);
  if (early) return event.timestampMs;
  if (event.durationSec !== undefined) return event.timestampMs - event.durationSec * 1000;
  return undefined;
}

export type TaskRouterDecision =
  | { kind: 'refuse'; reason: string }
  | { kind: 'ignore'; reason: string; eventType?: string; taskSid?: string }
  | { kind: 'link'; link: TaskLinkEvent; from?: string; to?: string };

/**
 * Validates a TaskRouter workspace event. Only task.* and reservation.* events whose TaskAttributes carry a valid
 * `call_sid` link to a call; everything else from our account is acknowledged and ignored (chat tasks, worker events).
 */
export function parseTaskRouterEvent(params: FormParams, accountSid: string): TaskRouterDecision {
  const account = field(params, 'AccountSid');
  if (account === undefined || !ACCOUNT_SID.test(account)) return { kind: 'refuse', reason: 'AccountSid is missing or malformed' };
  if (account !== accountSid) return { kind: 'refuse', reason: 'AccountSid is not this account' };
  const eventType = field(params, 'EventType');
  if (!eventType) return { kind: 'refuse', reason: 'EventType is missing' };
  const workspaceSid = field(params, 'WorkspaceSid');
  if (workspaceSid === undefined || !WORKSPACE_SID.test(workspaceSid)) return { kind: 'refuse', reason: 'WorkspaceSid is missing or malformed' };

  if (!eventType.startsWith('task.') && !eventType.startsWith('reservation.')) {
    return { kind: 'ignore', reason: 'not a task or reservation event', eventType };
  }
  const taskSid = field(params, 'TaskSid');
  if (taskSid === undefined || !TASK_SID.test(taskSid)) return { kind: 'ignore', reason: 'no valid TaskSid', eventType };
  const rawAttributes = field(params, 'TaskAttributes');
  if (rawAttributes === undefined) return { kind: 'ignore', reason: 'no TaskAttributes', eventType, taskSid };
  let attributes: unknown;
  try {
    attributes = JSON.parse(rawAttributes);
  } catch {
    return { kind: 'ignore', reason: 'TaskAttributes is not JSON', eventType, taskSid };
  }
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    return { kind: 'ignore', reason: 'TaskAttributes is not a JSON object', eventType, taskSid };
  }
  const attrs = attributes as Record<string, unknown>;
  if (attrs.call_sid === undefined) return { kind: 'ignore', reason: 'TaskAttributes has no call_sid', eventType, taskSid };
  if (!isCallSid(attrs.call_sid)) return { kind: 'ignore', reason: 'TaskAttributes.call_sid is not a CallSid', eventType, taskSid };

  const link: TaskLinkEvent = { callSid: attrs.call_sid, workspaceSid, taskSid, eventType };
  const assignmentStatus = field(params, 'TaskAssignmentStatus');
  if (assignmentStatus) link.assignmentStatus = assignmentStatus;
  const channel = field(params, 'TaskChannelUniqueName');
  if (channel) link.channel = channel;
  const ts = parseEventTimestamp(field(params, 'Timestamp'));
  if (ts !== undefined) link.timestampMs = ts;
  return {
    kind: 'link',
    link,
    from: typeof attrs.from === 'string' ? attrs.from : undefined,
    to: typeof attrs.to === 'string' ? attrs.to : undefined,
  };
}
