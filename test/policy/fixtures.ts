// Shared fixtures for the policy tests: a fixed clock, SIDs, settings, fact builders and attribute variants.
import {
  parseTaskAttributes,
  type CallFacts,
  type CallState,
  type ExecutionAction,
  type ExecutionFacts,
  type ExecutionState,
  type ExecutionTrigger,
  type FlowFacts,
  type PolicySettings,
  type TaskAction,
  type TaskAttributes,
  type TaskFacts,
  type TaskState,
  type WaitingFacts,
  type WidgetFacts,
} from '../../src/policy';

export const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

/** Property runs, scaled by POLICY_PROPERTY_SCALE (e.g. 10 for a longer hunt; the default keeps the suite fast). */
export const runs = (n: number): number => Math.max(1, Math.round(n * Number(process.env['POLICY_PROPERTY_SCALE'] ?? 1)));
export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;

export const CALL_SID = 'CA' + '0123456789abcdef'.repeat(2);
export const OTHER_CALL_SID = 'CA' + 'fedcba9876543210'.repeat(2);
export const TASK_SID = 'WT' + '1'.repeat(32);
export const EXEC_SID = 'FN' + '2'.repeat(32);
export const FLOW_SID = 'FW' + '3'.repeat(32);
export const TASK_REASON = 'unstick: closed stuck voice task';
export const VERSION = '"etag-1"';

/** The operator's protection used throughout: a VIP flag or the escalations queue. */
export const PROTECT = 'vip == true OR queue == "escalations"';
/** The same rule in plain JavaScript, for oracles that must not reuse the expression evaluator. */
export const isProtectedByFixture = (value: Record<string, unknown>): boolean => value['vip'] === true || value['queue'] === 'escalations';
/** Whether a protection source protects these attributes, for the sources the tests use (plain JavaScript). */
export function protects(source: string | undefined, value: Record<string, unknown>): boolean {
  if (source === undefined || source.trim() === '') return false;
  if (source === PROTECT) return isProtectedByFixture(value);
  if (source === 'true') return true;
  throw new Error(`no oracle for the protection ${source}`);
}

export const SETTINGS: PolicySettings = Object.freeze({
  graceMs: 1 * MIN,
  maxAgeMs: 4 * HOUR,
  messagingIdleMs: 4 * HOUR,
  taskReason: TASK_REASON,
  postCallTaskAfterMs: 10 * MIN,
});
export const settings = (over: Partial<PolicySettings> = {}): PolicySettings => Object.freeze({ ...SETTINGS, ...over });

export const CALL_STATES: readonly CallState[] = ['queued', 'ringing', 'in-progress', 'completed', 'canceled', 'failed', 'busy', 'no-answer', 'unknown', 'gone'];
export const LIVE: readonly CallState[] = ['queued', 'ringing', 'in-progress'];
export const TERMINAL: readonly CallState[] = ['completed', 'canceled', 'failed', 'busy', 'no-answer'];
export const EXECUTION_STATES: readonly ExecutionState[] = ['active', 'ended', 'gone', 'unknown'];
export const TRIGGERS: readonly ExecutionTrigger[] = ['call', 'message', 'conversation', 'request', 'unknown'];
export const TASK_STATES: readonly TaskState[] = ['pending', 'reserved', 'assigned', 'wrapping', 'completed', 'canceled', 'gone', 'unknown'];
export const CLOSED_TASK_STATES: readonly TaskState[] = ['completed', 'canceled', 'gone'];

/** Task attribute variants, as Twilio returns them (JSON strings). */
export const RAW_ATTRS = {
  valid: JSON.stringify({ from_country: 'US', call_sid: CALL_SID, direction: 'inbound' }),
  custom: JSON.stringify({ call_sid: CALL_SID, custom_orchestration: true }),
  protectedVip: JSON.stringify({ call_sid: CALL_SID, vip: true }),
  protectedQueue: JSON.stringify({ call_sid: CALL_SID, queue: 'escalations' }),
  notProtected: JSON.stringify({ call_sid: CALL_SID, vip: false, queue: 'sales' }),
  noCallSid: JSON.stringify({ from: '+15550000000', direction: 'inbound' }),
  malformedSid: JSON.stringify({ call_sid: 'CAb920ad5f119ab57be3fxxxxxxxx' }),
  otherCall: JSON.stringify({ call_sid: OTHER_CALL_SID }),
  hintWeb: JSON.stringify({ call_sid: CALL_SID, channelType: 'web' }),
  hintVoice: JSON.stringify({ call_sid: CALL_SID, channelType: 'Voice' }),
  unparsable: '{"call_sid": "' + CALL_SID + '", ',
  array: JSON.stringify([{ call_sid: CALL_SID }]),
} as const;
export type AttrVariant = keyof typeof RAW_ATTRS | 'unknown';
export const ATTR_VARIANTS = [...Object.keys(RAW_ATTRS), 'unknown'] as readonly AttrVariant[];

export const UNKNOWN_ATTRS: TaskAttributes = Object.freeze({ kind: 'unknown' });
/** The parsed attributes of a variant (or of a raw string). */
export const attrs = (v: AttrVariant | (string & {})): TaskAttributes =>
  v === 'unknown' ? UNKNOWN_ATTRS : parseTaskAttributes(v in RAW_ATTRS ? RAW_ATTRS[v as keyof typeof RAW_ATTRS] : v);

/** A fresh fetch of an assigned voice Task of CALL_SID, created during the call. */
export function task(over: Partial<TaskFacts> & { attrs?: AttrVariant | (string & {}) } = {}): TaskFacts {
  const { attrs: variant = 'valid', ...rest } = over;
  return {
    sid: TASK_SID,
    state: 'assigned',
    channel: 'voice',
    attributes: attrs(variant),
    createdAtMs: NOW - 15 * MIN,
    statusSinceMs: NOW - 14 * MIN,
    source: 'fetch',
    version: VERSION,
    readAtMs: NOW,
    ...rest,
  };
}

/** A list item: no ETag, no read time (unless given). */
export function listedTask(over: Partial<TaskFacts> & { attrs?: AttrVariant | (string & {}) } = {}): TaskFacts {
  const t = task({ ...over, source: 'list' });
  if (over.version === undefined) delete t.version;
  if (over.readAtMs === undefined) delete t.readAtMs;
  return t;
}

/** A call of CALL_SID that ended `agoMs` ago (`agoMs` null: end unknown). */
export function endedCall(status: CallState = 'completed', agoMs: number | null = 10 * MIN, sid: string = CALL_SID): CallFacts {
  return { status, sid, startedAtMs: NOW - 20 * MIN, ...(agoMs === null ? {} : { endedAtMs: NOW - agoMs }) };
}

/** A live call of CALL_SID started `startedAgoMs` ago (null: start unknown). */
export function liveCall(status: CallState = 'in-progress', startedAgoMs: number | null = 10 * MIN, sid: string = CALL_SID): CallFacts {
  return { status, sid, ...(startedAgoMs === null ? {} : { startedAtMs: NOW - startedAgoMs }) };
}

/** A fresh fetch of an active call-triggered Execution of CALL_SID. */
export function execution(over: Partial<ExecutionFacts> = {}): ExecutionFacts {
  const trigger = over.trigger ?? 'call';
  return {
    sid: EXEC_SID,
    state: 'active',
    trigger,
    ...(trigger === 'call' ? { callSid: CALL_SID } : {}),
    createdAtMs: NOW - 20 * HOUR,
    updatedAtMs: NOW - 10 * HOUR,
    flowSid: FLOW_SID,
    flowRevision: 3,
    source: 'fetch',
    readAtMs: NOW,
    ...over,
  };
}

/** Where an Execution waits, read just now. */
export const waitingIn = (widget: string, sinceAgoMs: number, readAgoMs = 0): WaitingFacts => ({ kind: 'widget', widget, sinceMs: NOW - sinceAgoMs, readAtMs: NOW - readAgoMs });
export const noSteps = (readAgoMs = 0): WaitingFacts => ({ kind: 'no-steps', readAtMs: NOW - readAgoMs });

/**
 * The Flow used throughout: `ask` waits 24 h for a reply, `confirm` 10 min, `nothing` has no timeout, `bad` an
 * unreadable one, `say` is not a Send & Wait widget (a voice `gather` with a 5 s timeout), `split` has none.
 */
export const WIDGETS: Readonly<Record<string, WidgetFacts>> = Object.freeze({
  Trigger: { type: 'trigger' },
  ask: { type: 'send-and-wait-for-reply', timeout: '86400' },
  confirm: { type: 'send-and-wait-for-reply', timeout: '600' },
  nothing: { type: 'send-and-wait-for-reply' },
  bad: { type: 'send-and-wait-for-reply', timeout: 'soon' },
  say: { type: 'gather-input-on-call', timeout: '5' },
  split: { type: 'split-based-on' },
});
export const flowRead = (revision = 3, widgets: Record<string, WidgetFacts> = WIDGETS): FlowFacts => ({ kind: 'read', sid: FLOW_SID, revision, widgets });
export const flowUnreadable = (detail = 'Flow not found (404)'): FlowFacts => ({ kind: 'unreadable', sid: FLOW_SID, detail });

/** A compact rendering of an action for table assertions: 'none', 'end-execution', 'cancel-task:pending', 'skip:call-live', 'read:call'. */
export function brief(a: ExecutionAction | TaskAction): string {
  switch (a.kind) {
    case 'none':
      return 'none';
    case 'skip':
      return `skip:${a.reason}`;
    case 'read':
      return `read:${a.what}`;
    case 'end-execution':
      return 'end-execution';
    default:
      return `${a.kind}:${a.expectStatus}`;
  }
}

/** Runs `check` and, when it throws, appends the row that failed. */
export function explain<T>(row: unknown, answer: unknown, check: () => T): T {
  try {
    return check();
  } catch (err) {
    (err as Error).message += `\n  row: ${JSON.stringify(row)}\n  answer: ${JSON.stringify(answer)}`;
    throw err;
  }
}
