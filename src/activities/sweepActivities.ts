/**
 * The sweep's activities: resolving what to sweep, and the page activities (Tasks of a Workspace, Executions of
 * Flows). Each page activity goes through several list pages with bounded concurrency and heartbeats a checkpoint
 * a retry resumes from; every write inside goes through the guarded writer (see `sweep/`).
 */
import type { Client } from '@temporalio/client';
import type { Twilio } from 'twilio';
import type { ExecutionPageInput, PageResult, TaskPageInput } from '../shared/sweepTypes';
import type { Limit } from './callActivities';
import { sweepExecutionPages } from './sweep/executionPages';
import { sweepTaskPages, type SweepEnv } from './sweep/taskPages';
import { toActivityFailure } from './twilioErrors';
import { withTwilioRetry } from './twilioRetry';

export type { PageCheckpoint } from './sweep/pageState';

export interface SweepActivityDeps {
  twilio: Twilio;
  /** Process-wide cap on Twilio requests in flight (shared with other activities); default: none. */
  limit?: Limit;
  /** Temporal client for the callWatch ownership check; default: the worker's client (activity context). */
  temporal?: Client;
  now?: () => number;
  /** Heartbeat at most this often (the SDK throttles further). Default 1 s. */
  checkpointEveryMs?: number;
  /** Signal the sweep workflow a running page activity's counts this often (0 = never). Default 2 s. */
  progressEveryMs?: number;
  /** CallSids per visibility query (at most 1,000, the list's page size limit). Default 1,000: one query per Task page, since each query costs the server far more than its length does. */
  ownershipChunk?: number;
  /** A multi-page Task activity lists no new page after running this long (it stays well inside its timeout). Default 2 min. */
  maxListingMs?: number;
}

export function createSweepActivities(deps: SweepActivityDeps) {
  const { twilio } = deps;
  const limit: Limit = deps.limit ?? ((fn) => fn());
  const env: SweepEnv = {
    twilio,
    limit,
    now: deps.now ?? Date.now,
    checkpointEveryMs: deps.checkpointEveryMs ?? 1_000,
    progressEveryMs: deps.progressEveryMs ?? 2_000,
    ownershipChunk: Math.min(1000, deps.ownershipChunk ?? 1000),
    maxListingMs: deps.maxListingMs ?? 120_000,
    ...(deps.temporal ? { temporal: deps.temporal } : {}),
  };

  return {
    /** Resolves "all Workspaces / all Flows" into SIDs (one list request each, only when asked). */
    async sweepTargets(input: { workspaceSids: string[]; flowSids: string[]; tasks: boolean; executions: boolean }): Promise<{ workspaceSids: string[]; flowSids: string[] }> {
      try {
        const workspaceSids =
          !input.tasks ? [] : input.workspaceSids.length ? input.workspaceSids : (await withTwilioRetry(() => limit(() => twilio.taskrouter.v1.workspaces.list({ pageSize: 1000 })))).map((w) => w.sid);
        const flowSids =
          !input.executions ? [] : input.flowSids.length ? input.flowSids : (await withTwilioRetry(() => limit(() => twilio.studio.v2.flows.list({ pageSize: 1000 })))).map((f) => f.sid);
        return { workspaceSids, flowSids };
      } catch (err) {
        throw toActivityFailure(err, 'list Workspaces/Flows to sweep');
      }
    },
    /** Open Tasks of a Workspace, through several list pages (see `sweepTaskPages`). */
    sweepTaskPage: (input: TaskPageInput): Promise<PageResult> => sweepTaskPages(env, input),
    /** Active Executions of one Flow after another, through several list pages (see `sweepExecutionPages`). */
    sweepExecutionPage: (input: ExecutionPageInput): Promise<PageResult> => sweepExecutionPages(env, input),
  };
}

export type SweepActivities = ReturnType<typeof createSweepActivities>;
