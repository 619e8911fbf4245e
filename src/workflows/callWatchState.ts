/**
 * What one callWatch knows and has done, and the handlers that change it: status callbacks (ordered by Twilio's
 * SequenceNumber), the link to its Task, the `state` query and the `reconcileNow` update. The workflow
 * function (callWatch.ts) drives the phases; everything it records goes through here.
 */
import * as wf from '@temporalio/workflow';
import type { CallInfo } from '../activities/callActivities';
import type { CallFacts, ExecutionFacts, PolicySettings, TaskFacts } from '../policy/types';
import { isTerminalCallStatus, TASK_STATUSES, type TaskAssignmentStatus } from '../shared/constants';
import {
  callStatusSignal,
  checkCallSignal,
  executionLinkSignal,
  linksSignal,
  reconcileNowUpdate,
  stateQuery,
  taskLinkSignal,
  type CallStatusEvent,
  type CallWatchInput,
  type CallWatchState,
  type ReconcileResult,
} from '../shared/messages';
import { CallSidKey, ExecutionSidKey, TaskSidKey, UnstickOutcomeKey } from '../shared/searchAttributes';
import { OUTCOME } from '../policy/outcome';
import { recordWatchLivePastMaxAge } from './metrics';

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
  actions: CallWatchState['actions'];
  skipped: CallWatchState['skipped'];
  dryRun: boolean;
  summary: string;
  /** Where the Execution and Task links came from: `linker`, `event`, `discovery`. */
  linkedBy?: CallWatchState['linkedBy'];
}

const WRITE_KINDS = ['end-execution', 'cancel-task', 'complete-task'] as const;
const RECORDED_RESULTS = ['done', 'dry-run', 'already-closed', 'capped'] as const;

export class CallWatch {
  readonly state: CallWatchState;
  readonly startedAtMs: number;
  readonly settings: PolicySettings;
  /** Bumped by `reconcileNow`: a wait in progress ends early. */
  wakeups = 0;
  /** Checks made so far; `reconcileNow` returns after the next one. */
  checks = 0;
  /**
   * The linker's live check asked for a read of the Call (not among the live calls). A flag, not a wakeup: it may come
   * before the wait for the end has started (even in the first activation), and must not be lost.
   */
  checkAsked = false;
  private readonly indexed = new Set<string>();
  /** The timers the workflow waits on now (id → when each fires): the earliest is the state's nextCheckAtMs. */
  private readonly waits = new Map<number, number>();
  private lastWaitId = 0;

  constructor(readonly input: CallWatchInput) {
    const s = input.settings;
    const carried = input.carried;
    // A state carried by an older run may lack the lists; the `state` query always shows them. Its wait ended with it.
    this.state = carried
      ? { ...carried, actions: carried.actions ?? [], skipped: carried.skipped ?? [], nextCheckAtMs: undefined }
      : { callSid: input.callSid, phase: 'waiting-for-end', callStatus: 'unknown', actions: [], skipped: [], dryRun: s.dryRun };
    this.startedAtMs = input.startedAtMs ?? wf.workflowInfo().startTime.getTime();
    this.settings = {
      graceMs: s.graceMs,
      maxAgeMs: s.maxAgeMs,
      wrapLimitMs: s.wrapLimitMs,
      messagingIdleMs: s.messagingIdleMs,
      taskReason: s.taskReason,
      postCallTaskAfterMs: s.postCallTaskAfterMs,
      ...(s.protectTasks !== undefined ? { protectTasks: s.protectTasks } : {}),
    };
  }

  /** Registers the signal, query and update handlers, and the search attributes every watch carries. */
  listen(): void {
    const st = this.state;
    wf.setHandler(callStatusSignal, (ev: CallStatusEvent) => {
      if (ev.callSid !== st.callSid) return;
      if (ev.source === 'webhook') st.callbacks = (st.callbacks ?? 0) + 1;
      if (ev.sequenceNumber !== undefined) {
        // Duplicates and callbacks that arrive after a later one change nothing.
        if (st.lastSequenceNumber !== undefined && ev.sequenceNumber <= st.lastSequenceNumber) return;
        st.lastSequenceNumber = ev.sequenceNumber;
      }
      this.applyCallStatus(ev.status, ev.timestampMs);
    });
    wf.setHandler(taskLinkSignal, (ev) => {
      if (ev.callSid === st.callSid) this.linkTask(ev, 'event');
    });
    // Event Streams' Studio events: the Execution's place only; a duplicate or a late `ended` changes nothing.
    wf.setHandler(executionLinkSignal, (ev) => {
      if (ev.callSid === st.callSid) this.linkExecution(ev.flowSid, ev.executionSid, 'event');
    });
    // The linker's links: where the Execution and the Task are, nothing more (the reconcile reads them fresh).
    wf.setHandler(linksSignal, (ev) => {
      if (ev.callSid !== st.callSid) return;
      if (ev.execution) this.linkExecution(ev.execution.flowSid, ev.execution.executionSid, 'linker');
      if (ev.task) this.linkTask(ev.task, 'linker');
    });
    // Not a status: only "read the Call now", and only while its end is not known (never cuts a grace short).
    wf.setHandler(checkCallSignal, () => {
      if (!this.isEnded()) this.checkAsked = true;
    });
    wf.setHandler(stateQuery, () => st);
    wf.setHandler(reconcileNowUpdate, async () => {
      const target = this.checks + 1;
      this.wakeups++;
      await wf.condition(() => this.checks >= target || st.phase === 'done');
      return st;
    });
    wf.upsertSearchAttributes([
      { key: CallSidKey, value: st.callSid },
      { key: UnstickOutcomeKey, value: st.outcome ?? OUTCOME.watching },
    ]);
  }

  linkExecution(flowSid: string, executionSid: string, by: string): void {
    const st = this.state;
    if (st.executionSid) return; // the first link holds: a call starts one Execution per Flow it reaches
    st.flowSid = flowSid;
    st.executionSid = executionSid;
    st.linkedBy = { ...st.linkedBy, execution: by };
  }

  linkTask(ev: { workspaceSid: string; taskSid: string; assignmentStatus?: string }, by: string): void {
    const st = this.state;
    // A closed Task does not replace the one already linked (several can exist after a transfer).
    if (st.taskSid && st.taskSid !== ev.taskSid && ['canceled', 'completed'].includes(ev.assignmentStatus ?? '')) return;
    // A link for the Task already known brings no news of its status from the linker (its list may be older).
    if (st.taskSid === ev.taskSid && by === 'linker') return;
    st.taskSid = ev.taskSid;
    st.workspaceSid = ev.workspaceSid;
    if (ev.assignmentStatus) st.taskStatus = ev.assignmentStatus;
    st.linkedBy = { ...st.linkedBy, task: by };
  }

  /** The call sends status callbacks: a webhook started this watch, or it heard one. */
  hearsCallbacks(): boolean {
    return this.input.startedBy === 'webhook' || (this.state.callbacks ?? 0) > 0;
  }

  /** Runs `wait` (a timer, or a condition whose timeout ends at `atMs`), showing `atMs` as the next check meanwhile. */
  async waitUntil<T>(atMs: number, wait: () => Promise<T>): Promise<T> {
    const id = ++this.lastWaitId;
    this.waits.set(id, atMs);
    this.showNextCheck();
    try {
      return await wait();
    } finally {
      this.waits.delete(id);
      this.showNextCheck();
    }
  }

  private showNextCheck(): void {
    this.state.nextCheckAtMs = this.waits.size > 0 ? Math.min(...this.waits.values()) : undefined;
  }

  isEnded(): boolean {
    return isTerminalCallStatus(this.state.callStatus);
  }

  /** The watched call as the policy sees it (its SID always set). */
  callFacts(): CallFacts & { sid: string } {
    const st = this.state;
    return { sid: st.callSid, status: st.callStatus as CallFacts['status'], endedAtMs: st.callEndedAtMs, startedAtMs: this.startedAtMs };
  }

  applyCallStatus(status: string, atMs: number | undefined): void {
    if (this.isEnded()) return; // a call that ended cannot come back
    this.state.callStatus = status;
    if (isTerminalCallStatus(status)) this.state.callEndedAtMs = atMs ?? Date.now();
  }

  applyCallInfo(info: CallInfo): void {
    if (info.status === 'gone' || info.status === 'unknown') {
      if (!this.isEnded()) this.state.callStatus = info.status;
      return;
    }
    this.applyCallStatus(info.status, info.endedAtMs);
  }

  setOutcome(outcome: string): void {
    // The outcome is carried across continue-as-new, so a watch is counted once however often it is set.
    if (outcome === OUTCOME.liveFlagged && this.state.outcome !== OUTCOME.liveFlagged) recordWatchLivePastMaxAge();
    this.state.outcome = outcome;
    wf.upsertSearchAttributes([{ key: UnstickOutcomeKey, value: outcome }]);
  }

  index(key: typeof ExecutionSidKey | typeof TaskSidKey, sid: string): void {
    if (this.indexed.has(sid)) return;
    this.indexed.add(sid);
    wf.upsertSearchAttributes([{ key, value: sid }]);
  }

  /** What the workflow knows of its Execution: a link, never enough to write on (the activity reads it fresh). */
  linkedExecution(): ExecutionFacts | undefined {
    const st = this.state;
    if (!st.executionSid) return undefined;
    const state = st.executionStatus === 'ended' || st.executionStatus === 'gone' ? st.executionStatus : 'unknown';
    return { sid: st.executionSid, state, trigger: 'unknown', source: 'list' };
  }

  linkedTask(): TaskFacts | undefined {
    const st = this.state;
    if (!st.taskSid) return undefined;
    const known = (TASK_STATUSES as readonly string[]).includes(st.taskStatus ?? '') ? (st.taskStatus as TaskAssignmentStatus) : undefined;
    return { sid: st.taskSid, state: known === 'completed' || known === 'canceled' ? known : 'unknown', attributes: { kind: 'unknown' }, source: 'list' };
  }

  /** Records what a reconcile activity did: a write (or its dry run) as an action, a skip with its reason. */
  note(r: ReconcileResult, resource: 'execution' | 'task'): void {
    const st = this.state;
    const sid = resource === 'task' ? st.taskSid! : st.executionSid!;
    const kind = r.action.kind;
    let status = r.observedStatus;
    if ((WRITE_KINDS as readonly string[]).includes(kind)) {
      const k = kind as (typeof WRITE_KINDS)[number];
      if ((RECORDED_RESULTS as readonly string[]).includes(r.result)) {
        st.actions.push({ kind: k, sid, result: r.result as (typeof RECORDED_RESULTS)[number], reason: r.action.reason, atMs: Date.now(), ...(r.stuck ? { stuck: r.stuck } : {}) });
      }
      if (r.result === 'done') status = k === 'end-execution' ? 'ended' : k === 'cancel-task' ? 'canceled' : 'completed';
    } else if (kind === 'skip') {
      this.noteSkip(sid, r.action.reason, r.action.detail);
    }
    if (resource === 'task') st.taskStatus = status;
    else st.executionStatus = status;
  }

  noteSkip(sid: string | undefined, reason: string, detail?: string): void {
    const st = this.state;
    if (!st.skipped.some((x) => x.sid === sid && x.reason === reason)) st.skipped.push({ sid, reason, ...(detail ? { detail } : {}) });
  }

  result(outcome: string): CallWatchResult {
    const st = this.state;
    const summary =
      `call ${st.callSid} ${st.callStatus}; ` +
      (st.actions.length ? st.actions.map((a) => `${a.kind} ${a.sid}: ${a.result}`).join(', ') : 'nothing to close') +
      (st.skipped.length ? `; skipped: ${st.skipped.map((x) => `${x.sid ?? '-'} (${x.reason})`).join(', ')}` : '');
    return {
      callSid: st.callSid,
      outcome,
      callStatus: st.callStatus,
      callEndedAtMs: st.callEndedAtMs,
      lastSequenceNumber: st.lastSequenceNumber,
      executionSid: st.executionSid,
      executionStatus: st.executionStatus,
      taskSid: st.taskSid,
      taskStatus: st.taskStatus,
      actions: st.actions,
      skipped: st.skipped,
      dryRun: this.input.settings.dryRun,
      summary,
      ...(st.linkedBy ? { linkedBy: st.linkedBy } : {}),
    };
  }
}
