/**
 * sweep: the bulk reconciler, started by the Schedule `unstick-sweep` or by hand. Pages through the open Tasks of
 * each Workspace, then the active Executions of each Flow, in activities that each go through several pages (the
 * Execution ones from Flow to Flow); the page activities decide with
 * the same policy as callWatch and leave calls with a running callWatch to it. Long sweeps continue as new,
 * carrying the next page URL and the totals; the result is an audit report.
 */
import * as wf from '@temporalio/workflow';
import type { SweepActivities } from '../activities/sweepActivities';
import { TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST } from '../shared/errorTypes';
import { summarizeOutcome, type WriteResult } from '../policy/outcome';
import { isMessagingChannel, VOICE_CHANNEL } from '../shared/names';
import { UnstickOutcomeKey } from '../shared/searchAttributes';
import {
  addCounts,
  emptyCounts,
  pageProgressSignal,
  progressQuery,
  RunningPage,
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
import { recordSweepDuration } from './metrics';
import { declareVersioning } from './versioning';

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

function outcomeOf(carried: SweepCarried, dryRun: boolean): string {
  const c = carried.counts;
  const results: WriteResult[] = [];
  if (totalClosed(c) > 0) results.push('done');
  if (totalWouldClose(c) > 0 || (dryRun && c.capped > 0)) results.push('dry-run');
  if (totalSkipped(c) > 0 || c.changed > 0) results.push('skipped');
  return summarizeOutcome({ results, errors: c.errors, dryRun });
}

export async function sweep(input: SweepInput = {}): Promise<SweepReport> {
  const opts = resolveSweepInput(input);
  const carried: SweepCarried = input.carried ? { ...input.carried, runs: input.carried.runs + 1 } : startState(opts);
  const acts = activities(opts);
  const hasTaskChannels = opts.channels.includes(VOICE_CHANNEL);
  const hasExecutionChannels = hasTaskChannels || opts.channels.some(isMessagingChannel);

  const targets = () => (carried.phase === 'executions' ? carried.flowSids : carried.workspaceSids);
  // The running page activity's counts, as it signals them (display only: nothing below decides on them).
  const running = new RunningPage(wf.workflowInfo().runId);
  wf.setHandler(progressQuery, (): SweepProgress => {
    const counts = running.counts(carried.counts);
    return {
      sweepId: carried.sweepId,
      phase: carried.phase,
      dryRun: opts.dryRun,
      target: targets()[carried.targetIndex],
      targetIndex: carried.targetIndex,
      targetCount: targets().length,
      pages: carried.pages + running.pagesDone,
      seen: counts.tasksSeen + counts.executionsSeen,
      acted: opts.dryRun ? totalWouldClose(counts) : totalClosed(counts),
      maxActions: opts.maxActions,
      capReached: carried.capReached,
      skipped: totalSkipped(counts),
      errors: counts.errors,
      runs: carried.runs,
      startedAtMs: carried.startedAtMs,
      morePages: carried.nextPageUrl !== undefined,
      pageRunning: running.running,
    };
  });

  const details = () => {
    const pages = carried.pages + running.pagesDone;
    const phase = carried.phase === 'done' ? undefined : `${carried.phase}, page ${pages}${running.running ? ' (counts include the page activity running now)' : ''}`;
    wf.setCurrentDetails(sweepMarkdown({ ...carried, counts: running.counts(carried.counts), pages, dryRun: opts.dryRun, maxActions: opts.maxActions, phase }));
  };
  wf.setHandler(pageProgressSignal, (p) => {
    if (running.accept(p)) details();
  });

  if (carried.phase === 'targets') {
    const t = await acts.sweepTargets({ workspaceSids: carried.workspaceSids, flowSids: carried.flowSids, tasks: hasTaskChannels, executions: hasExecutionChannels });
    carried.workspaceSids = t.workspaceSids;
    carried.flowSids = t.flowSids;
    carried.phase = 'tasks';
    carried.targetIndex = 0;
  }

  const merge = (r: PageResult) => {
    running.finish(r.activityId);
    addCounts(carried.counts, r.counts);
    for (const a of r.actions) {
      if (carried.actions.length < opts.maxReportedActions) carried.actions.push(a);
      else carried.actionsOmitted++;
    }
    carried.actionsOmitted += r.actionsOmitted;
    for (const e of r.errors) {
      if (carried.errors.length < SWEEP_DEFAULTS.maxReportedErrors) carried.errors.push(e);
      else carried.errorsOmitted++;
    }
    carried.budgetUsed += r.budgetUsed;
    carried.notExamined += r.notExamined;
    if (r.resumed) carried.resumedPages++;
    if (r.capReached) carried.capReached = true;
    carried.pages += r.pages;
  };

  let pagesThisRun = 0;
  while (carried.phase !== 'done') {
    const list = targets();
    if (carried.capReached || carried.targetIndex >= list.length || (carried.phase === 'tasks' && !hasTaskChannels) || (carried.phase === 'executions' && !hasExecutionChannels)) {
      carried.phase = carried.capReached || carried.phase === 'executions' ? 'done' : 'executions';
      carried.targetIndex = 0;
      carried.nextPageUrl = undefined;
      continue;
    }
    if (pagesThisRun >= opts.pagesPerRun || wf.workflowInfo().continueAsNewSuggested) {
      await wf.condition(wf.allHandlersFinished);
      return wf.continueAsNew<typeof sweep>({ ...input, carried });
    }
    const budget = opts.maxActions > 0 ? opts.maxActions - carried.budgetUsed : null;
    const common = {
      pageUrl: carried.nextPageUrl,
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
      maxReportedActions: Math.max(0, opts.maxReportedActions - carried.actions.length),
    };
    const target = list[carried.targetIndex]!;
    const r =
      carried.phase === 'tasks'
        ? await acts.sweepTaskPage({ ...common, workspaceSid: target, maxPages: opts.pagesPerRun - pagesThisRun, watchLiveCalls: opts.watchLiveCalls })
        : await acts.sweepExecutionPage({
            ...common,
            flowSid: target,
            createdBeforeMs: carried.createdBeforeMs,
            moreFlowSids: list.slice(carried.targetIndex + 1),
            maxPages: opts.pagesPerRun - pagesThisRun,
          });
    merge(r);
    pagesThisRun += r.pages;
    carried.nextPageUrl = r.nextPageUrl;
    // Execution activities say how many Flows they finished; Task pages finish their Workspace when there is no next page.
    if (r.flowsDone !== undefined) carried.targetIndex += r.flowsDone;
    else if (!carried.nextPageUrl) carried.targetIndex++;
    details();
  }

  const report: SweepReport = {
    sweepId: carried.sweepId,
    startedBy: opts.startedBy,
    dryRun: opts.dryRun,
    maxActions: opts.maxActions,
    startedAtMs: carried.startedAtMs,
    finishedAtMs: Date.now(),
    workspaceSids: carried.workspaceSids,
    flowSids: carried.flowSids,
    channels: opts.channels,
    counts: carried.counts,
    actions: carried.actions,
    actionsOmitted: carried.actionsOmitted,
    errors: carried.errors,
    errorsOmitted: carried.errorsOmitted,
    capReached: carried.capReached,
    notExamined: carried.notExamined,
    pages: carried.pages,
    resumedPages: carried.resumedPages,
    runs: carried.runs,
    summary: summaryLine(carried, opts),
  };
  details();
  wf.upsertSearchAttributes([{ key: UnstickOutcomeKey, value: outcomeOf(carried, opts.dryRun) }]);
  recordSweepDuration(report.finishedAtMs - report.startedAtMs);
  return report;
}

function summaryLine(carried: SweepCarried, opts: ResolvedSweepInput): string {
  const c = carried.counts;
  const acted = opts.dryRun ? `would close ${totalWouldClose(c)}` : `closed ${totalClosed(c)}`;
  const cap = carried.capReached ? `; stopped at maxActions=${opts.maxActions}` : '';
  return `${opts.dryRun ? 'dry run: ' : ''}examined ${c.tasksSeen} Tasks and ${c.executionsSeen} Executions; ${acted}; skipped ${totalSkipped(c)}; ${c.alreadyClosed} already closed; ${c.errors} errors${cap}`;
}

// Worker Versioning: a sweep (and its continue-as-new runs) moves to the current build.
declareVersioning('AUTO_UPGRADE', sweep);
