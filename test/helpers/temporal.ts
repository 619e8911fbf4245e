/**
 * Real Temporal for tests: each suite starts its own `temporal server start-dev` (free ports, temp SQLite file)
 * through the project's dev server manager, and connects a Client and a NativeConnection to it.
 *
 *   let t: TestTemporal;
 *   before(async () => { t = await startTestTemporal(); });
 *   after(async () => { await t?.teardown(); });
 *
 *   it('runs', async () => {
 *     const report = await runWithWorker(t, { activities: createActivities({ config, twilio }) }, (taskQueue) =>
 *       t.client.workflow.execute(sweep, { taskQueue, workflowId: uniqueId('sweep'), args: [{ dryRun: true }] }),
 *     );
 *   });
 *
 * The binary comes from resolveTemporalCli() (TEMPORAL_CLI_PATH, PATH, the user cache, or a one-time Go build);
 * when none can be found the suite fails with the resolver's install instructions: never skipped.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startDevServer, type DevServer, type DevServerOptions } from '../../src/temporal/devServer';
import { resolveTemporalCli, type ResolvedTemporalCli } from '../../src/temporal/resolveCli';
import { WORKFLOWS_PATH } from '../../src/worker';

export interface TestTemporal {
  server: DevServer;
  /** Client on `namespace`; survives server.restart() (gRPC reconnects). */
  client: Client;
  connection: Connection;
  /** For Worker.create / createWorker. */
  nativeConnection: NativeConnection;
  namespace: string;
  address: string;
  dbFile: string;
  /** Temp directory holding the SQLite file; deleted by teardown(). */
  dir: string;
  /** Closes the connections, stops the server, deletes the temp dir. Idempotent. */
  teardown(): Promise<void>;
}

export interface StartTestTemporalOptions extends Partial<Omit<DevServerOptions, 'cliPath'>> {
  /** Keep the temp dir after teardown (e.g. to inspect the DB). */
  keepDir?: boolean;
}

let cliPromise: Promise<ResolvedTemporalCli> | undefined;
/** The Temporal CLI, resolved once per test process. */
export function testTemporalCli(): Promise<ResolvedTemporalCli> {
  cliPromise ??= resolveTemporalCli({ log: (line) => process.stderr.write(`[temporal-cli] ${line}\n`) });
  return cliPromise;
}

/**
 * Starts a dev server for one suite. Defaults: temp SQLite file, free ports, headless (no Web UI; pass
 * `headless: false` to get one), namespace `default`, our search attributes registered, 30-day retention.
 */
export async function startTestTemporal(opts: StartTestTemporalOptions = {}): Promise<TestTemporal> {
  const cli = await testTemporalCli();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-test-'));
  const { keepDir, ...serverOpts } = opts;
  const dbFile = serverOpts.dbFile ?? path.join(dir, 'temporal.sqlite');
  let server: DevServer | undefined;
  let connection: Connection | undefined;
  let nativeConnection: NativeConnection | undefined;
  const cleanup = async () => {
    await nativeConnection?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await server?.stop();
    if (!keepDir) await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    server = await startDevServer({ headless: true, ...serverOpts, cliPath: cli.path, dbFile });
    connection = await Connection.connect({ address: server.address });
    nativeConnection = await NativeConnection.connect({ address: server.address });
  } catch (err) {
    await cleanup();
    throw err;
  }
  let tornDown: Promise<void> | undefined;
  return {
    server,
    client: new Client({ connection, namespace: server.namespace }),
    connection,
    nativeConnection,
    namespace: server.namespace,
    address: server.address,
    dbFile,
    dir,
    teardown: () => (tornDown ??= cleanup()),
  };
}

/** The foundation tests' trivial workflow (a timer, then an activity), kept out of the worker's src/workflows. */
export const TIMER_WORKFLOWS_PATH = path.resolve(__dirname, '../fixtures/timerWorkflows');

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/** src/workflows (or another workflows file) bundled once per test process (webpack takes a few seconds); pass as `workflowBundle`. */
export function bundleWorkflowsOnce(workflowsPath: string = WORKFLOWS_PATH): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath,
      logger: { trace() {}, debug() {}, info() {}, warn: (m: string) => process.stderr.write(`[bundle] ${m}\n`), error: (m: string) => process.stderr.write(`[bundle] ${m}\n`), log() {} },
    });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

/** A unique id for workflow ids and task queues, e.g. uniqueId('tq') → `tq-1f0c…`. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export interface TestWorkerOptions {
  activities?: object;
  /** Default: a fresh unique task queue, passed to `fn`. */
  taskQueue?: string;
  /** Any other Worker.create options. */
  options?: Partial<WorkerOptions>;
}

/** A worker on `t` with the shared workflow bundle (not started: use worker.run()/runUntil()). */
export async function createTestWorker(t: TestTemporal, opts: TestWorkerOptions = {}): Promise<{ worker: Worker; taskQueue: string }> {
  const taskQueue = opts.taskQueue ?? uniqueId('tq');
  const worker = await Worker.create({
    connection: t.nativeConnection,
    namespace: t.namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowsOnce(),
    activities: opts.activities ?? {},
    ...opts.options,
  });
  return { worker, taskQueue };
}

/** Runs a worker until `fn` settles, then shuts it down; returns fn's result. */
export async function runWithWorker<T>(t: TestTemporal, opts: TestWorkerOptions, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const { worker, taskQueue } = await createTestWorker(t, opts);
  return worker.runUntil(fn(taskQueue));
}

/** Polls `check` until it returns a truthy value (returned) or the deadline passes (throws with `what`). */
export async function waitUntil<T>(what: string, check: () => Promise<T> | T, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
