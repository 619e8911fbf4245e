/**
 * The two measured runs of the sweep benchmark on the emulator: the seed's bulk cleaner (baseline), and unstick's
 * `sweep` workflow on a dev server with a worker in this process (with where its wall time went, from the history).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import twilio from 'twilio';
import { createActivities } from '../src/activities';
import { loadConfig, type Config } from '../src/config';
import { SWEEP_WORKFLOW_TYPE } from '../src/shared/names';
import type { SweepInput, SweepReport } from '../src/shared/sweepTypes';
import { startDevServer, type DevServer } from '../src/temporal/devServer';
import { TwilioHttpClient } from '../src/twilio/client';
import { createWorker } from '../src/worker';
import { createNodeHttpTwilioClient } from './nativeHttpClient';
import type { BenchEmulator, ChildSeedResult } from './emulatorProcess';
import { runSeedCleaner } from './seedCleaner';
import { CATEGORIES, DEFAULT_MIX, type SweepBenchOptions, type SweepBenchReport, type SweepTimeline } from './sweepReport';

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

/** The safe limit (see RunFigures.safeLimitMs): a fresh read and a write per closed Task, and the list pages. */
export function safeLimitOf(closed: number, tasks: number, pageSize: number, latencyMs: number, cap: number): number {
  return ((2 * closed + Math.ceil(tasks / pageSize)) * latencyMs) / cap;
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

export async function runBaseline(emu: BenchEmulator, seeded: ChildSeedResult, o: SweepBenchOptions): Promise<SweepBenchReport['baseline']> {
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
  const safeLimitMs = safeLimitOf(Object.keys(closed).length, o.tasks, o.pageSize, o.latencyMs, o.cap);
  const { closed: _closedList, ...cleaner } = result;
  return { wallMs: result.wallMs, requests, boundMs, boundFraction: boundMs / result.wallMs, safeLimitMs, safeLimitFraction: safeLimitMs / result.wallMs, closed, cpuMs, cleaner };
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

export interface UnstickRun {
  seeded: ChildSeedResult;
  figures: SweepBenchReport['unstick'];
}

/** One dev server and worker; per repeat: re-seed the emulator identically, run the sweep workflow, read the state. */
export async function runUnstick(emu: BenchEmulator, o: SweepBenchOptions, concurrency: number, repeats: number): Promise<UnstickRun[]> {
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
            startedBy: 'bench',
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
          const safeLimitMs = safeLimitOf(Object.keys(closed).length, o.tasks, o.pageSize, o.latencyMs, o.cap);
          const { actions: _actions, ...sweep } = report;
          runs.push({ seeded, figures: { wallMs, requests, boundMs, boundFraction: boundMs / wallMs, safeLimitMs, safeLimitFraction: safeLimitMs / wallMs, closed, cpuMs, sweep, temporal } });
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
