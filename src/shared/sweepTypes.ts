/**
 * The sweep workflow's contract: its input (also what the Schedule passes), the audit report it returns, the
 * progress it answers to the `progress` query, and the shapes its page activities exchange. Workflow-safe.
 */
import { defineQuery } from '@temporalio/workflow';
import type { CallWatchSettings } from './messages';

export const SWEEP_WORKFLOW_TYPE = 'sweep';

export const SWEEP_DEFAULTS = {
  /** Studio's own advice: Executions older than ~4 h without progress are stuck. */
  executionThresholdMs: 4 * 60 * 60_000,
  graceMs: 2 * 60_000,
  maxAgeMs: 4 * 60 * 60_000,
  channels: ['voice', 'sms', 'webchat'] as string[],
  /** Writes per run; 0 = no cap. */
  maxActions: 500,
  /** Twilio's REST limit is on requests in flight per account; stay a little under the usual cap. */
  concurrency: 40,
  /** Twilio's maximum PageSize. */
  pageSize: 1000,
  /** Page activities per workflow run before continueAsNew (the server may suggest it earlier). */
  pagesPerRun: 50,
  /** Action records kept in the report; the rest are counted in `actionsOmitted`. */
  maxReportedActions: 200,
  maxReportedErrors: 50,
  heartbeatTimeoutMs: 30_000,
  taskReason: 'unstick: closed stuck voice Task after the call ended',
  postCallTaskAfterMs: 2 * 60_000,
} as const;

export interface SweepInput {
  /** TaskRouter Workspaces to sweep; empty/absent = every Workspace of the account. */
  workspaceSids?: string[];
  /** Studio Flows to sweep; empty/absent = every Flow of the account. */
  flowSids?: string[];
  /** Active Executions created before now − this are examined (voice: call check; messaging: idle check). */
  executionThresholdMs?: number;
  /** A messaging Execution with no Step for this long is ended; default = executionThresholdMs. */
  messagingIdleMs?: number;
  /** After a call's end, how long Studio/TaskRouter get to clean up by themselves. */
  graceMs?: number;
  /** A call live for this long is flagged by callWatch; passed to the shared policy. */
  maxAgeMs?: number;
  /** Complete `wrapping` Tasks this long after the call ended; unset = leave them to the agent. */
  wrapLimitMs?: number;
  /** What to sweep: `voice` (Tasks and call-started Executions), `sms`/`webchat`/`chat`/`whatsapp` (messaging Executions). */
  channels?: string[];
  dryRun?: boolean;
  /** Cap on writes (or, in dry run, on would-be writes) per sweep; 0 = no cap. */
  maxActions?: number;
  /** Twilio requests in flight inside a page activity. */
  concurrency?: number;
  /** Resources per list page (1…1000). */
  pageSize?: number;
  /** Page activities per run before continueAsNew. */
  pagesPerRun?: number;
  /** Reason written on canceled/completed Tasks. */
  taskReason?: string;
  /** A Task created this long after its call ended is not the call's live Task (callbacks, voicemail): never written. */
  postCallTaskAfterMs?: number;
  /** UNSTICK_PROTECT_TASKS: Tasks whose attributes match this expression are never written. */
  protectTasks?: string;
  maxReportedActions?: number;
  heartbeatTimeoutMs?: number;
  /** Task queue of the page activities; default: the workflow's own. */
  activityTaskQueue?: string;
  /** Who started it (shown in the report): `schedule`, `cli`, … */
  trigger?: string;
  /**
   * When set, a voice Task whose call is still live gets a callWatch of its own (started by the sweep), so it is
   * closed minutes after the call ends instead of at a later sweep. Unset = leave live calls to the next sweep.
   */
  watchLiveCalls?: LiveCallWatch;
  /** Internal: state carried across continueAsNew. */
  carried?: SweepCarried;
}

/** Every field of the input, defaults applied. */
export type ResolvedSweepInput = Required<Omit<SweepInput, 'carried' | 'wrapLimitMs' | 'activityTaskQueue' | 'watchLiveCalls' | 'protectTasks'>> &
  Pick<SweepInput, 'wrapLimitMs' | 'activityTaskQueue' | 'watchLiveCalls' | 'protectTasks'>;

export type SweepActionKind = 'cancel-task' | 'complete-task' | 'end-execution';
/** `capped` = the policy would act, but maxActions was reached; `failed` = Twilio kept refusing. */
export type SweepActionResult = 'done' | 'already-closed' | 'dry-run' | 'capped' | 'changed' | 'failed';

export interface SweepActionRecord {
  kind: SweepActionKind;
  /** WT… or FN… */
  sid: string;
  /** WS… or FW… */
  parentSid: string;
  callSid?: string;
  /** Status the resource was in when decided (Task assignment status, or `active`). */
  fromStatus: string;
  result: SweepActionResult;
  reason: string;
  /** Messaging Executions: the widget it was stuck in. */
  widget?: string;
  detail?: string;
  atMs: number;
}

export interface SweepError {
  sid?: string;
  message: string;
}

export interface SweepCounts {
  tasksSeen: number;
  executionsSeen: number;
  /** Writes Twilio accepted, by kind. */
  closed: Record<SweepActionKind, number>;
  /** Dry run: writes that would have been made, by kind. */
  wouldClose: Record<SweepActionKind, number>;
  /** Found closed or gone when written (someone else was faster). */
  alreadyClosed: number;
  /** Changed under us and, decided again, left alone. */
  changed: number;
  /** Decided to act but not written because maxActions was reached. */
  capped: number;
  /** Nothing to do (e.g. the Execution already ended). */
  noAction: number;
  /** By reason: call-live, owned-by-callwatch, attributes-unparsable, … */
  skipped: Record<string, number>;
  errors: number;
  /** Live calls handed to a callWatch of their own (SweepInput.watchLiveCalls). Optional: older carried state lacks it. */
  watchesStarted?: number;
  /** Twilio requests made (including retries). */
  requests: { reads: number; writes: number; throttled: number };
}

export interface PageResult {
  counts: SweepCounts;
  actions: SweepActionRecord[];
  actionsOmitted: number;
  errors: SweepError[];
  /** Next page of the same listing; undefined when this was the last. */
  nextPageUrl?: string;
  /** Writes (or would-be writes) spent from the maxActions budget on this page. */
  budgetUsed: number;
  capReached: boolean;
  /** Resources left unexamined on this page because the cap was reached. */
  notExamined: number;
  /** This attempt continued from a heartbeat checkpoint of a previous attempt. */
  resumed: boolean;
  /** List pages this activity went through; absent = 1. */
  pages?: number;
  /** Execution activities: Flows finished, from the input's `flowSid` on (`nextPageUrl` is in the next one). Absent in older histories. */
  flowsDone?: number;
}

/** What the sweep needs to start a callWatch (workflows can't read config). */
export interface LiveCallWatch {
  taskQueue: string;
  settings: CallWatchSettings;
}

interface PageInputBase {
  /** undefined = the first page; otherwise a next-page URL Twilio returned. */
  pageUrl?: string;
  pageSize: number;
  concurrency: number;
  dryRun: boolean;
  /** Writes this page may make; null = no cap. */
  budget: number | null;
  channels: string[];
  graceMs: number;
  maxAgeMs: number;
  wrapLimitMs?: number;
  messagingIdleMs: number;
  taskReason: string;
  postCallTaskAfterMs: number;
  protectTasks?: string;
  maxReportedActions: number;
}

export interface TaskPageInput extends PageInputBase {
  workspaceSid: string;
  watchLiveCalls?: LiveCallWatch;
  /** List pages this activity may go through (one concurrency window across them); default 1. */
  maxPages?: number;
}

export interface ExecutionPageInput extends PageInputBase {
  flowSid: string;
  /** Flows to go on with, in order, once `flowSid` is done (within `maxPages`). */
  moreFlowSids?: string[];
  /** List pages this activity may go through, over all its Flows. Default 1. */
  maxPages?: number;
  /** List only Executions created before this instant (fixed for the whole sweep). */
  createdBeforeMs: number;
}

export type SweepPhase = 'targets' | 'tasks' | 'executions' | 'done';

/** What continueAsNew carries: where the sweep is, and what it has seen so far. */
export interface SweepCarried {
  sweepId: string;
  startedAtMs: number;
  createdBeforeMs: number;
  phase: SweepPhase;
  workspaceSids: string[];
  flowSids: string[];
  /** Index into workspaceSids (tasks phase) or flowSids (executions phase). */
  targetIndex: number;
  cursor?: string;
  counts: SweepCounts;
  actions: SweepActionRecord[];
  actionsOmitted: number;
  errors: SweepError[];
  errorsOmitted: number;
  budgetUsed: number;
  capReached: boolean;
  pages: number;
  resumedPages: number;
  runs: number;
  notExamined: number;
}

export interface SweepReport {
  sweepId: string;
  trigger: string;
  dryRun: boolean;
  maxActions: number;
  startedAtMs: number;
  finishedAtMs: number;
  workspaceSids: string[];
  flowSids: string[];
  channels: string[];
  counts: SweepCounts;
  actions: SweepActionRecord[];
  actionsOmitted: number;
  errors: SweepError[];
  errorsOmitted: number;
  /** True when maxActions stopped the sweep: the rest is left for the next run. */
  capReached: boolean;
  notExamined: number;
  pages: number;
  resumedPages: number;
  /** Workflow runs (1 + continueAsNew count). */
  runs: number;
  /** One line for humans. */
  summary: string;
}

export interface SweepProgress {
  sweepId: string;
  phase: SweepPhase;
  dryRun: boolean;
  /** Workspace or Flow being paged. */
  target?: string;
  targetIndex: number;
  targetCount: number;
  pages: number;
  /** Tasks + Executions examined so far. */
  seen: number;
  /** Writes done (or, in dry run, would-be writes) so far. */
  acted: number;
  maxActions: number;
  capReached: boolean;
  skipped: number;
  errors: number;
  runs: number;
  startedAtMs: number;
  /** True while another page is known to follow in the current listing. */
  morePages: boolean;
}

export const progressQuery = defineQuery<SweepProgress>('progress');

export function emptyCounts(): SweepCounts {
  return {
    tasksSeen: 0,
    executionsSeen: 0,
    closed: { 'cancel-task': 0, 'complete-task': 0, 'end-execution': 0 },
    wouldClose: { 'cancel-task': 0, 'complete-task': 0, 'end-execution': 0 },
    alreadyClosed: 0,
    changed: 0,
    capped: 0,
    noAction: 0,
    skipped: {},
    errors: 0,
    requests: { reads: 0, writes: 0, throttled: 0 },
  };
}

/** Adds `b` into `a` (mutates and returns `a`). */
export function addCounts(a: SweepCounts, b: SweepCounts): SweepCounts {
  a.tasksSeen += b.tasksSeen;
  a.executionsSeen += b.executionsSeen;
  for (const k of Object.keys(a.closed) as SweepActionKind[]) {
    a.closed[k] += b.closed[k];
    a.wouldClose[k] += b.wouldClose[k];
  }
  a.alreadyClosed += b.alreadyClosed;
  a.changed += b.changed;
  a.capped += b.capped;
  a.noAction += b.noAction;
  for (const [r, n] of Object.entries(b.skipped)) a.skipped[r] = (a.skipped[r] ?? 0) + n;
  a.errors += b.errors;
  if (b.watchesStarted) a.watchesStarted = (a.watchesStarted ?? 0) + b.watchesStarted;
  a.requests.reads += b.requests.reads;
  a.requests.writes += b.requests.writes;
  a.requests.throttled += b.requests.throttled;
  return a;
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((x, y) => x + y, 0);
export const totalClosed = (c: SweepCounts): number => sum(c.closed);
export const totalWouldClose = (c: SweepCounts): number => sum(c.wouldClose);
export const totalSkipped = (c: SweepCounts): number => sum(c.skipped);

export function resolveSweepInput(input: SweepInput): ResolvedSweepInput {
  const d = SWEEP_DEFAULTS;
  const executionThresholdMs = input.executionThresholdMs ?? d.executionThresholdMs;
  return {
    workspaceSids: input.workspaceSids ?? [],
    flowSids: input.flowSids ?? [],
    executionThresholdMs,
    messagingIdleMs: input.messagingIdleMs ?? executionThresholdMs,
    graceMs: input.graceMs ?? d.graceMs,
    maxAgeMs: input.maxAgeMs ?? d.maxAgeMs,
    wrapLimitMs: input.wrapLimitMs,
    channels: input.channels && input.channels.length > 0 ? input.channels : [...d.channels],
    dryRun: input.dryRun ?? false,
    maxActions: Math.max(0, input.maxActions ?? d.maxActions),
    concurrency: Math.max(1, input.concurrency ?? d.concurrency),
    pageSize: Math.min(1000, Math.max(1, input.pageSize ?? d.pageSize)),
    pagesPerRun: Math.max(1, input.pagesPerRun ?? d.pagesPerRun),
    taskReason: input.taskReason ?? d.taskReason,
    postCallTaskAfterMs: Math.max(0, input.postCallTaskAfterMs ?? d.postCallTaskAfterMs),
    protectTasks: input.protectTasks,
    maxReportedActions: Math.max(0, input.maxReportedActions ?? d.maxReportedActions),
    heartbeatTimeoutMs: Math.max(1000, input.heartbeatTimeoutMs ?? d.heartbeatTimeoutMs),
    activityTaskQueue: input.activityTaskQueue,
    watchLiveCalls: input.watchLiveCalls,
    trigger: input.trigger ?? 'manual',
  };
}

/** Markdown summary of a report or a running sweep, for the Web UI's current details. */
export function sweepMarkdown(r: Pick<SweepReport, 'sweepId' | 'dryRun' | 'counts' | 'capReached' | 'maxActions' | 'pages' | 'runs' | 'actions' | 'actionsOmitted' | 'errors'> & { phase?: string }): string {
  const c = r.counts;
  const lines = [
    `## Sweep ${r.sweepId}${r.dryRun ? ' (dry run)' : ''}${r.phase ? ` — ${r.phase}` : ''}`,
    '',
    '| | count |',
    '| --- | ---: |',
    `| Tasks examined | ${c.tasksSeen} |`,
    `| Executions examined | ${c.executionsSeen} |`,
    `| Tasks canceled | ${r.dryRun ? c.wouldClose['cancel-task'] : c.closed['cancel-task']} |`,
    `| Tasks completed | ${r.dryRun ? c.wouldClose['complete-task'] : c.closed['complete-task']} |`,
    `| Executions ended | ${r.dryRun ? c.wouldClose['end-execution'] : c.closed['end-execution']} |`,
    `| Already closed | ${c.alreadyClosed} |`,
    `| Changed under us | ${c.changed} |`,
    `| Not written (maxActions) | ${c.capped} |`,
    `| Errors | ${c.errors} |`,
    `| Pages / runs | ${r.pages} / ${r.runs} |`,
    `| Twilio requests (reads / writes / 429s) | ${c.requests.reads} / ${c.requests.writes} / ${c.requests.throttled} |`,
  ];
  if (r.dryRun) lines.push('', '_Dry run: the counts of canceled/completed/ended are what it would do; nothing was written._');
  if (r.capReached) lines.push('', `**Stopped at maxActions = ${r.maxActions}**; the rest is left for the next sweep.`);
  const skipped = Object.entries(c.skipped).sort((a, b) => b[1] - a[1]);
  if (skipped.length) {
    lines.push('', '### Skipped', '', '| reason | count |', '| --- | ---: |');
    for (const [reason, n] of skipped) lines.push(`| ${reason} | ${n} |`);
  }
  if (r.actions.length) {
    lines.push('', '### Actions', '', '| action | sid | call | result | from |', '| --- | --- | --- | --- | --- |');
    for (const a of r.actions.slice(0, 25)) lines.push(`| ${a.kind} | ${a.sid} | ${a.callSid ?? ''} | ${a.result} | ${a.fromStatus} |`);
    const more = r.actions.length - 25 + r.actionsOmitted;
    if (more > 0) lines.push('', `…and ${more} more (full list, up to the cap, in the workflow result).`);
  }
  if (r.errors.length) {
    lines.push('', '### Errors', '');
    for (const e of r.errors.slice(0, 10)) lines.push(`- ${e.sid ? `${e.sid}: ` : ''}${e.message}`);
  }
  return lines.join('\n');
}
