/**
 * One soak: start the stack, turn on every fault, play the stories at a steady rate while the worker, the webhook
 * and the Temporal dev server are SIGKILLed and started again, then wait for unstick (callWatch and the scheduled
 * sweep) to close what is stuck, and judge by reading Twilio state back from the emulator.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import type { FaultRule } from '../src/emulator';
import { loadConfig } from '../src/config';
import { applySchedule, triggerSchedule } from '../src/schedule';
import { judge, recordWrites, stuckResources, type SoakVerdict } from './soakJudge';
import { hangUp, planStories, playStory, type PlayedStory } from './soakPlan';
import { startSoakStack, type ProcEvent, type ProcName } from './soakStack';

export interface SoakOptions {
  calls: number;
  /** Calls started per second. */
  rate: number;
  graceMs: number;
  pollInitialMs: number;
  pollMaxMs: number;
  /** UNSTICK_POLL_WITH_CALLBACKS (a watch that hears callbacks polls this rarely); undefined: the product's default. */
  pollWithCallbacksMs?: number;
  sweepIntervalMs: number;
  /** Each process is killed this many times, at even points of the call phase. */
  killRounds: number;
  /** How long a killed process stays down before it is started again. */
  downMs: Record<ProcName, number>;
  /** Twilio faults and dropped callbacks on (default true). */
  faults: boolean;
  dropCallbacks: number;
  /** Added to every REST request, real ms. */
  latencyMs: number;
  /** How long to wait, after the last call ended, for nothing to be stuck. */
  settleTimeoutMs: number;
  keepDir?: boolean;
  log?: (line: string) => void;
}

export const SOAK_DEFAULTS: SoakOptions = {
  calls: 300,
  rate: 2,
  graceMs: 3_000,
  pollInitialMs: 1_000,
  pollMaxMs: 4_000,
  sweepIntervalMs: 60_000,
  killRounds: 1,
  downMs: { worker: 1_000, webhook: 3_000, temporal: 1_000 },
  faults: true,
  dropCallbacks: 0.3,
  latencyMs: 10,
  settleTimeoutMs: 180_000,
};

export interface SoakResult {
  startedAt: string;
  options: SoakOptions;
  host: { cpus: number; loadAvgAtStart: number[]; loadAvgAtEnd: number[]; node: string };
  faults: FaultRule[];
  /** Seconds from the first call to the last call's start, and to the end of the settle wait. */
  phases: { callsSeconds: number; settleSeconds: number; totalSeconds: number; settled: boolean };
  processEvents: ProcEvent[];
  selfRestarts: Record<'worker' | 'webhook', number>;
  stories: Record<string, number>;
  verdict: SoakVerdict;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Twilio faults on the REST products (not the emulator's own Studio webhook): 429 + Retry-After, 5xx, drops, lost answers. */
export function soakFaults(latencyMs: number): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const endpoint of ['api:*', 'studio:*', 'taskrouter:*']) {
    if (latencyMs > 0) rules.push({ endpoint, latencyMs });
    rules.push({ endpoint, status: 429, retryAfter: 1, probability: 0.03 });
    rules.push({ endpoint, status: 500, probability: 0.02 });
    rules.push({ endpoint, status: 503, retryAfter: 1, probability: 0.02 });
    rules.push({ endpoint, drop: true, probability: 0.02 });
  }
  rules.push({ endpoint: 'taskrouter:Tasks', method: 'POST', status: 500, answerLost: true, probability: 0.15 });
  rules.push({ endpoint: 'taskrouter:Tasks', method: 'POST', drop: true, answerLost: true, probability: 0.1 });
  rules.push({ endpoint: 'studio:Executions', method: 'POST', status: 503, retryAfter: 1, answerLost: true, probability: 0.15 });
  rules.push({ endpoint: 'studio:Executions', method: 'POST', drop: true, answerLost: true, probability: 0.1 });
  return rules;
}

export async function runSoak(opts: Partial<SoakOptions> = {}): Promise<SoakResult> {
  const o: SoakOptions = { ...SOAK_DEFAULTS, ...opts, downMs: { ...SOAK_DEFAULTS.downMs, ...opts.downMs } };
  const log = o.log ?? ((l: string) => process.stderr.write(`[soak] ${l}\n`));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-soak-'));
  const timing = { ringMs: 300, talkMs: 1_500, wrapMs: 300, stepMs: 50 };
  const startedAt = new Date().toISOString();
  const loadAvgAtStart = os.loadavg();
  log(`stack in ${dir}`);
  const stack = await startSoakStack({
    dir, graceMs: o.graceMs, pollInitialMs: o.pollInitialMs, pollMaxMs: o.pollMaxMs, sweepIntervalMs: o.sweepIntervalMs, simulator: timing,
    env: o.pollWithCallbacksMs === undefined ? {} : { UNSTICK_POLL_WITH_CALLBACKS: `${o.pollWithCallbacksMs}ms` },
  });
  try {
    const { emu, client } = stack;
    const config = loadConfig(stack.env);
    await applySchedule(client, config, { replace: true });
    const faults = o.faults ? soakFaults(o.latencyMs) : o.latencyMs > 0 ? [{ endpoint: '*', latencyMs: o.latencyMs }] : [];
    emu.admin.setFaults({ rules: faults });
    emu.admin.setLimits({ dropStatusCallbacks: o.faults ? o.dropCallbacks : 0, dropTaskRouterEvents: o.faults ? o.dropCallbacks : 0 });
    const writes = recordWrites(emu);
    emu.admin.resetCounters();

    const plan = planStories(o.calls);
    const played: PlayedStory[] = [];
    const callPhaseMs = (o.calls / o.rate) * 1000;
    const t0 = Date.now();
    // Kills at even points of the call phase: worker, webhook, Temporal, then again for each round.
    const procs: ProcName[] = ['worker', 'webhook', 'temporal'];
    const kills = Array.from({ length: o.killRounds * procs.length }, (_, i) => ({ proc: procs[i % 3]!, atMs: ((i + 1) / (o.killRounds * 3 + 1)) * callPhaseMs }));
    const killing = (async () => {
      for (const k of kills) {
        await sleep(Math.max(0, t0 + k.atMs - Date.now()));
        log(`SIGKILL ${k.proc} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        await stack.kill(k.proc, o.downMs[k.proc]).catch((err: unknown) => log(`restart of ${k.proc} failed: ${String(err)}`));
        log(`${k.proc} back at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
    })();
    for (let i = 0; i < plan.length; i++) {
      await sleep(Math.max(0, t0 + (i / o.rate) * 1000 - Date.now()));
      played.push(playStory(emu, i, plan[i]!, timing));
      if (i % 50 === 49) log(`${i + 1}/${plan.length} calls started`);
    }
    // Live calls that end during the soak: hung up once every call has started.
    for (const p of played) if (p.story === 'live-hangup') hangUp(emu, p);
    const callsDone = Date.now();
    await killing;
    // The last call's story plays out, then its grace: sweep once more now rather than at the next interval.
    await sleep(timing.ringMs + timing.talkMs + timing.wrapMs + o.graceMs + 2_000);
    await triggerSchedule(client).catch((err: unknown) => log(`trigger failed: ${String(err)}`));
    let settled = false;
    const deadline = Date.now() + o.settleTimeoutMs;
    let lastLog = 0;
    for (;;) {
      const stuck = stuckResources(emu, played);
      if (stuck.length === 0) {
        settled = true;
        break;
      }
      if (Date.now() > deadline) break;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`${stuck.length} stuck, e.g. ${stuck.slice(0, 3).map((s) => `${s.story}:${s.sid}:${s.status}`).join(' ')}`);
      }
      await sleep(1_000);
    }
    const settleEnd = Date.now();
    const counters = emu.admin.counters();
    emu.admin.clearFaults();
    // Let running sweeps finish so their reports can be read.
    for (let i = 0; i < 60 && (await client.workflow.count(`WorkflowType = 'sweep' AND ExecutionStatus = 'Running'`)).count > 0; i++) await sleep(1_000);
    const verdict = await judge(emu, client, played, writes, counters);
    const stories: Record<string, number> = {};
    for (const p of played) stories[p.story] = (stories[p.story] ?? 0) + 1;
    return {
      startedAt,
      options: o,
      host: { cpus: os.cpus().length, loadAvgAtStart, loadAvgAtEnd: os.loadavg(), node: process.version },
      faults,
      phases: { callsSeconds: (callsDone - t0) / 1000, settleSeconds: (settleEnd - callsDone) / 1000, totalSeconds: (settleEnd - t0) / 1000, settled },
      processEvents: stack.events,
      selfRestarts: stack.selfRestarts(),
      stories,
      verdict,
    };
  } finally {
    await stack.close().catch((err: unknown) => log(`close: ${String(err)}`));
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}
