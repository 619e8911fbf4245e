/**
 * Pure parsing of an Event Streams webhook-sink batch (a JSON array of CloudEvents 1.0) into callWatch signals.
 * Each event is judged on its own: one that links to a call becomes a signal, one we do not use is ignored, one that
 * is malformed is skipped with a reason. Nothing here talks to Temporal or the network.
 *
 * Event types and `data` fields as Twilio documents them (https://www.twilio.com/docs/events/event-types):
 * - `com.twilio.studio.flow.execution.started|ended`: `execution_sid`, `flow_sid`, `account_sid`, `started_by`
 *   (the Call SID for a voice Execution), `contact_channel_address`, `status`.
 * - `com.twilio.taskrouter.task.*`: the TaskRouter event's fields in snake_case (`task_sid`, `task_attributes`,
 *   `task_assignment_status`, `workspace_sid`, `account_sid`, `task_channel_unique_name`).
 * - `com.twilio.voice.status-callback.call.*`: `sid` (the Call SID) and the status callback's request; used only
 *   when it carries an explicit CallStatus.
 */
import { isCallSid } from '../policy/attributes';
import type { CallStatusEvent, ExecutionLinkEvent, TaskLinkEvent } from '../shared/messages';
import { parseTaskRouterEvent, type FormParams } from './params';
import { isCallStatus } from '../shared/constants';

export const STUDIO_EXECUTION_PREFIX = 'com.twilio.studio.flow.execution.';
export const TASKROUTER_TASK_PREFIX = 'com.twilio.taskrouter.task.';
export const VOICE_STATUS_PREFIX = 'com.twilio.voice.status-callback.call.';
const STUDIO_EXECUTION_TYPES = ['started', 'ended'].map((s) => `${STUDIO_EXECUTION_PREFIX}${s}`);

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const FLOW_SID = /^FW[0-9a-fA-F]{32}$/;
const EXECUTION_SID = /^FN[0-9a-fA-F]{32}$/;

export type EventDecision =
  | { kind: 'execution'; id: string; link: ExecutionLinkEvent }
  | { kind: 'task'; id: string; link: TaskLinkEvent; from?: string; to?: string }
  | { kind: 'call'; id: string; event: CallStatusEvent }
  /** A well-formed event we do not use (another product, a chat Task, another account's): acknowledged. */
  | { kind: 'ignore'; id: string; type: string; reason: string }
  /** A malformed event: skipped with the reason, the rest of the batch still counts. */
  | { kind: 'skip'; id?: string; type?: string; reason: string };

export type BatchParse = { ok: true; events: EventDecision[] } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function isoMs(raw: unknown): number | undefined {
  if (typeof raw !== 'string') return undefined;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The raw body of one sink request: a JSON array of CloudEvents (or one CloudEvent). Anything else is refused whole (400). */
export function parseEventBatch(raw: string, accountSid: string): BatchParse {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  // Twilio documents batches as arrays; whether a Sink with `batch_events: false` wraps its one event is not
  // documented, so a single CloudEvent object (it has `specversion`) is taken as a batch of one.
  if (isObject(body) && 'specversion' in body) return { ok: true, events: [parseCloudEvent(body, accountSid)] };
  if (!Array.isArray(body)) return { ok: false, reason: 'body is not a JSON array of CloudEvents' };
  return { ok: true, events: body.map((e) => parseCloudEvent(e, accountSid)) };
}

export function parseCloudEvent(ev: unknown, accountSid: string): EventDecision {
  if (!isObject(ev)) return { kind: 'skip', reason: 'event is not a JSON object' };
  const id = str(ev.id);
  const type = str(ev.type);
  if (!id) return { kind: 'skip', ...(type ? { type } : {}), reason: 'event has no id' };
  if (!type) return { kind: 'skip', id, reason: 'event has no type' };
  if (ev.specversion !== '1.0') return { kind: 'skip', id, type, reason: `specversion ${JSON.stringify(ev.specversion)} is not 1.0` };
  const ignore = (reason: string): EventDecision => ({ kind: 'ignore', id, type, reason });
  const skip = (reason: string): EventDecision => ({ kind: 'skip', id, type, reason });
  const known = STUDIO_EXECUTION_TYPES.includes(type) || type.startsWith(TASKROUTER_TASK_PREFIX) || type.startsWith(VOICE_STATUS_PREFIX);
  if (!known) return ignore('event type not used');
  if (!isObject(ev.data)) return skip('event has no data object');
  const data = ev.data;
  const timestampMs = isoMs(ev.time);
  if (type.startsWith(STUDIO_EXECUTION_PREFIX)) return studioEvent(id, type, data, accountSid, timestampMs, skip, ignore);
  if (type.startsWith(TASKROUTER_TASK_PREFIX)) return taskEvent(id, type, data, accountSid, timestampMs, skip, ignore);
  return voiceEvent(id, data, timestampMs, skip, ignore);
}

type Reasoned = (reason: string) => EventDecision;

function accountProblem(data: Record<string, unknown>, accountSid: string, skip: Reasoned, ignore: Reasoned): EventDecision | undefined {
  const account = str(data.account_sid);
  if (!account || !ACCOUNT_SID.test(account)) return skip('data.account_sid is missing or malformed');
  if (account !== accountSid) return ignore('data.account_sid is not this account');
  return undefined;
}

function studioEvent(id: string, type: string, data: Record<string, unknown>, accountSid: string, timestampMs: number | undefined, skip: Reasoned, ignore: Reasoned): EventDecision {
  const bad = accountProblem(data, accountSid, skip, ignore);
  if (bad) return bad;
  const executionSid = str(data.execution_sid);
  const flowSid = str(data.flow_sid);
  if (!executionSid || !EXECUTION_SID.test(executionSid)) return skip('data.execution_sid is missing or malformed');
  if (!flowSid || !FLOW_SID.test(flowSid)) return skip('data.flow_sid is missing or malformed');
  // started_by names what started the Execution: a Call SID for a voice call; a message or a REST trigger otherwise.
  const startedBy = data.started_by;
  if (!isCallSid(startedBy)) return ignore('data.started_by is not a Call SID (not a call\'s Execution)');
  const link: ExecutionLinkEvent = { callSid: startedBy, flowSid, executionSid, eventType: type.slice(STUDIO_EXECUTION_PREFIX.length) };
  const at = timestampMs ?? isoMs(data.date_updated);
  if (at !== undefined) link.timestampMs = at;
  return { kind: 'execution', id, link };
}

function taskEvent(id: string, type: string, data: Record<string, unknown>, accountSid: string, timestampMs: number | undefined, skip: Reasoned, ignore: Reasoned): EventDecision {
  const bad = accountProblem(data, accountSid, skip, ignore);
  if (bad) return bad;
  // The same rules as the Workspace's event callback (params.ts), on the callback's field names.
  const params: FormParams = {
    AccountSid: data.account_sid,
    EventType: type.slice('com.twilio.taskrouter.'.length),
    WorkspaceSid: data.workspace_sid,
    TaskSid: data.task_sid,
    TaskAttributes: typeof data.task_attributes === 'string' ? data.task_attributes : isObject(data.task_attributes) ? JSON.stringify(data.task_attributes) : undefined,
    TaskAssignmentStatus: data.task_assignment_status,
    TaskChannelUniqueName: data.task_channel_unique_name,
  };
  const d = parseTaskRouterEvent(params, accountSid);
  if (d.kind === 'refuse') return skip(d.reason);
  if (d.kind === 'ignore') return ignore(d.reason);
  const link = { ...d.link };
  if (timestampMs !== undefined) link.timestampMs = timestampMs;
  return { kind: 'task', id, link, ...(d.from ? { from: d.from } : {}), ...(d.to ? { to: d.to } : {}) };
}

function voiceEvent(id: string, data: Record<string, unknown>, timestampMs: number | undefined, skip: Reasoned, ignore: Reasoned): EventDecision {
  const callSid = data.sid ?? data.call_sid ?? data.CallSid;
  if (!isCallSid(callSid)) return skip('data.sid is not a Call SID');
  const request = isObject(data.request) ? data.request : undefined;
  const parameters = isObject(request?.parameters) ? request.parameters : isObject(data.parameters) ? data.parameters : data;
  const status = str(parameters.CallStatus) ?? str(parameters.call_status);
  // Without an explicit CallStatus the event type's suffix alone is not enough to tell completed from busy/failed.
  if (!status) return ignore('no CallStatus in the event');
  if (!isCallStatus(status)) return skip(`CallStatus ${JSON.stringify(status)} is not a call status`);
  const event: CallStatusEvent = { callSid, status, source: 'webhook' };
  const seqRaw = parameters.SequenceNumber ?? parameters.sequence_number;
  const seq = typeof seqRaw === 'number' ? seqRaw : typeof seqRaw === 'string' && /^\d+$/.test(seqRaw) ? Number(seqRaw) : undefined;
  if (seq !== undefined && Number.isSafeInteger(seq)) event.sequenceNumber = seq;
  const at = timestampMs ?? isoMs(data.timestamp);
  if (at !== undefined) event.timestampMs = at;
  return { kind: 'call', id, event };
}
