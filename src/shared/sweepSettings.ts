import type { Config } from '../config';
import { callWatchSettingsFromConfig } from './callWatchSettings';
import type { SweepInput } from './sweepTypes';

/** The sweep input the Schedule (and `unstick sweep`) run with, from the validated config. */
export function sweepInputFromConfig(config: Config, startedBy: string): SweepInput {
  return {
    workspaceSids: config.twilio.workspaceSids,
    flowSids: config.twilio.flowSids,
    executionThresholdMs: config.sweep.executionThresholdMs,
    messagingIdleMs: config.sweep.executionThresholdMs,
    graceMs: config.callWatch.graceMs,
    maxAgeMs: config.callWatch.maxAgeMs,
    wrapLimitMs: config.callWatch.wrapLimitMs,
    channels: config.sweep.channels,
    dryRun: config.callWatch.dryRun,
    maxActions: config.sweep.maxActions,
    concurrency: config.sweep.concurrency,
    taskReason: config.callWatch.taskReason,
    postCallTaskAfterMs: config.policy.postCallTaskAfterMs,
    protectTasks: config.policy.protectTasks,
    watchLiveCalls: config.sweep.watchLiveCalls
      ? { taskQueue: config.temporal.taskQueue, settings: callWatchSettingsFromConfig(config) }
      : undefined,
    startedBy,
  };
}
