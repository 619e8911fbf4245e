/**
 * The Temporal Schedule `unstick-sweep`: runs the sweep every interval (or on a cron expression), never two at once
 * (overlap SKIP), catching up missed runs within a window after an outage. `applySchedule` is idempotent.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Config } from '../config';
import { SCHEDULE_ID } from '../shared/constants';
import { sweepInputFromConfig } from '../shared/sweepSettings';
import { SWEEP_WORKFLOW_TYPE, type SweepInput } from '../shared/sweepTypes';

/** Prefix of scheduled sweep workflow ids; the server appends the scheduled time (`sweep:scheduled-2026-…Z`). */
export const SCHEDULED_SWEEP_ID_PREFIX = 'sweep:scheduled';

export interface ApplyScheduleOptions {
  scheduleId?: string;
  /** Override the sweep input built from config (merged over it). */
  input?: Partial<SweepInput>;
  /** Create (or keep) the Schedule paused. */
  paused?: boolean;
}

export function scheduleSpecFromConfig(config: Config): ScheduleSpec {
  return config.sweep.cron ? { cronExpressions: [config.sweep.cron] } : { intervals: [{ every: config.sweep.intervalMs }] };
}

function describeCadence(config: Config): string {
  return config.sweep.cron ? `cron ${config.sweep.cron}` : `every ${Math.round(config.sweep.intervalMs / 60_000)} min`;
}

export function scheduleOptionsFromConfig(config: Config, opts: ApplyScheduleOptions = {}): ScheduleOptions {
  const input: SweepInput = { ...sweepInputFromConfig(config, 'schedule'), ...opts.input };
  return {
    scheduleId: opts.scheduleId ?? SCHEDULE_ID,
    spec: scheduleSpecFromConfig(config),
    action: {
      type: 'startWorkflow',
      workflowType: SWEEP_WORKFLOW_TYPE,
      workflowId: SCHEDULED_SWEEP_ID_PREFIX,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      staticSummary: `unstick sweep (scheduled, ${describeCadence(config)})${input.dryRun ? ', dry run' : ''}`,
      staticDetails: `Closes stuck TaskRouter Tasks and Studio Executions. maxActions=${input.maxActions ?? 'default'}, channels=${(input.channels ?? []).join(',')}. The result is the audit report.`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: config.sweep.catchupMs, pauseOnFailure: false },
    state: { paused: opts.paused ?? false, note: 'applied by unstick schedule apply' },
  };
}

/** Creates the Schedule, or updates it to match the config when it exists. Returns what was done. */
export async function applySchedule(client: Client, config: Config, opts: ApplyScheduleOptions = {}): Promise<'created' | 'updated'> {
  const options = scheduleOptionsFromConfig(config, opts);
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(options.scheduleId).update((prev: ScheduleDescription) => ({
    ...prev,
    spec: options.spec,
    action: options.action,
    policies: options.policies,
    // Keep the pause state an operator chose unless asked otherwise.
    state: { ...prev.state, ...(opts.paused !== undefined ? { paused: opts.paused } : {}) },
  }));
  return 'updated';
}

export const pauseSchedule = (client: Client, note = 'paused by unstick', scheduleId = SCHEDULE_ID) => client.schedule.getHandle(scheduleId).pause(note);
export const unpauseSchedule = (client: Client, note = 'unpaused by unstick', scheduleId = SCHEDULE_ID) => client.schedule.getHandle(scheduleId).unpause(note);
/** Starts a sweep now (overlap SKIP: nothing happens if one is running). */
export const triggerSchedule = (client: Client, scheduleId = SCHEDULE_ID) => client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
export const describeSchedule = (client: Client, scheduleId = SCHEDULE_ID): Promise<ScheduleDescription> => client.schedule.getHandle(scheduleId).describe();
