/**
 * Both Prometheus endpoints after calls that go the production way (Twilio callbacks → webhook process →
 * signalWithStart → worker process → Twilio writes): the webhook's callback counters equal the deliveries the
 * emulator made to it, the worker's request and write counters equal what the emulator received and applied, and
 * the workflows' results agree.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator';
import { TASKROUTER_EVENTS_PATH, VOICE_STATUS_PATH, callWorkflowId } from '../../src/shared/names';
import { getFreePort } from '../../src/util/freePort';
import type { CallWatchResult } from '../../src/workflows/callWatch';
import { processEnv } from '../helpers/processEnv';
import { startTestTemporal, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '../..');

function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('both metrics endpoints (worker and webhook processes) after calls through the webhook', function () {
  this.timeout(180_000);
  let t: TestTemporal;
  let emu: Emulator;
  const children: ChildProcess[] = [];

  before(async () => {
    t = await startTestTemporal();
    emu = await startEmulator({ simulator: { ringMs: 60, talkMs: 250, wrapMs: 100 } });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await emu?.close();
    await t?.teardown();
  });

  it('counts what the emulator delivered and received, and what the workflows did', async () => {
    const [workerMetrics, webhookMetrics, webhookPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      UNSTICK_FROM_SOURCE: '1',
      ...processEnv(t, emu, uniqueId('both-metrics')),
      UNSTICK_LINKER: 'false',
      UNSTICK_GRACE_PERIOD: '1s',
      UNSTICK_METRICS_ADDRESS: `127.0.0.1:${workerMetrics}`,
      WEBHOOK_HOST: '127.0.0.1',
      WEBHOOK_PORT: String(webhookPort),
      WEBHOOK_METRICS_ADDRESS: `127.0.0.1:${webhookMetrics}`,
      WEBHOOK_FLOW_REDIRECTS: `${emu.seeded.phoneNumber}=${emu.seeded.flexFlowSid}`,
      UNSTICK_LOG_LEVEL: 'warn',
    };
    for (const cmd of ['worker', 'webhook']) children.push(spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), cmd], { cwd: REPO, env, stdio: 'ignore' }));
    const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const webhookUrl = `http://127.0.0.1:${webhookPort}`;
    await waitUntil('the webhook ready', async () => (await fetch(`${webhookUrl}/readyz`).catch(() => undefined))?.ok || undefined, { timeoutMs: 60_000 });
    await waitUntil('the worker\'s metrics', async () => (await scrape(workerMetrics).catch(() => undefined)) ?? undefined, { timeoutMs: 60_000 });
    emu.admin.setNumber(emu.seeded.phoneNumber, { statusCallback: `${webhookUrl}${VOICE_STATUS_PATH}` });
    emu.admin.setWorkspace(emu.seeded.workspaceSid, { eventCallbackUrl: `${webhookUrl}${TASKROUTER_EVENTS_PATH}` });
    emu.admin.resetCounters();

    const runs = (['normal', 'desync-assigned', 'hangup-before-twiml'] as const).map((scenario) => emu.admin.createCall({ scenario }));
    const results: CallWatchResult[] = [];
    for (const r of runs) {
      const handle = t.client.workflow.getHandle(callWorkflowId(r.callSid!));
      await waitUntil(`the watch of ${r.callSid}`, () => handle.describe().then(() => true), { timeoutMs: 30_000 });
      results.push((await handle.result()) as CallWatchResult);
    }
    await Promise.all(runs.map((r) => emu.admin.whenSettled(r.id)));
    assert.deepEqual(results.map((r) => r.outcome), ['clean', 'closed', 'closed']);
    const written = results.flatMap((r) => r.actions.filter((a) => a.result === 'done'));

    // The webhook: one counted answer per delivery the emulator made to it (every one answered, none dropped).
    // (A TaskRouter event can still be on its way when the watches end: wait until both sides have settled alike.)
    const deliveries = () => emu.admin.webhookLog().filter((d) => d.hops[0]?.url.startsWith(webhookUrl));
    let delivered = deliveries();
    const hook = await waitUntil('every delivery counted', async () => {
      const m = await scrape(webhookMetrics);
      delivered = deliveries();
      return sum(m, 'unstick_webhook_callbacks_total') === delivered.length ? m : undefined;
    });
    assert.ok(delivered.length >= 9, `callbacks and TaskRouter events reached the webhook (${delivered.length})`);
    assert.equal(sum(hook, 'unstick_webhook_callbacks_total'), delivered.length);
    const byStatus = new Map<number, number>();
    for (const d of delivered) byStatus.set(d.hops[0]!.status!, (byStatus.get(d.hops[0]!.status!) ?? 0) + 1);
    for (const [status, n] of byStatus) assert.equal(sum(hook, 'unstick_webhook_callbacks_total', { status: String(status) }), n, `status ${status}`);
    assert.equal(sum(hook, 'unstick_webhook_callbacks_total', { status: '302' }), delivered.filter((d) => d.kind === 'status-callback').length, 'each voice callback redirected to the Flow');
    assert.equal(sum(hook, 'unstick_webhook_callbacks_total', { outcome: 'unavailable' }) + sum(hook, 'unstick_webhook_callbacks_total', { outcome: 'overloaded' }), 0);
    assert.equal(sum(hook, 'unstick_webhook_duration_seconds_count'), delivered.length);
    assert.equal(sum(hook, 'unstick_webhook_callbacks_total', { route: '/readyz' }), 0, 'the probes are not callbacks');

    // The worker: its requests are the emulator's, by status class; its writes are the ones the watches report.
    const counters = emu.admin.counters();
    const work = await waitUntil('the worker\'s writes counted', async () => {
      const m = await scrape(workerMetrics);
      return sum(m, 'unstick_writes', { result: 'done' }) >= written.length ? m : undefined;
    });
    assert.equal(sum(work, 'unstick_writes', { result: 'done' }), written.length);
    assert.equal(sum(work, 'unstick_writes', { result: 'done' }), counters.writes, 'every REST write the emulator received');
    for (const a of written) assert.ok(sum(work, 'unstick_writes', { kind: a.kind, result: 'done' }) >= 1, a.kind);
    assert.equal(sum(work, 'unstick_twilio_requests'), counters.total, 'every REST request the emulator received came from the worker');
    assert.equal(sum(work, 'temporal_workflow_completed', { workflow_type: 'callWatch' }) || sum(work, 'temporal_workflow_completed', { workflowType: 'callWatch' }), runs.length);
  });
});
