/**
 * The unstick worker: workflows from src/workflows and activities from createActivities(), on task queue `unstick`.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { connectNativeTemporal } from './client';
import type { Config } from './config';
import { createLogger, type Logger } from './log';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** A pre-built bundle (`{ code }` from bundleWorkflowCode, or `{ codePath }`); tests bundle once and reuse it. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Used when no bundle is given; default src/workflows (bundled at start-up, a few seconds). */
  workflowsPath?: string;
  /** Any other Worker.create options (tuning, interceptors…). */
  options?: Partial<WorkerOptions>;
}

export const WORKFLOWS_PATH = require.resolve('./workflows');

export function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  const code = opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: opts.workflowsPath ?? WORKFLOWS_PATH };
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    // In-flight activities get this long to finish on shutdown before they are cancelled.
    shutdownGraceTime: '10s',
    ...code,
    ...opts.options,
  });
}

export interface RunWorkerOptions {
  log?: Logger;
  /** Shut the worker down when aborted (besides the Runtime's shutdown signals). */
  signal?: AbortSignal;
  /** Called once the worker is created and about to poll. */
  onReady?: (worker: Worker) => void;
}

/**
 * Connects, runs the worker until it is shut down (SIGINT/SIGTERM via the Runtime, or `opts.signal`), then closes the
 * connection. The caller installs the Runtime first (see src/temporal/runtime.ts).
 */
export async function runWorker(config: Config, opts: RunWorkerOptions = {}): Promise<void> {
  const log = opts.log ?? createLogger('worker');
  const connection = await connectNativeTemporal(config.temporal);
  try {
    const worker = await createWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: createActivities({ config }),
    });
    // More workers (e.g. a rate-limited discovery queue) would be created here and run alongside with Promise.all.
    const onAbort = () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    log.info({ address: config.temporal.address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue }, 'worker polling');
    opts.onReady?.(worker);
    if (opts.signal?.aborted) onAbort();
    try {
      await worker.run();
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    log.info('worker stopped');
  } finally {
    await connection.close();
  }
}
