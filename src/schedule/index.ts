/**
 * The Temporal Schedule `unstick-sweep`: runs the sweep every interval (or on a cron expression), never two at once
 * (overlap SKIP), catching up missed runs within a window after an outage. `applySchedule` is idempotent, and does not
 * replace settings it did not bring without being told to (`replace`).
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
import { SCHEDULE_ID, SCHEDULED_SWEEP_ID_PREFIX, SWEEP_WORKFLOW_TYPE } from '../shared/names';
import { sweepInputFromConfig } from '../shared/sweepSettings';
import type { SweepInput } from '../shared/sweepTypes';
import { CADENCE_MEMO_KEY, cronCadence, diffSchedule, intervalCadence, type ScheduleFieldChange } from './diff';

export { renderScheduleChanges, type ScheduleFieldChange } from './diff';

export interface ApplyScheduleOptions {
  scheduleId?: string;
  /** Override the sweep input built from config (merged over it). */
  input?: Partial<SweepInput>;
  /** Create (or keep) the Schedule paused. */
  paused?: boolean;
  /**
   * An existing Schedule whose settings differ from this configuration is updated only with `replace`; without it
   * applySchedule throws ScheduleDiffersError naming the fields, and changes nothing.
   */
  replace?: boolean;
}

export interface ApplyScheduleResult {
  outcome: 'created' | 'updated' | 'unchanged';
  /** What the update changed (or, for `unchanged`, nothing). */
  changes: ScheduleFieldChange[];
}

/** The Schedule exists with settings this configuration would change, and `replace` was not given. */
export class ScheduleDiffersError extends Error {
  constructor(
    public readonly scheduleId: string,
    public readonly changes: ScheduleFieldChange[],
  ) {
    super(`${scheduleId} exists with settings this configuration would change: ${changes.map((c) => c.field).join(', ')}`);
    this.name = 'ScheduleDiffersError';
  }
}

function scheduleSpecFromConfig(config: Config): ScheduleSpec {
  return config.sweep.cron ? { cronExpressions: [config.sweep.cron] } : { intervals: [{ every: config.sweep.intervalMs }] };
}

function describeCadence(config: Config): string {
  return config.sweep.cron ? `cron ${config.sweep.cron}` : `every ${Math.round(config.sweep.intervalMs / 60_000)} min`;
}

function scheduleOptionsFromConfig(config: Config, opts: ApplyScheduleOptions = {}): ScheduleOptions {
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
      memo: { [CADENCE_MEMO_KEY]: config.sweep.cron ? cronCadence(config.sweep.cron) : intervalCadence(config.sweep.intervalMs) },
      staticSummary: `unstick sweep (scheduled, ${describeCadence(config)})${input.dryRun ? ', dry run' : ''}`,
      staticDetails: `Closes stuck TaskRouter Tasks and Studio Executions. maxActions=${input.maxActions ?? 'default'}, channels=${(input.channels ?? []).join(',')}. The result is the audit report.`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: config.sweep.catchupMs, pauseOnFailure: false },
    state: { paused: opts.paused ?? false, note: 'applied by unstick schedule apply' },
  };
}

/**
 * Creates the Schedule; when it exists, compares it with the config: the same settings are left alone
 * (`unchanged`), different ones are replaced only with `opts.replace` (else ScheduleDiffersError, nothing changed).
 * A pause state is kept unless `opts.paused` is given.
 */
export async function applySchedule(client: Client, config: Config, opts: ApplyScheduleOptions = {}): Promise<ApplyScheduleResult> {
  const options = scheduleOptionsFromConfig(config, opts);
  try {
    await client.schedule.create(options);
    return { outcome: 'created', changes: [] };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(options.scheduleId);
  const current = await handle.describe();
  const changes = diffSchedule(current, options);
  const pauseChanges = opts.paused !== undefined && current.state.paused !== opts.paused;
  if (changes.length > 0 && !opts.replace) throw new ScheduleDiffersError(options.scheduleId, changes);
  if (changes.length === 0 && !pauseChanges) return { outcome: 'unchanged', changes };
  let applied = changes;
  await handle.update((prev: ScheduleDescription) => {
    applied = diffSchedule(prev, options);
    return {
      ...prev,
      spec: options.spec,
      action: options.action,
      policies: options.policies,
      // Keep the pause state an operator chose unless asked otherwise.
      state: { ...prev.state, ...(opts.paused !== undefined ? { paused: opts.paused } : {}) },
    };
  });
  if (pauseChanges) applied = [...applied, { field: 'paused', before: current.state.paused, after: opts.paused }];
  return { outcome: 'updated', changes: applied };
}

export const pauseSchedule = (client: Client, note = 'paused by unstick', scheduleId = SCHEDULE_ID) => client.schedule.getHandle(scheduleId).pause(note);
export const unpauseSchedule = (client: Client, note = 'unpaused by unstick', scheduleId = SCHEDULE_ID) => client.schedule.getHandle(scheduleId).unpause(note);
/** Starts a sweep now (overlap SKIP: nothing happens if one is running). */
export const triggerSchedule = (client: Client, scheduleId = SCHEDULE_ID) => client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
export const describeSchedule = (client: Client, scheduleId = SCHEDULE_ID): Promise<ScheduleDescription> => client.schedule.getHandle(scheduleId).describe();
