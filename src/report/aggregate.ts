/**
 * The stuck report's numbers, from the stuck records in callWatch results and sweep reports: by Flow and widget, by
 * number called, by cause and over time. Pure. An Execution recorded twice (a dry run, then its close) counts once,
 * as its last record.
 */
import { CAUSE_FIXES, outageWindows } from '../policy/stuckCause';
import type { StuckCause, StuckRecord } from '../shared/stuckTypes';

export interface StuckItem {
  executionSid: string;
  callSid?: string;
  result: string;
  /** `callWatch` or `sweep`, and the workflow id. */
  source: string;
  workflowId: string;
  stuck: StuckRecord;
}

export interface Row {
  key: string;
  count: number;
}
export interface CauseRow extends Row {
  cause: StuckCause;
  label: string;
  auditCheck?: string;
  fix: string;
}
export interface StuckReport {
  sinceMs: number;
  untilMs: number;
  total: number;
  workflowsRead: number;
  byFlowWidget: Row[];
  byNumber: Row[];
  byCause: CauseRow[];
  /** Bucket starts (epoch ms) with counts, ascending; hourly for windows up to 2 days, daily beyond. */
  overTime: { bucketMs: number; startMs: number; counts: Record<string, number> }[];
  /** Starts of 15-minute windows where at least 10 Executions got stuck (possible outage). */
  outageWindows: number[];
}

const HOUR = 3_600_000;

function rows(m: Map<string, number>): Row[] {
  return [...m].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/** Keeps the last record per Execution. */
export function dedupe(items: readonly StuckItem[]): StuckItem[] {
  const last = new Map<string, StuckItem>();
  for (const it of items) {
    const prev = last.get(it.executionSid);
    if (!prev || it.stuck.atMs >= prev.stuck.atMs) last.set(it.executionSid, it);
  }
  return [...last.values()];
}

export function aggregate(all: readonly StuckItem[], window: { sinceMs: number; untilMs: number }, workflowsRead: number): StuckReport {
  const items = dedupe(all).filter((it) => it.stuck.atMs >= window.sinceMs && it.stuck.atMs <= window.untilMs);
  const byFlowWidget = new Map<string, number>();
  const byNumber = new Map<string, number>();
  const byCause = new Map<string, number>();
  const bucketMs = window.untilMs - window.sinceMs <= 2 * 24 * HOUR ? HOUR : 24 * HOUR;
  const buckets = new Map<number, Record<string, number>>();
  for (const it of items) {
    const s = it.stuck;
    const widget = s.widget === undefined ? '?' : s.widgetType ? `${s.widget} (${s.widgetType})` : s.widget;
    bump(byFlowWidget, `${s.flowSid}${s.flowRevision !== undefined ? ` r${s.flowRevision}` : ''} / ${widget}`);
    bump(byNumber, s.calledNumber ?? '(not a call)');
    bump(byCause, s.cause);
    const b = Math.floor(s.atMs / bucketMs) * bucketMs;
    const counts = buckets.get(b) ?? {};
    counts[s.cause] = (counts[s.cause] ?? 0) + 1;
    buckets.set(b, counts);
  }
  return {
    sinceMs: window.sinceMs,
    untilMs: window.untilMs,
    total: items.length,
    workflowsRead,
    byFlowWidget: rows(byFlowWidget),
    byNumber: rows(byNumber),
    byCause: rows(byCause).map((r) => {
      const cause = r.key as StuckCause;
      const f = CAUSE_FIXES[cause] ?? CAUSE_FIXES.unknown;
      return { ...r, cause, label: f.label, fix: f.fix, ...(f.auditCheck ? { auditCheck: f.auditCheck } : {}) };
    }),
    overTime: [...buckets].sort((a, b) => a[0] - b[0]).map(([startMs, counts]) => ({ bucketMs, startMs, counts })),
    outageWindows: outageWindows(items.map((it) => it.stuck.atMs)),
  };
}

/** The top causes in one line, e.g. for the sweep's details: `send-and-wait-without-timeout 3, unknown 1`. */
export function topCauses(records: readonly { cause: string }[], n = 3): string {
  const m = new Map<string, number>();
  for (const r of records) bump(m, r.cause);
  return rows(m)
    .slice(0, n)
    .map((r) => `${r.key} ${r.count}`)
    .join(', ');
}
