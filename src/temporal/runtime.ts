/**
 * Installs the Temporal Runtime once per process with its logs routed into pino.
 * Call before creating any NativeConnection or Worker (CLI entry points do; mocha's test/setup.ts installs its own).
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../log';

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
 * @param shutdownSignals signals on which the Runtime shuts all workers down gracefully (default SIGINT, SIGTERM,
 *   SIGQUIT, SIGUSR2); pass [] when the caller orders the shutdown itself.
 * @returns false when a Runtime was already installed (then its settings stay).
 */
export function installRuntime(log: Logger, opts: { shutdownSignals?: NodeJS.Signals[] } = {}): boolean {
  const level = temporalLevel(log);
  try {
    Runtime.install({
      logger: new DefaultLogger(level, (entry) => {
        const { message, meta } = entry;
        // The SDK logs webpack's whole build report at INFO; keep it for debug.
        const lvl = entry.level === 'INFO' && message.startsWith('asset workflow-bundle') ? 'debug' : PINO_LEVEL[entry.level];
        log[lvl](meta ?? {}, message);
      }),
      // Core (Rust) logs: forwarded into the logger above, at least WARN so polling noise stays out.
      telemetryOptions: { logging: { filter: { core: level === 'TRACE' || level === 'DEBUG' ? level : 'WARN' }, forward: {} } },
      ...(opts.shutdownSignals ? { shutdownSignals: opts.shutdownSignals } : {}),
    });
    return true;
  } catch (err) {
    if ((err as Error).name === 'IllegalStateError') return false;
    throw err;
  }
}
