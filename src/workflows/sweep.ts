/**
 * sweep: the bulk reconciler, started by the Schedule `unstick-sweep` or by hand. Pages through the open Tasks of
 * each Workspace, then the active Executions of each Flow, in activities that each go through several pages (the
 * Execution ones from Flow to Flow); the page activities decide with
 * the same policy as callWatch and leave calls with a running callWatch to it. Long sweeps continue as new,
 * carrying the cursor and the totals; the result is an audit report.
 */
import * as wf from '@temporalio/workflow';
import type { SweepActivities } from '../activities/sweepActivities';
import { TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST } from '../shared/errorTypes';
import { MESSAGING_CHANNELS } from '../policy/execution';
import { summarizeOutcome, type WriteResult } from '../policy/outcome';
import { UnstickOutcomeKey } from '../shared/searchAttributes';
import {
  addCounts,
  emptyCounts,
  progressQuery,
  resolveSweepInput,
  sweepMarkdown,
  totalClosed,
  totalSkipped,
  totalWouldClose,
  SWEEP_DEFAULTS,
  type PageResult,
  type ResolvedSweepInput,
  type SweepCarried,
  type SweepInput,
  type SweepProgress,
  type SweepReport,
} from '../shared/sweepTypes';

/** Patch: one Execution activity goes on from Flow to Flow (histories from before it ran one activity per Flow page). */
const MULTI_FLOW_EXECUTIONS = 'sweep-multi-flow-executions';

function activities(opts: ResolvedSweepInput) {
  return wf.proxyActivities<SweepActivities>({
    taskQueue: opts.activityTaskQueue,
    // A page of 1,000 resources at ~2 requests each, under Twilio's concurrency cap, takes seconds; minutes when throttled.
    startToCloseTimeout: '15m',
    heartbeatTimeout: opts.heartbeatTimeoutMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: [TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST] },
  });
}

function startState(opts: ResolvedSweepInput): SweepCarried {
  const info = wf.workflowInfo();
  const now = Date.now();
  return {
    sweepId: info.workflowId,
    startedAtMs: now,
    // Fixed for the whole sweep, so a retried or resumed page lists the same window. Every Execution older than the
    // grace is a candidate: voice ones are judged by their call, messaging ones by their widget's timeout.
    createdBeforeMs: now - opts.graceMs,
    phase: 'targets',
    workspaceSids: opts.workspaceSids,
    flowSids: opts.flowSids,
    targetIndex: 0,
    counts: emptyCounts(),
    actions: [],
    actionsOmitted: 0,
    errors: [],
    errorsOmitted: 0,
    budgetUsed: 0,
    capReached: false,
    pages: 0,
    resumedPages: 0,
    runs: 1,
    notExamined: 0,
  };
}

function outcomeOf(s: SweepCarried, dryRun: boolean): string {
  const c = s.counts;
  const results: WriteResult[] = [];
  if (totalClosed(c) > 0) results.push('done');
  if (totalWouldClose(c) > 0 || (dryRun && c.capped > 0)) results.push('dry-run');
  if (totalSkipped(c) > 0 || c.changed > 0) results.push('skipped');
  return summarizeOutcome({ results, errors: c.errors, dryRun });
}

export async function sweep(input: SweepInput = {}): Promise<SweepReport> {
  const opts = resolveSweepInput(input);
  const s: SweepCarried = input.carried ? { ...input.carried, runs: input.carried.runs + 1 } : startState(opts);
  const acts = activities(opts);
  const hasTaskChannels = opts.channels.includes('voice');
  const hasExecutionChannels = opts.channels.includes('voice') || opts.channels.some((c) => MESSAGING_CHANNELS.includes(c));

  const targets = () => (s.phase === 'executions' ? s.flowSids : s.workspaceSids);
  wf.setHandler(progressQuery, (): SweepProgress => ({
    sweepId: s.sweepId,
    phase: s.phase,
    dryRun: opts.dryRun,
    target: targets()[s.targetIndex],
    targetIndex: s.targetIndex,
    targetCount: targets().length,
    pages: s.pages,
    seen: s.counts.tasksSeen + s.counts.executionsSeen,
    acted: opts.dryRun ? totalWouldClose(s.counts) : totalClosed(s.counts),
    maxActions: opts.maxActions,
    capReached: s.capReached,
    skipped: totalSkipped(s.counts),
    errors: s.counts.errors,
    runs: s.runs,
    startedAtMs: s.startedAtMs,
    morePages: s.cursor !== undefined,
  }));

  const details = () =>
    wf.setCurrentDetails(
      sweepMarkdown({ ...s, dryRun: opts.dryRun, maxActions: opts.maxActions, phase: s.phase === 'done' ? undefined : `${s.phase}, page ${s.pages}` }),
    );

  if (s.phase === 'targets') {
    const t = await acts.sweepTargets({ workspaceSids: s.workspaceSids, flowSids: s.flowSids, tasks: hasTaskChannels, executions: hasExecutionChannels });
    s.workspaceSids = t.workspaceSids;
    s.flowSids = t.flowSids;
    s.phase = 'tasks';
    s.targetIndex = 0;
  }

  const merge = (r: PageResult) => {
    addCounts(s.counts, r.counts);
    for (const a of r.actions) {
      if (s.actions.length < opts.maxReportedActions) s.actions.push(a);
      else s.actionsOmitted++;
    }
    s.actionsOmitted += r.actionsOmitted;
    for (const e of r.errors) {
      if (s.errors.length < SWEEP_DEFAULTS.maxReportedErrors) s.errors.push(e);
      else s.errorsOmitted++;
    }
    s.budgetUsed += r.budgetUsed;
    s.notExamined += r.notExamined;
    if (r.resumed) s.resumedPages++;
    if (r.capReached) s.capReached = true;
    s.pages += r.pages ?? 1;
  };

  let pagesThisRun = 0;
  while (s.phase !== 'done') {
    const list = targets();
    if (s.capReached || s.targetIndex >= list.length || (s.phase === 'tasks' && !hasTaskChannels) || (s.phase === 'executions' && !hasExecutionChannels)) {
      s.phase = s.capReached || s.phase === 'executions' ? 'done' : 'executions';
      s.targetIndex = 0;
      s.cursor = undefined;
      continue;
    }
    if (pagesThisRun >= opts.pagesPerRun || wf.workflowInfo().continueAsNewSuggested) {
      await wf.condition(wf.allHandlersFinished);
      return wf.continueAsNew<typeof sweep>({ ...input, carried: s });
    }
    const budget = opts.maxActions > 0 ? opts.maxActions - s.budgetUsed : null;
    const common = {
      pageUrl: s.cursor,
      pageSize: opts.pageSize,
      concurrency: opts.concurrency,
      dryRun: opts.dryRun,
      budget,
      channels: opts.channels,
      graceMs: opts.graceMs,
      maxAgeMs: opts.maxAgeMs,
      wrapLimitMs: opts.wrapLimitMs,
      messagingIdleMs: opts.messagingIdleMs,
      taskReason: opts.taskReason,
      postCallTaskAfterMs: opts.postCallTaskAfterMs,
      ...(opts.protectTasks !== undefined ? { protectTasks: opts.protectTasks } : {}),
      maxReportedActions: Math.max(0, opts.maxReportedActions - s.actions.length),
    };
    const target = list[s.targetIndex]!;
    const r =
      s.phase === 'tasks'
        ? await acts.sweepTaskPage({ ...common, workspaceSid: target, maxPages: opts.pagesPerRun - pagesThisRun, watchLiveCalls: opts.watchLiveCalls })
        : await acts.sweepExecutionPage({
            ...common,
            flowSid: target,
            createdBeforeMs: s.createdBeforeMs,
            ...(wf.patched(MULTI_FLOW_EXECUTIONS) ? { moreFlowSids: list.slice(s.targetIndex + 1), maxPages: opts.pagesPerRun - pagesThisRun } : {}),
          });
    merge(r);
    pagesThisRun += r.pages ?? 1;
    s.cursor = r.nextPageUrl;
    // Task pages (and Execution results recorded before flowsDone existed) finish their target with the cursor.
    if (r.flowsDone !== undefined) s.targetIndex += r.flowsDone;
    else if (!s.cursor) s.targetIndex++;
    details();
  }

  const report: SweepReport = {
    sweepId: s.sweepId,
    trigger: opts.trigger,
    dryRun: opts.dryRun,
    maxActions: opts.maxActions,
    startedAtMs: s.startedAtMs,
    finishedAtMs: Date.now(),
    workspaceSids: s.workspaceSids,
    flowSids: s.flowSids,
    channels: opts.channels,
    counts: s.counts,
    actions: s.actions,
    actionsOmitted: s.actionsOmitted,
    errors: s.errors,
    errorsOmitted: s.errorsOmitted,
    capReached: s.capReached,
    notExamined: s.notExamined,
    pages: s.pages,
    resumedPages: s.resumedPages,
    runs: s.runs,
    summary: summaryLine(s, opts),
  };
  details();
  wf.upsertSearchAttributes([{ key: UnstickOutcomeKey, value: outcomeOf(s, opts.dryRun) }]);
  return report;
}

function summaryLine(s: SweepCarried, opts: ResolvedSweepInput): string {
  const c = s.counts;
  const acted = opts.dryRun ? `would close ${totalWouldClose(c)}` : `closed ${totalClosed(c)}`;
  const cap = s.capReached ? `; stopped at maxActions=${opts.maxActions}` : '';
  return `${opts.dryRun ? 'dry run: ' : ''}examined ${c.tasksSeen} Tasks and ${c.executionsSeen} Executions; ${acted}; skipped ${totalSkipped(c)}; ${c.alreadyClosed} already closed; ${c.errors} errors${cap}`;
}
