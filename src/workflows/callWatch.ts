/**
 * callWatch: one workflow per inbound call (id `call:<CallSid>`). Waits for the call to end — by status
 * signal, or by its own polling when webhooks are lost — then, after a grace period, has the call's Studio
 * Execution and TaskRouter Task reconciled: each by an activity that reads it fresh, lets the policy decide
 * and writes only what the policy approves. A live call is never touched.
 */
import * as wf from '@temporalio/workflow';
import type { CallActivities } from '../activities/callActivities';
import { decideCall, isWriteAction, summarizeOutcome, OUTCOME, type PolicyAction } from '../policy';
import { DISCOVERY_TASK_QUEUE } from '../shared/constants';
import { TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST } from '../shared/errorTypes';
import type { CallWatchInput } from '../shared/messages';
import { ExecutionSidKey, TaskSidKey } from '../shared/searchAttributes';
import { CallWatch, type CallWatchResult } from './callWatchState';

export type { CallWatchResult } from './callWatchState';

const nonRetryableErrorTypes = [TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST];
const retry: wf.RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes };

const twilio = wf.proxyActivities<CallActivities>({ startToCloseTimeout: '30s', retry });
// EvaluateTaskAttributes is limited to 3 req/s per account: discovery runs on a task queue whose
// workers share a server-side activity rate limit.
const discovery = wf.proxyActivities<CallActivities>({ taskQueue: DISCOVERY_TASK_QUEUE, startToCloseTimeout: '30s', retry });

/** Reconcile passes per run before continueAsNew (each pass is a handful of events). */
const MAX_PASSES_PER_RUN = 20;

export async function callWatch(input: CallWatchInput): Promise<CallWatchResult> {
  const w = new CallWatch(input);
  w.listen();
  if (!w.isEnded()) await waitForEnd(w);
  await reconcile(w);
  const outcome = summarizeOutcome({ results: [...w.state.actions.map((a) => a.result), ...w.state.skipped.map(() => 'skipped' as const)] });
  w.state.phase = 'done';
  w.state.nextCheckAtMs = undefined;
  w.setOutcome(outcome);
  await wf.condition(wf.allHandlersFinished);
  return w.result(outcome);
}

async function continueAsNew(w: CallWatch): Promise<never> {
  await wf.condition(wf.allHandlersFinished);
  return wf.continueAsNew<typeof callWatch>({ ...w.input, startedAtMs: w.startedAtMs, carried: w.state });
}

/** Phase 1: until the call ends (a signal, the poll, or our own look at its max age). A live call is only flagged. */
async function waitForEnd(w: CallWatch): Promise<void> {
  const s = w.input.settings;
  const poll = wf.proxyActivities<CallActivities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: s.pollInitialMs, backoffCoefficient: 2, maximumInterval: s.pollMaxMs, nonRetryableErrorTypes },
  });
  const pollScope = new wf.CancellationScope();
  let pollSettled = false;
  const pollDone = pollScope
    .run(async () => {
      // A webhook-started watch will usually hear the end by signal; don't spend a read right away.
      if (w.input.startedBy === 'webhook') await wf.sleep(s.pollInitialMs);
      w.applyCallInfo(await poll.awaitCallEnd(w.state.callSid));
    })
    .catch((err) => {
      if (!wf.isCancellation(err)) throw err;
    })
    .finally(() => (pollSettled = true));

  // While live, the policy says when to look at the call ourselves (its max age) and whether to flag it; a call
  // already past its max age is looked at at once.
  const first = decideCall({ nowMs: Date.now(), call: { ...w.callFacts(), status: 'in-progress' }, settings: w.settings });
  let nextLook = first.flagLongLive ? Date.now() : first.nextCheckAtMs!;
  while (!w.isEnded()) {
    w.state.nextCheckAtMs = nextLook;
    const seen = w.wakeups;
    const woke = await wf.condition(() => w.isEnded() || w.wakeups !== seen || pollSettled, Math.max(1, nextLook - Date.now()));
    if (w.isEnded()) break;
    const unknown = w.state.callStatus === 'gone' || w.state.callStatus === 'unknown';
    if (pollSettled && unknown) break; // can't prove anything: the reconcile phase decides
    if (!woke || w.wakeups !== seen || pollSettled) {
      w.applyCallInfo(await twilio.fetchCall(w.state.callSid));
      w.checks++;
      const d = decideCall({ nowMs: Date.now(), call: w.callFacts(), settings: w.settings });
      if (d.flagLongLive && w.state.phase !== 'live-flagged') {
        w.state.phase = 'live-flagged';
        w.setOutcome(OUTCOME.liveFlagged);
        wf.log.warn('call still live past max age: flagged, left alone', { callSid: w.state.callSid, maxAgeMs: s.maxAgeMs });
      }
      if (d.nextCheckAtMs !== undefined && d.waitReason === 'call-live') nextLook = d.nextCheckAtMs;
      if (pollSettled && !w.isEnded()) break;
    }
    if (wf.workflowInfo().continueAsNewSuggested) {
      pollScope.cancel();
      await continueAsNew(w);
    }
  }
  pollScope.cancel();
  await pollDone;
}

/** Phase 2: after the grace, reconcile what is still open, and look again when the policy says an answer may change. */
async function reconcile(w: CallWatch): Promise<void> {
  const s = w.input.settings;
  const st = w.state;
  const needsActivity = (a: PolicyAction) => a.kind === 'read' || isWriteAction(a);
  for (let pass = 1; ; pass++) {
    if (w.isEnded()) {
      st.phase = 'grace';
      const graceEnd = (st.callEndedAtMs ?? Date.now()) + s.graceMs;
      st.nextCheckAtMs = graceEnd;
      const seen = w.wakeups;
      if (Date.now() < graceEnd) await wf.condition(() => w.wakeups !== seen, graceEnd - Date.now());
    }
    st.phase = 'reconciling';
    await Promise.all([learnExecution(w), learnTask(w)]);
    const decision = decideCall({ nowMs: Date.now(), call: w.callFacts(), execution: w.linkedExecution(), task: w.linkedTask(), settings: w.settings });
    const common = { call: w.callFacts(), settings: w.settings, dryRun: s.dryRun };
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
    st.nextCheckAtMs = next;
    if (next === undefined) return;
    // A call whose status stays unreadable is given up on after its max age, reported as skipped.
    if (decision.waitReason === 'call-unknown' && Date.now() > w.startedAtMs + s.maxAgeMs) return;
    if (pass % MAX_PASSES_PER_RUN === 0) await continueAsNew(w);
    const seen = w.wakeups;
    await wf.condition(() => w.wakeups !== seen, Math.max(1, next - Date.now()));
    if (!w.isEnded()) w.applyCallInfo(await twilio.fetchCall(st.callSid)); // only when its status was unknown
  }
}

/** Links from signals first; discovery (rate-limited queue) for what no signal brought. */
async function learnExecution(w: CallWatch): Promise<void> {
  const st = w.state;
  if (!st.executionSid) {
    const found = await discovery.discoverExecution({ callSid: st.callSid, flowSids: w.input.settings.flowSids, aroundMs: w.startedAtMs });
    if (!found) return;
    st.flowSid = found.flowSid;
    st.executionSid = found.executionSid;
  }
  w.index(ExecutionSidKey, st.executionSid);
}

async function learnTask(w: CallWatch): Promise<void> {
  const st = w.state;
  if (!st.taskSid) {
    const found = await discovery.discoverTask({ callSid: st.callSid, workspaceSids: w.input.settings.workspaceSids });
    if (!found) return;
    st.workspaceSid = found.workspaceSid;
    st.taskSid = found.taskSid;
    st.taskStatus = found.assignmentStatus;
  }
  w.index(TaskSidKey, st.taskSid);
}
