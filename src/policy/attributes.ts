/** Reading the policy-relevant part of a TaskRouter Task's attributes (a JSON string, possibly malformed). */
import type { FactSource, TaskAttributes } from './types';

/** A Twilio Call SID: `CA` followed by 32 hex digits. */
export const CALL_SID_PATTERN = /^CA[0-9a-fA-F]{32}$/;
export const isCallSid = (value: unknown): value is string => typeof value === 'string' && CALL_SID_PATTERN.test(value);

/**
 * Attribute keys that mark a Task as custom-orchestrated (the seed article: "if your Flex instance has
 * customized orchestration, ensure this logic won't close legitimately active Tasks"):
 * - `custom_orchestration`: any truthy value (see `isTruthyMarker`);
 * - `orchestration`: any value other than one of `DEFAULT_ORCHESTRATION_VALUES`.
 */
export const CUSTOM_ORCHESTRATION_KEYS = ['custom_orchestration', 'orchestration'] as const;
export const DEFAULT_ORCHESTRATION_VALUES = ['flex', 'default'] as const;
/** Attribute keys read as a hint of the Task's channel (Flex messaging tasks carry `channelType`). */
export const CHANNEL_HINT_KEYS = ['channelType', 'channel_type'] as const;

const FALSY_MARKER_STRINGS = ['', 'false', '0', 'no', 'off'];

/** JSON truthiness, except that the strings "false", "0", "no", "off" (any case) also count as false. */
function isTruthyMarker(value: unknown): boolean {
  if (typeof value === 'string') return !FALSY_MARKER_STRINGS.includes(value.trim().toLowerCase());
  return Boolean(value);
}

/**
 * Safety first: a present `orchestration` that is not exactly a default mode (a string like "custom", an
 * object, a number, an empty string) counts as custom; only absent/null or "flex"/"default" does not.
 */
function isCustomOrchestrationMode(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'string') return true;
  return !(DEFAULT_ORCHESTRATION_VALUES as readonly string[]).includes(value.trim().toLowerCase());
}

const MAX_DETAIL_VALUE = 40;
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const shown = value.length > MAX_DETAIL_VALUE ? `${value.slice(0, MAX_DETAIL_VALUE)}…` : value;
    return `a string ${JSON.stringify(shown)}`;
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const unparsable = (detail: string): TaskAttributes => ({ kind: 'unparsable', detail });
const UNKNOWN: TaskAttributes = Object.freeze({ kind: 'unknown' });

/**
 * A Task's attributes as Twilio returned them, read for the policy. A list item without attributes (Twilio's spec
 * says list `attributes` are null outside a fetch) is `unknown`: read the Task first. A fetch without them is
 * `unparsable`.
 */
export function readTaskAttributes(raw: string | undefined | null, source: FactSource): TaskAttributes {
  if ((raw === undefined || raw === null) && source === 'list') return UNKNOWN;
  return parseTaskAttributes(raw);
}

/**
 * Parses a Task's attributes. Not a JSON object (missing, malformed, an array, a string, a number, null)
 * → `attributes-unparsable`: without the attributes we cannot rule out custom orchestration.
 * A `call_sid` that is not a Call SID is treated as absent and described in `callSidProblem`.
 */
export function parseTaskAttributes(raw: string | undefined | null): TaskAttributes {
  if (raw === undefined || raw === null) return unparsable('attributes missing');
  if (typeof raw !== 'string') return unparsable(`attributes are ${describe(raw)}, not a JSON string`);
  // A sweep reads each listed Task's attributes twice (to find its call, then to decide): parse them once.
  let parsed = recent.get(raw);
  if (!parsed) {
    if (recent.size >= RECENT_MAX) recent.clear();
    recent.set(raw, (parsed = parseUncached(raw)));
  }
  return parsed;
}

/** Recent parses by raw attributes string (results are shared: callers only read them). A pure cache. */
const recent = new Map<string, TaskAttributes>();
const RECENT_MAX = 4096;

function parseUncached(raw: string): TaskAttributes {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return unparsable(`malformed JSON (${msg.length > 80 ? `${msg.slice(0, 80)}…` : msg})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return unparsable(`expected a JSON object, got ${describe(value)}`);
  }
  const attrs = value as Record<string, unknown>;

  const parsed: Extract<TaskAttributes, { kind: 'parsed' }> = {
    kind: 'parsed',
    value: attrs,
    customOrchestration: isTruthyMarker(attrs['custom_orchestration']) || isCustomOrchestrationMode(attrs['orchestration']),
  };
  const callSid = attrs['call_sid'];
  if (isCallSid(callSid)) parsed.callSid = callSid;
  else if (callSid !== undefined && callSid !== null && callSid !== '') parsed.callSidProblem = `call_sid is ${describe(callSid)}, not a Call SID`;

  for (const key of CHANNEL_HINT_KEYS) {
    const hint = attrs[key];
    if (typeof hint === 'string' && hint.trim() !== '') {
      parsed.channelHint = hint.trim();
      break;
    }
  }
  return parsed;
}
