/**
 * What the watches benchmark reads from the processes it runs: RSS and CPU from /proc/<pid>/status and
 * /proc/<pid>/stat, sampled every few seconds, and the worker's Prometheus /metrics (UNSTICK_METRICS_ADDRESS: the
 * SDK's sticky cache, workflow task and activity counters).
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/** Linux clock ticks per second (USER_HZ): 100 on every Linux the project runs on. */
const TICKS_PER_SECOND = 100;

export interface ProcReading {
  /** Resident set, MB (VmRSS). */
  rssMb: number;
  /** Peak resident set so far, MB (VmHWM). */
  hwmMb: number;
  /** User + system CPU time so far, seconds. */
  cpuS: number;
}

/** One process's RSS and CPU now; undefined once it is gone. */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    // Fields after the command name (which may hold spaces, in parentheses): state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, hwmMb: Math.round(kb('VmHWM') / 102.4) / 10, cpuS: ticks / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

export type Phase = 'start' | 'baseline' | 'ramp' | 'settle' | 'idle' | 'hangup' | 'end';

export interface Sample {
  /** Seconds since the sampler started. */
  t: number;
  phase: Phase;
  load1: number;
  procs: Record<string, ProcReading | undefined>;
}

/** Samples every named process every `intervalMs`, tagged with the phase the benchmark is in. */
export class Sampler {
  readonly samples: Sample[] = [];
  phase: Phase = 'start';
  private readonly t0 = Date.now();
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly pids: () => Record<string, number | undefined>,
    private readonly intervalMs: number,
  ) {}
  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
  sample(): Sample {
    const procs: Sample['procs'] = {};
    for (const [name, pid] of Object.entries(this.pids())) procs[name] = pid ? readProc(pid) : undefined;
    const s = { t: Math.round(Date.now() - this.t0) / 1000, phase: this.phase, load1: os.loadavg()[0]!, procs };
    this.samples.push(s);
    return s;
  }
  /** The largest RSS `name` had in the samples (MB). */
  maxRss(name: string): number {
    return Math.max(0, ...this.samples.map((s) => s.procs[name]?.rssMb ?? 0));
  }
  /** Load average (1 min) over the samples of `phases`: min, mean, max. */
  load(phases?: Phase[]): { min: number; mean: number; max: number } {
    const xs = this.samples.filter((s) => !phases || phases.includes(s.phase)).map((s) => s.load1);
    if (!xs.length) return { min: NaN, mean: NaN, max: NaN };
    return { min: Math.min(...xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) };
  }
}

/** A window between two readings of the same processes: CPU seconds per minute, RSS at each end. */
export interface ProcWindow {
  seconds: number;
  cpuSecondsPerMinute: Record<string, number>;
  rssStartMb: Record<string, number>;
  rssEndMb: Record<string, number>;
}

export function procWindow(a: Sample, b: Sample): ProcWindow {
  const seconds = b.t - a.t;
  const w: ProcWindow = { seconds, cpuSecondsPerMinute: {}, rssStartMb: {}, rssEndMb: {} };
  for (const name of Object.keys(b.procs)) {
    const x = a.procs[name];
    const y = b.procs[name];
    if (!x || !y) continue;
    w.cpuSecondsPerMinute[name] = ((y.cpuS - x.cpuS) / seconds) * 60;
    w.rssStartMb[name] = x.rssMb;
    w.rssEndMb[name] = y.rssMb;
  }
  return w;
}

/** Prometheus text → `name{labels}` → value (comments dropped). */
export type Metrics = Map<string, number>;

export async function scrapeMetrics(address: string): Promise<Metrics> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const m: Metrics = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

/** The sum over every sample of metric `name` (any labels) whose labels include `labels`. */
export function metricSum(m: Metrics, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, v] of m) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, val]) => key.includes(`${k}="${val}"`))) sum += v;
  }
  return sum;
}

/** Per label value of `label` on metric `name`: the sum of its samples. */
export function metricByLabel(m: Metrics, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`${label}="([^"]*)"`);
  for (const [key, v] of m) {
    if (!key.startsWith(`${name}{`)) continue;
    const value = re.exec(key)?.[1];
    if (value !== undefined) out[value] = (out[value] ?? 0) + v;
  }
  return out;
}

function requestFailures(m: Metrics, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, v] of m) {
    if (!key.startsWith(`${name}{`)) continue;
    const k = `${/operation="([^"]*)"/.exec(key)?.[1] ?? '?'} ${/status_code="([^"]*)"/.exec(key)?.[1] ?? '?'}`;
    out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

/** The SDK's view of the worker at one moment: what the benchmark reports from its /metrics. */
export interface WorkerMetrics {
  stickyCacheSize: number;
  stickyCacheHits: number;
  stickyCacheMisses: number;
  forcedEvictions: number;
  /** Workflow tasks completed (each one ran the workflow code; a miss among them is a replay from history). */
  workflowTasks: number;
  /** Workflow tasks and cache misses by workflow type (callWatch, linker). */
  workflowTasksByType: Record<string, number>;
  stickyCacheMissesByType: Record<string, number>;
  workflowTaskFailures: number;
  /** The worker's failed requests to the Temporal server, by `operation status_code` (e.g. a refused RespondWorkflowTaskCompleted). */
  requestFailures: Record<string, number>;
  /** Activities run, by type (completed, failed or not), and failed attempts by type (a poll that finds the call live fails). */
  activities: Record<string, number>;
  activityFailures: Record<string, number>;
}

/** Reads the SDK metric names whatever suffix (`_total`, `_count`, `_seconds_count`) the exporter gave them. */
export function workerMetrics(m: Metrics): WorkerMetrics {
  const names = new Set([...m.keys()].map((k) => (k.includes('{') ? k.slice(0, k.indexOf('{')) : k)));
  const pick = (base: string, suffixes: string[]) => suffixes.map((s) => `${base}${s}`).find((n) => names.has(n)) ?? `${base}${suffixes[0]}`;
  const counter = (base: string) => pick(base, ['', '_total']);
  const histogramCount = (base: string) => pick(base, ['_count', '_seconds_count', '_milliseconds_count']);
  return {
    stickyCacheSize: metricSum(m, pick('temporal_sticky_cache_size', [''])),
    stickyCacheHits: metricSum(m, counter('temporal_sticky_cache_hit')),
    stickyCacheMisses: metricSum(m, counter('temporal_sticky_cache_miss')),
    forcedEvictions: metricSum(m, counter('temporal_sticky_cache_total_forced_eviction')),
    workflowTasks: metricSum(m, histogramCount('temporal_workflow_task_execution_latency')),
    workflowTasksByType: metricByLabel(m, histogramCount('temporal_workflow_task_execution_latency'), 'workflow_type'),
    stickyCacheMissesByType: metricByLabel(m, counter('temporal_sticky_cache_miss'), 'workflow_type'),
    workflowTaskFailures: metricSum(m, counter('temporal_workflow_task_execution_failed')),
    requestFailures: requestFailures(m, counter('temporal_request_failure')),
    activities: metricByLabel(m, histogramCount('temporal_activity_execution_latency'), 'activity_type'),
    activityFailures: metricByLabel(m, counter('temporal_activity_execution_failed'), 'activity_type'),
  };
}

/** b − a for the counters (the cache size is b's). */
export function metricsDelta(a: WorkerMetrics, b: WorkerMetrics): WorkerMetrics {
  const diff = (x: Record<string, number>, y: Record<string, number>) =>
    Object.fromEntries(Object.keys(y).map((k) => [k, y[k]! - (x[k] ?? 0)]).filter(([, v]) => v !== 0));
  return {
    stickyCacheSize: b.stickyCacheSize,
    stickyCacheHits: b.stickyCacheHits - a.stickyCacheHits,
    stickyCacheMisses: b.stickyCacheMisses - a.stickyCacheMisses,
    forcedEvictions: b.forcedEvictions - a.forcedEvictions,
    workflowTasks: b.workflowTasks - a.workflowTasks,
    workflowTasksByType: diff(a.workflowTasksByType, b.workflowTasksByType),
    stickyCacheMissesByType: diff(a.stickyCacheMissesByType, b.stickyCacheMissesByType),
    workflowTaskFailures: b.workflowTaskFailures - a.workflowTaskFailures,
    requestFailures: diff(a.requestFailures, b.requestFailures),
    activities: diff(a.activities, b.activities),
    activityFailures: diff(a.activityFailures, b.activityFailures),
  };
}
