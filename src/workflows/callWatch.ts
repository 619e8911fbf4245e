/**
 * callWatch: one workflow per inbound call (id `call:<CallSid>`). Waits for the call to end — by status
 * signal, or by its own polling when webhooks are lost — then, after a grace period, closes the call's
 * Studio Execution and TaskRouter Task only if they are still open. A live call is never touched.
 */
import * as wf from '@temporalio/workflow';
import type { CallActivities, CallInfo } from '../activities/callActivities';
import { TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST } from '../activities/twilioErrors';
import { decideCall, OUTCOME } from '../policy';
import type { CallFacts, ExecutionFacts, PolicySettings, TaskAction, TaskFacts } from '../policy/types';
import { DISCOVERY_TASK_QUEUE, isTerminalCallStatus, type TaskAssignmentStatus } from '../shared/constants';
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
  skipped: { sid?: string; reason: string }[];
  dryRun: boolean;
  summary: string;
}

const nonRetryableErrorTypes = [TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST];

const twilio = wf.proxyActivities<CallActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes },
});

// EvaluateTaskAttributes is limited to 3 req/s per account: discovery runs on a task queue whose
// workers share a server-side activity rate limit.
const discovery = wf.proxyActivities<CallActivities>({
  taskQueue: DISCOVERY_TASK_QUEUE,
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes },
});

/** Reconcile passes per run before continueAsNew (each pass is a handful of events). */
const MAX_PASSES_PER_RUN = 20;
/** Task closes retried after a concurrent change, per pass. */
const MAX_TASK_REDECIDES = 3;

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
  let wakeups = 0;
  let checks = 0;
  let taskFacts: TaskFacts | undefined;
  let executionFacts: ExecutionFacts | undefined;

  const isEnded = () => isTerminalCallStatus(state.callStatus);

  const applyCallStatus = (status: string, atMs: number | undefined) => {
    if (isEnded()) return; // a call that ended cannot come back
    state.callStatus = status;
    if (isTerminalCallStatus(status)) state.callEndedAtMs = atMs ?? Date.now();
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
    if (state.taskSid !== ev.taskSid) taskFacts = undefined;
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

  const applyCallInfo = (info: CallInfo) => {
    if (info.status === 'gone' || info.status === 'unknown') {
      if (!isEnded()) state.callStatus = info.status;
      return;
    }
    applyCallStatus(info.status, info.endedAtMs);
  };

  // --- 1. wait for the call to end -------------------------------------------------------------
  if (!isEnded()) {
    const poll = wf.proxyActivities<CallActivities>({
      startToCloseTimeout: '30s',
      retry: {
        initialInterval: s.pollInitialMs,
        backoffCoefficient: 2,
        maximumInterval: s.pollMaxMs,
        nonRetryableErrorTypes,
      },
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
      .finally(() => {
        pollSettled = true;
      });

    const maxAgeAt = startedAtMs + s.maxAgeMs;
    while (!isEnded()) {
      const seen = wakeups;
      const flagged = state.phase === 'live-flagged';
      const timeout = flagged ? s.maxAgeMs : Math.max(0, maxAgeAt - Date.now());
      const woke = await wf.condition(() => isEnded() || wakeups !== seen || pollSettled, timeout);
      if (isEnded()) break;
      if (pollSettled && (state.callStatus === 'gone' || state.callStatus === 'unknown')) break; // can't prove anything: decide below
      if (!woke || wakeups !== seen || pollSettled) {
        // Max age reached (or asked to check now): look at the call ourselves.
        applyCallInfo(await twilio.fetchCall(state.callSid));
        checks++;
        if (!isEnded() && Date.now() >= maxAgeAt && state.phase !== 'live-flagged') {
          state.phase = 'live-flagged';
          setOutcome(OUTCOME.liveFlagged);
          wf.log.warn('call still live past max age: flagged, left alone', { callSid: state.callSid, maxAgeMs: s.maxAgeMs });
        }
        if (pollSettled && !isEnded()) break;
      }
      if (wf.workflowInfo().continueAsNewSuggested) {
        pollScope.cancel();
        await wf.condition(wf.allHandlersFinished);
        await wf.continueAsNew<typeof callWatch>({ ...input, startedAtMs, carried: state });
      }
    }
    pollScope.cancel();
    await pollDone;
  }

  // --- 2. grace period, then reconcile what is still open -----------------------------------------
  const settings: PolicySettings = {
    graceMs: s.graceMs,
    maxAgeMs: s.maxAgeMs,
    wrapLimitMs: s.wrapLimitMs,
    messagingIdleMs: s.messagingIdleMs,
    taskReason: s.taskReason,
  };
  const record = (kind: ActionRecord['kind'], sid: string, result: ActionRecord['result'], reason: string) => {
    state.actions.push({ kind, sid, result, reason, atMs: Date.now() });
  };
  const noteSkip = (sid: string | undefined, reason: string) => {
    if (!state.skipped.some((x) => x.sid === sid && x.reason === reason)) state.skipped.push({ sid, reason });
  };

  for (let pass = 0; ; pass++) {
    if (isEnded()) state.phase = 'grace';
    const graceEnd = (state.callEndedAtMs ?? Date.now()) + s.graceMs;
    if (isEnded() && Date.now() < graceEnd) {
      const seen = wakeups;
      await wf.condition(() => wakeups !== seen, graceEnd - Date.now());
    }
    state.phase = 'reconciling';
    const callFacts: CallFacts = {
      status: state.callStatus as CallFacts['status'],
      endedAtMs: state.callEndedAtMs,
      startedAtMs,
    };

    // Learn the resources: links from signals first, discovery as the fallback; then fresh reads.
    const [execution, task] = await Promise.all([learnExecution(), learnTask()]);
    executionFacts = execution;
    taskFacts = task;

    let taskAction: TaskAction | undefined;
    let decision = decideCall({ nowMs: Date.now(), call: callFacts, execution, task, settings });
    const ex = decision.execution;
    if (ex.kind === 'end-execution' && state.flowSid && state.executionSid) {
      const out = await twilio.endExecution({ flowSid: state.flowSid, executionSid: state.executionSid, dryRun: s.dryRun });
      record('end-execution', state.executionSid, out.result, ex.reason);
      state.executionStatus = out.result === 'done' ? 'ended' : out.result === 'dry-run' ? 'active' : out.observedStatus;
    } else if (ex.kind === 'skip') {
      noteSkip(state.executionSid, ex.reason);
    }

    taskAction = decision.task;
    for (let i = 0; i < MAX_TASK_REDECIDES && taskAction.kind !== 'none' && taskAction.kind !== 'skip'; i++) {
      const target = taskAction.kind === 'cancel-task' ? 'canceled' : 'completed';
      const out = await twilio.closeTask({
        workspaceSid: state.workspaceSid!,
        taskSid: taskAction.sid,
        callSid: state.callSid,
        target,
        expectStatus: taskAction.expectStatus,
        reason: taskAction.reason,
        dryRun: s.dryRun,
      });
      if (out.result !== 'skipped' || !out.observedStatus || out.observedStatus === taskAction.expectStatus) {
        record(taskAction.kind, taskAction.sid, out.result, taskAction.reason);
        state.taskStatus = out.result === 'done' ? target : out.observedStatus;
        if (out.result === 'skipped' && out.detail) noteSkip(taskAction.sid, out.detail);
        break;
      }
      // The Task moved under us: decide again on what it is now.
      state.taskStatus = out.observedStatus;
      taskFacts = { ...taskFacts!, state: out.observedStatus as TaskAssignmentStatus };
      decision = decideCall({ nowMs: Date.now(), call: callFacts, execution: executionFacts, task: taskFacts, settings });
      taskAction = decision.task;
    }
    if (taskAction.kind === 'skip') noteSkip(state.taskSid, taskAction.reason);
    checks++;

    const next = decision.nextCheckAtMs;
    if (next === undefined || pass + 1 >= MAX_PASSES_PER_RUN * 4) break;
    if (decision.waitReason === 'call-unknown' && Date.now() > startedAtMs + s.maxAgeMs) break; // give up, reported as skipped
    if (pass > 0 && pass % MAX_PASSES_PER_RUN === 0 && wf.workflowInfo().continueAsNewSuggested) {
      await wf.condition(wf.allHandlersFinished);
      await wf.continueAsNew<typeof callWatch>({ ...input, startedAtMs, carried: state });
    }
    const seen = wakeups;
    await wf.condition(() => wakeups !== seen, Math.max(1, next - Date.now()));
    if (!isEnded()) {
      // Only reachable when the call's status was unknown: look at it again before deciding.
      applyCallInfo(await twilio.fetchCall(state.callSid));
    }
  }

  const wrote = state.actions.some((a) => a.result === 'done');
  const wouldWrite = state.actions.some((a) => a.result === 'dry-run');
  const outcome = wrote
    ? OUTCOME.closed
    : wouldWrite
      ? OUTCOME.dryRun
      : state.skipped.length > 0
        ? OUTCOME.skipped
        : OUTCOME.clean;
  state.phase = 'done';
  setOutcome(outcome);
  await wf.condition(wf.allHandlersFinished);

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

  async function learnExecution(): Promise<ExecutionFacts | undefined> {
    if (state.flowSid && state.executionSid) {
      const f = await twilio.fetchExecution(state.flowSid, state.executionSid);
      state.executionStatus = f.state;
      indexSid(ExecutionSidKey, state.executionSid);
      return f;
    }
    const found = await discovery.discoverExecution({ callSid: state.callSid, flowSids: s.flowSids, aroundMs: startedAtMs });
    if (!found) return undefined;
    state.flowSid = found.flowSid;
    state.executionSid = found.executionSid;
    state.executionStatus = found.facts.state;
    indexSid(ExecutionSidKey, found.executionSid);
    return found.facts;
  }

  async function learnTask(): Promise<TaskFacts | undefined> {
    if (state.workspaceSid && state.taskSid) {
      const f = await twilio.fetchTask(state.workspaceSid, state.taskSid);
      state.taskStatus = f.state;
      indexSid(TaskSidKey, state.taskSid);
      return f;
    }
    const found = await discovery.discoverTask({ callSid: state.callSid, workspaceSids: s.workspaceSids });
    if (!found) return undefined;
    state.workspaceSid = found.workspaceSid;
    state.taskSid = found.taskSid;
    state.taskStatus = found.facts.state;
    indexSid(TaskSidKey, found.taskSid);
    return found.facts;
  }
}
