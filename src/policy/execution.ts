/**
 * The one rule for a Studio Execution, for every writer.
 *
 * - Voice (started by a call): stuck once the call is over and the grace has passed, whatever the Execution's age;
 *   never while the call is live. A call Twilio no longer knows (404) falls back to the age threshold (Twilio's own
 *   advice: end executions older than ~4 h); a call we could not read decides nothing.
 * - Messaging (SMS, webchat, conversations): stuck only after the widget it waits in has timed out: idle longer than
 *   that Send & Wait widget's `timeout` plus the grace (the threshold when the widget has none, or when it waits
 *   anywhere else). The widget comes from the newest Step and the Flow definition at the Execution's revision;
 *   when the definition read is another revision (Studio's Flow fetch returns only the current one) or the Execution
 *   does not say its revision, its timeouts are unknown and it is skipped, not judged on another revision's.
 * - Anything else (REST-triggered, unknown trigger) is never ended.
 * A write is only decided on a fresh fetch that says `active`.
 */
import { isMessagingChannel, VOICE_CHANNEL } from '../shared/names';
import { formatDuration, MAX_READ_AGE_MS } from './facts';
import { SEND_AND_WAIT, widgetTimeoutMs } from './flow';
import { callBlocks } from './task';
import type { ExecutionAction, ExecutionDecisionInput, FlowFacts, Skip } from './types';

const skip = (reason: Skip['reason'], detail: string, recheckAtMs?: number): Skip =>
  recheckAtMs === undefined ? { kind: 'skip', reason, detail } : { kind: 'skip', reason, detail, recheckAtMs };

const isFresh = (readAtMs: number | undefined, nowMs: number, maxAge = MAX_READ_AGE_MS) => readAtMs !== undefined && nowMs - readAtMs <= maxAge;

/** The decision for one Execution. See the module comment. */
export function decideExecution(input: ExecutionDecisionInput): ExecutionAction {
  const { nowMs, execution: ex, settings: s } = input;
  if (ex.state === 'ended' || ex.state === 'gone') return { kind: 'none', reason: `execution already ${ex.state}` };
  const readExecution = (reason: string): ExecutionAction => ({ kind: 'read', what: 'execution', sid: ex.sid, reason });
  if (ex.state === 'unknown') return readExecution('execution status unknown');
  const fresh = ex.source === 'fetch' && isFresh(ex.readAtMs, nowMs, s.maxReadAgeMs);

  switch (ex.trigger) {
    case 'call':
      return decideVoice(input, fresh, readExecution);
    case 'message':
    case 'conversation':
      return decideMessaging(input, fresh, readExecution);
    case 'unknown':
      // A list item without initiated_by: the fetch reads the Execution's context, which names the trigger.
      if (ex.source !== 'fetch') return readExecution('the list item does not say what started it');
      return skip('execution-trigger-unknown', 'execution triggered by unknown');
    case 'request':
      return skip('execution-trigger-unknown', 'execution triggered by request');
  }
}

function decideVoice(input: ExecutionDecisionInput, fresh: boolean, readExecution: (r: string) => ExecutionAction): ExecutionAction {
  const { nowMs, execution: ex, call, settings: s } = input;
  if (input.sweptChannels && !input.sweptChannels.includes(VOICE_CHANNEL)) return skip('channel-not-swept', 'voice is not swept');
  const callSid = ex.callSid ?? input.watchedCallSid;
  if (callSid === undefined) {
    if (ex.source !== 'fetch') return readExecution('the list item does not name its call');
    return skip('execution-trigger-unknown', 'call-triggered but the call is not known');
  }
  if (input.watchedCallSid !== undefined && callSid !== input.watchedCallSid) {
    return skip('call-sid-mismatch', `execution started by ${callSid}, not by call ${input.watchedCallSid}`);
  }
  if (input.ownedByCallWatch) return skip('owned-by-callwatch', `call ${callSid} has a running callWatch`);
  if (!call || call.sid !== callSid) return { kind: 'read', what: 'call', sid: callSid, reason: 'call not read' };

  let reason: string;
  if (call.status === 'gone' && input.watchedCallSid === undefined) {
    // Twilio no longer has the call: only the Execution's age is left to go by.
    const age = ex.createdAtMs === undefined ? undefined : nowMs - ex.createdAtMs;
    if (age === undefined || age < s.messagingIdleMs) {
      return skip('call-unknown', `call not found (404); execution ${age === undefined ? 'of unknown age' : `${formatDuration(age)} old`}, threshold ${formatDuration(s.messagingIdleMs)}`);
    }
    reason = `call not found (404); execution active for ${formatDuration(age)}`;
  } else {
    const blocked = callBlocks(call, nowMs, s.graceMs);
    if (blocked) return blocked;
    reason = `call ${call.status} ${formatDuration(nowMs - call.endedAtMs!)} ago; execution still active after the ${formatDuration(s.graceMs)} grace period`;
  }
  if (!fresh) return readExecution(ex.source === 'fetch' ? 'last read too old to write on' : 'decided on a list item');
  return { kind: 'end-execution', sid: ex.sid, reason };
}

/** How long the Execution may wait where it is before it is stuck, and what that is based on. */
function waitLimit(flow: Extract<FlowFacts, { kind: 'read' }>, widgetName: string | undefined, thresholdMs: number): { ms: number; why: string } {
  const widget = widgetName === undefined ? undefined : flow.widgets[widgetName];
  const timeout = widgetTimeoutMs(widget);
  const valid = timeout !== undefined && !Number.isNaN(timeout);
  if (widget?.type === SEND_AND_WAIT) {
    if (valid) return { ms: timeout, why: `Send & Wait "${widgetName}" timeout ${formatDuration(timeout)}` };
    return { ms: thresholdMs, why: `Send & Wait "${widgetName}" has ${timeout === undefined ? 'no' : 'an unreadable'} timeout: the threshold` };
  }
  if (widgetName !== undefined && !widget) return { ms: thresholdMs, why: `widget "${widgetName}" is not in the definition: the threshold` };
  return { ms: thresholdMs, why: widgetName === undefined ? 'no Steps yet: the threshold' : `widget "${widgetName}" (${widget!.type}): the threshold` };
}

/** The shortest time any widget of the flow (or the threshold) lets an Execution wait: a cheap lower bound. */
function shortestLimit(flow: Extract<FlowFacts, { kind: 'read' }>, thresholdMs: number): number {
  let min = thresholdMs;
  for (const w of Object.values(flow.widgets)) {
    const t = widgetTimeoutMs(w);
    if (t !== undefined && !Number.isNaN(t) && t < min) min = t;
  }
  return min;
}

function decideMessaging(input: ExecutionDecisionInput, fresh: boolean, readExecution: (r: string) => ExecutionAction): ExecutionAction {
  const { nowMs, execution: ex, flow, settings: s } = input;
  if (input.watchedCallSid !== undefined) return skip('execution-trigger-unknown', `a callWatch ends only its call's execution, not a ${ex.trigger}-triggered one`);
  if (input.sweptChannels && !input.sweptChannels.some(isMessagingChannel)) return skip('channel-not-swept', 'messaging is not swept');
  if (!flow || (ex.flowRevision !== undefined && flow.kind === 'read' && flow.revision < ex.flowRevision)) {
    if (ex.flowSid === undefined) return skip('flow-unreadable', 'the Execution names no Flow');
    return { kind: 'read', what: 'flow', sid: ex.flowSid, ...(ex.flowRevision === undefined ? {} : { revision: ex.flowRevision }), reason: 'flow definition not read' };
  }
  if (flow.kind === 'unreadable') return skip('flow-unreadable', flow.detail);
  if (ex.flowRevision === undefined) return skip('flow-unreadable', `the Execution does not say which revision of Flow ${flow.sid} it runs: its widgets' timeouts are unknown`);
  if (ex.flowRevision !== flow.revision) {
    return skip('flow-unreadable', `the Execution runs revision ${ex.flowRevision} of Flow ${flow.sid}, the definition read is revision ${flow.revision}: its widgets' timeouts are unknown`);
  }

  // A recent date_updated rules out "stuck" before any Step is read.
  const touched = Math.max(ex.updatedAtMs ?? 0, ex.createdAtMs ?? 0);
  const floor = shortestLimit(flow, s.messagingIdleMs) + s.graceMs;
  if (touched > 0 && nowMs - touched < floor) {
    return skip('messaging-not-idle', `updated ${formatDuration(nowMs - touched)} ago`, touched + floor);
  }
  // The Execution first, then its Steps: Steps read before the fetch could miss a reply that came in between.
  if (!fresh) return readExecution(ex.source === 'fetch' ? 'last read too old to write on' : 'decided on a list item');
  const w = ex.waiting;
  if (!w || !isFresh(w.readAtMs, nowMs, s.maxReadAgeMs)) return { kind: 'read', what: 'steps', sid: ex.sid, reason: 'where it waits is not known' };
  if (w.readAtMs < ex.readAtMs!) return { kind: 'read', what: 'steps', sid: ex.sid, reason: 'Steps read before the Execution was fetched' };
  const widgetName = w.kind === 'widget' ? w.widget : undefined;
  const since = w.kind === 'widget' ? w.sinceMs : ex.createdAtMs;
  if (since === undefined) return skip('messaging-not-idle', 'no activity time known');
  const limit = waitLimit(flow, widgetName, s.messagingIdleMs);
  const stuckAt = since + limit.ms + s.graceMs;
  const idle = nowMs - since;
  if (nowMs < stuckAt) return skip('messaging-not-idle', `idle ${formatDuration(idle)}; ${limit.why}, plus ${formatDuration(s.graceMs)} grace`, stuckAt);
  return {
    kind: 'end-execution',
    sid: ex.sid,
    reason: `${ex.trigger} execution idle ${formatDuration(idle)} in ${widgetName === undefined ? 'its Trigger' : `"${widgetName}"`}; ${limit.why}`,
    ...(widgetName === undefined ? {} : { widget: widgetName }),
  };
}
