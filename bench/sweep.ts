/**
 * `npm run bench -- sweep [--tasks N] [--latency ms] [--cap N] [--seed N] [--concurrency N] [--no-write]`
 *
 * The seed's bulk cleaner (bench/seedCleaner.ts) against unstick's `sweep` workflow, on identical emulator state:
 * N open Tasks (60% voice with a finished call, 30% voice with a live call, 10% chat or unparsable), a fixed latency
 * per request and a cap on requests in flight per account. The emulator runs in its own process. Reports both wall
 * times, their ratio, the Twilio requests each made (emulator counters) and per closed Task, the safe limit (a fresh
 * read and an If-Match write per closed Task, plus the list pages, × latency ÷ cap) and the bound (requests × latency
 * ÷ cap) with the fraction of each reached, and checks that both closed exactly the same Tasks and no live-call Task.
 *
 * This module runs the benchmark; the runs are in sweepRuns.ts, the check in sweepCheck.ts, the report's shape in
 * sweepReport.ts, its rendering in sweepRender.ts and the command line in sweepCli.ts.
 */
import * as os from 'node:os';
import { createLogger } from '../src/log';
import { installRuntime } from '../src/temporal/runtime';
import { startEmulatorProcess, type SeedCategory } from './emulatorProcess';
import { compare } from './sweepCheck';
import { runBaseline, runUnstick } from './sweepRuns';
import { CATEGORIES, DEFAULT_MIX, TARGETS, type SweepBenchOptions, type SweepBenchReport } from './sweepReport';

export async function runSweepBench(o: SweepBenchOptions): Promise<SweepBenchReport> {
  const startedAt = new Date().toISOString();
  const loadavgAtStart = os.loadavg();
  const concurrency = o.concurrency ?? o.cap;
  const repeats = Math.max(1, o.repeats ?? 1);
  const warmups = Math.max(0, o.warmups ?? 0);
  // In mocha the root hook has installed one already; then this is a no-op.
  installRuntime(createLogger('bench'), { shutdownSignals: [] });
  const emu = await startEmulatorProcess({ seed: o.seed });
  try {
    await emu.setFaults({ latencyMs: o.latencyMs, cap: o.cap });
    o.log(`emulator pid ${emu.pid} at ${emu.url}; ${o.tasks} Tasks, ${o.latencyMs} ms latency, cap ${o.cap} in flight`);

    const seededA = await emu.reseed({ seed: o.seed, tasks: o.tasks, mix: DEFAULT_MIX });
    o.log('baseline (seed cleaner, one Task at a time)…');
    const baseline = await runBaseline(emu, seededA, o);
    o.log(`  baseline: ${(baseline.wallMs / 1000).toFixed(2)} s, ${baseline.requests.total} requests`);

    o.log(`unstick (sweep workflow on a dev server, worker in this process), ${warmups ? `${warmups} warm-up run(s), then ` : ''}${repeats} run(s)…`);
    const all = await runUnstick(emu, { ...o, warmups }, concurrency, warmups + repeats);
    const runs = all.slice(warmups);
    // The median run (by wall time) is the reported figure; every run must pass the same-Tasks check.
    const byWall = [...runs].sort((x, y) => x.figures.wallMs - y.figures.wallMs);
    const median = byWall[Math.floor((byWall.length - 1) / 2)]!;
    const unstick = median.figures;
    const checks = all.map((r) => compare(seededA, r.seeded, baseline.closed, r.figures.closed));
    const check = { ...compare(seededA, median.seeded, baseline.closed, unstick.closed), runsChecked: checks.length, pass: checks.every((c) => c.pass) };
    const speedup = baseline.wallMs / unstick.wallMs;
    const perClosed = {
      baseline: baseline.requests.total / Math.max(1, Object.keys(baseline.closed).length),
      unstick: unstick.requests.total / Math.max(1, Object.keys(unstick.closed).length),
    };
    const report: SweepBenchReport = {
      benchmark: 'sweep',
      startedAt,
      finishedAt: new Date().toISOString(),
      host: { platform: process.platform, arch: process.arch, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', node: process.version, loadavgAtStart, loadavgAtEnd: os.loadavg() },
      params: { tasks: o.tasks, latencyMs: o.latencyMs, cap: o.cap, seed: o.seed, concurrency, pageSize: o.pageSize, repeats, warmups, httpClient: o.httpClient ?? 'sdk', listAttributes: o.listAttributes ?? 'full', mix: DEFAULT_MIX },
      seeded: Object.fromEntries(CATEGORIES.map((c) => [c, seededA.byCategory[c].length])) as Record<SeedCategory, number>,
      baseline,
      unstick,
      unstickRuns: all.map((r, i) => ({
        wallMs: r.figures.wallMs, requests: r.figures.requests.total, boundFraction: r.figures.boundFraction, safeLimitFraction: r.figures.safeLimitFraction, cpuMs: r.figures.cpuMs, ...(i < warmups ? { warmup: true } : {}),
      })),
      requestsPerClosedTask: perClosed,
      speedup,
      check,
      targets: [
        { name: `unstick ≥ ${TARGETS.speedup}× faster than the seed cleaner`, value: speedup, target: TARGETS.speedup, pass: speedup >= TARGETS.speedup },
        { name: `unstick reaches ≥ ${TARGETS.safeLimitFraction * 100}% of the safe limit`, value: unstick.safeLimitFraction, target: TARGETS.safeLimitFraction, pass: unstick.safeLimitFraction >= TARGETS.safeLimitFraction },
        { name: `unstick makes ≤ ${TARGETS.requestsPerClosedTask} Twilio requests per closed Task`, value: perClosed.unstick, target: TARGETS.requestsPerClosedTask, pass: perClosed.unstick <= TARGETS.requestsPerClosedTask, unit: 'requests' },
      ],
    };
    return report;
  } finally {
    await emu.stop();
  }
}
