/**
 * The unstick worker: workflows from src/workflows and activities from createActivities(), on task queue `unstick`.
 */
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { connectNativeTemporal } from './client';
import type { Config } from './config';
import { formatDurationMs } from './configValues';
import { LINKER_WORKFLOW_TYPE, linkerWorkflowId } from './shared/messages';
import { DISCOVERY_TASK_QUEUE } from './shared/names';
import { prebuiltWorkflowBundle } from './temporal/workflowBundle';
import { deploymentOptions, makeCurrentIfNone, workerVersion, type WorkerVersion } from './temporal/workerVersion';
import { createLogger, type Logger } from './log';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** A pre-built bundle (`{ code }` from bundleWorkflowCode, or `{ codePath }`); tests bundle once and reuse it. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Used when no bundle is given; default: the build's prebuilt bundle, else src/workflows (bundled at start-up, a few seconds). */
  workflowsPath?: string;
  /** Any other Worker.create options (tuning, interceptors…). */
  options?: Partial<WorkerOptions>;
}

export const WORKFLOWS_PATH = require.resolve('./workflows');

export function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  const prebuilt = opts.workflowsPath === undefined ? prebuiltWorkflowBundle() : undefined;
  const code = opts.workflowBundle
    ? { workflowBundle: opts.workflowBundle }
    : prebuilt
      ? { workflowBundle: { codePath: prebuilt } }
      : { workflowsPath: opts.workflowsPath ?? WORKFLOWS_PATH };
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

/**
 * An activity-only worker for the Twilio discovery activities (EvaluateTaskAttributes is limited to
 * 3 requests per second per account): `maxTaskQueueActivitiesPerSecond` is enforced by the Temporal
 * server across every worker on the queue, so the limit holds account-wide however many workers run.
 */
export function createDiscoveryWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  activities: object;
  ratePerSecond: number;
  /** The same version as the main worker's: activities of a pinned watch run on its build. */
  workerDeploymentOptions?: WorkerOptions['workerDeploymentOptions'];
}): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: DISCOVERY_TASK_QUEUE,
    activities: opts.activities,
    maxTaskQueueActivitiesPerSecond: opts.ratePerSecond,
    shutdownGraceTime: '10s',
    ...(opts.workerDeploymentOptions ? { workerDeploymentOptions: opts.workerDeploymentOptions } : {}),
  });
}

/**
 * Starts the account's linker (src/workflows/linker.ts) unless it runs already: a fixed workflow id per account with
 * conflict policy USE_EXISTING, so every worker (and `up`) can call this; one linker runs. Returns its workflow id.
 */
export async function startLinker(client: Client, config: Config): Promise<string> {
  const workflowId = linkerWorkflowId(config.twilio.accountSid);
  await client.workflow.start(LINKER_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    args: [{ intervalMs: config.callWatch.linkerIntervalMs, liveCheckMs: config.callWatch.linkerLiveCheckMs }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `linker: lists new Executions and Tasks every ${formatDurationMs(config.callWatch.linkerIntervalMs)} and links them to the running callWatches`,
  });
  return workflowId;
}

/** The first roll-out's "make me current", off the start-up path: until a version is current nothing is dispatched to it. */
async function firstRollOut(client: Client, version: WorkerVersion, log: Logger, signal?: AbortSignal): Promise<void> {
  try {
    if ((await makeCurrentIfNone(client, version, log, { signal })) === 'timeout') {
      log.warn(`deployment ${version.deploymentName}: version ${version.buildId} did not register within a minute; make a version current with: temporal worker deployment set-current-version --deployment-name ${version.deploymentName} --build-id <build>`);
    }
  } catch (err) {
    log.warn({ err }, `deployment ${version.deploymentName}: could not check or set the current version`);
  }
}

export interface RunWorkerOptions {
  log?: Logger;
  /** Shut the worker down when aborted (besides the Runtime's shutdown signals). */
  signal?: AbortSignal;
  /** Called once both workers run (poll). */
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
    const activities = createActivities({ config });
    const version = config.temporal.deployment ? workerVersion(config.temporal.deployment) : undefined;
    const workerDeploymentOptions = version ? deploymentOptions(version) : undefined;
    const worker = await createWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities,
      // A bounded cache: an evicted watch is replayed from its (small) history when it next wakes.
      options: { maxCachedWorkflows: config.callWatch.maxCachedWorkflows, ...(workerDeploymentOptions ? { workerDeploymentOptions } : {}) },
    });
    const discovery = await createDiscoveryWorker({
      connection,
      namespace: config.temporal.namespace,
      activities,
      ratePerSecond: config.callWatch.discoveryRps,
      workerDeploymentOptions,
    });
    const onAbort = () => {
      for (const w of [worker, discovery]) if (w.getState() === 'RUNNING') w.shutdown();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    log.info({ address: config.temporal.address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue }, 'worker polling');
    const client = new Client({ connection, namespace: config.temporal.namespace });
    if (version) log.info(`worker deployment ${version.deploymentName}, build ${version.buildId} (callWatch pinned, sweep and linker auto-upgrade)`);
    // The SDK's "No workflows registered" warning for this queue is expected, and kept for debug (src/temporal/runtime.ts).
    if (config.callWatch.linker && config.twilio.accountSid) {
      try {
        const id = await startLinker(client, config);
        log.info(`linker ${id}: every ${formatDurationMs(config.callWatch.linkerIntervalMs)}`);
      } catch (err) {
        // Watches still find their Execution and Task on their own (discovery); the next worker start tries again.
        log.warn({ err }, 'could not start the linker; calls fall back to per-call discovery');
      }
    }
    log.info(`task queue ${DISCOVERY_TASK_QUEUE}: activities only (Twilio discovery, at most ${config.callWatch.discoveryRps}/s across all workers), no workflows`);
    try {
      const running = Promise.all([worker.run(), discovery.run()]);
      if (version && config.temporal.deployment?.setCurrent === 'if-none') void firstRollOut(client, version, log, opts.signal);
      // After run(): the SDK logs its start-up lines synchronously in there, so whatever onReady prints comes last.
      opts.onReady?.(worker);
      // An abort that came during bundling (before run()) finds the workers RUNNING only now.
      if (opts.signal?.aborted) onAbort();
      await running;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    log.info('worker stopped');
  } finally {
    await connection.close();
  }
}
