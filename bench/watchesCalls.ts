/**
 * The watches benchmark's calls: N live inbound calls played by the emulator (a long talk time, so they stay
 * in-progress), whose status callbacks and TaskRouter events reach the webhook, which starts and signals each
 * call's watch; then some of them hung up at once, and each one's watch timed from hang-up to close.
 */
import type { Client } from '@temporalio/client';
import type { EmulatorAdminClient, ScenarioName } from '../src/emulator';
import { CALL_WATCH_WORKFLOW_TYPE, callSidOfWorkflowId } from '../src/shared/names';
import { UnstickOutcomeKey } from '../src/shared/searchAttributes';
import { quantiles, type Quantiles } from './soakJudge';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Live calls: mostly clean (Studio ends its Execution on the final callback, the Task wraps up and completes),
 * some whose Task TaskRouter leaves open after the hang-up (the desync stories): those the watch closes.
 */
export const CALL_MIX: Partial<Record<ScenarioName, number>> = { normal: 0.7, 'desync-pending': 0.1, 'desync-reserved': 0.1, 'desync-assigned': 0.1 };
/** Talk time of the live calls: far beyond the run, below UNSTICK_MAX_AGE (4 h). */
const TALK_MS = 3 * 3_600_000;

export interface LiveCall {
  callSid: string;
  scenario: ScenarioName;
  createdAtMs: number;
}

/** The i-th call's scenario: the mix spread evenly over the calls (deterministic). */
function scenarioAt(i: number): ScenarioName {
  const entries = Object.entries(CALL_MIX) as [ScenarioName, number][];
  const x = ((i * 0.618034) % 1 + 1) % 1;
  let acc = 0;
  for (const [name, w] of entries) if (x < (acc += w)) return name;
  return entries[0]![0];
}

export const runningWatches = async (client: Client): Promise<number> =>
  (await client.workflow.count(`WorkflowType = '${CALL_WATCH_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`)).count;

export interface RampResult {
  calls: LiveCall[];
  seconds: number;
  callsPerSecond: number;
  /** Seconds from the first call to N watches running. */
  allRunningSeconds: number;
  runningAtEnd: number;
  /** Times the ramp paused because too many calls had no running watch yet. */
  pauses: number;
}

/**
 * Starts `n` calls at up to `rate` per second, pausing while more than `maxBacklog` calls have no running watch yet
 * (the webhook and the dev server set the pace, not the benchmark), then waits until every watch runs.
 */
export async function rampCalls(
  admin: EmulatorAdminClient,
  client: Client,
  o: { n: number; rate: number; maxBacklog: number; timeoutMs: number; log: (l: string) => void },
): Promise<RampResult> {
  const calls: LiveCall[] = [];
  const t0 = Date.now();
  let pauses = 0;
  let running = 0;
  let lastCount = 0;
  let lastLog = t0;
  for (let i = 0; i < o.n; i++) {
    await sleep(Math.max(0, t0 + (i / o.rate) * 1000 - Date.now()));
    if (Date.now() - lastCount > 2_000) {
      lastCount = Date.now();
      running = await runningWatches(client);
      while (calls.length - running > o.maxBacklog) {
        pauses++;
        await sleep(2_000);
        running = await runningWatches(client);
      }
    }
    const scenario = scenarioAt(i);
    const r = await admin.createCall({ scenario, talkMs: TALK_MS });
    calls.push({ callSid: r.run.callSid!, scenario, createdAtMs: Date.now() });
    if (Date.now() - lastLog > 30_000) {
      lastLog = Date.now();
      o.log(`ramp: ${calls.length}/${o.n} calls, ${running} watches running, ${((calls.length / (Date.now() - t0)) * 1000).toFixed(1)} calls/s`);
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  const deadline = Date.now() + o.timeoutMs;
  while ((running = await runningWatches(client)) < o.n && Date.now() < deadline) await sleep(2_000);
  return { calls, seconds, callsPerSecond: o.n / seconds, allRunningSeconds: (Date.now() - t0) / 1000, runningAtEnd: running, pauses };
}

/** Every k-th call, so the hung-up ones carry the mix. */
export function pickHangups(calls: LiveCall[], count: number): LiveCall[] {
  const step = calls.length / Math.min(count, calls.length);
  return Array.from({ length: Math.min(count, calls.length) }, (_, i) => calls[Math.floor(i * step)]!);
}

export interface HangupResult {
  hungUp: number;
  /** Milliseconds from the first hang-up request to the last answered. */
  spreadMs: number;
  closed: number;
  notClosed: number;
  closeTime: Quantiles;
  /** Close time within grace + 60 s. */
  withinLimit: number;
  limitMs: number;
  outcomes: Record<string, number>;
  byScenario: Record<string, Quantiles>;
  /** Seconds after the hang-up at which the count of closed watches was read, and the count. */
  progress: { s: number; closed: number }[];
  /** Twilio state read back after the run: resources of the hung-up calls still open. */
  stillOpen: { executions: number; tasks: number };
}

/** Hangs up `calls` at once and waits (up to `waitMs`) for their watches to close; close time is from each hang-up. */
export async function hangupAndTime(
  admin: EmulatorAdminClient,
  client: Client,
  calls: LiveCall[],
  o: { limitMs: number; waitMs: number; log: (l: string) => void },
): Promise<HangupResult> {
  const hungUpAt = new Map<string, number>();
  const t0 = Date.now();
  const queue = [...calls];
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const r = await admin.hangup(c.callSid);
        if (r.hungUp) hungUpAt.set(c.callSid, Date.now());
      }
    }),
  );
  const spreadMs = Date.now() - t0;
  o.log(`hung up ${hungUpAt.size} calls in ${spreadMs} ms; waiting up to ${(o.waitMs / 1000).toFixed(0)} s for their watches`);
  const closed = new Map<string, { closeMs: number; outcome: string }>();
  const progress: HangupResult['progress'] = [];
  const deadline = t0 + o.waitMs;
  for (;;) {
    await sleep(5_000);
    const query = `WorkflowType = '${CALL_WATCH_WORKFLOW_TYPE}' AND ExecutionStatus != 'Running'`;
    for await (const w of client.workflow.list({ query })) {
      const callSid = callSidOfWorkflowId(w.workflowId) ?? '';
      const at = hungUpAt.get(callSid);
      if (at === undefined || closed.has(callSid) || !w.closeTime) continue;
      const outcome = w.typedSearchAttributes.get(UnstickOutcomeKey) ?? w.status.name;
      closed.set(callSid, { closeMs: w.closeTime.getTime() - at, outcome: String(outcome) });
    }
    progress.push({ s: Math.round((Date.now() - t0) / 1000), closed: closed.size });
    if (progress.length % 6 === 0) o.log(`hang-up +${progress.at(-1)!.s} s: ${closed.size}/${hungUpAt.size} closed`);
    if (closed.size >= hungUpAt.size || Date.now() > deadline) break;
  }
  const closeMs = [...closed.values()].map((c) => c.closeMs);
  const outcomes: Record<string, number> = {};
  for (const c of closed.values()) outcomes[c.outcome] = (outcomes[c.outcome] ?? 0) + 1;
  const byScenario: Record<string, Quantiles> = {};
  for (const s of new Set(calls.map((c) => c.scenario))) {
    byScenario[s] = quantiles(calls.filter((c) => c.scenario === s && closed.has(c.callSid)).map((c) => closed.get(c.callSid)!.closeMs));
  }
  // What the watches left open (read back from the emulator's state): a hung-up call's Execution and Task.
  const snap = await admin.snapshot(1_000_000);
  const mine = new Set(calls.map((c) => c.callSid));
  const open = snap.runs.filter((r) => r.run.callSid && mine.has(r.run.callSid));
  return {
    hungUp: hungUpAt.size,
    spreadMs,
    closed: closed.size,
    notClosed: hungUpAt.size - closed.size,
    closeTime: quantiles(closeMs),
    withinLimit: closeMs.filter((ms) => ms <= o.limitMs).length,
    limitMs: o.limitMs,
    outcomes,
    byScenario,
    progress,
    stillOpen: {
      executions: open.filter((r) => r.observed.executionStatus === 'active').length,
      tasks: open.filter((r) => ['pending', 'reserved', 'assigned', 'wrapping'].includes(r.observed.taskStatus ?? '')).length,
    },
  };
}
