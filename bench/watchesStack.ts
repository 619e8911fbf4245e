/**
 * The watches benchmark's processes, each its own: the Twilio emulator (bench/emulatorProcess.ts, 50 ms on every
 * REST request), a Temporal dev server (the project's own, SQLite file in WAL mode), and `bin/unstick.js webhook`
 * and `bin/unstick.js worker` (ONE worker). By default the two unstick processes run from a build of the committed
 * tree (`git archive HEAD`, `npm run build` in a temporary folder: dist/ with its prebuilt workflow bundle, as the
 * image runs), so concurrent edits of the working tree do not reach them; `--worker source` runs the working tree
 * through tsx instead (UNSTICK_FROM_SOURCE=1, the workflows bundled by webpack inside the worker at start-up).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { EmulatorAdminClient, type SeededAccount } from '../src/emulator';
import { TASKROUTER_EVENTS_PATH, VOICE_STATUS_PATH } from '../src/shared/names';
import { getFreePort } from '../src/util/freePort';
import { startTestTemporal, type TestTemporal } from '../test/helpers/temporal';
import { startEmulatorProcess, type BenchEmulator } from './emulatorProcess';

const REPO = path.resolve(__dirname, '..');

export type WorkerFrom = 'build' | 'source';

export interface UnstickBuild {
  /** The folder holding bin/unstick.js to run. */
  root: string;
  from: WorkerFrom;
  /** The commit built (build), or HEAD with the working tree's changes (source). */
  commit: string;
  dirty: boolean;
  buildSeconds: number;
}

/** Builds HEAD into `dir` (build) or points at the working tree (source). */
export function prepareUnstick(from: WorkerFrom, dir: string, log: (l: string) => void): UnstickBuild {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', 'HEAD');
  const dirty = git('status', '--porcelain', '--', 'src', 'bin').length > 0;
  if (from === 'source') return { root: REPO, from, commit, dirty, buildSeconds: 0 };
  const t0 = Date.now();
  const root = path.join(dir, 'build');
  log(`building ${commit.slice(0, 10)} (git archive HEAD) in ${root}`);
  execFileSync('mkdir', ['-p', root]);
  const files = ['src', 'scripts', 'bin', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
  execFileSync('sh', ['-c', `git -C "${REPO}" archive HEAD ${files.join(' ')} | tar -x -C "${root}"`]);
  symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  try {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe', encoding: 'utf8', env: { ...process.env, UNSTICK_GIT_COMMIT: commit } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed in ${root}:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
  return { root, from, commit, dirty: false, buildSeconds: (Date.now() - t0) / 1000 };
}

export interface UnstickProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

/** `node bin/unstick.js <command>` with its output in `logFile`; resolves once it printed `readyText`. */
async function startUnstick(build: UnstickBuild, command: string, env: NodeJS.ProcessEnv, readyText: string, logFile: string): Promise<UnstickProcess> {
  const child = spawn(process.execPath, [path.join(build.root, 'bin', 'unstick.js'), command], {
    cwd: build.root,
    env: { ...env, ...(build.from === 'source' ? { UNSTICK_FROM_SOURCE: '1' } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = createWriteStream(logFile);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let tail = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} not ready after 180 s; see ${logFile}`)), 180_000);
    const onData = (chunk: Buffer) => {
      out.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4096);
      if (tail.includes(readyText)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before it was ready: ${tail.slice(-800)}`));
    });
  });
  return {
    name: command,
    child,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
      out.end();
    },
  };
}

export interface LogWarnings {
  /** Lines at warn or above, by message. */
  byMessage: Record<string, number>;
  /** The last few distinct ones, shortened. */
  last: string[];
}

/** What a process logged at warn or above (its JSON log lines: pino level ≥ 40). */
export function logWarnings(logFile: string, keep = 5): LogWarnings {
  const byMessage: Record<string, number> = {};
  const last: string[] = [];
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return { byMessage, last };
  }
  for (const line of text.split('\n')) {
    if (!/"level":(4|5|6)0/.test(line)) continue;
    let msg = line;
    try {
      const j = JSON.parse(line) as { msg?: string; error?: string; err?: { message?: string } };
      msg = `${j.msg ?? ''}${j.error ? `: ${j.error}` : j.err?.message ? `: ${j.err.message}` : ''}`;
    } catch {
      // not JSON: the line itself
    }
    msg = msg.slice(0, 300);
    byMessage[msg] = (byMessage[msg] ?? 0) + 1;
    if (!last.includes(msg)) last.push(msg);
    if (last.length > keep) last.shift();
  }
  return { byMessage, last };
}

export interface WatchesStackOptions {
  dir: string;
  build: UnstickBuild;
  latencyMs: number;
  /** Extra environment for the worker and the webhook (e.g. UNSTICK_GRACE_PERIOD); empty keeps the product defaults. */
  env: Record<string, string>;
  log: (line: string) => void;
}

export interface WatchesStack {
  /** The working folder (process logs). */
  dir: string;
  emu: BenchEmulator;
  admin: EmulatorAdminClient;
  seeded: SeededAccount;
  temporal: TestTemporal;
  worker: UnstickProcess;
  webhook: UnstickProcess;
  /** host:port of the worker's and the webhook's /metrics. */
  workerMetrics: string;
  webhookMetrics: string;
  /** The environment both unstick processes run with. */
  env: Record<string, string>;
  pids(): Record<string, number | undefined>;
  close(): Promise<void>;
}

export async function startWatchesStack(o: WatchesStackOptions): Promise<WatchesStack> {
  const emu = await startEmulatorProcess({ seed: 11 });
  const closers: (() => Promise<void>)[] = [() => emu.stop()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => o.log(`close: ${String(err)}`));
  };
  try {
    const admin = new EmulatorAdminClient(emu.url);
    const { seeded } = await admin.info();
    // Twilio's latency on the REST products (not on the emulator's own Studio webhook or its admin API).
    for (const endpoint of ['api:*', 'studio:*', 'taskrouter:*']) await admin.addFault({ endpoint, latencyMs: o.latencyMs });
    const temporal = await startTestTemporal({ logLevel: 'error' });
    closers.push(() => temporal.teardown());
    const [webhookPort, workerMetricsPort, webhookMetricsPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
    const webhookUrl = `http://127.0.0.1:${webhookPort}`;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: 'unstick-watches',
      TWILIO_ACCOUNT_SID: emu.accountSid,
      TWILIO_AUTH_TOKEN: emu.authToken,
      TWILIO_API_BASE_URL: emu.url,
      TWILIO_WORKSPACE_SIDS: seeded.workspaceSid,
      // The voice Flow the number runs (the linker lists each configured Flow every pass).
      TWILIO_FLOW_SIDS: seeded.flexFlowSid,
      UNSTICK_DATA_DIR: path.join(o.dir, 'data'),
      UNSTICK_LOG_LEVEL: 'info',
      WEBHOOK_HOST: '127.0.0.1',
      WEBHOOK_PORT: String(webhookPort),
      WEBHOOK_PUBLIC_URL: webhookUrl,
      WEBHOOK_FLOW_REDIRECTS: `${seeded.phoneNumber}=${seeded.flexFlowSid}`,
      ...o.env,
    };
    const workerMetrics = `127.0.0.1:${workerMetricsPort}`;
    const webhookMetrics = `127.0.0.1:${webhookMetricsPort}`;
    const webhook = await startUnstick(o.build, 'webhook', { ...env, WEBHOOK_METRICS_ADDRESS: webhookMetrics }, 'webhook listening', path.join(o.dir, 'webhook.log'));
    closers.push(() => webhook.stop());
    const worker = await startUnstick(o.build, 'worker', { ...env, UNSTICK_METRICS_ADDRESS: workerMetrics }, 'worker polling', path.join(o.dir, 'worker.log'));
    closers.push(() => worker.stop());
    await admin.setNumber(seeded.phoneNumber, { statusCallback: `${webhookUrl}${VOICE_STATUS_PATH}` });
    await admin.setWorkspace(seeded.workspaceSid, { eventCallbackUrl: `${webhookUrl}${TASKROUTER_EVENTS_PATH}` });
    o.log(`emulator ${emu.url} (pid ${emu.pid}), Temporal ${temporal.address} (pid ${temporal.server.pid}), webhook ${webhookUrl} (pid ${webhook.pid}), worker pid ${worker.pid}`);
    return {
      dir: o.dir, emu, admin, seeded, temporal, worker, webhook, workerMetrics, webhookMetrics, env,
      pids: () => ({ worker: worker.pid, temporal: temporal.server.pid, webhook: webhook.pid, emulator: emu.pid }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
