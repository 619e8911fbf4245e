/**
 * What `schedule apply` would change on an existing Schedule: its cadence, policies, task queue and every field of the
 * sweep input it passes, each with the variable that sets it. Pure: `applySchedule` reads and writes.
 */
import type { ScheduleDescription, ScheduleOptions } from '@temporalio/client';
import { formatDurationMs } from '../configValues';

export interface ScheduleFieldChange {
  /** e.g. `cadence`, `input.graceMs`, `input.watchLiveCalls.settings.flowSids`. */
  field: string;
  before: unknown;
  after: unknown;
  /** The variable whose value sets the field, when one does. */
  variable?: string;
}

/** The action memo key that records the cadence as configured (the server turns a cron string into calendars). */
export const CADENCE_MEMO_KEY = 'unstickCadence';

/** Input fields (at any depth) by name → the variable that sets them. */
const VARIABLES: Record<string, string> = {
  workspaceSids: 'TWILIO_WORKSPACE_SIDS',
  flowSids: 'TWILIO_FLOW_SIDS',
  executionThresholdMs: 'UNSTICK_EXECUTION_THRESHOLD',
  messagingIdleMs: 'UNSTICK_EXECUTION_THRESHOLD',
  graceMs: 'UNSTICK_GRACE_PERIOD',
  maxAgeMs: 'UNSTICK_MAX_AGE',
  wrapLimitMs: 'UNSTICK_WRAP_LIMIT',
  pollInitialMs: 'UNSTICK_POLL_INITIAL',
  pollMaxMs: 'UNSTICK_POLL_MAX',
  channels: 'UNSTICK_SWEEP_CHANNELS',
  dryRun: 'UNSTICK_DRY_RUN',
  maxActions: 'UNSTICK_SWEEP_MAX_ACTIONS',
  concurrency: 'UNSTICK_SWEEP_CONCURRENCY',
  taskReason: 'UNSTICK_TASK_REASON',
  postCallTaskAfterMs: 'UNSTICK_POST_CALL_TASK_AFTER',
  protectTasks: 'UNSTICK_PROTECT_TASKS',
  watchLiveCalls: 'UNSTICK_SWEEP_WATCH_LIVE_CALLS',
  taskQueue: 'TEMPORAL_TASK_QUEUE',
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** As the server gives it back: a JSON round trip drops undefined fields. */
const normalised = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** Adds a change per differing leaf; `variable` names what sets `field`, else the leaf's name is looked up. */
function diffValues(before: unknown, after: unknown, field: string, out: ScheduleFieldChange[], variable?: string): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) diffValues(before[k], after[k], `${field}.${k}`, out);
    return;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  const name = variable ?? VARIABLES[field.slice(field.lastIndexOf('.') + 1)];
  out.push({ field, before, after, ...(name ? { variable: name } : {}) });
}

/** How a cadence reads, in the memo and in a change: `every 15m`, `cron 0 3 * * *`. */
export const intervalCadence = (ms: number): string => `every ${formatDurationMs(ms)}`;
export const cronCadence = (cron: string): string => `cron ${cron}`;

/** The cadence as configured: from the action memo when unstick applied it, else what the spec shows. */
function cadenceOf(d: ScheduleDescription): string {
  const memo = d.action.memo?.[CADENCE_MEMO_KEY];
  if (typeof memo === 'string') return memo;
  const every = (d.spec.intervals ?? []).map((i) => intervalCadence(Number(i.every)));
  return [...every, ...(d.spec.calendars?.length ? ['calendar set elsewhere'] : [])].join(', ') || '(none)';
}

/** Every field `next` would change on the Schedule described by `current`; empty when they agree. */
export function diffSchedule(current: ScheduleDescription, next: ScheduleOptions): ScheduleFieldChange[] {
  const out: ScheduleFieldChange[] = [];
  diffValues(cadenceOf(current), next.action.memo?.[CADENCE_MEMO_KEY], 'cadence', out, 'UNSTICK_SWEEP_INTERVAL or UNSTICK_SWEEP_CRON');
  diffValues(Number(current.policies.catchupWindow), Number(next.policies?.catchupWindow), 'catchupWindow', out, 'UNSTICK_SWEEP_CATCHUP');
  diffValues(current.policies.overlap, next.policies?.overlap, 'overlap', out);
  diffValues(current.action.workflowType, next.action.workflowType, 'workflowType', out);
  diffValues(current.action.taskQueue, next.action.taskQueue, 'taskQueue', out);
  diffValues(normalised(current.action.args?.[0]), normalised(next.action.args?.[0]), 'input', out);
  return out;
}

function fmtValue(field: string, v: unknown): string {
  if (v === undefined) return '(unset)';
  if (typeof v === 'number' && /(Ms|Window)$/.test(field) && v > 0) return formatDurationMs(v);
  if (Array.isArray(v) && v.length === 0 && /Sids$/.test(field)) return '[] (all)';
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** One line per change: `  input.graceMs: 10s → 2m  (UNSTICK_GRACE_PERIOD)`. */
export function renderScheduleChanges(changes: ScheduleFieldChange[]): string {
  return changes
    .map((c) => `  ${c.field}: ${fmtValue(c.field, c.before)} → ${fmtValue(c.field, c.after)}${c.variable ? `  (${c.variable})` : ''}`)
    .join('\n');
}
