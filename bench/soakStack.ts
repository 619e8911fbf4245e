/**
 * The soak's processes: the Twilio emulator in this process (its state is what the soak judges), a Temporal dev
 * server on a temporary SQLite file, and the worker and the webhook as child processes (`bin/unstick.js worker`,
 * `bin/unstick.js webhook`), each of which can be SIGKILLed and started again on the same ports and files. A child
 * that exits on its own (e.g. while the dev server is down) is started again too, and counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startEmulator, type Emulator } from '../src/emulator';
import { TASKROUTER_EVENTS_PATH, VOICE_STATUS_PATH } from '../src/shared/names';
import { startDevServer, type DevServer } from '../src/temporal/devServer';
import { resolveTemporalCli } from '../src/temporal/resolveCli';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'unstick.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type ProcName = 'worker' | 'webhook' | 'temporal';

export interface SoakStackOptions {
  dir: string;
  graceMs: number;
  pollInitialMs: number;
  pollMaxMs: number;
  sweepIntervalMs: number;
  /** Emulator timings for the calls. */
  simulator: { ringMs: number; talkMs: number; wrapMs: number; stepMs: number };
  env?: Record<string, string>;
}

export interface ProcEvent {
  proc: ProcName;
  what: 'killed' | 'started' | 'ready' | 'exited';
  atMs: number;
  detail?: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

// Children not yet stopped: killed if this process exits first (e.g. mocha --exit after a failure).
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** One supervised child: `node bin/unstick.js <command>`, ready when its log prints `readyText`. */
class Supervised {
  private child?: ChildProcess;
  private stopping = false;
  private log: WriteStream;
  restarts = 0;
  constructor(
    private readonly name: 'worker' | 'webhook',
    private readonly env: NodeJS.ProcessEnv,
    private readonly readyText: string,
    logFile: string,
    private readonly events: ProcEvent[],
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  start(): Promise<void> {
    const child = spawn(process.execPath, [CLI, this.name], { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    this.events.push({ proc: this.name, what: 'started', atMs: Date.now() });
    let buf = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} not ready after 120 s`)), 120_000);
      const onData = (chunk: Buffer) => {
        this.log.write(chunk);
        buf = (buf + chunk.toString('utf8')).slice(-4096);
        if (buf.includes(this.readyText)) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          child.stderr!.off('data', onData);
          child.stdout!.on('data', (c: Buffer) => this.log.write(c));
          child.stderr!.on('data', (c: Buffer) => this.log.write(c));
          this.events.push({ proc: this.name, what: 'ready', atMs: Date.now() });
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited before it was ready (${code ?? signal})`));
      });
    });
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.stopping) return;
      // Exited on its own: start it again, as a process manager would.
      this.events.push({ proc: this.name, what: 'exited', atMs: Date.now(), detail: String(code ?? signal) });
      this.restarts++;
      void sleep(500).then(() => (this.stopping || this.child !== child ? undefined : this.start().catch(() => undefined)));
    });
    return ready;
  }
  /** SIGKILL, then start again after `downMs`; resolves once the new process is ready. */
  async killAndRestart(downMs: number): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    this.events.push({ proc: this.name, what: 'killed', atMs: Date.now() });
    await sleep(downMs);
    await this.start();
  }
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    this.log.end();
  }
}

export interface SoakStack {
  emu: Emulator;
  temporal: DevServer;
  client: Client;
  taskQueue: string;
  /** The environment the worker and the webhook run with (for loadConfig). */
  env: Record<string, string>;
  events: ProcEvent[];
  /** Restarts of children that exited on their own. */
  selfRestarts(): Record<'worker' | 'webhook', number>;
  kill(proc: ProcName, downMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSoakStack(o: SoakStackOptions): Promise<SoakStack> {
  mkdirSync(o.dir, { recursive: true });
  const events: ProcEvent[] = [];
  const emu = await startEmulator({ seed: 'soak', simulator: o.simulator });
  const cli = await resolveTemporalCli();
  const temporal = await startDevServer({ cliPath: cli.path, dbFile: path.join(o.dir, 'temporal.sqlite'), headless: true, logLevel: 'error' });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const webhookPort = await freePort();
  const s = emu.seeded;
  const taskQueue = 'unstick-soak';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TWILIO_ACCOUNT_SID: emu.accountSid,
    TWILIO_AUTH_TOKEN: emu.authToken,
    TWILIO_API_BASE_URL: emu.url,
    TWILIO_WORKSPACE_SIDS: s.workspaceSid,
    TWILIO_FLOW_SIDS: [s.flexFlowSid, s.messagingFlowSid, s.webchatFlowSid].join(','),
    UNSTICK_GRACE_PERIOD: `${o.graceMs}ms`,
    UNSTICK_POLL_INITIAL: `${o.pollInitialMs}ms`,
    UNSTICK_POLL_MAX: `${o.pollMaxMs}ms`,
    UNSTICK_MAX_AGE: '10m',
    // The soak's callback Tasks (another app's, for a caller whose call is live) are protected by expression.
    UNSTICK_PROTECT_TASKS: 'taskType IN ["callback","voicemail"]',
    UNSTICK_SWEEP_INTERVAL: `${o.sweepIntervalMs}ms`,
    UNSTICK_DATA_DIR: path.join(o.dir, 'data'),
    UNSTICK_LOG_LEVEL: 'info',
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_PORT: String(webhookPort),
    WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${webhookPort}`,
    WEBHOOK_FLOW_REDIRECTS: `${s.phoneNumber}=${s.flexFlowSid}`,
    ...o.env,
  };
  const worker = new Supervised('worker', env, 'worker polling', path.join(o.dir, 'worker.log'), events);
  const webhook = new Supervised('webhook', env, 'webhook listening', path.join(o.dir, 'webhook.log'), events);
  await Promise.all([worker.start(), webhook.start()]);
  const webhookUrl = `http://127.0.0.1:${webhookPort}`;
  emu.admin.setNumber(s.phoneNumber, { statusCallback: `${webhookUrl}${VOICE_STATUS_PATH}` });
  emu.admin.setWorkspace(s.workspaceSid, { eventCallbackUrl: `${webhookUrl}${TASKROUTER_EVENTS_PATH}` });

  return {
    emu,
    temporal,
    client,
    taskQueue,
    env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
    events,
    selfRestarts: () => ({ worker: worker.restarts, webhook: webhook.restarts }),
    async kill(proc, downMs) {
      if (proc === 'worker') return worker.killAndRestart(downMs);
      if (proc === 'webhook') return webhook.killAndRestart(downMs);
      const pid = temporal.pid;
      if (pid) process.kill(pid, 'SIGKILL');
      events.push({ proc, what: 'killed', atMs: Date.now() });
      await sleep(downMs);
      await temporal.restart();
      events.push({ proc, what: 'started', atMs: Date.now() });
    },
    async close() {
      await Promise.all([worker.stop(), webhook.stop()]);
      await connection.close().catch(() => undefined);
      await temporal.stop();
      await emu.close();
    },
  };
}
