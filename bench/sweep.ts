/**
 * `npm run bench -- sweep [--tasks N] [--latency ms] [--cap N] [--seed N] [--concurrency N] [--no-write]`
 *
 * The seed's bulk cleaner (bench/seedCleaner.ts) against unstick's `sweep` workflow, on identical emulator state:
 * N open Tasks (60% voice with a finished call, 30% voice with a live call, 10% chat or unparsable), a fixed latency
 * per request and a cap on requests in flight per account. The emulator runs in its own process. Reports both wall
 * times, their ratio, the Twilio requests each made (emulator counters), the bound requests × latency ÷ cap and the
 * fraction of it reached, and checks that both closed exactly the same Tasks and no live-call Task.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import twilio from 'twilio';
import { createActivities } from '../src/activities';
import { loadConfig, type Config } from '../src/config';
import { SWEEP_WORKFLOW_TYPE, type SweepInput, type SweepReport } from '../src/shared/sweepTypes';
import { createLogger } from '../src/log';
import { installRuntime } from '../src/temporal/runtime';
import { startDevServer, type DevServer } from '../src/temporal/devServer';
import { TwilioHttpClient } from '../src/twilio/client';
import { createWorker } from '../src/worker';
import { createNodeHttpTwilioClient } from './nativeHttpClient';
import { startEmulatorProcess, type BenchEmulator, type ChildCounters, type ChildSeedResult, type SeedCategory } from './emulatorProcess';
import { runSeedCleaner, type SeedCleanerResult } from './seedCleaner';

export interface SweepBenchOptions {
  tasks: number;
  latencyMs: number;
  cap: number;
  seed: number;
  /** Twilio requests in flight inside a sweep page (and the worker's process-wide cap); default = cap. */
  concurrency?: number;
  pageSize: number;
  /** Unstick runs on identical state (the machine may be shared: the median is reported, all are listed). Default 1. */
  repeats?: number;
  /**
   * Unstick runs before those, on identical state, not counted in the median (listed, and checked like the others):
   * a deployed worker runs sweep after sweep, so its code is JIT-compiled; a first run in a fresh process is not.
   * Default 0 (the CLI's default is 1).
   */
  warmups?: number;
  /**
   * The unstick run's Twilio client: `sdk` = createTwilioClient (what unstick ships); `node` = EXPERIMENT, the same SDK
   * with bench/nativeHttpClient.ts instead of axios, to measure the SDK HTTP layer's share. Default `sdk`.
   */
  httpClient?: 'sdk' | 'node';
  /**
   * Whether Task list items carry attributes in the unstick runs (`full`, default) or `null` as Twilio's spec says for
   * lists (then every voice Task is fetched). The seed cleaner reads list attributes, so its baseline always has them.
   */
  listAttributes?: 'full' | 'null';
  /** Write bench/results/sweep-<timestamp>.json and sweep-latest.md. */
  write: boolean;
  resultsDir: string;
  log: (line: string) => void;
}

export const DEFAULT_MIX: Record<SeedCategory, number> = { voiceEnded: 60, voiceLive: 30, chat: 5, unparsable: 5 };
export const TARGETS = { speedup: 30, boundFraction: 0.6 } as const;

export interface RunFigures {
  wallMs: number;
  requests: ChildCounters;
  /** requests × latency ÷ cap: the least wall time any client could need under the cap. */
  boundMs: number;
  /** boundMs ÷ wallMs. */
  boundFraction: number;
  /** Task SIDs closed (by the emulator's state), with the status they ended in. */
  closed: Record<string, string>;
  /** CPU time used during the run, ms: this process (client, and for unstick the worker) and the emulator process. */
  cpuMs: { client: number; emulator: number };
}

export interface SweepBenchReport {
  benchmark: 'sweep';
  startedAt: string;
  finishedAt: string;
  host: { platform: string; arch: string; cpus: number; cpuModel: string; node: string; loadavgAtStart: number[]; loadavgAtEnd: number[] };
  params: { tasks: number; latencyMs: number; cap: number; seed: number; concurrency: number; pageSize: number; repeats: number; warmups: number; httpClient: 'sdk' | 'node'; listAttributes: 'full' | 'null'; mix: Record<SeedCategory, number> };
  /** Twilio requests per Task closed: every close costs a fresh read before its If-Match write. */
  requestsPerClosedTask: { baseline: number; unstick: number };
  seeded: Record<SeedCategory, number>;
  baseline: RunFigures & { cleaner: Omit<SeedCleanerResult, 'closed'> };
  /** The median of the unstick runs (by wall time). */
  unstick: RunFigures & { sweep: Omit<SweepReport, 'actions'>; temporal: SweepTimeline };
  /** Every unstick run, in order (same seeded state each time), warm-up runs first. */
  unstickRuns: Array<{ wallMs: number; requests: number; boundFraction: number; cpuMs: { client: number; emulator: number }; warmup?: boolean }>;
  /** baseline wall ÷ unstick wall. */
  speedup: number;
  check: {
    /** Both runs closed exactly the same Tasks (mapped by category and position between the two seedings), with the same status. */
    sameTasksClosed: boolean;
    /** Both runs seeded identical SIDs (same seed value). */
    identicalSeeds: boolean;
    baselineClosed: number;
    unstickClosed: number;
    onlyBaseline: string[];
    onlyUnstick: string[];
    statusDiffers: string[];
    liveCallTasksClosed: { baseline: number; unstick: number };
    closedByCategory: { baseline: Record<SeedCategory, number>; unstick: Record<SeedCategory, number> };
    /** Unstick runs compared with the baseline (the figures above are the median run's); `pass` needs all of them. */
    runsChecked?: number;
    pass: boolean;
  };
  targets: Array<{ name: string; value: number; target: number; pass: boolean }>;
}

const CATEGORIES: SeedCategory[] = ['voiceEnded', 'voiceLive', 'chat', 'unparsable'];

async function cpuMark(emu: BenchEmulator): Promise<() => Promise<{ client: number; emulator: number }>> {
  const client0 = process.cpuUsage();
  const emu0 = await emu.cpuMs();
  return async () => {
    const c = process.cpuUsage(client0);
    return { client: (c.user + c.system) / 1000, emulator: (await emu.cpuMs()) - emu0 };
  };
}

function boundOf(requests: number, latencyMs: number, cap: number): number {
  return (requests * latencyMs) / cap;
}

async function closedTasks(emu: BenchEmulator, seeded: ChildSeedResult): Promise<Record<string, string>> {
  const all = CATEGORIES.flatMap((c) => seeded.byCategory[c]);
  const statuses = await emu.taskStatuses(all);
  const closed: Record<string, string> = {};
  for (const [sid, status] of Object.entries(statuses)) {
    if (status === 'canceled' || status === 'completed' || status === null) closed[sid] = status ?? 'gone';
  }
  return closed;
}

function benchConfig(emu: BenchEmulator, o: { cap: number; address: string; namespace: string }): Config {
  return loadConfig({
    TWILIO_ACCOUNT_SID: emu.accountSid,
    TWILIO_AUTH_TOKEN: emu.authToken,
    TWILIO_API_BASE_URL: emu.url,
    TWILIO_MAX_IN_FLIGHT: String(o.cap),
    TWILIO_REQUEST_TIMEOUT: '30s',
    TEMPORAL_ADDRESS: o.address,
    TEMPORAL_NAMESPACE: o.namespace,
    UNSTICK_LOG_LEVEL: 'warn',
  });
}

/** The seed's client: the twilio SDK with autoRetry and maxRetries 3 (as the published script), aimed at the emulator. */
function seedCleanerClient(emu: BenchEmulator) {
  const httpClient = new TwilioHttpClient({ baseUrl: emu.url, autoRetry: true, maxRetries: 3, keepAlive: true });
  return twilio(emu.accountSid, emu.authToken, { accountSid: emu.accountSid, httpClient, autoRetry: true, maxRetries: 3 });
}

async function runBaseline(emu: BenchEmulator, seeded: ChildSeedResult, o: SweepBenchOptions): Promise<SweepBenchReport['baseline']> {
  await emu.resetCounters();
  const client = seedCleanerClient(emu);
  const cpu = await cpuMark(emu);
  let lastLog = Date.now();
  const result = await runSeedCleaner(client, seeded.workspaceSid, {
    onProgress: (n) => {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        o.log(`  baseline: ${n} Tasks processed`);
      }
    },
  });
  const cpuMs = await cpu();
  const requests = await emu.counters();
  const closed = await closedTasks(emu, seeded);
  const boundMs = boundOf(requests.total, o.latencyMs, o.cap);
  const { closed: _closedList, ...cleaner } = result;
  return { wallMs: result.wallMs, requests, boundMs, boundFraction: boundMs / result.wallMs, closed, cpuMs, cleaner };
}

/** Where the unstick run's wall time went, from the workflow's history. */
export interface SweepTimeline {
  /** Page activities (and the targets activity). */
  activities: number;
  /** Sum of activity start → completion: the time spent inside activities (Twilio work). */
  inActivitiesMs: number;
  /** Each activity's start → completion, in order. */
  activityMs: number[];
  /** Sum of activity scheduled → started: waiting for the worker to pick an activity up. */
  scheduleToStartMs: number;
  /** First event → last event of the workflow. */
  workflowMs: number;
  /** Wall time outside activities: workflow tasks, scheduling, start/result round trips. */
  outsideActivitiesMs: number;
}

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;

function timeline(history: History, wallMs: number): SweepTimeline {
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0);
  const scheduled = new Map<number, number>();
  const started = new Map<number, number>();
  let inActivitiesMs = 0;
  let scheduleToStartMs = 0;
  let activities = 0;
  const activityMs: number[] = [];
  const events = history.events ?? [];
  for (const e of events) {
    const at = ms(e.eventTime as never);
    const id = Number(e.eventId ?? 0);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, at);
    else if (e.activityTaskStartedEventAttributes) {
      const sid = Number(e.activityTaskStartedEventAttributes.scheduledEventId ?? 0);
      started.set(sid, at);
      scheduleToStartMs += at - (scheduled.get(sid) ?? at);
    } else if (e.activityTaskCompletedEventAttributes) {
      const sid = Number(e.activityTaskCompletedEventAttributes.scheduledEventId ?? 0);
      const d = at - (started.get(sid) ?? at);
      inActivitiesMs += d;
      activityMs.push(Math.round(d));
      activities++;
    }
  }
  const first = events[0];
  const last = events[events.length - 1];
  return {
    activities,
    inActivitiesMs,
    activityMs,
    scheduleToStartMs,
    workflowMs: first && last ? ms(last.eventTime as never) - ms(first.eventTime as never) : 0,
    outsideActivitiesMs: wallMs - inActivitiesMs,
  };
}

interface UnstickRun {
  seeded: ChildSeedResult;
  figures: SweepBenchReport['unstick'];
}

/** One dev server and worker; per repeat: re-seed the emulator identically, run the sweep workflow, read the state. */
async function runUnstick(emu: BenchEmulator, o: SweepBenchOptions, concurrency: number, repeats: number): Promise<UnstickRun[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-bench-'));
  let server: DevServer | undefined;
  try {
    server = await startDevServer({ dbFile: path.join(dir, 'temporal.db'), headless: true, logLevel: 'error' });
    const config = benchConfig(emu, { cap: concurrency, address: server.address, namespace: server.namespace });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    try {
      const worker = await createWorker({
        connection: nativeConnection,
        namespace: server.namespace,
        taskQueue: config.temporal.taskQueue,
        activities: createActivities({
          config,
          ...(o.httpClient === 'node' ? { twilio: createNodeHttpTwilioClient({ accountSid: emu.accountSid, authToken: emu.authToken, baseUrl: emu.url, maxSockets: concurrency * 2 }) } : {}),
        }),
        options: { maxConcurrentActivityTaskExecutions: 20 },
      });
      return await worker.runUntil(async () => {
        const runs: UnstickRun[] = [];
        for (let i = 0; i < repeats; i++) {
          const seeded = await emu.reseed({ seed: o.seed, tasks: o.tasks, mix: DEFAULT_MIX, listAttributes: o.listAttributes ?? 'full' });
          const input: SweepInput = {
            workspaceSids: [seeded.workspaceSid],
            channels: ['voice'],
            dryRun: false,
            maxActions: o.tasks * 2 + 1,
            concurrency,
            pageSize: o.pageSize,
            // One run: the benchmark measures the sweep, not continueAsNew.
            pagesPerRun: Math.ceil(o.tasks / o.pageSize) + 10,
            trigger: 'bench',
          };
          await emu.resetCounters();
          const cpu = await cpuMark(emu);
          const started = performance.now();
          const handle = await client.workflow.start(SWEEP_WORKFLOW_TYPE, {
            taskQueue: config.temporal.taskQueue,
            workflowId: `bench-sweep-${i}-${Date.now()}`,
            args: [input],
          });
          const report = (await handle.result()) as SweepReport;
          const wallMs = performance.now() - started;
          const cpuMs = await cpu();
          const temporal = timeline(await handle.fetchHistory(), wallMs);
          const requests = await emu.counters();
          const closed = await closedTasks(emu, seeded);
          const boundMs = boundOf(requests.total, o.latencyMs, o.cap);
          const { actions: _actions, ...sweep } = report;
          runs.push({ seeded, figures: { wallMs, requests, boundMs, boundFraction: boundMs / wallMs, closed, cpuMs, sweep, temporal } });
          o.log(`  unstick run ${i + 1}/${repeats}${i < (o.warmups ?? 0) ? ' (warm-up)' : ''}: ${(wallMs / 1000).toFixed(2)} s, ${requests.total} requests, CPU client ${(cpuMs.client / 1000).toFixed(2)} s / emulator ${(cpuMs.emulator / 1000).toFixed(2)} s`);
        }
        return runs;
      });
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Maps the unstick run's SIDs onto the baseline's by category and position, so the two seedings compare even if SIDs differ. */
function compare(a: ChildSeedResult, b: ChildSeedResult, base: Record<string, string>, uns: Record<string, string>): SweepBenchReport['check'] {
  const toBaseline = new Map<string, string>();
  const categoryOf = new Map<string, SeedCategory>();
  let identicalSeeds = true;
  for (const c of CATEGORIES) {
    const sa = a.byCategory[c];
    const sb = b.byCategory[c];
    if (sa.length !== sb.length) identicalSeeds = false;
    sb.forEach((sid, i) => {
      const mapped = sa[i];
      if (mapped !== sid) identicalSeeds = false;
      if (mapped) toBaseline.set(sid, mapped);
    });
    for (const sid of sa) categoryOf.set(sid, c);
  }
  const unsMapped: Record<string, string> = {};
  for (const [sid, st] of Object.entries(uns)) unsMapped[toBaseline.get(sid) ?? sid] = st;
  const onlyBaseline = Object.keys(base).filter((s) => !(s in unsMapped));
  const onlyUnstick = Object.keys(unsMapped).filter((s) => !(s in base));
  const statusDiffers = Object.keys(base).filter((s) => s in unsMapped && unsMapped[s] !== base[s]);
  const byCat = (closed: Record<string, string>) => {
    const out = { voiceEnded: 0, voiceLive: 0, chat: 0, unparsable: 0 } as Record<SeedCategory, number>;
    for (const sid of Object.keys(closed)) {
      const c = categoryOf.get(sid);
      if (c) out[c]++;
    }
    return out;
  };
  const closedByCategory = { baseline: byCat(base), unstick: byCat(unsMapped) };
  const liveCallTasksClosed = { baseline: closedByCategory.baseline.voiceLive, unstick: closedByCategory.unstick.voiceLive };
  const sameTasksClosed = onlyBaseline.length === 0 && onlyUnstick.length === 0 && statusDiffers.length === 0;
  return {
    sameTasksClosed,
    identicalSeeds,
    baselineClosed: Object.keys(base).length,
    unstickClosed: Object.keys(unsMapped).length,
    onlyBaseline: onlyBaseline.slice(0, 20),
    onlyUnstick: onlyUnstick.slice(0, 20),
    statusDiffers: statusDiffers.slice(0, 20),
    liveCallTasksClosed,
    closedByCategory,
    pass: sameTasksClosed && liveCallTasksClosed.baseline === 0 && liveCallTasksClosed.unstick === 0,
  };
}

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
        wallMs: r.figures.wallMs, requests: r.figures.requests.total, boundFraction: r.figures.boundFraction, cpuMs: r.figures.cpuMs, ...(i < warmups ? { warmup: true } : {}),
      })),
      requestsPerClosedTask: {
        baseline: baseline.requests.total / Math.max(1, Object.keys(baseline.closed).length),
        unstick: unstick.requests.total / Math.max(1, Object.keys(unstick.closed).length),
      },
      speedup,
      check,
      targets: [
        { name: `unstick ≥ ${TARGETS.speedup}× faster than the seed cleaner`, value: speedup, target: TARGETS.speedup, pass: speedup >= TARGETS.speedup },
        { name: `unstick reaches ≥ ${TARGETS.boundFraction * 100}% of the bound`, value: unstick.boundFraction, target: TARGETS.boundFraction, pass: unstick.boundFraction >= TARGETS.boundFraction },
      ],
    };
    return report;
  } finally {
    await emu.stop();
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function row(name: string, f: RunFigures): string {
  const perReq = (ms: number) => (f.requests.total ? (ms / f.requests.total).toFixed(2) : '–');
  return `| ${name} | ${s(f.wallMs)} | ${f.requests.total} (${f.requests.reads} / ${f.requests.writes}) | ${f.requests.tooManyRequests} | ` +
    `${f.requests.maxInFlightSeen} | ${s(f.boundMs)} | ${pct(f.boundFraction)} | ${perReq(f.cpuMs.client)} / ${perReq(f.cpuMs.emulator)} |`;
}

export function renderMarkdown(r: SweepBenchReport): string {
  const p = r.params;
  const lines = [
    `# Sweep benchmark — ${r.finishedAt}`,
    '',
    `${p.tasks} open Tasks (${CATEGORIES.map((c) => `${r.seeded[c]} ${c}`).join(', ')}), ${p.latencyMs} ms latency per request, ` +
      `cap ${p.cap} requests in flight per account, seed ${p.seed}; unstick concurrency ${p.concurrency}, page size ${p.pageSize}` +
      `${p.httpClient === 'node' ? ', **EXPERIMENT: unstick with a node:http httpClient instead of the SDK\'s axios**' : ''}. ` +
      `Host: ${r.host.cpus} × ${r.host.cpuModel}, Node ${r.host.node}, load average ${r.host.loadavgAtStart.map((x) => x.toFixed(1)).join(' ')} at start, ` +
      `${r.host.loadavgAtEnd.map((x) => x.toFixed(1)).join(' ')} at the end. Emulator in its own process.`,
    '',
    '| | wall time | Twilio requests (reads / writes) | 429s | max in flight | bound (req × latency ÷ cap) | bound ÷ wall | CPU ms per request: client / emulator |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('seed cleaner (baseline)', r.baseline),
    row('unstick sweep', r.unstick),
    '',
    `Task list items ${p.listAttributes === 'null' ? '**without** attributes (Twilio\'s spec for lists: unstick fetches every voice Task)' : 'with attributes'} in the unstick runs. ` +
      `Twilio requests per closed Task: baseline ${r.requestsPerClosedTask.baseline.toFixed(2)}, unstick ${r.requestsPerClosedTask.unstick.toFixed(2)} ` +
      '(unstick reads each Task fresh before its If-Match write).',
    '',
    `Speed-up (baseline ÷ unstick): **${r.speedup.toFixed(1)}×**.` +
      (r.unstickRuns.length > 1
        ? ` unstick figures are the median of ${r.params.repeats} run(s) on identical state` +
          `${r.params.warmups ? ` after ${r.params.warmups} warm-up run(s) in the same worker process (not counted)` : ''}: ` +
          r.unstickRuns.map((u) => `${u.warmup ? 'warm-up ' : ''}${s(u.wallMs)} (${pct(u.boundFraction)} of the bound, CPU ${s(u.cpuMs.client)} client / ${s(u.cpuMs.emulator)} emulator)`).join(', ') + '.'
        : ''),
    '',
    `Closed: baseline ${r.check.baselineClosed}, unstick ${r.check.unstickClosed}; same Tasks closed with the same status: ` +
      `**${r.check.sameTasksClosed ? 'yes' : 'NO'}**; live-call Tasks closed: baseline ${r.check.liveCallTasksClosed.baseline}, unstick ${r.check.liveCallTasksClosed.unstick}` +
      `${r.check.identicalSeeds ? ' (both seedings produced identical SIDs)' : ' (SIDs mapped by category and position)'}.`,
    '',
    '| target | value | result |',
    '| --- | ---: | --- |',
    ...r.targets.map((t) => `| ${t.name} | ${t.target < 1 ? pct(t.value) : `${t.value.toFixed(1)}×`} | ${t.pass ? 'PASS' : 'FAIL'} |`),
    `| same Tasks closed, no live-call Task closed | ${r.check.pass ? 'yes' : 'no'} | ${r.check.pass ? 'PASS' : 'FAIL'} |`,
    '',
    `Temporal share of the unstick run: ${s(r.unstick.temporal.inActivitiesMs)} inside ${r.unstick.temporal.activities} activities (the Twilio work), ` +
      `${s(r.unstick.temporal.outsideActivitiesMs)} outside them (workflow start and result, workflow tasks, activity scheduling; ` +
      `schedule-to-start ${s(r.unstick.temporal.scheduleToStartMs)} in total).`,
    '',
    `unstick sweep: ${r.unstick.sweep.summary}`,
    '',
  ];
  return lines.join('\n');
}

export function renderSummary(r: SweepBenchReport): string {
  return [
    `baseline ${s(r.baseline.wallMs)} (${r.baseline.requests.total} requests), unstick ${s(r.unstick.wallMs)} (${r.unstick.requests.total} requests, ${r.unstick.requests.tooManyRequests} × 429)`,
    `speed-up ${r.speedup.toFixed(1)}×; bound ${s(r.unstick.boundMs)}, reached ${pct(r.unstick.boundFraction)}`,
    `list attributes ${r.params.listAttributes}; requests per closed Task: baseline ${r.requestsPerClosedTask.baseline.toFixed(2)}, unstick ${r.requestsPerClosedTask.unstick.toFixed(2)}`,
    `CPU during the unstick run: client+worker ${s(r.unstick.cpuMs.client)}, emulator ${s(r.unstick.cpuMs.emulator)} (load average at start ${r.host.loadavgAtStart[0]?.toFixed(1)})`,
    `unstick time inside ${r.unstick.temporal.activities} activities ${s(r.unstick.temporal.inActivitiesMs)}, outside them ${s(r.unstick.temporal.outsideActivitiesMs)} (schedule-to-start ${s(r.unstick.temporal.scheduleToStartMs)})`,
    ...r.targets.map((t) => `${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.target < 1 ? pct(t.value) : `${t.value.toFixed(1)}×`}`),
    `${r.check.pass ? 'PASS' : 'FAIL'}  same Tasks closed (${r.check.baselineClosed} vs ${r.check.unstickClosed}), live-call Tasks closed: ${r.check.liveCallTasksClosed.baseline} / ${r.check.liveCallTasksClosed.unstick}`,
  ].join('\n');
}

export function writeResults(r: SweepBenchReport, dir: string): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = r.finishedAt.replace(/[:.]/g, '-');
  const mode = r.params.listAttributes === 'null' ? '-null-list-attributes' : '';
  const json = path.join(dir, `sweep${mode}-${stamp}.json`);
  const md = path.join(dir, `sweep${mode}-latest.md`);
  // The per-Task maps of closed SIDs are kept in memory for the check; the file gets their sizes.
  const slim = (k: string, v: unknown) => (k === 'closed' && v && typeof v === 'object' && !('cancel-task' in v) ? Object.keys(v).length : v);
  writeFileSync(json, `${JSON.stringify(r, slim, 2)}\n`);
  writeFileSync(md, renderMarkdown(r));
  return { json, md };
}

function parseArgs(argv: string[]): SweepBenchOptions | 'help' {
  const o: SweepBenchOptions = {
    tasks: 10_000, latencyMs: 10, cap: 50, seed: 42, pageSize: 1000, repeats: 5, warmups: 1, write: true,
    resultsDir: path.join(__dirname, 'results'),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) throw new Error(`${flag} needs a number ≥ ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--tasks': o.tasks = Math.floor(num(flag, value(), 1)); break;
      case '--latency': o.latencyMs = num(flag, value(), 0); break;
      case '--cap': o.cap = Math.floor(num(flag, value(), 1)); break;
      case '--seed': o.seed = Math.floor(num(flag, value(), 0)); break;
      case '--concurrency': o.concurrency = Math.floor(num(flag, value(), 1)); break;
      case '--page-size': o.pageSize = Math.min(1000, Math.floor(num(flag, value(), 1))); break;
      case '--http-client': {
        const v = value();
        if (v !== 'sdk' && v !== 'node') throw new Error('--http-client is sdk or node');
        o.httpClient = v;
        break;
      }
      case '--list-attributes': {
        const v = value();
        if (v !== 'full' && v !== 'null') throw new Error('--list-attributes is full or null');
        o.listAttributes = v;
        break;
      }
      case '--repeat': o.repeats = Math.floor(num(flag, value(), 1)); break;
      case '--warmup': o.warmups = Math.floor(num(flag, value(), 0)); break;
      case '--no-write': o.write = false; break;
      case '--results-dir': o.resultsDir = path.resolve(value() ?? ''); break;
      case '--help': case '-h': return 'help';
      default: throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  return o;
}

const HELP = `npm run bench -- sweep [options]
  --tasks N         open Tasks to seed (default 10000)
  --latency MS      emulator latency per request (default 10)
  --cap N           requests in flight per account before 429 (default 50)
  --concurrency N   unstick's requests in flight (default = cap)
  --seed N          emulator seed (default 42)
  --repeat N        unstick runs on identical state; the median is reported (default 5)
  --warmup N        unstick runs before those, same worker process, not counted (default 1: JIT warm-up)
  --page-size N     the sweep's list page size (default 1000; the baseline keeps the seed's 1000)
  --http-client C   unstick's Twilio HTTP layer: sdk (default, what unstick ships) or node (EXPERIMENT: node:http
                    instead of axios under the same SDK, to measure the HTTP layer's share)
  --list-attributes M  Task list items with attributes (full, default) or without (null: Twilio's spec for lists;
                    unstick then fetches every voice Task); the seed-cleaner baseline always gets them
  --no-write        do not write bench/results/
  --results-dir D   where to write results (default bench/results)
`;

export async function main(argv: string[]): Promise<number> {
  process.env.UNSTICK_LOG_LEVEL ??= 'warn';
  const o = parseArgs(argv);
  if (o === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const report = await runSweepBench(o);
  process.stdout.write(`${renderSummary(report)}\n`);
  if (o.write) {
    const files = writeResults(report, o.resultsDir);
    process.stdout.write(`results: ${files.json}\n         ${files.md}\n`);
  }
  return report.targets.every((t) => t.pass) && report.check.pass ? 0 : 1;
}
