/**
 * The sweep workflow's contract: its input (also what the Schedule passes), its defaults, the progress it answers to
 * the `progress` query, what continueAsNew carries, and the shapes its page activities exchange. Counts and the
 * report have modules of their own (re-exported here for the callers of the contract). Workflow-safe.
 */
import { defineQuery } from '@temporalio/workflow';
import { DEFAULTS } from './defaults';
import type { CallWatchSettings } from './messages';
import type { SweepActionRecord, SweepCounts, SweepError } from './sweepCounts';

export * from './sweepCounts';
export * from './sweepReport';
export * from './sweepProgress';

/** The settings' defaults (src/shared/defaults.ts), and the sweep's own tuning, which no variable sets. */
export const SWEEP_DEFAULTS = {
  executionThresholdMs: DEFAULTS.sweep.executionThresholdMs,
  graceMs: DEFAULTS.callWatch.graceMs,
  maxAgeMs: DEFAULTS.callWatch.maxAgeMs,
  channels: DEFAULTS.sweep.channels,
  maxActions: DEFAULTS.sweep.maxActions,
  concurrency: DEFAULTS.sweep.concurrency,
  /** Twilio's maximum PageSize. */
  pageSize: 1000,
  /** Page activities per workflow run before continueAsNew (the server may suggest it earlier). */
  pagesPerRun: 50,
  /** Action records kept in the report; the rest are counted in `actionsOmitted`. */
  maxReportedActions: 200,
  maxReportedErrors: 50,
  heartbeatTimeoutMs: 30_000,
  taskReason: DEFAULTS.callWatch.taskReason,
  postCallTaskAfterMs: DEFAULTS.policy.postCallTaskAfterMs,
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
  startedBy?: string;
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
  /** List pages this activity went through. */
  pages: number;
  /** Execution activities: Flows finished, from the input's `flowSid` on (`nextPageUrl` is in the next one). Absent for Task pages. */
  flowsDone?: number;
  /** The activity's id: its progress signals are in these counts now (see `RunningPage`). */
  activityId?: string;
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
  /** The next list page of the current target (a Twilio page URL); undefined: start it from its first page. */
  nextPageUrl?: string;
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
  /** The counts include those a page activity still running has signalled (see sweepProgress.ts). */
  pageRunning?: boolean;
}

export const progressQuery = defineQuery<SweepProgress>('progress');

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
    startedBy: input.startedBy ?? 'manual',
  };
}
