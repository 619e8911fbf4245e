/** The watches benchmark's report: its targets, bench/results/watches-<timestamp>.json and watches-latest.md. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CounterSnapshot } from '../src/emulator';
import type { LinkerProgress } from '../src/shared/messages';
import type { Quantiles } from './soakJudge';
import type { HangupResult, RampResult } from './watchesCalls';
import type { ProcWindow, Sample, WorkerMetrics } from './watchesProbe';
import type { LogWarnings, UnstickBuild } from './watchesStack';

export interface WatchesOptions {
  watches: number;
  idleMinutes: number;
  hangup: number;
  latencyMs: number;
  rate: number;
  maxBacklog: number;
  baselineMinutes: number;
  settleSeconds: number;
  sampleSeconds: number;
  extraWaitSeconds: number;
  worker: UnstickBuild['from'];
  /** UNSTICK_* / WEBHOOK_* overrides for the worker and the webhook (none: the product's defaults). */
  env: Record<string, string>;
  write: boolean;
  keep: boolean;
}

/** One measured window (baseline with 0 watches, or idle with N). */
export interface WindowResult {
  proc: ProcWindow;
  /** Twilio REST requests received by the emulator in the window, by `product:Resource METHOD`. */
  requests: { total: number; perMinute: number; byEndpoint: Record<string, number> };
  /** What the linker did in the window (its `state` query, end − start). */
  linker: Partial<LinkerProgress>;
  /** Requests in the window that were not the linker's (list pages, Task fetches): the watches' own polls. */
  watchRequestsPerMinute: number;
  metrics: WorkerMetrics;
}

export interface WatchesResult {
  startedAt: string;
  options: WatchesOptions;
  build: UnstickBuild;
  settings: { graceMs: number; pollWithCallbacksMs: number; maxCachedWorkflows: number; linkerLiveCheckMs: number; linkerIntervalMs: number };
  host: { cpus: number; node: string; loadAverage: Record<string, { min: number; mean: number; max: number }> };
  baseline: WindowResult;
  ramp: Omit<RampResult, 'calls'> & { calls: number; callsByScenario: Record<string, number>; webhookFailedCallbacks: number; workerRssAfterMb: number };
  idle: WindowResult & { watchesRunning: number; stickyCacheSize: number };
  /** Projected steady state of the idle requests: the window's, plus the hourly backstop polls it may not contain. */
  projectedIdleRequestsPerMinute: number;
  hangup: HangupResult;
  workerRssMb: { start: number; afterRamp: number; endOfIdle: number; max: number; maxPhase: string };
  temporalCpuSecondsPerMinute: { baseline: number; idle: number };
  metricsAtEnd: WorkerMetrics;
  /** Warnings and errors the worker and the webhook logged: count by message, and the last few lines. */
  logWarnings?: Record<string, LogWarnings>;
  webhookCallbacks: Record<string, number>;
  emulatorCountersAtEnd: CounterSnapshot;
  samples: Sample[];
  seconds: number;
}

export interface Check {
  target: string;
  measured: string;
  pass: boolean;
}

const mb = (x: number) => `${x.toFixed(0)} MB`;
const s1 = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
const q = (x: Quantiles) => `${s1(x.medianMs)} / ${s1(x.p95Ms)} / ${s1(x.maxMs)}`;

export function checks(r: WatchesResult): Check[] {
  const n = r.options.watches;
  const h = r.hangup;
  const i = r.idle;
  const pollsPerMinute = (n * 60_000) / r.settings.pollWithCallbacksMs;
  // The steady state: the window's polls, or every watch's hourly backstop poll when the window saw fewer (a window
  // that begins less than UNSTICK_POLL_WITH_CALLBACKS after the watches started sees none of them).
  const steadyPolls = Math.max(i.watchRequestsPerMinute, pollsPerMinute);
  return [
    { target: `worker RSS < 400 MB with ${n} open watches (max over the run)`, measured: `${mb(r.workerRssMb.max)} (${r.workerRssMb.maxPhase})`, pass: r.workerRssMb.max < 400 },
    { target: 'idle worker CPU < 5 s/min', measured: `${i.proc.cpuSecondsPerMinute.worker!.toFixed(2)} s/min`, pass: i.proc.cpuSecondsPerMinute.worker! < 5 },
    { target: "Twilio polls < 200/min (the watches' own requests), idle window", measured: `${i.watchRequestsPerMinute.toFixed(1)}/min`, pass: i.watchRequestsPerMinute < 200 },
    {
      target: `… steady state: every watch's hourly backstop poll (${n} ÷ ${(r.settings.pollWithCallbacksMs / 60_000).toFixed(0)} min)`,
      measured: `${steadyPolls.toFixed(1)}/min`,
      pass: steadyPolls < 200,
    },
    {
      target: 'all Twilio requests < 200/min while idle, steady state (polls + the linker\'s list pages)',
      measured: `${r.projectedIdleRequestsPerMinute.toFixed(1)}/min (${i.requests.perMinute.toFixed(1)} measured in the window)`,
      pass: r.projectedIdleRequestsPerMinute < 200,
    },
    {
      target: `${r.options.hangup} hung up at once: all closed within grace + 60 s (${s1(h.limitMs)})`,
      measured: `${h.withinLimit}/${h.hungUp} within; ${h.closed} closed; median/p95/max ${q(h.closeTime)}`,
      pass: h.hungUp === r.options.hangup && h.withinLimit === h.hungUp,
    },
  ];
}

function commandLine(o: WatchesOptions): string {
  const parts = [`--watches ${o.watches}`, `--idle-minutes ${o.idleMinutes}`, `--hangup ${o.hangup}`, `--rate ${o.rate}`];
  if (o.latencyMs !== 50) parts.push(`--latency ${o.latencyMs}`);
  if (o.worker !== 'build') parts.push(`--worker ${o.worker}`);
  for (const [k, v] of Object.entries(o.env)) parts.push(`--env ${k}=${v}`);
  return `npm run bench -- watches ${parts.join(' ')}`;
}

const top = (rec: Record<string, number>, k = 8) =>
  Object.entries(rec)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, v]) => `${name} ${v}`)
    .join(', ') || 'none';

export function renderMarkdown(r: WatchesResult, jsonFile: string): string {
  const o = r.options;
  const cs = checks(r);
  const load = (k: string) => {
    const l = r.host.loadAverage[k];
    return l ? `${l.min.toFixed(1)}–${l.max.toFixed(1)} (mean ${l.mean.toFixed(1)})` : '–';
  };
  const b = r.baseline;
  const i = r.idle;
  const perCachedKb = ((r.workerRssMb.endOfIdle - b.proc.rssEndMb.worker!) * 1024) / Math.max(1, i.stickyCacheSize - b.metrics.stickyCacheSize);
  const lines = [
    `# Open watches ${r.startedAt}`,
    '',
    `\`${commandLine(o)}\` · worker and webhook from ${r.build.from === 'build' ? `a build of ${r.build.commit.slice(0, 10)} (dist/, prebuilt workflow bundle)` : `the working tree through tsx (HEAD ${r.build.commit.slice(0, 10)}${r.build.dirty ? ' + uncommitted changes' : ''})`} · ` +
      `grace ${s1(r.settings.graceMs)}, poll with callbacks ${s1(r.settings.pollWithCallbacksMs)}, cache ${r.settings.maxCachedWorkflows} workflows, live check ${s1(r.settings.linkerLiveCheckMs)} · emulator latency ${o.latencyMs} ms · ` +
      `${r.host.cpus} vCPUs, Node ${r.host.node} · source \`${jsonFile}\``,
    '',
    `Load average (1 min) during the baseline ${load('baseline')}, the ramp ${load('ramp')}, the idle window ${load('idle')}, the hang-up ${load('hangup')}.`,
    '',
    '| target | measured | |',
    '| --- | ---: | --- |',
    ...cs.map((c) => `| ${c.target} | ${c.measured} | ${c.pass ? 'PASS' : 'FAIL'} |`),
    '',
    '| | 0 watches (baseline, ' + `${(b.proc.seconds / 60).toFixed(1)} min) | ${i.watchesRunning} watches (idle, ${(i.proc.seconds / 60).toFixed(1)} min) |`,
    '| --- | ---: | ---: |',
    `| worker RSS at the end | ${mb(b.proc.rssEndMb.worker!)} | ${mb(r.workerRssMb.endOfIdle)} (${perCachedKb.toFixed(0)} KB above the baseline per cached workflow) |`,
    `| worker CPU | ${b.proc.cpuSecondsPerMinute.worker!.toFixed(2)} s/min | ${i.proc.cpuSecondsPerMinute.worker!.toFixed(2)} s/min |`,
    `| Temporal dev server CPU | ${r.temporalCpuSecondsPerMinute.baseline.toFixed(2)} s/min | ${r.temporalCpuSecondsPerMinute.idle.toFixed(2)} s/min |`,
    `| webhook / emulator CPU | ${(b.proc.cpuSecondsPerMinute.webhook ?? 0).toFixed(2)} / ${(b.proc.cpuSecondsPerMinute.emulator ?? 0).toFixed(2)} s/min | ${(i.proc.cpuSecondsPerMinute.webhook ?? 0).toFixed(2)} / ${(i.proc.cpuSecondsPerMinute.emulator ?? 0).toFixed(2)} s/min |`,
    `| Twilio requests | ${b.requests.perMinute.toFixed(1)}/min | ${i.requests.perMinute.toFixed(1)}/min |`,
    `| of which the linker's (list pages, Task fetches) | ${((b.linker.listRequests ?? 0) + (b.linker.taskFetches ?? 0))} | ${((i.linker.listRequests ?? 0) + (i.linker.taskFetches ?? 0))} (${i.linker.passes ?? 0} passes, ${i.linker.liveChecks ?? 0} live checks) |`,
    `| the watches' own (polls) | ${b.watchRequestsPerMinute.toFixed(1)}/min | ${i.watchRequestsPerMinute.toFixed(1)}/min |`,
    `| sticky cache size (end) | ${b.metrics.stickyCacheSize} | ${i.stickyCacheSize} |`,
    `| workflow tasks / cache misses (replays) / forced evictions | ${b.metrics.workflowTasks} / ${b.metrics.stickyCacheMisses} / ${b.metrics.forcedEvictions} | ${i.metrics.workflowTasks} / ${i.metrics.stickyCacheMisses} / ${i.metrics.forcedEvictions} |`,
    `| workflow tasks by type | ${top(b.metrics.workflowTasksByType)} | ${top(i.metrics.workflowTasksByType)} |`,
    `| activities run | ${top(b.metrics.activities)} | ${top(i.metrics.activities)} |`,
    '',
    `- **Worker RSS**: ${mb(r.workerRssMb.start)} at start, ${mb(r.ramp.workerRssAfterMb)} after the ramp, ${mb(r.workerRssMb.endOfIdle)} at the end of the idle window, max ${mb(r.workerRssMb.max)} (${r.workerRssMb.maxPhase}).`,
    `- **Ramp**: ${r.ramp.calls} live calls (${top(r.ramp.callsByScenario)}) in ${r.ramp.seconds.toFixed(0)} s (${r.ramp.callsPerSecond.toFixed(1)} calls/s, asked ${o.rate}/s, ${r.ramp.pauses} pauses for a backlog over ${o.maxBacklog}); ${r.ramp.runningAtEnd} watches running ${r.ramp.allRunningSeconds.toFixed(0)} s after the first call; ` +
      `${r.ramp.webhookFailedCallbacks} callbacks the webhook did not accept (emulator's count). Webhook answers over the run: ${top(r.webhookCallbacks)}.`,
    `- **Idle Twilio requests by endpoint**: ${top(i.requests.byEndpoint, 12)}.`,
    `- **Hang-up**: ${r.hangup.hungUp} calls hung up in ${r.hangup.spreadMs} ms; ${r.hangup.closed} watches closed, ${r.hangup.notClosed} not within the wait; close time from hang-up median/p95/max ${q(r.hangup.closeTime)}; ` +
      `outcomes ${top(r.hangup.outcomes)}; by story ${Object.entries(r.hangup.byScenario).map(([k, x]) => `${k} ${q(x)} (n=${x.n})`).join(', ')}. ` +
      `Left open in Twilio afterwards: ${r.hangup.stillOpen.executions} Executions, ${r.hangup.stillOpen.tasks} Tasks.`,
    `- **Closed over time** (s after the hang-up: closed): ${r.hangup.progress.filter((_, k) => k % 3 === 2 || k === r.hangup.progress.length - 1).map((p) => `${p.s}: ${p.closed}`).join(', ')}.`,
    `- **Worker over the whole run** (SDK metrics at the end): ${r.metricsAtEnd.workflowTasks} workflow tasks, ${r.metricsAtEnd.stickyCacheMisses} cache misses (replays from history), ${r.metricsAtEnd.forcedEvictions} forced evictions, ${r.metricsAtEnd.workflowTaskFailures} workflow task failures, failed requests to Temporal ${top(r.metricsAtEnd.requestFailures)}; activities ${top(r.metricsAtEnd.activities)}; failed attempts ${top(r.metricsAtEnd.activityFailures)}.`,
  ];
  for (const [name, w] of Object.entries(r.logWarnings ?? {})) {
    lines.push(`- **${name} warnings and errors logged**: ${top(w.byMessage)}.`, ...w.last.map((l) => `  - \`${l.replace(/`/g, "'")}\``));
  }
  return `${lines.join('\n')}\n`;
}

/** One line for each other watches-*.json in `dir`: its command line and headline figures. */
function otherRuns(dir: string, except: string): string[] {
  const lines: string[] = [];
  for (const f of readdirSync(dir).filter((x) => /^watches-.*\.json$/.test(x) && x !== path.basename(except)).sort()) {
    const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as WatchesResult;
    const cs = checks(r);
    lines.push(
      `- \`${f}\` (${r.build.commit.slice(0, 10)}): \`${commandLine(r.options)}\` — worker RSS max ${mb(r.workerRssMb.max)} (${r.workerRssMb.maxPhase}), ${mb(r.workerRssMb.endOfIdle)} at the end of the idle window; ` +
        `idle CPU ${r.idle.proc.cpuSecondsPerMinute.worker!.toFixed(2)} s/min; hang-up ${r.hangup.withinLimit}/${r.hangup.hungUp} within ${s1(r.hangup.limitMs)} (median/p95/max ${q(r.hangup.closeTime)}); ` +
        `${cs.filter((c) => c.pass).length}/${cs.length} targets pass.`,
    );
  }
  return lines;
}

/** Rewrites watches-latest.md from the result in `jsonFile`, listing the other runs kept in `dir`; returns its path. */
export function renderLatest(r: WatchesResult, jsonFile: string, dir = path.resolve(__dirname, 'results')): string {
  const md = path.join(dir, 'watches-latest.md');
  const others = otherRuns(dir, jsonFile);
  const text = renderMarkdown(r, path.relative(path.resolve(__dirname, '..'), jsonFile));
  writeFileSync(md, others.length ? `${text}\nOther runs in bench/results:\n\n${others.join('\n')}\n` : text);
  return md;
}

/** Writes watches-<timestamp>.json and watches-latest.md; returns their paths. */
export function writeResults(r: WatchesResult, dir = path.resolve(__dirname, 'results')): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `watches-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  const md = path.join(dir, 'watches-latest.md');
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(md, renderMarkdown(r, path.relative(path.resolve(__dirname, '..'), json)));
  return { json, md };
}
