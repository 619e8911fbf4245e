/**
 * Runs `temporal server start-dev` as a child process: SQLite file persistence, Web UI, our search attributes and a
 * long retention. We spawn it ourselves instead of using the SDK's launcher, which gives a server only 5 s to come up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { ALL_SEARCH_ATTRIBUTES } from '../shared/searchAttributes';
import { INDEXED_TYPE } from './namespaceSetup';
import { getFreePort } from '../util/freePort';
import { resolveTemporalCli } from './resolveCli';

export interface DevServerOptions {
  /** The `temporal` binary; default: resolveTemporalCli(). */
  cliPath?: string;
  /**
   * SQLite file; created with its parent directory if missing, reused (with all workflows and timers) if present.
   * IN_MEMORY (`:memory:`) runs without a file (no `--db-filename`): everything is lost when the process exits.
   */
  dbFile: string;
  /**
   * `--sqlite-pragma NAME=VALUE` for a file-backed server; default DEFAULT_SQLITE_PRAGMAS. `{}` keeps SQLite's
   * rollback journal with synchronous=FULL (the CLI's own default).
   */
  sqlitePragmas?: Record<string, string>;
  /** Frontend gRPC port; default: a free port. */
  port?: number;
  /** Web UI port; default: a free port. */
  uiPort?: number;
  /** HTTP API port; default: chosen by the server. */
  httpPort?: number;
  /** Prometheus metrics port; default: chosen by the server. */
  metricsPort?: number;
  namespace?: string;
  /** Interface to listen on; default 127.0.0.1. */
  ip?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  /** Run without the Web UI (`--headless`). Default false. */
  headless?: boolean;
  /** Extra `--dynamic-config-value KEY=JSON`, e.g. `{ 'limit.historyCount.suggestContinueAsNew': 50 }`. */
  extraDynamicConfig?: Record<string, unknown>;
  /** Custom search attributes registered (idempotently) at every start; default ALL_SEARCH_ATTRIBUTES. */
  searchAttributes?: readonly SearchAttributeKey<SearchAttributeType>[];
  /** Namespace retention set at every start, so closed workflows stay visible; default 30 days. */
  retentionDays?: number;
  /** How long to wait for the frontend to answer; default 60 s. */
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL; default 15 s. */
  stopTimeoutMs?: number;
}

export interface DevServer {
  /** host:port of the frontend, for Connection/NativeConnection. */
  address: string;
  /** Web UI base URL, e.g. http://127.0.0.1:8233 (empty when headless). */
  uiUrl: string;
  namespace: string;
  dbFile: string;
  port: number;
  uiPort: number;
  cliPath: string;
  /** pid of the current server process (changes on restart). */
  readonly pid: number | undefined;
  /** The last lines the server printed (stdout and stderr). */
  recentOutput(): string;
  /** SIGTERM, wait for exit, SIGKILL after stopTimeoutMs. Safe to call twice. */
  stop(): Promise<void>;
  /** stop(), then start again on the same DB file and ports; resolves when ready again. */
  restart(): Promise<void>;
}

export const IN_MEMORY = ':memory:';

/**
 * WAL survives a crash of the server process (SIGKILL included): a committed transaction is in the WAL file. With
 * synchronous=NORMAL, a power loss or OS crash can lose the last transactions committed before it (never corrupting
 * the file); that is fine for a dev server and the sandbox, and it about doubles signalWithStart throughput
 * (`npm run bench -- webhook`).
 */
export const DEFAULT_SQLITE_PRAGMAS: Readonly<Record<string, string>> = { journal_mode: 'WAL', synchronous: 'NORMAL' };

class DevServerError extends Error {
  constructor(message: string, output: string) {
    super(output ? `${message}\n--- temporal server output (last lines) ---\n${output}` : message);
    this.name = 'DevServerError';
  }
}

// Servers we started and have not stopped: terminated if this process exits without stopping them.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        // The handler must be synchronous: SIGTERM lets the server close its SQLite file cleanly on its own.
        child.kill('SIGTERM');
      } catch {
        // already gone
      }
    }
  });
}

class RingBuffer {
  private lines: string[] = [];
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (!line.trim()) continue;
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
    }
  }
  text(): string {
    return this.lines.join('\n');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function distinctFreePorts(wanted: Array<number | undefined>): Promise<number[]> {
  const taken = new Set(wanted.filter((p): p is number => p !== undefined));
  const out: number[] = [];
  for (const w of wanted) {
    if (w !== undefined) {
      out.push(w);
      continue;
    }
    let p = await getFreePort();
    while (taken.has(p)) p = await getFreePort();
    taken.add(p);
    out.push(p);
  }
  return out;
}

class ManagedDevServer implements DevServer {
  address: string;
  uiUrl: string;
  namespace: string;
  dbFile: string;
  port: number;
  uiPort: number;
  cliPath: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly output = new RingBuffer(200);

  constructor(
    private readonly opts: DevServerOptions & { cliPath: string; port: number; uiPort: number },
  ) {
    const ip = opts.ip ?? '127.0.0.1';
    // A server listening on all interfaces is still reached on loopback from here.
    const connectHost = ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip;
    const hostPart = connectHost.includes(':') ? `[${connectHost}]` : connectHost;
    this.address = `${hostPart}:${opts.port}`;
    this.uiUrl = opts.headless ? '' : `http://${hostPart}:${opts.uiPort}`;
    this.namespace = opts.namespace ?? 'default';
    this.dbFile = opts.dbFile;
    this.port = opts.port;
    this.uiPort = opts.uiPort;
    this.cliPath = opts.cliPath;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  recentOutput(): string {
    return this.output.text();
  }

  private args(): string[] {
    const o = this.opts;
    const args = ['server', 'start-dev', '--ip', o.ip ?? '127.0.0.1', '--port', String(this.port)];
    if (this.dbFile !== IN_MEMORY) {
      args.push('--db-filename', this.dbFile);
      for (const [k, v] of Object.entries(o.sqlitePragmas ?? DEFAULT_SQLITE_PRAGMAS)) args.push('--sqlite-pragma', `${k}=${v}`);
    }
    if (o.headless) args.push('--headless');
    else args.push('--ui-port', String(this.uiPort));
    if (o.httpPort !== undefined) args.push('--http-port', String(o.httpPort));
    if (o.metricsPort !== undefined) args.push('--metrics-port', String(o.metricsPort));
    if (this.namespace !== 'default') args.push('--namespace', this.namespace);
    args.push('--log-level', o.logLevel ?? 'warn');
    const dyn: Record<string, unknown> = { 'frontend.enableServerVersionCheck': false, ...o.extraDynamicConfig };
    for (const [k, v] of Object.entries(dyn)) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
    return args;
  }

  async start(): Promise<void> {
    installExitHook();
    if (this.dbFile !== IN_MEMORY) await fs.mkdir(path.dirname(this.dbFile), { recursive: true });
    const child = spawn(this.cliPath, this.args(), {
      // Own process group: a Ctrl-C in the terminal reaches us, and we stop the server after the worker.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
    });
    this.child = child;
    live.add(child);
    child.stdout?.on('data', (b: Buffer) => this.output.push(b.toString()));
    child.stderr?.on('data', (b: Buffer) => this.output.push(b.toString()));
    let exitInfo: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        live.delete(child);
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `spawn error: ${err.message}`;
        live.delete(child);
        resolve();
      });
    });
    try {
      await this.waitReady(() => exitInfo);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async waitReady(exitInfo: () => string | undefined): Promise<void> {
    const timeoutMs = this.opts.readyTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    const childGone = this.exited.then(() => 'exited' as const);
    let lastErr: unknown;
    for (;;) {
      const info = exitInfo();
      if (info) throw new DevServerError(`temporal server start-dev exited during start-up (${info})`, this.recentOutput());
      if (Date.now() > deadline) {
        throw new DevServerError(
          `temporal server start-dev did not answer on ${this.address} within ${Math.round(timeoutMs / 1000)} s (last error: ${(lastErr as Error | undefined)?.message ?? 'none'})`,
          this.recentOutput(),
        );
      }
      let connection: Connection | undefined;
      try {
        const attempt = (async () => {
          connection = await Connection.connect({ address: this.address, connectTimeout: 2000 });
          await connection.workflowService.getSystemInfo({});
          await connection.workflowService.describeNamespace({ namespace: this.namespace });
          await this.configure(connection);
          if (this.uiUrl) await this.waitUi(deadline);
          return 'ready' as const;
        })();
        const outcome = await Promise.race([attempt, childGone]);
        attempt.catch(() => undefined);
        if (outcome === 'ready') return;
      } catch (err) {
        lastErr = err;
      } finally {
        await connection?.close().catch(() => undefined);
      }
      await sleep(250);
    }
  }

  /** Idempotent per-start setup: search attributes (the CLI flag only works on a fresh DB file) and retention. */
  private async configure(connection: Connection): Promise<void> {
    const attrs = this.opts.searchAttributes ?? ALL_SEARCH_ATTRIBUTES;
    if (attrs.length) {
      // On SQL visibility the server skips names that already exist (it does not check their type).
      await connection.operatorService.addSearchAttributes({
        namespace: this.namespace,
        searchAttributes: Object.fromEntries(attrs.map((k) => [k.name, INDEXED_TYPE[k.type]])),
      });
    }
    const days = this.opts.retentionDays ?? 30;
    await connection.workflowService.updateNamespace({
      namespace: this.namespace,
      config: { workflowExecutionRetentionTtl: msToTs(`${days} days`) },
    });
  }

  private async waitUi(deadline: number): Promise<void> {
    for (;;) {
      try {
        const res = await fetch(this.uiUrl, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status < 500) return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`Web UI at ${this.uiUrl} did not answer: ${(err as Error).message}`, { cause: err });
      }
      await sleep(250);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      await this.exited;
      return;
    }
    child.kill('SIGTERM');
    const timeoutMs = this.opts.stopTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** Starts a dev server and resolves once it answers, with search attributes registered and retention raised. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const cliPath = opts.cliPath ?? (await resolveTemporalCli()).path;
  for (let attempt = 1; ; attempt++) {
    const [port, uiPort] = await distinctFreePorts([opts.port, opts.headless ? 0 : opts.uiPort]);
    const server = new ManagedDevServer({ ...opts, dbFile: opts.dbFile === IN_MEMORY ? IN_MEMORY : path.resolve(opts.dbFile), cliPath, port: port!, uiPort: uiPort! });
    try {
      await server.start();
      return server;
    } catch (err) {
      // A free port (ours, or the HTTP API port the server picks itself) can be taken by another process between
      // the pick and the bind, e.g. by an outgoing connection's ephemeral port: pick again.
      if (attempt >= PORT_RACE_ATTEMPTS || !(err instanceof DevServerError) || !/address already in use/.test(err.message)) throw err;
    }
  }
}

const PORT_RACE_ATTEMPTS = 3;
