/**
 * Installs the Temporal Runtime once per process with its logs routed into pino.
 * Call before creating any NativeConnection or Worker (CLI entry points do; mocha's test/setup.ts installs its own).
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../log';
import { HISTOGRAM_BUCKETS } from '../shared/metricNames';
import { DISCOVERY_TASK_QUEUE } from '../shared/names';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

function temporalLevel(log: Logger): LogLevel {
  switch (log.level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      return 'ERROR';
  }
}

/**
 * SDK messages that are expected and say nothing to an operator, kept for debug: webpack's whole build report
 * (INFO), and the warning of the activity-only discovery worker that it polls no workflow tasks (runWorker says
 * what that queue is for in its own start-up line).
 */
function quieted(message: string, meta: Record<string, unknown> | undefined): boolean {
  if (message.startsWith('asset workflow-bundle')) return true;
  return message.startsWith('No workflows registered') && meta?.taskQueue === DISCOVERY_TASK_QUEUE;
}

/**
 * @param metricsAddress host:port of a Prometheus `/metrics` endpoint (UNSTICK_METRICS_ADDRESS), when set.
 * @param shutdownSignals signals on which the Runtime shuts all workers down gracefully (default SIGINT, SIGTERM,
 *   SIGQUIT, SIGUSR2); pass [] when the caller orders the shutdown itself.
 * @returns false when a Runtime was already installed (then its settings stay).
 */
export function installRuntime(log: Logger, opts: { shutdownSignals?: NodeJS.Signals[]; metricsAddress?: string } = {}): boolean {
  const level = temporalLevel(log);
  try {
    Runtime.install({
      logger: new DefaultLogger(level, (entry) => {
        const { message, meta } = entry;
        log[quieted(message, meta) ? 'debug' : PINO_LEVEL[entry.level]](meta ?? {}, message);
      }),
      // Core (Rust) logs: forwarded into the logger above, at least WARN so polling noise stays out.
      telemetryOptions: {
        logging: { filter: { core: level === 'TRACE' || level === 'DEBUG' ? level : 'WARN' }, forward: {} },
        // The SDK's metrics, and unstick's own recorded through its metric meter (src/activities/metrics.ts).
        // unstick's histograms are in seconds; the SDK's default buckets are milliseconds (50 … 10,000).
        ...(opts.metricsAddress ? { metrics: { prometheus: { bindAddress: opts.metricsAddress, histogramBucketOverrides: HISTOGRAM_BUCKETS } } } : {}),
      },
      ...(opts.shutdownSignals ? { shutdownSignals: opts.shutdownSignals } : {}),
    });
    return true;
  } catch (err) {
    if ((err as Error).name === 'IllegalStateError') return false;
    throw err;
  }
}

/**
 * Writes out the SDK log lines the Runtime still buffers (with forwarding on, it holds them ~100 ms to order them
 * with Core's), e.g. before printing something that should come after them.
 */
export function flushRuntimeLogs(): void {
  Runtime.instance().flushLogs();
}
