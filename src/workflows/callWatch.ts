/**
 * callWatch: one workflow per inbound call (id `call:<CallSid>`). Waits for the call to end — by status
 * signal, or by its own polling when webhooks are lost — then, after a grace period, has the call's Studio
 * Execution and TaskRouter Task reconciled: each by an activity that reads it fresh, lets the policy decide
 * and writes only what the policy approves. A live call is never touched.
 */
import * as wf from '@temporalio/workflow';
import type { CallActivities } from '../activities/callActivities';
import { decideCall, formatDuration, isWriteAction, summarizeOutcome, OUTCOME, type PolicyAction } from '../policy';
import { DISCOVERY_TASK_QUEUE } from '../shared/names';
import { TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST } from '../shared/errorTypes';
import type { CallWatchInput } from '../shared/messages';
import { ExecutionSidKey, TaskSidKey } from '../shared/searchAttributes';
import { CallWatch, type CallWatchResult } from './callWatchState';
import { declareVersioning } from './versioning';

export type { CallWatchResult } from './callWatchState';

const nonRetryableErrorTypes = [TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST];
const retry: wf.RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes };

const twilio = wf.proxyActivities<CallActivities>({ startToCloseTimeout: '30s', retry });
// EvaluateTaskAttributes is limited to 3 req/s per account: discovery runs on a task queue whose
// workers share a server-side activity rate limit.
const discovery = wf.proxyActivities<CallActivities>({ taskQueue: DISCOVERY_TASK_QUEUE, startToCloseTimeout: '30s', retry });

/** Reconcile passes per run before continueAsNew (each pass is a handful of events). */
const MAX_PASSES_PER_RUN = 20;

/**
 * Twilio ends every call within 24 h of its start (the longest call time limit it allows). A call it still reports
 * live a day after it started (and past its max age) will not end by itself: the watch stops there, `live-flagged`,
 * having closed nothing. README, Operations: "A call that never ends".
 */
const LIVE_WATCH_LIMIT_MS = 24 * 60 * 60_000;
const STILL_LIVE = 'still-live';

function stillLiveTooLong(w: CallWatch): boolean {
  return Date.now() >= w.startedAtMs + Math.max(LIVE_WATCH_LIMIT_MS, w.input.settings.maxAgeMs);
}

/** The end of the watch of a call that stays live past LIVE_WATCH_LIMIT_MS: recorded as a skip, nothing written. */
function stopWatchingLiveCall(w: CallWatch): typeof STILL_LIVE {
  const age = formatDuration(Date.now() - w.startedAtMs);
  w.noteSkip(undefined, 'call-live', `call still ${w.state.callStatus} ${age} after it started: no longer watched, nothing closed`);
  wf.log.warn('call still live a day after it started: watch ended, nothing closed', { callSid: w.state.callSid, age });
  return STILL_LIVE;
}

export async function callWatch(input: CallWatchInput): Promise<CallWatchResult> {
  const w = new CallWatch(input);
  w.listen();
  let stillLive = !w.isEnded() && (await waitForEnd(w)) === STILL_LIVE;
  if (!stillLive) stillLive = (await reconcile(w)) === STILL_LIVE;
  const outcome = stillLive
    ? OUTCOME.liveFlagged
    : summarizeOutcome({ results: [...w.state.actions.map((a) => a.result), ...w.state.skipped.map(() => 'skipped' as const)] });
  w.state.phase = 'done';
  w.setOutcome(outcome);
  await wf.condition(wf.allHandlersFinished);
  return w.result(outcome);
}

async function continueAsNew(w: CallWatch): Promise<never> {
  await wf.condition(wf.allHandlersFinished);
  return wf.continueAsNew<typeof callWatch>({ ...w.input, startedAtMs: w.startedAtMs, carried: w.state });
}

/**
 * Phase 1: until the call ends (a signal, the poll, or our own look at its max age). A live call is only flagged;
 * one still live past LIVE_WATCH_LIMIT_MS ends the watch (STILL_LIVE).
 */
async function waitForEnd(w: CallWatch): Promise<typeof STILL_LIVE | undefined> {
  const settings = w.input.settings;
  // A call that sends status callbacks will almost always tell us its end: its poll is only the backstop for a lost
  // final callback, so it runs every pollWithCallbacksMs (UNSTICK_POLL_WITH_CALLBACKS) instead of backing off to pollMaxMs.
  const rare = w.hearsCallbacks() && (settings.pollWithCallbacksMs ?? 0) > settings.pollMaxMs;
  const first = rare ? settings.pollWithCallbacksMs! : settings.pollInitialMs;
  const poll = wf.proxyActivities<CallActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: first, backoffCoefficient: 2, maximumInterval: rare ? first : settings.pollMaxMs, nonRetryableErrorTypes },
  });
  const pollScope = new wf.CancellationScope();
  let pollSettled = false;
  const pollDone = pollScope
    .run(async () => {
      // A webhook-started watch will usually hear the end by signal; don't spend a read right away.
      if (w.input.startedBy === 'webhook') await w.waitUntil(Date.now() + first, () => wf.sleep(first));
      w.applyCallInfo(await poll.awaitCallEnd(w.state.callSid));
    })
    .catch((err) => {
      if (!wf.isCancellation(err)) throw err;
    })
    .finally(() => (pollSettled = true));

  // While live, the policy says when to look at the call ourselves (its max age) and whether to flag it; a call
  // already past its max age is looked at at once.
  const initial = decideCall({ nowMs: Date.now(), call: { ...w.callFacts(), status: 'in-progress' }, settings: w.settings });
  let nextLook = initial.flagLongLive ? Date.now() : initial.nextCheckAtMs!;
  let gaveUp = false;
  while (!w.isEnded()) {
    const seen = w.wakeups;
    const asked = () => w.wakeups !== seen || w.checkAsked;
    const woke = await w.waitUntil(nextLook, () => wf.condition(() => w.isEnded() || asked() || pollSettled, Math.max(1, nextLook - Date.now())));
    if (w.isEnded()) break;
    const unknown = w.state.callStatus === 'gone' || w.state.callStatus === 'unknown';
    if (pollSettled && unknown) break; // can't prove anything: the reconcile phase decides
    if (!woke || asked() || pollSettled) {
      w.checkAsked = false;
      w.applyCallInfo(await twilio.fetchCall(w.state.callSid));
      w.checks++;
      const d = decideCall({ nowMs: Date.now(), call: w.callFacts(), settings: w.settings });
      if (d.flagLongLive && w.state.phase !== 'live-flagged') {
        w.state.phase = 'live-flagged';
        w.setOutcome(OUTCOME.liveFlagged);
        wf.log.warn('call still live past max age: flagged, left alone', { callSid: w.state.callSid, maxAgeMs: settings.maxAgeMs });
      }
      // Also when the status could not be read: the poll may not settle for a while, and a look already due would
      // otherwise be repeated at once, over and over.
      if (d.nextCheckAtMs !== undefined) nextLook = d.nextCheckAtMs;
      if (d.waitReason === 'call-live' && stillLiveTooLong(w)) {
        gaveUp = true;
        break;
      }
      if (pollSettled && !w.isEnded()) break;
    }
    if (wf.workflowInfo().continueAsNewSuggested) {
      pollScope.cancel();
      await continueAsNew(w);
    }
  }
  pollScope.cancel();
  await pollDone;
  return gaveUp ? stopWatchingLiveCall(w) : undefined;
}

/**
 * Phase 2: after the grace, reconcile what is still open, and look again when the policy says an answer may change.
 * (A call whose poll ended on an unreadable status may be seen live again here: the same LIVE_WATCH_LIMIT_MS holds.)
 */
async function reconcile(w: CallWatch): Promise<typeof STILL_LIVE | undefined> {
  const settings = w.input.settings;
  const st = w.state;
  const needsActivity = (a: PolicyAction) => a.kind === 'read' || isWriteAction(a);
  for (let pass = 1; ; pass++) {
    if (w.isEnded()) {
      st.phase = 'grace';
      const graceEnd = (st.callEndedAtMs ?? Date.now()) + settings.graceMs;
      const seen = w.wakeups;
      if (Date.now() < graceEnd) await w.waitUntil(graceEnd, () => wf.condition(() => w.wakeups !== seen, graceEnd - Date.now()));
    }
    st.phase = 'reconciling';
    await Promise.all([learnExecution(w), learnTask(w)]);
    const decision = decideCall({ nowMs: Date.now(), call: w.callFacts(), execution: w.linkedExecution(), task: w.linkedTask(), settings: w.settings });
    const common = { call: w.callFacts(), settings: w.settings, dryRun: settings.dryRun };
    const [ex, task] = await Promise.all([
      needsActivity(decision.execution) && st.flowSid && st.executionSid
        ? twilio.reconcileExecution({ ...common, flowSid: st.flowSid, executionSid: st.executionSid })
        : undefined,
      needsActivity(decision.task) && st.workspaceSid && st.taskSid ? twilio.reconcileTask({ ...common, workspaceSid: st.workspaceSid, taskSid: st.taskSid }) : undefined,
    ]);
    if (ex) w.note(ex, 'execution');
    else if (decision.execution.kind === 'skip') w.noteSkip(st.executionSid, decision.execution.reason, decision.execution.detail);
    if (task) w.note(task, 'task');
    else if (decision.task.kind === 'skip') w.noteSkip(st.taskSid, decision.task.reason, decision.task.detail);
    w.checks++;

    // The activities' answers were given on fresh reads; the workflow's own only where no activity ran.
    const next = task?.recheckAtMs ?? ex?.recheckAtMs ?? (task || ex ? undefined : decision.nextCheckAtMs);
    if (next === undefined) return;
    // A call whose status stays unreadable is given up on after its max age, reported as skipped.
    if (decision.waitReason === 'call-unknown' && Date.now() > w.startedAtMs + settings.maxAgeMs) return;
    if (decision.waitReason === 'call-live' && stillLiveTooLong(w)) return stopWatchingLiveCall(w);
    if (pass % MAX_PASSES_PER_RUN === 0) await continueAsNew(w);
    const seen = w.wakeups;
    await w.waitUntil(next, () => wf.condition(() => w.wakeups !== seen, Math.max(1, next - Date.now())));
    if (!w.isEnded()) w.applyCallInfo(await twilio.fetchCall(st.callSid)); // only when its status was unknown
  }
}

/**
 * Links from signals first (the linker's, TaskRouter events'); a watch that has none yet waits for one until
 * linkWaitMs after the call's start (the linker lists every few seconds), then discovers on its own.
 */
function waitForLink(w: CallWatch, linked: () => boolean): Promise<unknown> {
  const until = w.startedAtMs + (w.input.settings.linkWaitMs ?? 0);
  if (linked() || Date.now() >= until) return Promise.resolve();
  return w.waitUntil(until, () => wf.condition(linked, Math.max(1, until - Date.now())));
}

async function learnExecution(w: CallWatch): Promise<void> {
  const st = w.state;
  await waitForLink(w, () => !!st.executionSid);
  if (!st.executionSid) {
    // Not an EvaluateTaskAttributes request: it runs on the main queue, not the rate-limited discovery one.
    const found = await twilio.discoverExecution({ callSid: st.callSid, flowSids: w.input.settings.flowSids, aroundMs: w.startedAtMs });
    if (!found) return;
    w.linkExecution(found.flowSid, found.executionSid, 'discovery');
  }
  w.index(ExecutionSidKey, st.executionSid!);
}

async function learnTask(w: CallWatch): Promise<void> {
  const st = w.state;
  await waitForLink(w, () => !!st.taskSid);
  if (!st.taskSid) {
    const found = await discovery.discoverTask({ callSid: st.callSid, workspaceSids: w.input.settings.workspaceSids });
    if (!found) return;
    w.linkTask(found, 'discovery');
  }
  w.index(TaskSidKey, st.taskSid!);
}

// Worker Versioning: a watch finishes on the build it started on (README "Upgrading"); unversioned workers ignore it.
declareVersioning('PINNED', callWatch);
