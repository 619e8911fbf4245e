/**
 * unstick's own metrics, recorded through the running activity's metric meter so they come out on the worker's
 * Prometheus endpoint (UNSTICK_METRICS_ADDRESS) next to the SDK's, with the SDK's tags (namespace, task queue,
 * activity type). Outside an activity (the property tests) they are not recorded.
 */
import { Context } from '@temporalio/activity';
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';

function meter(): MetricMeter {
  try {
    return Context.current().metricMeter;
  } catch {
    return noopMetricMeter;
  }
}

/** One guarded write's outcome: `unstick_writes{kind,result}`, and `unstick_skipped{reason}` for a skip. */
export function recordGuardedWrite(kind: string, result: string, skipReason?: string): void {
  const m = meter();
  if (result === 'none') return;
  if (result === 'skipped' && skipReason) {
    m.createCounter('unstick_skipped', 'resources', 'Resources left alone, by the policy\'s reason').add(1, { reason: skipReason });
    return;
  }
  m.createCounter('unstick_writes', 'resources', 'Guarded writes by action and result (done, dry-run, already-closed, changed, capped)').add(1, { kind, result });
}
