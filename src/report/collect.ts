/**
 * The stuck records of a time window, from Temporal: the closed callWatch and sweep workflows (one visibility
 * query), then each one's result (one history read each, a few at a time). Twilio is not asked anything.
 */
import type { Client } from '@temporalio/client';
import pLimit from 'p-limit';
import type { CallWatchResult } from '../workflows/callWatchState';
import { CALL_WATCH_WORKFLOW_TYPE, SWEEP_WORKFLOW_TYPE } from '../shared/names';
import type { SweepReport } from '../shared/sweepReport';
import type { StuckItem } from './aggregate';

export interface CollectOptions {
  sinceMs: number;
  /** At most this many workflows are read (newest first); default 5,000. */
  maxWorkflows?: number;
  concurrency?: number;
}

export interface Collected {
  items: StuckItem[];
  workflowsRead: number;
  /** Workflows listed but not read (maxWorkflows), or whose result could not be read. */
  skipped: number;
}

/** The visibility query: closed-and-completed watches and sweeps closed since `sinceMs`. */
export function reportQuery(sinceMs: number): string {
  return `WorkflowType IN ('${CALL_WATCH_WORKFLOW_TYPE}', '${SWEEP_WORKFLOW_TYPE}') AND ExecutionStatus = 'Completed' AND CloseTime >= '${new Date(sinceMs).toISOString()}'`;
}

/** The stuck records in one workflow result; anything not shaped like a result gives none. */
export function stuckItemsOf(type: string, workflowId: string, result: unknown): StuckItem[] {
  if (result === null || typeof result !== 'object') return [];
  const actions = (result as { actions?: unknown }).actions;
  if (!Array.isArray(actions)) return [];
  const out: StuckItem[] = [];
  for (const a of actions as (CallWatchResult['actions'][number] | SweepReport['actions'][number])[]) {
    if (!a || a.kind !== 'end-execution' || !a.stuck || typeof a.stuck.cause !== 'string') continue;
    const callSid = 'callSid' in a ? a.callSid : type === CALL_WATCH_WORKFLOW_TYPE ? (result as CallWatchResult).callSid : undefined;
    out.push({ executionSid: a.sid, result: a.result, source: type, workflowId, stuck: a.stuck, ...(callSid ? { callSid } : {}) });
  }
  return out;
}

export async function collectStuck(client: Client, o: CollectOptions): Promise<Collected> {
  const max = o.maxWorkflows ?? 5000;
  const listed: { workflowId: string; runId: string; type: string }[] = [];
  let skipped = 0;
  for await (const wf of client.workflow.list({ query: reportQuery(o.sinceMs), pageSize: 1000 })) {
    if (listed.length >= max) {
      skipped++;
      continue;
    }
    listed.push({ workflowId: wf.workflowId, runId: wf.runId, type: wf.type });
  }
  const limit = pLimit(o.concurrency ?? 8);
  const items: StuckItem[] = [];
  let read = 0;
  await Promise.all(
    listed.map((w) =>
      limit(async () => {
        try {
          const result: unknown = await client.workflow.getHandle(w.workflowId, w.runId).result();
          items.push(...stuckItemsOf(w.type, w.workflowId, result));
          read++;
        } catch {
          skipped++;
        }
      }),
    ),
  );
  return { items, workflowsRead: read, skipped };
}
