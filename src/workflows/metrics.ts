/**
 * unstick's metrics recorded in workflows (names: src/shared/metricNames.ts), through the SDK's workflow metric meter:
 * not recorded while a workflow replays, and no commands, so recording changes no history.
 */
import { metricMeter } from '@temporalio/workflow';
import { METRICS } from '../shared/metricNames';

/** A finished sweep, from its first run's start to its report (continue-as-new runs included). */
export function recordSweepDuration(ms: number): void {
  const d = METRICS.sweepDuration;
  metricMeter.createHistogram(d.name, 'float', d.unit, d.description).record(Math.max(0, ms) / 1000);
}

/** A watch whose call is still live past its max age: counted once per watch, when its outcome becomes live-flagged. */
export function recordWatchLivePastMaxAge(): void {
  const d = METRICS.livePastMaxAge;
  metricMeter.createCounter(d.name, d.unit, d.description).add(1);
}
