/** The sweep benchmark's options, its report and the figures in it, the seeded mix and the targets. */
import type { SweepReport } from '../src/shared/sweepTypes';
import type { ChildCounters, SeedCategory } from './emulatorProcess';
import type { SeedCleanerResult } from './seedCleaner';

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
/** Issue #11's targets: against the seed cleaner, the safe limit, and Twilio requests per closed Task. */
export const TARGETS = { speedup: 50, safeLimitFraction: 0.7, requestsPerClosedTask: 2.1 } as const;

export interface RunFigures {
  wallMs: number;
  requests: ChildCounters;
  /** requests × latency ÷ cap: the least wall time any client could need under the cap. */
  boundMs: number;
  /** boundMs ÷ wallMs. */
  boundFraction: number;
  /**
   * The safe limit: (one Task read + one If-Match write per closed Task + the Task list pages) × latency ÷ cap — the
   * least wall time any client that reads each Task fresh before its write could need under the cap.
   */
  safeLimitMs: number;
  /** safeLimitMs ÷ wallMs. */
  safeLimitFraction: number;
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
  unstickRuns: Array<{ wallMs: number; requests: number; boundFraction: number; safeLimitFraction: number; cpuMs: { client: number; emulator: number }; warmup?: boolean }>;
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
  /** `unit` absent: a ratio (×) when the target is ≥ 1, a fraction (%) below 1. */
  targets: Array<{ name: string; value: number; target: number; pass: boolean; unit?: 'requests' }>;
}

export const CATEGORIES: SeedCategory[] = ['voiceEnded', 'voiceLive', 'chat', 'unparsable'];

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
