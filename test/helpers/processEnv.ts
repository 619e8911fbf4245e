/**
 * The environment of an unstick process a test spawns (`bin/unstick.js worker`, `webhook`, …) against a Temporal
 * server and the emulator: the same fast timings as test/helpers/stack.ts.
 */
import type { Emulator } from '../../src/emulator';

export function processEnv(temporal: { address: string; namespace: string }, emu: Emulator, taskQueue: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TWILIO_ACCOUNT_SID: emu.accountSid,
    TWILIO_AUTH_TOKEN: emu.authToken,
    TWILIO_API_BASE_URL: emu.url,
    TWILIO_WORKSPACE_SIDS: emu.seeded.workspaceSid,
    TWILIO_FLOW_SIDS: emu.seeded.flexFlowSid,
    UNSTICK_GRACE_PERIOD: '1s',
    UNSTICK_POLL_INITIAL: '300ms',
    UNSTICK_POLL_MAX: '1s',
  };
}
