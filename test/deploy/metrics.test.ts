/**
 * The worker's Prometheus endpoint (UNSTICK_METRICS_ADDRESS): a worker process reconciles stuck calls (through a 429
 * with Retry-After and a dropped connection), a dry-run sweep runs, a watch gives up on a call live past its max age,
 * then its `/metrics` is scraped. The SDK's own metrics are there, and unstick's counters equal what the emulator
 * says it received and what the workflows report.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TWILIO_PATH_TEMPLATES } from '../../src/activities/metrics';
import { loadConfig } from '../../src/config';
import { startEmulator, type Emulator } from '../../src/emulator';
import type { CallWatchInput } from '../../src/shared/messages';
import { callWorkflowId } from '../../src/shared/names';
import { callWatchSettingsFromConfig } from '../../src/shared/callWatchSettings';
import type { SweepReport } from '../../src/shared/sweepTypes';
import { getFreePort } from '../../src/util/freePort';
import type { CallWatchResult } from '../../src/workflows';
import { processEnv } from '../helpers/processEnv';
import { startTestTemporal, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '../..');
const CALL_ENDPOINT = 'GET /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json';

/** The value of the sample whose name and labels match, summed over the samples that match. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The values a label takes on a metric's samples. */
function labelValues(text: string, name: string, label: string): Set<string> {
  const values = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = new RegExp(`[{,]${label}="([^"]*)"`).exec(line);
    if (m) values.add(m[1]!);
  }
  return values;
}

/** The emulator's answers by status class (`2xx`…), from its counts by status code. */
function byClass(byStatus: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, n] of Object.entries(byStatus)) out[`${code[0]}xx`] = (out[`${code[0]}xx`] ?? 0) + n;
  return out;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string }> {
  const p = spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, stdout })));
}

describe('worker metrics on Prometheus (UNSTICK_METRICS_ADDRESS)', function () {
  this.timeout(240_000);
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

  it('exposes the SDK\'s metrics and unstick\'s, equal to what the emulator received and the workflows report', async () => {
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

    // Stuck Tasks for watches (assigned → completed, pending → canceled; no callbacks: each watch polls its call), and
    // a stuck Task and Execution left to the sweep (no watch).
    const runs = [emu.admin.createCall({ scenario: 'desync-assigned', callbackEvents: [] }), emu.admin.createCall({ scenario: 'desync-pending', callbackEvents: [] })];
    const forSweep = [emu.admin.createCall({ scenario: 'desync-reserved', callbackEvents: [] }), emu.admin.createCall({ scenario: 'hangup-before-twiml', callbackEvents: [] })];
    await Promise.all([...runs, ...forSweep].map((r) => emu.admin.whenSettled(r.id)));
    emu.admin.resetCounters();
    // The first Call read is throttled (Retry-After: 1 s), the first Task read's connection dropped.
    emu.admin.addFault({ endpoint: 'api:Calls', method: 'GET', status: 429, retryAfter: 1, times: 1 });
    emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'GET', drop: true, times: 1 });
    for (const r of runs) assert.equal((await run(['watch', r.callSid!], env)).code, 0);
    for (const r of runs) {
      const result = (await t.client.workflow.getHandle(callWorkflowId(r.callSid!)).result()) as { outcome: string };
      assert.equal(result.outcome, 'closed');
    }
    assert.equal(emu.admin.inspectTask(runs[0]!.taskSid!)!.status, 'completed');
    assert.equal(emu.admin.inspectTask(runs[1]!.taskSid!)!.status, 'canceled');

    const sweep = await run(['sweep', '--dry-run', '--wait', '--json'], env);
    assert.equal(sweep.code, 0, sweep.stdout);
    const report = JSON.parse(sweep.stdout) as SweepReport;
    const would = report.counts.wouldClose;
    assert.ok(would['cancel-task'] >= 1 && would['end-execution'] >= 1 && report.counts.capped === 0, report.summary);

    const counters = emu.admin.counters();
    assert.equal(counters.tooManyRequests, 1);
    assert.equal(counters.dropped, 1);
    // Counted when answered: wait until the last answers are in.
    const text = await waitUntil('every request counted', async () => {
      const m = await scrape();
      return sample(m, 'unstick_twilio_requests') === counters.total ? m : undefined;
    }, { timeoutMs: 30_000 });

    // Twilio requests: every one the emulator received, by status class; endpoints templated, no SID left.
    const answered = byClass(counters.byStatus);
    for (const cls of ['2xx', '3xx', '4xx', '5xx']) assert.equal(sample(text, 'unstick_twilio_requests', { status_class: cls }), answered[cls] ?? 0, cls);
    assert.equal(sample(text, 'unstick_twilio_requests', { status_class: 'error' }), counters.dropped, 'the dropped connection');
    const endpoints = labelValues(text, 'unstick_twilio_requests', 'endpoint');
    for (const e of endpoints) assert.ok((TWILIO_PATH_TEMPLATES as readonly string[]).includes(e.slice(e.indexOf(' ') + 1)), `${e} is a template`);
    assert.ok(endpoints.has(CALL_ENDPOINT) && endpoints.has('GET /v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}'), [...endpoints].join(', '));
    assert.doesNotMatch(text, /[A-Z]{2}[0-9a-f]{32}/, 'no SID in any label');
    // The 429, and its Retry-After honoured as the activity's next retry delay.
    assert.equal(sample(text, 'unstick_twilio_throttled'), 1);
    assert.equal(sample(text, 'unstick_twilio_throttled', { endpoint: CALL_ENDPOINT }), 1);
    assert.equal(sample(text, 'unstick_twilio_requests', { endpoint: CALL_ENDPOINT, status_class: '4xx' }), 1);
    assert.equal(sample(text, 'unstick_twilio_retry_after_seconds_count'), 1);
    assert.equal(sample(text, 'unstick_twilio_retry_after_seconds_sum'), 1);
    // Buckets in seconds (src/shared/metricNames.ts), not the SDK's millisecond defaults: the 1 s wait is in le="1".
    assert.equal(sample(text, 'unstick_twilio_retry_after_seconds_bucket', { le: '0.5' }), 0);
    assert.equal(sample(text, 'unstick_twilio_retry_after_seconds_bucket', { le: '1' }), 1);

    // Writes: the watches' two, as the emulator applied them; the dry-run sweep's decisions, as its report says.
    assert.equal(sample(text, 'unstick_writes', { kind: 'complete-task', result: 'done' }), 1);
    assert.equal(sample(text, 'unstick_writes', { kind: 'cancel-task', result: 'done' }), 1);
    assert.equal(sample(text, 'unstick_writes', { result: 'done' }), counters.writes, 'every REST write the emulator received');
    for (const kind of ['cancel-task', 'complete-task', 'end-execution'] as const) assert.equal(sample(text, 'unstick_dry_run', { kind }), would[kind], kind);
    assert.equal(sample(text, 'unstick_dry_run'), sample(text, 'unstick_writes', { result: 'dry-run' }));
    assert.equal(sample(text, 'unstick_sweep_backlog', { kind: 'task' }), would['cancel-task'] + would['complete-task']);
    assert.equal(sample(text, 'unstick_sweep_backlog', { kind: 'execution' }), would['end-execution']);
    assert.equal(sample(text, 'unstick_sweep_duration_seconds_count', { workflowType: 'sweep' }), 1);
    const took = (report.finishedAtMs - report.startedAtMs) / 1000;
    assert.ok(Math.abs(sample(text, 'unstick_sweep_duration_seconds_sum') - took) < 0.01, `the report's ${took} s`);
    assert.ok(/^temporal_workflow_completed\{/m.test(text) || /^temporal_workflow_completed /m.test(text), 'the SDK\'s workflow metrics are there');

    // A watch of a call still live a day after it started (back-dated) gives up, live-flagged: counted once.
    assert.equal(sample(text, 'unstick_watches_live_past_max_age'), 0);
    const live = emu.admin.createCall({ scenario: 'live-long' });
    try {
      const input: CallWatchInput = { callSid: live.callSid!, startedBy: 'manual', settings: callWatchSettingsFromConfig(loadConfig(env)), startedAtMs: Date.now() - 25 * 3600_000 };
      const handle = await t.client.workflow.start('callWatch', { workflowId: callWorkflowId(live.callSid!), taskQueue: env.TEMPORAL_TASK_QUEUE!, args: [input] });
      assert.equal(((await handle.result()) as CallWatchResult).outcome, 'live-flagged');
      const flagged = await waitUntil('the flagged watch counted', async () => {
        const m = await scrape();
        return sample(m, 'unstick_watches_live_past_max_age') > 0 ? m : undefined;
      }, { timeoutMs: 30_000 });
      assert.equal(sample(flagged, 'unstick_watches_live_past_max_age', { workflowType: 'callWatch' }), 1);
    } finally {
      emu.admin.hangup(live.callSid!);
    }
  });
});
