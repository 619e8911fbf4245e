import type { Config } from '../config';
import type { CallWatchSettings } from './messages';

export function callWatchSettingsFromConfig(config: Config): CallWatchSettings {
  return {
    dryRun: config.callWatch.dryRun,
    graceMs: config.callWatch.graceMs,
    maxAgeMs: config.callWatch.maxAgeMs,
    pollInitialMs: config.callWatch.pollInitialMs,
    pollMaxMs: config.callWatch.pollMaxMs,
    wrapLimitMs: config.callWatch.wrapLimitMs,
    messagingIdleMs: config.sweep.executionThresholdMs,
    taskReason: config.callWatch.taskReason,
    postCallTaskAfterMs: config.policy.postCallTaskAfterMs,
    ...(config.policy.protectTasks !== undefined ? { protectTasks: config.policy.protectTasks } : {}),
    flowSids: config.twilio.flowSids,
    workspaceSids: config.twilio.workspaceSids,
    // No linker, no link to wait for: discovery right away.
    linkWaitMs: config.callWatch.linker ? config.callWatch.linkWaitMs : 0,
    pollWithCallbacksMs: Math.max(config.callWatch.pollWithCallbacksMs, config.callWatch.pollMaxMs),
  };
}
