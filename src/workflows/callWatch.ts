/**
 * callWatch: one workflow per inbound call (id `call:<CallSid>`). Waits for the call to end — by status
 * signal, or by its own polling when webhooks are lost — then, after a grace period, has the call's Studio
 * Execution and TaskRouter Task reconciled: each by an activity that reads it fresh, lets the policy decide
 * and writes only what the policy approves. A live call is never touched.
 */
import * as wf from '@temporalio/workflow';
import type { CallActivities, CallInfo } from '../activities/callActivities';
import { decideCall, isWriteAction, summarizeOutcome, OUTCOME } from '../policy';
import type { CallFacts, ExecutionFacts, PolicySettings, TaskFacts } from '../policy/types';
import { DISCOVERY_TASK_QUEUE, isTerminalCallStatus, type TaskAssignmentStatus, TASK_STATUSES } from '../shared/constants';
import { TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST } from '../shared/errorTypes';
import {
  callStatusSignal,
  executionLinkSignal,
  reconcileNowUpdate,
  stateQuery,
  taskLinkSignal,
  type ActionRecord,
  type CallStatusEvent,
  type CallWatchInput,
  type CallWatchState,
  type ReconcileResult,
} from '../shared/messages';
import { CallSidKey, ExecutionSidKey, TaskSidKey, UnstickOutcomeKey } from '../shared/searchAttributes';

export interface CallWatchResult {
  callSid: string;
  outcome: string;
  callStatus: string;
  callEndedAtMs?: number;
  lastSequenceNumber?: number;
  executionSid?: string;
  executionStatus?: string;
  taskSid?: string;
  taskStatus?: string;
  actions: ActionRecord[];
  skipped: { sid?: string; reason: string; detail?: string }[];
  dryRun: boolean;
  summary: string;
}

const nonRetryableErrorTypes = [TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST];
const retry: wf.RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes };

const twilio = wf.proxyActivities<CallActivities>({ startToCloseTimeout: '30s', retry });
// EvaluateTaskAttributes is limited to 3 req/s per account: discovery runs on a task queue whose
// workers share a server-side activity rate limit.
const discovery = wf.proxyActivities<CallActivities>({ taskQueue: DISCOVERY_TASK_QUEUE, startToCloseTimeout: '30s', retry });

/** Reconcile passes per run before continueAsNew (each pass is a handful of events). */
const MAX_PASSES_PER_RUN = 20;

export async function callWatch(input: CallWatchInput): Promise<CallWatchResult> {
  const s = input.settings;
  const state: CallWatchState = input.carried ?? {
    callSid: input.callSid,
    phase: 'waiting-for-end',
    callStatus: 'unknown',
    actions: [],
    skipped: [],
    dryRun: s.dryRun,
  };
  const startedAtMs = input.startedAtMs ?? wf.workflowInfo().startTime.getTime();
  const settings: PolicySettings = {
    graceMs: s.graceMs,
    maxAgeMs: s.maxAgeMs,
    wrapLimitMs: s.wrapLimitMs,
    messagingIdleMs: s.messagingIdleMs,
    taskReason: s.taskReason,
    postCallTaskAfterMs: s.postCallTaskAfterMs,
    ...(s.protectTasks !== undefined ? { protectTasks: s.protectTasks } : {}),
  };
  let wakeups = 0;
  let checks = 0;

  const isEnded = () => isTerminalCallStatus(state.callStatus);
  const callFacts = (): CallFacts & { sid: string } => ({
    sid: state.callSid,
    status: state.callStatus as CallFacts['status'],
    endedAtMs: state.callEndedAtMs,
    startedAtMs,
  });
  const applyCallStatus = (status: string, atMs: number | undefined) => {
    if (isEnded()) return; // a call that ended cannot come back
    state.callStatus = status;
    if (isTerminalCallStatus(status)) state.callEndedAtMs = atMs ?? Date.now();
  };
  const applyCallInfo = (info: CallInfo) => {
    if (info.status === 'gone' || info.status === 'unknown') {
      if (!isEnded()) state.callStatus = info.status;
      return;
    }
    applyCallStatus(info.status, info.endedAtMs);
  };

  wf.setHandler(callStatusSignal, (ev: CallStatusEvent) => {
    if (ev.callSid !== state.callSid) return;
    if (ev.sequenceNumber !== undefined) {
      // Duplicates and callbacks that arrive after a later one change nothing.
      if (state.lastSequenceNumber !== undefined && ev.sequenceNumber <= state.lastSequenceNumber) return;
      state.lastSequenceNumber = ev.sequenceNumber;
    }
    applyCallStatus(ev.status, ev.timestampMs);
  });
  wf.setHandler(taskLinkSignal, (ev) => {
    if (ev.callSid !== state.callSid) return;
    if (state.taskSid && state.taskSid !== ev.taskSid && ['canceled', 'completed'].includes(ev.assignmentStatus ?? '')) return;
    state.taskSid = ev.taskSid;
    state.workspaceSid = ev.workspaceSid;
    if (ev.assignmentStatus) state.taskStatus = ev.assignmentStatus;
  });
  wf.setHandler(executionLinkSignal, (ev) => {
    if (ev.callSid !== state.callSid) return;
    state.executionSid = ev.executionSid;
    state.flowSid = ev.flowSid;
  });
  wf.setHandler(stateQuery, () => state);
  wf.setHandler(reconcileNowUpdate, async () => {
    const target = checks + 1;
    wakeups++;
    await wf.condition(() => checks >= target || state.phase === 'done');
    return state;
  });

  const setOutcome = (outcome: string) => {
    state.outcome = outcome;
    wf.upsertSearchAttributes([{ key: UnstickOutcomeKey, value: outcome }]);
  };
  wf.upsertSearchAttributes([
    { key: CallSidKey, value: state.callSid },
    { key: UnstickOutcomeKey, value: state.outcome ?? OUTCOME.watching },
  ]);
  const indexed = new Set<string>();
  const indexSid = (key: typeof ExecutionSidKey, sid: string) => {
    if (indexed.has(sid)) return;
    indexed.add(sid);
    wf.upsertSearchAttributes([{ key, value: sid }]);
  };
  const continueAsNew = async () => {
    await wf.condition(wf.allHandlersFinished);
    return wf.continueAsNew<typeof callWatch>({ ...input, startedAtMs, carried: state });
  };

  // --- 1. wait for the call to end -------------------------------------------------------------
  if (!isEnded()) await waitForEnd();

  // --- 2. grace period, then reconcile what is still open -----------------------------------------
  for (let pass = 1; ; pass++) {
    if (isEnded()) {
      state.phase = 'grace';
      const graceEnd = (state.callEndedAtMs ?? Date.now()) + s.graceMs;
      state.nextCheckAtMs = graceEnd;
      const seen = wakeups;
      if (Date.now() < graceEnd) await wf.condition(() => wakeups !== seen, graceEnd - Date.now());
    }
    state.phase = 'reconciling';
    await Promise.all([learnExecution(), learnTask()]);
    const decision = decideCall({ nowMs: Date.now(), call: callFacts(), execution: linkedExecution(), task: linkedTask(), settings });
    const [ex, task] = await Promise.all([
      needsActivity(decision.execution) && state.flowSid && state.executionSid
        ? twilio.reconcileExecution({ flowSid: state.flowSid, executionSid: state.executionSid, call: callFacts(), settings, dryRun: s.dryRun })
        : undefined,
      needsActivity(decision.task) && state.workspaceSid && state.taskSid
        ? twilio.reconcileTask({ workspaceSid: state.workspaceSid, taskSid: state.taskSid, call: callFacts(), settings, dryRun: s.dryRun })
        : undefined,
    ]);
    if (ex) note(ex, state.executionSid!, (st) => (state.executionStatus = st), 'ended');
    else if (decision.execution.kind === 'skip') noteSkip(state.executionSid, decision.execution.reason, decision.execution.detail);
    if (task) note(task, state.taskSid!, (st) => (state.taskStatus = st), undefined);
    else if (decision.task.kind === 'skip') noteSkip(state.taskSid, decision.task.reason, decision.task.detail);
    checks++;

    const next = task?.recheckAtMs ?? ex?.recheckAtMs ?? (task || ex ? undefined : decision.nextCheckAtMs);
    state.nextCheckAtMs = next;
    if (next === undefined) break;
    if (decision.waitReason === 'call-unknown' && Date.now() > startedAtMs + s.maxAgeMs) break; // give up, reported as skipped
    if (pass % MAX_PASSES_PER_RUN === 0) await continueAsNew();
    const seen = wakeups;
    await wf.condition(() => wakeups !== seen, Math.max(1, next - Date.now()));
    if (!isEnded()) applyCallInfo(await twilio.fetchCall(state.callSid)); // only when its status was unknown
  }

  const outcome = summarizeOutcome({ results: [...state.actions.map((a) => a.result), ...state.skipped.map(() => 'skipped' as const)] });
  state.phase = 'done';
  state.nextCheckAtMs = undefined;
  setOutcome(outcome);
  await wf.condition(wf.allHandlersFinished);
  return result(outcome);

  async function waitForEnd(): Promise<void> {
    const poll = wf.proxyActivities<CallActivities>({
      startToCloseTimeout: '30s',
      retry: { initialInterval: s.pollInitialMs, backoffCoefficient: 2, maximumInterval: s.pollMaxMs, nonRetryableErrorTypes },
    });
    const pollScope = new wf.CancellationScope();
    let pollSettled = false;
    const pollDone = pollScope
      .run(async () => {
        // A webhook-started watch will usually hear the end by signal; don't spend a read right away.
        if (input.startedBy === 'webhook') await wf.sleep(s.pollInitialMs);
        applyCallInfo(await poll.awaitCallEnd(state.callSid));
      })
      .catch((err) => {
        if (!wf.isCancellation(err)) throw err;
      })
      .finally(() => (pollSettled = true));

    // While live, the policy says when to look at the call ourselves (its max age) and whether to flag it.
    // A call already past its max age is looked at (and flagged) at once.
    const first = decideCall({ nowMs: Date.now(), call: { ...callFacts(), status: 'in-progress' }, settings });
    let nextLook = first.flagLongLive ? Date.now() : first.nextCheckAtMs!;
    while (!isEnded()) {
      state.nextCheckAtMs = nextLook;
      const seen = wakeups;
      const woke = await wf.condition(() => isEnded() || wakeups !== seen || pollSettled, Math.max(1, nextLook - Date.now()));
      if (isEnded()) break;
      if (pollSettled && (state.callStatus === 'gone' || state.callStatus === 'unknown')) break; // can't prove anything: decide below
      if (!woke || wakeups !== seen || pollSettled) {
        applyCallInfo(await twilio.fetchCall(state.callSid));
        checks++;
        const d = decideCall({ nowMs: Date.now(), call: callFacts(), settings });
        if (d.flagLongLive && state.phase !== 'live-flagged') {
          state.phase = 'live-flagged';
          setOutcome(OUTCOME.liveFlagged);
          wf.log.warn('call still live past max age: flagged, left alone', { callSid: state.callSid, maxAgeMs: s.maxAgeMs });
        }
        if (d.nextCheckAtMs !== undefined && d.waitReason === 'call-live') nextLook = d.nextCheckAtMs;
        if (pollSettled && !isEnded()) break;
      }
      if (wf.workflowInfo().continueAsNewSuggested) {
        pollScope.cancel();
        await continueAsNew();
      }
    }
    pollScope.cancel();
    await pollDone;
  }

  function needsActivity(a: { kind: string }): boolean {
    return a.kind === 'read' || isWriteAction(a as never);
  }

  function note(r: ReconcileResult, sid: string, setStatus: (s: string | undefined) => void, doneStatus: string | undefined) {
    const kind = r.action.kind;
    if (kind === 'end-execution' || kind === 'cancel-task' || kind === 'complete-task') {
      if (r.result === 'done' || r.result === 'dry-run' || r.result === 'already-closed' || r.result === 'capped' || r.result === 'changed') {
        state.actions.push({ kind, sid, result: r.result, reason: r.action.reason, atMs: Date.now() });
      }
      const closedAs = doneStatus ?? (kind === 'cancel-task' ? 'canceled' : 'completed');
      setStatus(r.result === 'done' ? closedAs : r.observedStatus);
      return;
    }
    setStatus(r.observedStatus);
    if (kind === 'skip') noteSkip(sid, r.action.reason, r.action.detail);
  }

  function noteSkip(sid: string | undefined, reason: string, detail?: string) {
    if (!state.skipped.some((x) => x.sid === sid && x.reason === reason)) state.skipped.push({ sid, reason, ...(detail ? { detail } : {}) });
  }

  /** What the workflow knows of its Execution: a link, never enough to write on (the activity reads it fresh). */
  function linkedExecution(): ExecutionFacts | undefined {
    if (!state.executionSid) return undefined;
    const st = state.executionStatus === 'ended' || state.executionStatus === 'gone' ? state.executionStatus : 'unknown';
    return { sid: state.executionSid, state: st, trigger: 'unknown', source: 'list' };
  }

  function linkedTask(): TaskFacts | undefined {
    if (!state.taskSid) return undefined;
    const st = (TASK_STATUSES as readonly string[]).includes(state.taskStatus ?? '') ? (state.taskStatus as TaskAssignmentStatus) : 'unknown';
    return { sid: state.taskSid, state: st === 'completed' || st === 'canceled' ? st : 'unknown', attributes: { kind: 'unknown' }, source: 'list' };
  }

  async function learnExecution(): Promise<void> {
    if (!state.executionSid) {
      const found = await discovery.discoverExecution({ callSid: state.callSid, flowSids: s.flowSids, aroundMs: startedAtMs });
      if (!found) return;
      state.flowSid = found.flowSid;
      state.executionSid = found.executionSid;
    }
    indexSid(ExecutionSidKey, state.executionSid);
  }

  async function learnTask(): Promise<void> {
    if (!state.taskSid) {
      const found = await discovery.discoverTask({ callSid: state.callSid, workspaceSids: s.workspaceSids });
      if (!found) return;
      state.workspaceSid = found.workspaceSid;
      state.taskSid = found.taskSid;
      state.taskStatus = found.assignmentStatus;
    }
    indexSid(TaskSidKey, state.taskSid);
  }

  function result(outcome: string): CallWatchResult {
    const summary =
      `call ${state.callSid} ${state.callStatus}; ` +
      (state.actions.length ? state.actions.map((a) => `${a.kind} ${a.sid}: ${a.result}`).join(', ') : 'nothing to close') +
      (state.skipped.length ? `; skipped: ${state.skipped.map((x) => `${x.sid ?? '-'} (${x.reason})`).join(', ')}` : '');
    return {
      callSid: state.callSid,
      outcome,
      callStatus: state.callStatus,
      callEndedAtMs: state.callEndedAtMs,
      lastSequenceNumber: state.lastSequenceNumber,
      executionSid: state.executionSid,
      executionStatus: state.executionStatus,
      taskSid: state.taskSid,
      taskStatus: state.taskStatus,
      actions: state.actions,
      skipped: state.skipped,
      dryRun: s.dryRun,
      summary,
    };
  }
}
