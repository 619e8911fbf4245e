/**
 * Sweep test rig: a real Temporal dev server (one per suite), a fresh Twilio emulator per test, the real twilio SDK
 * aimed at it (with a response tap counting writes per resource), and workers running the real sweep workflow.
 */
import type { Worker } from '@temporalio/worker';
import pLimit from 'p-limit';
import { createSweepActivities, type SweepActivityDeps } from '../../src/activities/sweepActivities';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator';
import type { SweepInput, SweepReport } from '../../src/shared/sweepTypes';
import { SWEEP_WORKFLOW_TYPE } from '../../src/shared/names';
import { createTwilioClient, type TwilioClient } from '../../src/twilio/client';
import { createTestWorker, uniqueId, type TestTemporal } from '../helpers/temporal';

export interface SweepRig {
  emu: Emulator;
  twilio: TwilioClient;
  /** Successful-or-not write requests (POST) seen by the SDK, per resource path. */
  writesByPath: Map<string, number>;
  taskQueue: string;
  /** A worker on `taskQueue` with the sweep activities against this emulator (not running yet). */
  worker(opts?: { deps?: Partial<SweepActivityDeps>; shutdownGraceTime?: number }): Promise<Worker>;
  close(): Promise<void>;
}

export async function startRig(t: TestTemporal, emuOpts: EmulatorOptions = {}): Promise<SweepRig> {
  const emu = await startEmulator({ seed: uniqueId('seed'), ...emuOpts });
  const writesByPath = new Map<string, number>();
  const twilio = createTwilioClient(emu.twilioConfig(), {
    onResponse: (r) => {
      if (r.method !== 'POST') return;
      const path = new URL(r.uri).pathname;
      writesByPath.set(path, (writesByPath.get(path) ?? 0) + 1);
    },
  });
  const taskQueue = uniqueId('sweep-tq');
  return {
    emu,
    twilio,
    writesByPath,
    taskQueue,
    async worker(opts = {}) {
      const activities = createSweepActivities({ twilio, limit: pLimit(50), checkpointEveryMs: 50, ...opts.deps });
      const { worker } = await createTestWorker(t, {
        taskQueue,
        activities,
        options: { shutdownGraceTime: opts.shutdownGraceTime ?? 0, stickyQueueScheduleToStartTimeout: '1s' },
      });
      return worker;
    },
    close: () => emu.close(),
  };
}

/** Fast defaults for tests: no grace, no cap, the emulator's Workspace and Flows only. */
export function testInput(rig: SweepRig, over: SweepInput = {}): SweepInput {
  const s = rig.emu.seeded;
  return {
    workspaceSids: [s.workspaceSid],
    flowSids: [s.flexFlowSid, s.messagingFlowSid, s.webchatFlowSid],
    graceMs: 0,
    maxActions: 0,
    executionThresholdMs: 60 * 60_000,
    concurrency: 8,
    pageSize: 50,
    activityTaskQueue: rig.taskQueue,
    ...over,
  };
}

/** Runs one sweep to completion with a worker on the rig. */
export async function runSweep(t: TestTemporal, rig: SweepRig, input: SweepInput, workflowId = uniqueId('sweep')): Promise<SweepReport> {
  const worker = await rig.worker();
  return worker.runUntil(
    t.client.workflow.execute(SWEEP_WORKFLOW_TYPE, { taskQueue: rig.taskQueue, workflowId, args: [input] }) as Promise<SweepReport>,
  );
}

export function taskStatus(rig: SweepRig, sid: string): string | undefined {
  return rig.emu.admin.inspectTask(sid)?.status;
}

export function taskReason(rig: SweepRig, sid: string): string | null | undefined {
  return rig.emu.admin.inspectTask(sid)?.reason;
}

export function executionStatus(rig: SweepRig, sid: string): string | undefined {
  return rig.emu.admin.inspectExecution(sid)?.status;
}

/** List requests of the live-call snapshot each page activity takes (one per live status). */
export const LIVE_SNAPSHOT_LISTS = 3;
/** The ended-calls list of a small Task page: its completed calls fit one Calls list page. */
export const ENDED_LISTS = 1;
