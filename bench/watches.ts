/**
 * `npm run bench -- watches [--watches 10000] [--idle-minutes 10] [--hangup 1000] …`: open watches of live calls on
 * ONE worker process (issue #11, "Capacity"). N live calls whose status callbacks and TaskRouter events reach the
 * webhook (so every watch is webhook-started, as in production); the worker's RSS and CPU from /proc, the Temporal
 * dev server's CPU, Twilio requests by endpoint from the emulator's counters and the SDK's metrics over an idle
 * window; then some calls hung up at once, each one's watch timed from hang-up to close. A baseline window with 0
 * watches comes first, for ratios. Processes: bench/watchesStack.ts; calls: bench/watchesCalls.ts; report:
 * bench/watchesReport.ts (bench/results/watches-<timestamp>.json and watches-latest.md).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../src/config';
import { linkerStateQuery, linkerWorkflowId, type LinkerProgress } from '../src/shared/messages';
import { hangupAndTime, pickHangups, rampCalls, runningWatches } from './watchesCalls';
import { metricByLabel, metricsDelta, procWindow, Sampler, scrapeMetrics, workerMetrics, type Phase } from './watchesProbe';
import { checks, renderLatest, writeResults, type WatchesOptions, type WatchesResult, type WindowResult } from './watchesReport';
import { logWarnings, prepareUnstick, startWatchesStack, type WatchesStack } from './watchesStack';

const DEFAULTS: WatchesOptions = {
  watches: 10_000, idleMinutes: 10, hangup: 1_000, latencyMs: 50, rate: 10, maxBacklog: 500, baselineMinutes: 1,
  settleSeconds: 30, sampleSeconds: 5, extraWaitSeconds: 120, worker: 'build', env: {}, write: true, keep: false,
};

const HELP = `npm run bench -- watches [options]
  --watches N          live calls, each with a webhook-started watch (default ${DEFAULTS.watches})
  --idle-minutes M     the idle window with N watches open (default ${DEFAULTS.idleMinutes})
  --hangup K           calls hung up at once after the idle window (default ${DEFAULTS.hangup})
  --rate R             calls started per second during the ramp, at most (default ${DEFAULTS.rate})
  --max-backlog B      pause the ramp while more than B calls have no running watch (default ${DEFAULTS.maxBacklog})
  --latency MS         emulator latency on every Twilio REST request (default ${DEFAULTS.latencyMs})
  --baseline-minutes M the window with 0 watches before the ramp (default ${DEFAULTS.baselineMinutes})
  --settle-seconds S   pause between the ramp and the idle window (default ${DEFAULTS.settleSeconds})
  --sample-seconds S   /proc sampling interval (default ${DEFAULTS.sampleSeconds})
  --extra-wait S       how long past grace + 60 s to wait for the hung-up watches (default ${DEFAULTS.extraWaitSeconds})
  --worker build|source  run worker and webhook from a build of HEAD (dist/, default) or the working tree via tsx
  --env NAME=VALUE     a setting for the worker and the webhook (repeatable), e.g. --env UNSTICK_GRACE_PERIOD=30s
  --no-write           do not write bench/results/
  --keep               keep the temporary folder (process logs, the build)
  --render FILE        only rewrite bench/results/watches-latest.md from a result JSON
`;

/** Numeric flags: the option each sets, its minimum, and whether it is a whole number. */
const NUMERIC: Record<string, [keyof WatchesOptions, number, boolean]> = {
  '--watches': ['watches', 1, true],
  '--idle-minutes': ['idleMinutes', 0.1, false],
  '--hangup': ['hangup', 0, true],
  '--rate': ['rate', 0.1, false],
  '--max-backlog': ['maxBacklog', 1, true],
  '--latency': ['latencyMs', 0, false],
  '--baseline-minutes': ['baselineMinutes', 0.1, false],
  '--settle-seconds': ['settleSeconds', 0, false],
  '--sample-seconds': ['sampleSeconds', 1, false],
  '--extra-wait': ['extraWaitSeconds', 0, false],
};

export function parseArgs(argv: string[]): WatchesOptions | 'help' {
  const o: WatchesOptions = { ...DEFAULTS, env: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    // `--flag=value` as well as `--flag value` (but `--env NAME=VALUE` keeps its own `=`).
    const flag = eq > 0 && a !== '--env' && !a.startsWith('--env=') ? a.slice(0, eq) : a;
    const value = (): string | undefined => (flag !== a ? a.slice(eq + 1) : argv[++i]);
    const numeric = NUMERIC[flag];
    if (numeric) {
      const [key, min, whole] = numeric;
      const n = Number(value());
      if (!Number.isFinite(n) || n < min) throw new Error(`${flag} needs a number ≥ ${min}`);
      (o as unknown as Record<string, number>)[key] = whole ? Math.floor(n) : n;
    } else if (flag === '--worker') {
      const w = value();
      if (w !== 'build' && w !== 'source') throw new Error('--worker is build or source');
      o.worker = w;
    } else if (flag === '--env' || flag.startsWith('--env=')) {
      const kv = flag === '--env' ? (argv[++i] ?? '') : flag.slice('--env='.length);
      const at = kv.indexOf('=');
      if (at < 1) throw new Error('--env needs NAME=VALUE');
      o.env[kv.slice(0, at)] = kv.slice(at + 1);
    } else if (flag === '--no-write') o.write = false;
    else if (flag === '--keep') o.keep = true;
    else if (flag === '--help' || flag === '-h') return 'help';
    else throw new Error(`unknown option ${a}\n${HELP}`);
  }
  if (o.hangup > o.watches) throw new Error('--hangup cannot exceed --watches');
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => void process.stderr.write(`[watches ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Measures one window of `ms`: process CPU and RSS, Twilio requests by endpoint, the linker's work, the SDK's counters. */
async function measureWindow(stack: WatchesStack, sampler: Sampler, phase: Phase, ms: number): Promise<WindowResult> {
  const linker = stack.temporal.client.workflow.getHandle(linkerWorkflowId(stack.emu.accountSid));
  const linkerState = () => linker.query(linkerStateQuery).catch((): Partial<LinkerProgress> => ({}));
  const metrics = async () => workerMetrics(await scrapeMetrics(stack.workerMetrics));
  sampler.phase = phase;
  const [c0, l0, m0] = [await stack.admin.counters(), await linkerState(), await metrics()];
  const s0 = sampler.sample();
  await sleep(ms);
  const s1 = sampler.sample();
  const [c1, l1, m1] = [await stack.admin.counters(), await linkerState(), await metrics()];
  const byEndpoint: Record<string, number> = {};
  for (const [k, v] of Object.entries(c1.byEndpoint)) {
    const d = v - (c0.byEndpoint[k] ?? 0);
    if (d > 0 && !k.startsWith('admin:') && !k.startsWith('webhooks:')) byEndpoint[k] = d;
  }
  const linkerDelta: Partial<LinkerProgress> = {};
  for (const k of ['passes', 'liveChecks', 'listRequests', 'taskFetches', 'linked', 'unplaced', 'nudged'] as const) linkerDelta[k] = (l1[k] ?? 0) - (l0[k] ?? 0);
  const proc = procWindow(s0, s1);
  const total = c1.total - c0.total;
  const minutes = proc.seconds / 60;
  return {
    proc,
    requests: { total, perMinute: total / minutes, byEndpoint },
    linker: linkerDelta,
    watchRequestsPerMinute: (total - linkerDelta.listRequests! - linkerDelta.taskFetches!) / minutes,
    metrics: metricsDelta(m0, m1),
  };
}

/** Stops the run when the worker is not doing its work (nothing it measured after would mean anything). */
function assertHealthy(w: WindowResult, stack: WatchesStack): void {
  const refused = Object.entries(w.metrics.requestFailures).filter(([k]) => k.startsWith('RespondWorkflowTaskCompleted'));
  if (!w.linker.passes || refused.length) {
    const warnings = logWarnings(path.join(stack.dir, 'worker.log'), 3).last;
    throw new Error(`the worker is not working: ${w.linker.passes ?? 0} linker passes in the baseline, refused workflow task completions ${JSON.stringify(Object.fromEntries(refused))}; its last warnings:\n${warnings.join('\n')}`);
  }
}

export async function runWatches(o: WatchesOptions): Promise<WatchesResult> {
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-watches-'));
  log(`working folder ${dir}`);
  let ok = false;
  const build = prepareUnstick(o.worker, dir, log);
  const stack = await startWatchesStack({ dir, build, latencyMs: o.latencyMs, env: o.env, log });
  const config = loadConfig(stack.env);
  const cw = config.callWatch;
  const sampler = new Sampler(stack.pids, o.sampleSeconds * 1000);
  sampler.start();
  try {
    const client = stack.temporal.client;
    // The linker's first passes and the worker's first polls, before anything is measured.
    await sleep(15_000);
    log(`baseline: ${o.baselineMinutes} min with 0 watches`);
    const baseline = await measureWindow(stack, sampler, 'baseline', o.baselineMinutes * 60_000);
    assertHealthy(baseline, stack);

    sampler.phase = 'ramp';
    log(`ramp: ${o.watches} live calls at up to ${o.rate}/s`);
    const { calls, ...ramp } = await rampCalls(stack.admin, client, { n: o.watches, rate: o.rate, maxBacklog: o.maxBacklog, timeoutMs: 10 * 60_000, log });
    const afterRamp = sampler.sample();
    log(`ramp done: ${calls.length} calls in ${ramp.seconds.toFixed(0)} s (${ramp.callsPerSecond.toFixed(1)}/s), ${ramp.runningAtEnd} watches running after ${ramp.allRunningSeconds.toFixed(0)} s`);
    const callsByScenario: Record<string, number> = {};
    for (const c of calls) callsByScenario[c.scenario] = (callsByScenario[c.scenario] ?? 0) + 1;

    sampler.phase = 'settle';
    await sleep(o.settleSeconds * 1000);
    log(`idle: ${o.idleMinutes} min with ${await runningWatches(client)} watches`);
    const idleWindow = await measureWindow(stack, sampler, 'idle', o.idleMinutes * 60_000);
    const watchesRunning = await runningWatches(client);
    const stickyCacheSize = workerMetrics(await scrapeMetrics(stack.workerMetrics)).stickyCacheSize;
    log(`idle: worker ${idleWindow.proc.cpuSecondsPerMinute.worker?.toFixed(2)} s CPU/min, RSS ${idleWindow.proc.rssEndMb.worker?.toFixed(0)} MB; ${idleWindow.requests.perMinute.toFixed(1)} Twilio requests/min; sticky cache ${stickyCacheSize}`);

    sampler.phase = 'hangup';
    const limitMs = cw.graceMs + 60_000;
    const hangup = await hangupAndTime(stack.admin, client, pickHangups(calls, o.hangup), { limitMs, waitMs: limitMs + o.extraWaitSeconds * 1000, log });
    log(`hang-up: ${hangup.withinLimit}/${hangup.hungUp} closed within ${limitMs / 1000} s; median ${hangup.closeTime.medianMs} ms, max ${hangup.closeTime.maxMs} ms`);

    sampler.phase = 'end';
    const metricsAtEnd = workerMetrics(await scrapeMetrics(stack.workerMetrics));
    const webhookCallbacks = metricByLabel(await scrapeMetrics(stack.webhookMetrics), 'unstick_webhook_callbacks_total', 'outcome');
    const counters = await stack.admin.counters();
    sampler.stop();
    const warnings = { worker: logWarnings(path.join(dir, 'worker.log')), webhook: logWarnings(path.join(dir, 'webhook.log')) };
    const worker = (p: Phase[]) => sampler.samples.filter((s) => p.includes(s.phase));
    const max = sampler.samples.reduce((m, s) => ((s.procs.worker?.rssMb ?? 0) > (m.procs.worker?.rssMb ?? 0) ? s : m), sampler.samples[0]!);
    const loadAverage: WatchesResult['host']['loadAverage'] = {};
    for (const p of ['baseline', 'ramp', 'idle', 'hangup'] as const) loadAverage[p] = sampler.load([p]);
    const pollsPerMinute = (o.watches * 60_000) / cw.pollWithCallbacksMs;
    ok = true;
    return {
      startedAt,
      options: o,
      build,
      settings: { graceMs: cw.graceMs, pollWithCallbacksMs: cw.pollWithCallbacksMs, maxCachedWorkflows: cw.maxCachedWorkflows, linkerLiveCheckMs: cw.linkerLiveCheckMs, linkerIntervalMs: cw.linkerIntervalMs },
      host: { cpus: os.cpus().length, node: process.version, loadAverage },
      baseline,
      ramp: { ...ramp, calls: calls.length, callsByScenario, webhookFailedCallbacks: counters.webhooksFailed, workerRssAfterMb: afterRamp.procs.worker?.rssMb ?? NaN },
      idle: { ...idleWindow, watchesRunning, stickyCacheSize },
      projectedIdleRequestsPerMinute: idleWindow.requests.perMinute + Math.max(0, pollsPerMinute - idleWindow.watchRequestsPerMinute),
      hangup,
      workerRssMb: {
        start: worker(['start', 'baseline'])[0]?.procs.worker?.rssMb ?? NaN,
        afterRamp: afterRamp.procs.worker?.rssMb ?? NaN,
        endOfIdle: idleWindow.proc.rssEndMb.worker ?? NaN,
        max: max.procs.worker?.rssMb ?? NaN,
        maxPhase: max.phase,
      },
      temporalCpuSecondsPerMinute: { baseline: baseline.proc.cpuSecondsPerMinute.temporal ?? NaN, idle: idleWindow.proc.cpuSecondsPerMinute.temporal ?? NaN },
      metricsAtEnd,
      logWarnings: warnings,
      webhookCallbacks,
      emulatorCountersAtEnd: counters,
      samples: sampler.samples,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    sampler.stop();
    await stack.close();
    if (ok && !o.keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir} (process logs${build.from === 'build' ? ', the build' : ''})`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const render = argv.indexOf('--render');
  if (render >= 0) {
    const file = path.resolve(argv[render + 1] ?? '');
    const md = renderLatest(JSON.parse(readFileSync(file, 'utf8')) as WatchesResult, file);
    process.stdout.write(`${md}\n`);
    return 0;
  }
  const o = parseArgs(argv);
  if (o === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const r = await runWatches(o);
  const cs = checks(r);
  for (const c of cs) process.stdout.write(`${c.pass ? 'PASS' : 'FAIL'}  ${c.target}: ${c.measured}\n`);
  if (o.write) {
    const files = writeResults(r);
    process.stdout.write(`${files.json}\n${files.md}\n`);
  }
  return cs.every((c) => c.pass) ? 0 : 1;
}
