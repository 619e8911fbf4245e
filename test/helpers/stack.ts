/**
 * The whole product for end-to-end tests: the Twilio emulator, a real Temporal dev server, the worker
 * (main + rate-limited discovery queue) with the real activities, and the webhook starter — wired as an
 * operator would wire a real number: its status callback and the workspace's event callback point at
 * the webhook, and the webhook redirects (302) each voice callback to the number's Studio Flow.
 */
import type { Worker, WorkerOptions } from '@temporalio/worker';
import { loadConfig, type Config } from '../../src/config';
import { createActivities } from '../../src/activities';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator';
import { callWatchSettingsFromConfig } from '../../src/shared/callWatchSettings';
import type { CallWatchSettings } from '../../src/shared/messages';
import { createTwilioClient, type RawResponseInfo } from '../../src/twilio/client';
import { TASKROUTER_EVENTS_PATH, VOICE_STATUS_PATH } from '../../src/shared/names';
import { startWebhook, type RunningWebhook } from '../../src/webhook';
import { createDiscoveryWorker, createWorker } from '../../src/worker';
import { bundleWorkflowsOnce, startTestTemporal, uniqueId, type StartTestTemporalOptions, type TestTemporal } from './temporal';

export interface RecordedRequest {
  method: string;
  uri: string;
  status: number;
  at: number;
}

export interface Stack {
  emu: Emulator;
  temporal: TestTemporal;
  config: Config;
  webhook: RunningWebhook;
  settings: CallWatchSettings;
  /** Every Twilio REST request the product's activities made, in order. */
  requests: RecordedRequest[];
  /** Starts a worker pair (main + discovery); call again for another pair, e.g. a second build (Worker Versioning). */
  startWorkers(opts?: { options?: Partial<WorkerOptions> }): Promise<void>;
  /** Stops every pair started. */
  stopWorkers(): Promise<void>;
  teardown(): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string>;
  emulator?: EmulatorOptions;
  /** Route the number's status callback through the webhook (default true). */
  viaWebhook?: boolean;
  /** Dev-server options, e.g. `extraDynamicConfig` for a small continue-as-new threshold. */
  temporal?: StartTestTemporalOptions;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const emu = await startEmulator({ simulator: { ringMs: 60, talkMs: 250, wrapMs: 100 }, ...opts.emulator });
  const temporal = await startTestTemporal(opts.temporal);
  const seeded = emu.seeded;
  const config = loadConfig({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: uniqueId('unstick'),
    TWILIO_ACCOUNT_SID: emu.accountSid,
    TWILIO_AUTH_TOKEN: emu.authToken,
    TWILIO_API_BASE_URL: emu.url,
    TWILIO_WORKSPACE_SIDS: seeded.workspaceSid,
    TWILIO_FLOW_SIDS: seeded.flexFlowSid,
    UNSTICK_GRACE_PERIOD: '1s',
    UNSTICK_POLL_INITIAL: '300ms',
    UNSTICK_POLL_MAX: '1s',
    UNSTICK_MAX_AGE: '1m',
    UNSTICK_DISCOVERY_RPS: '3',
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_PORT: '0',
    WEBHOOK_FLOW_REDIRECTS: `${seeded.phoneNumber}=${seeded.flexFlowSid}`,
    UNSTICK_LOG_LEVEL: 'warn',
    ...opts.env,
  });
  const requests: RecordedRequest[] = [];
  const twilio = createTwilioClient(config.twilio, {
    onResponse: (r: RawResponseInfo) => requests.push({ method: r.method, uri: r.uri, status: r.statusCode, at: Date.now() }),
  });
  const activities = createActivities({ config, twilio });
  const webhook = await startWebhook(config, temporal.client, { log: undefined });
  if (opts.viaWebhook !== false) {
    emu.admin.setNumber(seeded.phoneNumber, { statusCallback: `${webhook.url}${VOICE_STATUS_PATH}` });
    emu.admin.setWorkspace(seeded.workspaceSid, { eventCallbackUrl: `${webhook.url}${TASKROUTER_EVENTS_PATH}` });
  }

  let workers: Worker[] = [];
  const running: Promise<unknown>[] = [];
  const stack: Stack = {
    emu,
    temporal,
    config,
    webhook,
    settings: callWatchSettingsFromConfig(config),
    requests,
    async startWorkers(o = {}) {
      const main = await createWorker({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        activities,
        workflowBundle: await bundleWorkflowsOnce(),
        options: o.options,
      });
      const discovery = await createDiscoveryWorker({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace,
        activities,
        ratePerSecond: config.callWatch.discoveryRps,
        workerDeploymentOptions: o.options?.workerDeploymentOptions,
      });
      workers.push(main, discovery);
      running.push(main.run(), discovery.run());
    },
    async stopWorkers() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.all(running.splice(0));
      workers = [];
    },
    async teardown() {
      await stack.stopWorkers().catch(() => undefined);
      await webhook.close().catch(() => undefined);
      await temporal.teardown();
      await emu.close();
    },
  };
  return stack;
}

/** Writes (POST/DELETE) among the recorded requests, optionally only those to a resource SID. */
export function writesTo(requests: RecordedRequest[], sid?: string): RecordedRequest[] {
  return requests.filter((r) => r.method !== 'GET' && (!sid || r.uri.includes(sid)));
}
