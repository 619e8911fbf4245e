/**
 * For the tests of what deploy/ says in PromQL (alert rules, the Grafana dashboard), checked without promtool: the
 * Temporal SDK's metric names, a bracket-and-quote balance check, and unstick's sources to look metric names up in.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The SDK metrics deploy/ may name: as scraped from a worker (test/deploy/metrics.test.ts), plus the SDK's failure
 * counters, which appear only after a failure. Counters carry no `_total` suffix (the Runtime's Prometheus exporter
 * default), histograms are in milliseconds.
 */
export const SDK_METRICS: ReadonlySet<string> = new Set([
  'temporal_workflow_completed',
  'temporal_workflow_failed',
  'temporal_workflow_task_execution_failed',
  'temporal_activity_execution_failed',
  'temporal_activity_schedule_to_start_latency',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_sticky_cache_size',
  'temporal_num_pollers',
]);

/** Every `.ts` file under `dir`, concatenated (to look for a metric name as a quoted string). */
export function sources(dir: string): string {
  return readdirSync(dir)
    .map((f) => path.join(dir, f))
    .map((p) => (statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? readFileSync(p, 'utf8') : ''))
    .join('\n');
}

/** Brackets nest and close, and double quotes pair up (brackets inside quotes do not count). */
export function balanced(expr: string): boolean {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let quoted = false;
  for (const c of expr) {
    if (c === '"') quoted = !quoted;
    if (quoted) continue;
    if ('([{'.includes(c)) stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return !quoted && stack.length === 0;
}

/** The metric names an expression uses (temporal_* and unstick_*), without a histogram's _bucket/_count/_sum. */
export function metricNames(expr: string): string[] {
  return (expr.match(/\b(?:temporal|unstick)_[a-z_]+\b/g) ?? []).map((name) => name.replace(/_(bucket|count|sum)$/, ''));
}
