/**
 * The safety invariants (README.md, "Safety") as checks on one policy answer, shared by the tables, the
 * cross products, the fast-check properties and the guarded-write model. Each check restates the rule from the
 * design, not from the implementation: a write must satisfy every condition for it; an open resource is never
 * answered `none`; every skip names a known reason that its facts bear out; every read names a fact that is missing,
 * stale, or not the one the decision needs.
 */
import assert from 'node:assert/strict';
import {
  decideExecution,
  decideTask,
  isWriteAction,
  MAX_READ_AGE_MS,
  MIN_RECHECK_MS,
  SKIP_REASONS,
  type CallDecision,
  type CallDecisionInput,
  type CallFacts,
  type ExecutionAction,
  type ExecutionDecisionInput,
  type FlowFacts,
  type PolicySettings,
  type TaskAction,
  type TaskDecisionInput,
} from '../../src/policy';
import { LIVE, protects, TERMINAL } from './fixtures';

const SEND_AND_WAIT = 'send-and-wait-for-reply';
const MESSAGING = ['sms', 'webchat', 'chat', 'whatsapp'];

export const maxReadAge = (s: PolicySettings): number => s.maxReadAgeMs ?? MAX_READ_AGE_MS;
const freshAt = (readAtMs: number | undefined, nowMs: number, s: PolicySettings): boolean => readAtMs !== undefined && nowMs - readAtMs <= maxReadAge(s);

/** A skip names a reason in SKIP_REASONS, explains itself, and any re-check it announces lies in the future. */
export function checkSkip(a: ExecutionAction | TaskAction, nowMs: number): void {
  if (a.kind === 'skip') {
    assert.ok(SKIP_REASONS.includes(a.reason), `unknown skip reason ${a.reason}`);
    assert.ok(typeof a.detail === 'string' && a.detail.length > 0, 'a skip explains itself');
    if (a.recheckAtMs !== undefined) assert.ok(a.recheckAtMs > nowMs, 'a re-check lies in the future');
  }
  if (a.kind === 'none' || a.kind === 'read') assert.ok(a.reason.length > 0, 'an answer says why');
}

const CLOSED: readonly string[] = ['completed', 'canceled', 'gone'];
const callEnd = (c: CallFacts | undefined) => (c && TERMINAL.includes(c.status) ? c.endedAtMs : undefined);

/**
 * The write the design allows for this Task, or undefined when none is allowed: an open voice Task of a call that
 * is certainly over (terminal, end known, grace passed), that is that call's live Task (created at most
 * postCallTaskAfterMs after its end), that no one else orchestrates, protects or owns, judged on a fresh fetch with
 * an ETag; `wrapping` only past the wrap limit.
 */
export function allowedTaskWrite(input: TaskDecisionInput): { kind: 'cancel-task' | 'complete-task'; expectStatus: string; version: string } | undefined {
  const { nowMs, task: t, call, settings: s } = input;
  if (!['pending', 'reserved', 'assigned', 'wrapping'].includes(t.state)) return undefined;
  const a = t.attributes;
  if (a.kind !== 'parsed' || a.customOrchestration) return undefined;
  if (protects(s.protectTasks, a.value)) return undefined;
  if (t.channel !== 'voice') return undefined;
  if (a.channelHint !== undefined && a.channelHint.toLowerCase() !== 'voice') return undefined;
  if (a.callSid === undefined) return undefined;
  if (input.watchedCallSid !== undefined && a.callSid !== input.watchedCallSid) return undefined;
  if (input.ownedByCallWatch) return undefined;
  if (!call || call.sid !== a.callSid) return undefined;
  const end = callEnd(call);
  if (end === undefined || nowMs < end + s.graceMs) return undefined;
  if (t.createdAtMs === undefined || t.createdAtMs > end + s.postCallTaskAfterMs) return undefined;
  if (t.state === 'wrapping' && (s.wrapLimitMs === undefined || nowMs < end + s.wrapLimitMs)) return undefined;
  if (t.source !== 'fetch' || !freshAt(t.readAtMs, nowMs, s) || t.version === undefined) return undefined;
  return { kind: t.state === 'pending' || t.state === 'reserved' ? 'cancel-task' : 'complete-task', expectStatus: t.state, version: t.version };
}

/** Every invariant of one decideTask answer. Returns whether it is a write. */
export function checkTaskAnswer(input: TaskDecisionInput, a: TaskAction): boolean {
  const { nowMs, task: t, call, settings: s } = input;
  checkSkip(a, nowMs);
  const allowed = allowedTaskWrite(input);
  const attrs = t.attributes.kind === 'parsed' ? t.attributes : undefined;
  const end = callEnd(call);
  switch (a.kind) {
    case 'cancel-task':
    case 'complete-task':
      assert.ok(allowed, 'a write the design does not allow');
      assert.deepEqual({ kind: a.kind, expectStatus: a.expectStatus, version: a.version }, allowed);
      assert.equal(a.version, t.version, 'the write carries exactly the fetched version');
      assert.equal(a.sid, t.sid);
      assert.equal(a.reason, s.taskReason);
      return true;
    case 'none':
      assert.ok(CLOSED.includes(t.state), `an open or unknown Task (${t.state}) is never "none"`);
      break;
    case 'read':
      assert.ok(a.what === 'task' || a.what === 'call', `a Task decision reads ${a.what}`);
      if (a.what === 'task') {
        assert.equal(a.sid, t.sid);
        assert.ok(
          t.state === 'unknown' || t.attributes.kind === 'unknown' || t.source !== 'fetch' || !freshAt(t.readAtMs, nowMs, s),
          'read the Task only when what is known of it is missing or not a fresh fetch',
        );
      } else {
        assert.ok(attrs?.callSid !== undefined && a.sid === attrs.callSid, 'read the call the Task names');
        assert.ok(!call || call.sid !== a.sid, 'read a call only when it is not the one known');
      }
      break;
    case 'skip':
      switch (a.reason) {
        case 'attributes-unparsable':
          assert.equal(t.attributes.kind, 'unparsable');
          break;
        case 'custom-orchestration':
          assert.ok(attrs?.customOrchestration);
          break;
        case 'protected':
          assert.ok(attrs && protects(s.protectTasks, attrs.value));
          break;
        case 'not-voice':
          assert.ok(t.channel !== 'voice' || (attrs?.channelHint !== undefined && attrs.channelHint.toLowerCase() !== 'voice'));
          break;
        case 'unknown-channel':
          assert.notEqual(t.channel, 'voice');
          break;
        case 'no-call-sid':
          assert.ok(attrs && attrs.callSid === undefined);
          break;
        case 'call-sid-mismatch':
          assert.ok(input.watchedCallSid !== undefined && attrs?.callSid !== input.watchedCallSid);
          break;
        case 'owned-by-callwatch':
          assert.ok(input.ownedByCallWatch);
          break;
        case 'call-live':
          assert.ok(call && LIVE.includes(call.status));
          break;
        case 'call-unknown':
          assert.ok(call && (call.status === 'unknown' || call.status === 'gone'));
          break;
        case 'grace-period':
          assert.ok(call && TERMINAL.includes(call.status) && (end === undefined || nowMs < end + s.graceMs));
          assert.equal(a.recheckAtMs, end === undefined ? undefined : end + s.graceMs);
          break;
        case 'post-call-task':
          assert.ok(end !== undefined && (t.createdAtMs === undefined || t.createdAtMs > end + s.postCallTaskAfterMs));
          break;
        case 'wrapping-left-to-agent':
          assert.ok(t.state === 'wrapping' && end !== undefined && (s.wrapLimitMs === undefined || nowMs < end + s.wrapLimitMs));
          assert.equal(a.recheckAtMs, s.wrapLimitMs === undefined ? undefined : end + s.wrapLimitMs);
          break;
        case 'task-version-unknown':
          assert.ok(t.source === 'fetch' && freshAt(t.readAtMs, nowMs, s) && t.version === undefined);
          break;
        default:
          assert.fail(`decideTask never skips for ${a.reason}`);
      }
      break;
  }
  assert.equal(allowed, undefined, 'the design allows a write here, so the policy must make it');
  return false;
}

/** A widget timeout as the design reads it: a positive whole number of seconds, as a number or a string of digits. */
export function timeoutMs(t: unknown): number | undefined {
  if (typeof t === 'number') return Number.isInteger(t) && t > 0 ? t * 1000 : undefined;
  if (typeof t !== 'string' || !/^\s*\d+\s*$/.test(t)) return undefined;
  const sec = Number(t.trim());
  return sec > 0 ? sec * 1000 : undefined;
}

/**
 * How long a messaging Execution may wait where it waits: its Send & Wait widget's timeout, the threshold when the
 * widget has none (or an unreadable one) or it waits elsewhere. Only defined on the Execution's own revision: on
 * another (or an unknown) revision the timeouts are unknown and nothing may end.
 */
export function waitLimitMs(input: ExecutionDecisionInput, flow: Extract<FlowFacts, { kind: 'read' }>, widget: string | undefined): number {
  const threshold = input.settings.messagingIdleMs;
  const w = widget === undefined ? undefined : flow.widgets[widget];
  const t = timeoutMs(w?.timeout);
  return w?.type === SEND_AND_WAIT && t !== undefined ? t : threshold;
}

/** The policy's cheap early "not idle": touched more recently than the shortest wait any widget (or the threshold) allows, plus grace. */
function touchedRecently(input: ExecutionDecisionInput, flow: Extract<FlowFacts, { kind: 'read' }>): boolean {
  const { execution: ex, nowMs, settings: s } = input;
  const touched = Math.max(ex.updatedAtMs ?? 0, ex.createdAtMs ?? 0);
  const timeouts = Object.values(flow.widgets).map((w) => timeoutMs(w.timeout) ?? Infinity);
  return touched > 0 && nowMs - touched < Math.min(s.messagingIdleMs, ...timeouts) + s.graceMs;
}

/**
 * Whether the design allows ending this Execution: an active fresh fetch, never request/unknown-triggered; voice:
 * its own call (the watched one, not owned by a callWatch in a sweep, voice swept) certainly over past grace, or not
 * found and the Execution older than the threshold (sweep only); messaging: not in a callWatch, messaging swept, the
 * Flow read, where it waits freshly read, and idle past the wait limit plus grace.
 */
export function executionMayEnd(input: ExecutionDecisionInput): boolean {
  const { nowMs, execution: ex, call, flow, settings: s } = input;
  if (ex.state !== 'active' || ex.source !== 'fetch' || !freshAt(ex.readAtMs, nowMs, s)) return false;
  if (ex.trigger === 'call') {
    const callSid = ex.callSid ?? input.watchedCallSid;
    if (callSid === undefined || (input.watchedCallSid !== undefined && callSid !== input.watchedCallSid)) return false;
    if (input.ownedByCallWatch || (input.sweptChannels && !input.sweptChannels.includes('voice'))) return false;
    if (!call || call.sid !== callSid) return false;
    if (call.status === 'gone' && input.watchedCallSid === undefined) return ex.createdAtMs !== undefined && nowMs - ex.createdAtMs >= s.messagingIdleMs;
    const end = callEnd(call);
    return end !== undefined && nowMs >= end + s.graceMs;
  }
  if (ex.trigger !== 'message' && ex.trigger !== 'conversation') return false;
  if (input.watchedCallSid !== undefined || (input.sweptChannels && !input.sweptChannels.some((c) => MESSAGING.includes(c)))) return false;
  if (flow?.kind !== 'read' || ex.flowRevision === undefined || flow.revision !== ex.flowRevision) return false;
  const w = ex.waiting;
  // The Steps are read after the Execution's fetch: a reply between the two reads is never missed.
  if (!w || !freshAt(w.readAtMs, nowMs, s) || w.readAtMs < ex.readAtMs!) return false;
  const since = w.kind === 'widget' ? w.sinceMs : ex.createdAtMs;
  if (since === undefined) return false;
  const widget = w.kind === 'widget' ? w.widget : undefined;
  return nowMs >= since + waitLimitMs(input, flow, widget) + s.graceMs && !touchedRecently(input, flow);
}

/** Every invariant of one decideExecution answer. Returns whether it is a write. */
export function checkExecutionAnswer(input: ExecutionDecisionInput, a: ExecutionAction): boolean {
  const { nowMs, execution: ex, call, flow, settings: s } = input;
  checkSkip(a, nowMs);
  const may = executionMayEnd(input);
  const messaging = ex.trigger === 'message' || ex.trigger === 'conversation';
  const callSid = ex.callSid ?? input.watchedCallSid;
  switch (a.kind) {
    case 'end-execution': {
      assert.ok(may, 'an end the design does not allow');
      assert.equal(a.sid, ex.sid);
      assert.ok(a.reason.length > 0);
      if (messaging) {
        // Never before since + (widget timeout | threshold) + grace, on the Execution's own revision.
        const w = ex.waiting!;
        assert.ok(flow?.kind === 'read');
        const since = w.kind === 'widget' ? w.sinceMs : ex.createdAtMs!;
        assert.ok(nowMs >= since + waitLimitMs(input, flow, w.kind === 'widget' ? w.widget : undefined) + s.graceMs);
        assert.equal(a.widget, w.kind === 'widget' ? w.widget : undefined);
      }
      return true;
    }
    case 'none':
      assert.ok(ex.state === 'ended' || ex.state === 'gone', `an ${ex.state} Execution is never "none"`);
      break;
    case 'read':
      switch (a.what) {
        case 'execution':
          assert.equal(a.sid, ex.sid);
          assert.ok(ex.state === 'unknown' || ex.source !== 'fetch' || !freshAt(ex.readAtMs, nowMs, s), 'read the Execution only when it is unknown or not fresh');
          break;
        case 'call':
          assert.ok(ex.trigger === 'call' && a.sid === callSid && (!call || call.sid !== callSid));
          break;
        case 'steps':
          assert.ok(messaging && a.sid === ex.sid && (!ex.waiting || !freshAt(ex.waiting.readAtMs, nowMs, s) || ex.waiting.readAtMs < ex.readAtMs!));
          assert.ok(ex.source === 'fetch' && freshAt(ex.readAtMs, nowMs, s), 'Steps are read only after a fresh fetch of the Execution');
          break;
        case 'flow':
          assert.ok(messaging && ex.flowSid !== undefined && a.sid === ex.flowSid && a.revision === ex.flowRevision);
          assert.ok(!flow || (flow.kind === 'read' && ex.flowRevision !== undefined && flow.revision < ex.flowRevision));
          break;
        default:
          assert.fail(`an Execution decision reads ${a.what}`);
      }
      break;
    case 'skip':
      switch (a.reason) {
        case 'execution-trigger-unknown':
          assert.ok(!messaging || input.watchedCallSid !== undefined);
          if (ex.trigger === 'call') assert.equal(callSid, undefined);
          // What a list item does not say, a fetch (with the context) may: only a fetch is skipped as unknown.
          if (ex.trigger === 'unknown' || (ex.trigger === 'call' && callSid === undefined)) assert.equal(ex.source, 'fetch');
          break;
        case 'channel-not-swept':
          assert.ok(input.sweptChannels !== undefined);
          break;
        case 'call-sid-mismatch':
          assert.ok(ex.trigger === 'call' && input.watchedCallSid !== undefined && callSid !== input.watchedCallSid);
          break;
        case 'owned-by-callwatch':
          assert.ok(input.ownedByCallWatch);
          break;
        case 'call-live':
          assert.ok(ex.trigger === 'call' && call && LIVE.includes(call.status));
          break;
        case 'call-unknown':
          assert.ok(ex.trigger === 'call' && call && (call.status === 'unknown' || call.status === 'gone'));
          break;
        case 'grace-period': {
          const end = callEnd(call);
          assert.ok(ex.trigger === 'call' && call && TERMINAL.includes(call.status) && (end === undefined || nowMs < end + s.graceMs));
          break;
        }
        case 'flow-unreadable':
          assert.ok(messaging && (flow?.kind === 'unreadable' || ex.flowSid === undefined || (flow?.kind === 'read' && ex.flowRevision !== flow.revision)));
          break;
        case 'messaging-not-idle': {
          assert.ok(messaging && flow?.kind === 'read');
          const w = ex.waiting;
          const since = w?.kind === 'widget' ? w.sinceMs : ex.createdAtMs;
          const waitingTooShort =
            w !== undefined && freshAt(w.readAtMs, nowMs, s) && (since === undefined || nowMs < since + waitLimitMs(input, flow, w.kind === 'widget' ? w.widget : undefined) + s.graceMs);
          assert.ok(touchedRecently(input, flow) || waitingTooShort, 'not idle: touched recently, or waiting less than its limit plus grace');
          break;
        }
        default:
          assert.fail(`decideExecution never skips for ${a.reason}`);
      }
      break;
  }
  assert.equal(may, false, 'the design allows ending it here, so the policy must');
  return false;
}

/**
 * Every invariant of one decideCall answer: a live call is never acted on (flagged past max age), a call we cannot
 * see is never acted on, nothing happens before end + grace (an unknown end counts from now), and after that each
 * resource gets exactly the answer decideTask/decideExecution give it when bound to this call (and that answer passes
 * their invariants). Returns whether the decision contains a write.
 */
export function checkDecision(input: CallDecisionInput, d: CallDecision): boolean {
  const { nowMs, call, execution: ex, task, settings: s } = input;
  const exClosed = !ex || ex.state === 'ended' || ex.state === 'gone';
  const taskClosed = !task || CLOSED.includes(task.state);
  if (exClosed) assert.equal(d.execution.kind, 'none');
  if (taskClosed) assert.equal(d.task.kind, 'none');
  for (const a of [d.execution, d.task]) checkSkip(a, nowMs);
  assert.equal(d.nextCheckAtMs === undefined, d.waitReason === undefined, 'nextCheckAtMs and waitReason come together');
  if (d.nextCheckAtMs !== undefined) assert.ok(d.nextCheckAtMs > nowMs, 'the next check lies in the future');
  const wrote = isWriteAction(d.execution) || isWriteAction(d.task);

  if (LIVE.includes(call.status)) {
    const flagged = call.startedAtMs !== undefined && nowMs >= call.startedAtMs + s.maxAgeMs;
    assert.equal(d.flagLongLive, flagged);
    assert.equal(d.waitReason, 'call-live');
    assert.equal(d.nextCheckAtMs, call.startedAtMs !== undefined && !flagged ? call.startedAtMs + s.maxAgeMs : nowMs + Math.max(s.maxAgeMs, MIN_RECHECK_MS));
    for (const a of [d.execution, d.task]) assert.ok(a.kind === 'none' || (a.kind === 'skip' && a.reason === 'call-live'));
    return false;
  }
  assert.equal(d.flagLongLive, false);
  if (!TERMINAL.includes(call.status)) {
    assert.equal(d.waitReason, 'call-unknown');
    assert.equal(d.nextCheckAtMs, nowMs + Math.max(s.graceMs, MIN_RECHECK_MS));
    for (const a of [d.execution, d.task]) assert.ok(a.kind === 'none' || (a.kind === 'skip' && a.reason === 'call-unknown'));
    return false;
  }
  const end = call.endedAtMs ?? nowMs;
  if (nowMs < end + s.graceMs) {
    assert.equal(d.waitReason, 'grace');
    assert.equal(d.nextCheckAtMs, end + s.graceMs);
    assert.ok(d.execution.kind === 'none' && d.task.kind === 'none');
    return false;
  }
  // Past grace: each resource is judged by the one rule for it, bound to this call.
  const bound = { nowMs, settings: s, call: { ...call, endedAtMs: end }, watchedCallSid: call.sid };
  if (!taskClosed) {
    const taskInput = { ...bound, task: task! };
    assert.deepEqual(d.task, decideTask(taskInput));
    checkTaskAnswer(taskInput, d.task);
    if (isWriteAction(d.task)) assert.ok(call.sid !== undefined && task!.attributes.kind === 'parsed' && task!.attributes.callSid === call.sid, 'a Task write is for the watched call');
  }
  if (!exClosed) {
    const exInput = { ...bound, execution: ex! };
    assert.deepEqual(d.execution, decideExecution(exInput));
    checkExecutionAnswer(exInput, d.execution);
    if (isWriteAction(d.execution)) assert.ok(ex!.trigger === 'call' && call.sid !== undefined && (ex!.callSid ?? call.sid) === call.sid, 'an Execution end is for the watched call');
  }
  const rechecks = [d.task, d.execution].flatMap((a) => (a.kind === 'skip' && a.recheckAtMs !== undefined ? [a.recheckAtMs] : []));
  if (rechecks.length === 0) assert.equal(d.nextCheckAtMs, undefined);
  else {
    assert.equal(d.nextCheckAtMs, Math.max(Math.min(...rechecks), nowMs + MIN_RECHECK_MS));
    assert.equal(d.waitReason, d.task.kind === 'skip' && d.task.recheckAtMs !== undefined ? 'wrap-limit' : 'widget-timeout');
  }
  return wrote;
}
