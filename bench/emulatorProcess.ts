/**
 * The emulator in its own process for benchmarks (so it does not share an event loop — or, on a multi-core box, a
 * core — with the client being measured). The parent drives it over Node's IPC channel with a few calls onto the
 * emulator's in-process admin helpers (bench/emulatorChild.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export type SeedCategory = 'voiceEnded' | 'voiceLive' | 'chat' | 'unparsable';

export interface ChildSeedResult {
  workspaceSid: string;
  byCategory: Record<SeedCategory, string[]>;
}

export interface ChildCounters {
  total: number;
  reads: number;
  writes: number;
  tooManyRequests: number;
  maxInFlightSeen: number;
  byEndpoint: Record<string, number>;
}

export interface BenchEmulator {
  url: string;
  accountSid: string;
  authToken: string;
  pid: number;
  /** Empties the account and seeds it again from `seed` (same seed → same SIDs), then adds the open Tasks. */
  /** `listAttributes`: whether Task list items carry attributes (`full`, default) or `null` (Twilio's spec: fetch only). */
  reseed(o: { seed: number; tasks: number; mix: Record<SeedCategory, number>; listAttributes?: 'full' | 'null' }): Promise<ChildSeedResult>;
  /** Per-request latency and the per-account cap on requests in flight (429/20429 above it). */
  setFaults(o: { latencyMs: number; cap: number }): Promise<void>;
  resetCounters(): Promise<void>;
  counters(): Promise<ChildCounters>;
  /** CPU time (user + system) the emulator process has used so far, in ms. */
  cpuMs(): Promise<number>;
  /** Assignment status of each Task, read from the emulator's state (not through the REST API). */
  taskStatuses(sids: string[]): Promise<Record<string, string | null>>;
  stop(): Promise<void>;
}

interface RpcReply {
  id: number;
  result?: unknown;
  error?: string;
}

export async function startEmulatorProcess(opts: { seed: number; readyTimeoutMs?: number } = { seed: 1 }): Promise<BenchEmulator> {
  const child: ChildProcess = fork(path.join(__dirname, 'emulatorChild.ts'), [String(opts.seed)], {
    // BENCH_EMULATOR_CPU_PROF=<dir> writes a V8 CPU profile of the emulator process (for profiling a run).
    execArgv: ['--require', require.resolve('tsx/cjs'), ...(process.env.BENCH_EMULATOR_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_EMULATOR_CPU_PROF}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, UNSTICK_LOG_LEVEL: process.env.UNSTICK_LOG_LEVEL ?? 'warn' },
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error(`emulator process exited (code ${code}, signal ${signal})`));
    pending.clear();
  });

  const ready = new Promise<{ url: string; accountSid: string; authToken: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('emulator process did not report ready in time')), opts.readyTimeoutMs ?? 60_000);
    child.once('exit', (code) => reject(new Error(`emulator process exited before it was ready (code ${code})`)));
    child.on('message', (m: unknown) => {
      const msg = m as { ready?: { url: string; accountSid: string; authToken: string } } & Partial<RpcReply>;
      if (msg.ready) {
        clearTimeout(timer);
        resolve(msg.ready);
        return;
      }
      if (typeof msg.id === 'number') {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`emulator: ${msg.error}`));
        else p.resolve(msg.result);
      }
    });
  });

  const call = <T>(method: string, ...args: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error('emulator process is not running'));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, method, args });
    });

  const info = await ready.catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    ...info,
    pid: child.pid ?? 0,
    reseed: (o) => call<ChildSeedResult>('reseed', o),
    setFaults: (o) => call<void>('setFaults', o),
    resetCounters: () => call<void>('resetCounters'),
    counters: () => call<ChildCounters>('counters'),
    cpuMs: () => call<number>('cpuMs'),
    taskStatuses: (sids) => call<Record<string, string | null>>('taskStatuses', sids),
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitedPromise;
      clearTimeout(t);
    },
  };
}
