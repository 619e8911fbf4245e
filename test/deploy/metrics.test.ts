/**
 * The worker's Prometheus endpoint (UNSTICK_METRICS_ADDRESS): a worker process reconciles stuck calls, then its
 * `/metrics` is scraped. The SDK's own metrics are there, and unstick's write counters equal what the emulator says
 * was written.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator';
import { callWorkflowId } from '../../src/shared/names';
import { getFreePort } from '../../src/util/freePort';
import { processEnv } from '../helpers/processEnv';
import { startTestTemporal, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '../..');

/** The value of the sample whose name and labels match, summed over the samples that match. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('worker metrics on Prometheus (UNSTICK_METRICS_ADDRESS)', function () {
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

  it('exposes the SDK\'s metrics and unstick_writes equal to the writes the emulator applied', async () => {
    const metricsAddress = `127.0.0.1:${await getFreePort()}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      UNSTICK_FROM_SOURCE: '1',
      ...processEnv(t, emu, uniqueId('metrics')),
      UNSTICK_LINKER: 'false',
      UNSTICK_METRICS_ADDRESS: metricsAddress,
      UNSTICK_LOG_LEVEL: 'warn',
    };
    const worker = spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), 'worker'], { cwd: REPO, env, stdio: 'ignore' });
    children.push(worker);
    const scrape = async () => (await fetch(`http://${metricsAddress}/metrics`)).text();
    await waitUntil('the metrics endpoint', async () => (await scrape().catch(() => undefined)) ?? undefined, { timeoutMs: 60_000 });

    // Stuck Tasks (assigned → completed, pending → canceled), no callbacks: each watch polls its call.
    const runs = [emu.admin.createCall({ scenario: 'desync-assigned', callbackEvents: [] }), emu.admin.createCall({ scenario: 'desync-pending', callbackEvents: [] })];
    await Promise.all(runs.map((r) => emu.admin.whenSettled(r.id)));
    emu.admin.resetCounters();
    for (const r of runs) {
      const w = spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), 'watch', r.callSid!], { cwd: REPO, env, stdio: 'ignore' });
      assert.equal(await new Promise((resolve) => w.on('exit', resolve)), 0);
    }
    for (const r of runs) {
      const result = (await t.client.workflow.getHandle(callWorkflowId(r.callSid!)).result()) as { outcome: string };
      assert.equal(result.outcome, 'closed');
    }
    assert.equal(emu.admin.inspectTask(runs[0]!.taskSid!)!.status, 'completed');
    assert.equal(emu.admin.inspectTask(runs[1]!.taskSid!)!.status, 'canceled');

    const text = await waitUntil('both writes counted', async () => {
      const m = await scrape();
      return sample(m, 'unstick_writes', { kind: 'complete-task', result: 'done' }) >= 1 && sample(m, 'unstick_writes', { kind: 'cancel-task', result: 'done' }) >= 1 ? m : undefined;
    }, { timeoutMs: 30_000 });
    assert.equal(sample(text, 'unstick_writes', { kind: 'complete-task', result: 'done' }), 1);
    assert.equal(sample(text, 'unstick_writes', { kind: 'cancel-task', result: 'done' }), 1);
    assert.equal(sample(text, 'unstick_writes', { result: 'done' }), emu.admin.counters().writes, 'every REST write the emulator received');
    assert.ok(/^temporal_workflow_completed\{/m.test(text) || /^temporal_workflow_completed /m.test(text), 'the SDK\'s workflow metrics are there');
  });
});
