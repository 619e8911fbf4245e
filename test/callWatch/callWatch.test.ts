/**
 * callWatch end to end: emulator call scenarios → signed status callbacks → webhook → signalWithStart →
 * worker → Twilio REST through the real SDK. Real Temporal dev server, real HTTP everywhere.
 */
import * as assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import twilio from 'twilio';
import type { ScenarioName } from '../../src/emulator';
import { startWatch } from '../../src/cli/watch';
import { callWorkflowId } from '../../src/shared/names';
import { reconcileNowUpdate, stateQuery, type CallWatchInput } from '../../src/shared/messages';
import type { CallWatchResult } from '../../src/workflows/callWatch';
import { saveHistoryFixture } from '../helpers/histories';
import { startStack, writesTo, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

const figures: Record<string, number[]> = {};
const note = (k: string, v: number) => (figures[k] ??= []).push(v);

// No linker runs in these stacks: every watch discovers its Execution and Task on its own (the fallback path), at
// once (UNSTICK_LINKER=false: no link to wait for). test/linker covers the linker. A webhook-started watch polls
// every UNSTICK_POLL_WITH_CALLBACKS (2 s here) as the backstop for a lost final callback.
const NO_LINKER = { UNSTICK_LINKER: 'false', UNSTICK_POLL_WITH_CALLBACKS: '2s' };

describe('callWatch end to end (emulator + webhook + real Temporal)', function () {
  this.timeout(120_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({ env: NO_LINKER });
    await stack.startWorkers();
  });
  after(async () => {
    await stack?.teardown();
    for (const [k, v] of Object.entries(figures)) {
      const avg = v.reduce((a, b) => a + b, 0) / v.length;
      process.stdout.write(`      [figure] ${k}: n=${v.length} avg=${avg.toFixed(0)} min=${Math.min(...v)} max=${Math.max(...v)}\n`);
    }
  });

  async function runScenario(scenario: ScenarioName, fixture?: string) {
    const before = stack.requests.length;
    const run = stack.emu.admin.createCall({ scenario });
    assert.ok(run.callSid, 'scenario created a call');
    const handle = stack.temporal.client.workflow.getHandle(callWorkflowId(run.callSid!));
    await waitUntil(`callWatch for ${run.callSid}`, () => handle.describe().then(() => true), { timeoutMs: 20_000 });
    const result = (await handle.result()) as CallWatchResult;
    await stack.emu.admin.whenSettled(run.id);
    const requests = stack.requests.slice(before);
    const observed = stack.emu.admin.runState(run.id)!.observed;
    if (fixture) await saveHistoryFixture(fixture, handle, stack.temporal.server);
    return { run, handle, result, requests, observed };
  }

  // From the end the workflow learned (callback Timestamp or poll end_time) to its last write, in workflow time.
  const closeLatency = (result: CallWatchResult) => Math.max(...result.actions.map((a) => a.atMs)) - result.callEndedAtMs!;

  it('normal call: Studio ends its own Execution through the 302, unstick writes nothing', async () => {
    const r = await runScenario('normal', 'callWatch-normal');
    assert.equal(r.result.outcome, 'clean', JSON.stringify(r.result));
    assert.equal(r.result.callStatus, 'completed');
    assert.equal(r.result.executionSid, r.run.executionSid);
    assert.equal(r.result.taskSid, r.run.taskSid);
    assert.deepEqual(writesTo(r.requests), []);
    assert.deepEqual(r.observed, { callStatus: 'completed', executionStatus: 'ended', taskStatus: 'completed' });
    // The 302 really went to the flow: the emulator delivered the redirected callback to Studio.
    const redirected = stack.emu.admin
      .webhookLog({ callSid: r.run.callSid, kind: 'status-callback' })
      .some((d) => d.hops[0]?.status === 302 && d.hops.some((h) => h.url.includes(`/Flows/${stack.emu.seeded.flexFlowSid}`)));
    assert.ok(redirected, 'the status callback was redirected to the Studio Flow');
    note('requests per clean call', r.requests.length);
  });

  for (const scenario of ['hangup-before-twiml', 'sip-cancel-487'] as const) {
    it(`${scenario}: the stuck Execution is ended, no Task exists`, async () => {
      const r = await runScenario(scenario, `callWatch-${scenario}`);
      assert.equal(r.result.outcome, 'closed');
      assert.equal(r.observed.executionStatus, 'ended');
      assert.deepEqual(r.result.actions.map((a) => [a.kind, a.sid, a.result]), [['end-execution', r.run.executionSid, 'done']]);
      assert.equal(writesTo(r.requests).length, 1);
      // Where it was stuck, read after the close (Steps, Flow, Call): recorded in the result's action.
      const stuck = r.result.actions[0]!.stuck;
      assert.ok(stuck, 'the action records where the Execution was stuck');
      assert.equal(stuck.flowSid, stack.emu.seeded.flexFlowSid);
      assert.equal(typeof stuck.flowRevision, 'number');
      assert.ok(stuck.widget);
      assert.match(stuck.calledNumber ?? '', /^\+\d+$/);
      if (scenario === 'hangup-before-twiml') assert.equal(stuck.cause, 'stop-after-hangup-before-twiml', stuck.detail);
      note('ms from call end to close (signal path, grace 1 s)', closeLatency(r.result));
      note('requests per stuck call', r.requests.length);
    });
  }

  for (const [scenario, from, to] of [
    ['desync-pending', 'pending', 'canceled'],
    ['desync-reserved', 'reserved', 'canceled'],
    ['desync-assigned', 'assigned', 'completed'],
  ] as const) {
    it(`${scenario}: the Task stuck ${from} becomes ${to}, once, with If-Match and a reason`, async () => {
      const r = await runScenario(scenario, scenario === 'desync-assigned' ? 'callWatch-desync-assigned' : undefined);
      assert.equal(r.result.outcome, 'closed');
      assert.equal(r.observed.taskStatus, to);
      const writes = writesTo(r.requests);
      assert.equal(writes.length, 1);
      assert.ok(writes[0]!.uri.includes(r.run.taskSid!));
      const task = stack.emu.admin.inspectTask(r.run.taskSid!)!;
      assert.equal(task.reason, stack.settings.taskReason);
      note('ms from call end to close (signal path, grace 1 s)', closeLatency(r.result));
    });
  }

  it('custom-orchestration Task: skipped with a reason, never closed', async () => {
    const r = await runScenario('task-custom-orchestration', 'callWatch-custom-orchestration');
    assert.equal(r.result.outcome, 'skipped');
    assert.equal(r.observed.taskStatus, 'assigned');
    assert.ok(r.result.skipped.some((s) => s.sid === r.run.taskSid && s.reason === 'custom-orchestration'));
    assert.deepEqual(writesTo(r.requests), []);
  });

  it('Task with unparsable attributes: never matched to the call, never touched', async () => {
    const r = await runScenario('task-unparsable');
    assert.equal(r.observed.taskStatus, 'pending');
    assert.deepEqual(writesTo(r.requests), []);
    // Non-JSON attributes carry no call_sid the webhook or EvaluateTaskAttributes could match, so the watch never
    // learns of this Task: it is left to the sweep, which skips it with a reason (test/sweep).
    assert.equal(r.result.taskSid, undefined);
    assert.equal(r.result.outcome, 'clean');
  });

  it('lost final webhook: polling sees the end and the stuck Execution is ended', async () => {
    const r = await runScenario('lost-final-webhook', 'callWatch-lost-final-webhook');
    assert.equal(r.result.outcome, 'closed');
    assert.equal(r.observed.executionStatus, 'ended');
    assert.equal(r.observed.taskStatus, 'completed');
    assert.equal(writesTo(r.requests).length, 1);
    note('ms from call end to close (polling path, poll ≤ 1 s, grace 1 s)', closeLatency(r.result));
  });

  it('all webhooks lost (webhook never called): a hand-started watch polls and closes everything', async () => {
    stack.emu.admin.setLimits({ dropStatusCallbacks: 1, dropTaskRouterEvents: 1 });
    try {
      const run = stack.emu.admin.createCall({ scenario: 'desync-assigned' });
      // As `npx unstick watch <CallSid>` does.
      const { workflowId, started } = await startWatch(stack.temporal.client, stack.config, run.callSid!);
      assert.ok(started);
      assert.equal((await startWatch(stack.temporal.client, stack.config, run.callSid!)).started, false, 'a second start finds the first');
      const handle = stack.temporal.client.workflow.getHandle(workflowId);
      const result = (await handle.result()) as CallWatchResult;
      assert.equal(result.outcome, 'closed');
      assert.equal(stack.emu.admin.inspectTask(run.taskSid!)!.status, 'completed');
      assert.equal(stack.emu.admin.inspectExecution(run.executionSid!)!.status, 'ended');
      assert.deepEqual(result.actions.map((a) => a.kind).sort(), ['complete-task', 'end-execution']);
    } finally {
      stack.emu.admin.setLimits({ dropStatusCallbacks: 0, dropTaskRouterEvents: 0 });
    }
  });

  /** A manual callWatch whose start is back-dated, as if the call had been live that long. */
  const watchStartedHoursAgo = (callSid: string, hours: number): Promise<WorkflowHandle> =>
    stack.temporal.client.workflow.start('callWatch', {
      workflowId: callWorkflowId(callSid),
      taskQueue: stack.config.temporal.taskQueue,
      args: [{ callSid, startedBy: 'manual', settings: stack.settings, startedAtMs: Date.now() - hours * 3600_000 } satisfies CallWatchInput],
    });

  it('a live call past max age is flagged and never touched; query, update and search attributes work', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'live-long' });
    const before = stack.requests.length;
    const handle = await watchStartedHoursAgo(run.callSid!, 5);
    try {
      const state = await waitUntil('live-flagged', async () => {
        const s = await handle.query(stateQuery);
        return s.phase === 'live-flagged' ? s : undefined;
      });
      assert.equal(state.callStatus, 'in-progress');
      assert.deepEqual(state.actions, []);
      const after = await handle.executeUpdate(reconcileNowUpdate);
      assert.equal(after.phase, 'live-flagged');
      await waitUntil('search attributes indexed', async () => {
        const found = [];
        for await (const w of stack.temporal.client.workflow.list({ query: `CallSid = '${run.callSid}' AND UnstickOutcome = 'live-flagged'` })) found.push(w);
        return found.length === 1;
      });
      assert.deepEqual(writesTo(stack.requests.slice(before)), []);
      assert.equal(stack.emu.admin.inspectTask(run.taskSid!)!.status, 'assigned');
      assert.equal(stack.emu.admin.inspectExecution(run.executionSid!)!.status, 'active');
    } finally {
      await handle.terminate('test done');
      stack.emu.admin.hangup(run.callSid!);
    }
  });

  it('a call still live a day after it started: the watch ends live-flagged, having touched nothing', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'live-long' });
    const before = stack.requests.length;
    const handle = await watchStartedHoursAgo(run.callSid!, 25);
    try {
      const result = (await handle.result()) as CallWatchResult;
      assert.equal(result.outcome, 'live-flagged');
      assert.equal(result.callStatus, 'in-progress');
      assert.deepEqual(result.actions, []);
      assert.ok(result.skipped.some((x) => x.reason === 'call-live' && /no longer watched, nothing closed/.test(x.detail ?? '')), result.summary);
      assert.deepEqual(writesTo(stack.requests.slice(before)), []);
      assert.equal(stack.emu.admin.inspectTask(run.taskSid!)!.status, 'assigned');
      assert.equal(stack.emu.admin.inspectExecution(run.executionSid!)!.status, 'active');
    } finally {
      stack.emu.admin.hangup(run.callSid!);
    }
  });

  it('duplicate and out-of-order callbacks: one workflow, correct outcome', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'desync-pending', callbackEvents: [] });
    await stack.emu.admin.whenSettled(run.id);
    const url = `${stack.webhook.url}/twilio/voice/status`;
    const post = async (status: string, seq: number) => {
      const params: Record<string, string> = {
        CallSid: run.callSid!,
        AccountSid: stack.emu.accountSid,
        From: '+15005550006',
        To: stack.emu.seeded.phoneNumber,
        CallStatus: status,
        SequenceNumber: String(seq),
        Direction: 'inbound',
        ApiVersion: '2010-04-01',
      };
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(stack.emu.authToken, url, params) },
        body: new URLSearchParams(params).toString(),
        redirect: 'manual',
      });
      assert.ok([204, 302].includes(res.status), `callback answered ${res.status}`);
    };
    await post('completed', 3);
    await post('ringing', 1);
    await post('completed', 3);
    await post('in-progress', 2);
    const handle = stack.temporal.client.workflow.getHandle(callWorkflowId(run.callSid!));
    const result = (await handle.result()) as CallWatchResult;
    assert.equal(result.callStatus, 'completed');
    assert.equal(result.outcome, 'closed');
    // The emulator sent no callbacks of its own, so Studio never heard the end either.
    assert.deepEqual(result.actions.map((a) => `${a.kind}:${a.result}`).sort(), ['cancel-task:done', 'end-execution:done']);
    assert.equal(result.lastSequenceNumber, 3);
    let runs = 0;
    for await (const _w of stack.temporal.client.workflow.list({ query: `WorkflowId = '${callWorkflowId(run.callSid!)}'` })) runs++;
    assert.equal(runs, 1);
    // A late callback after the watch closed must not start a second watch.
    await post('completed', 4);
    runs = 0;
    for await (const _w of stack.temporal.client.workflow.list({ query: `WorkflowId = '${callWorkflowId(run.callSid!)}'` })) runs++;
    assert.equal(runs, 1);
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
  });

  it('Twilio 429 and 500 bursts: reconciled once the API answers', async () => {
    stack.emu.admin.addFault({ endpoint: 'taskrouter:Tasks', status: 429, retryAfter: 1, times: 3 });
    stack.emu.admin.addFault({ endpoint: 'studio:Executions', status: 500, times: 3 });
    const r = await runScenario('desync-assigned');
    assert.equal(r.result.outcome, 'closed');
    assert.equal(r.observed.taskStatus, 'completed');
    assert.ok(r.requests.some((q) => q.status === 429), 'saw the 429s');
    assert.ok(r.requests.some((q) => q.status === 500), 'saw the 500s');
    assert.equal(writesTo(r.requests).filter((q) => q.status < 300).length, 1);
  });
});

describe('callWatch survives a worker kill and a Temporal restart', function () {
  this.timeout(180_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { ...NO_LINKER, UNSTICK_GRACE_PERIOD: '6s' } });
    await stack.startWorkers();
  });
  after(async () => stack?.teardown());

  it('a call waiting on its grace timer is still reconciled, with no duplicate write', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'desync-reserved' });
    const handle = stack.temporal.client.workflow.getHandle(callWorkflowId(run.callSid!));
    await waitUntil('watch in its grace period', async () => (await handle.query(stateQuery)).phase === 'grace', { timeoutMs: 30_000 });
    await stack.stopWorkers();
    await stack.temporal.server.restart();
    await stack.startWorkers();
    const result = (await handle.result()) as CallWatchResult;
    assert.equal(result.outcome, 'closed');
    assert.equal(stack.emu.admin.inspectTask(run.taskSid!)!.status, 'canceled');
    assert.equal(writesTo(stack.requests, run.taskSid).length, 1);
    await saveHistoryFixture('callWatch-restart', handle, stack.temporal.server);
  });
});

describe('callWatch continues as new on a long live call and keeps what it knows', function () {
  this.timeout(180_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      env: { ...NO_LINKER, UNSTICK_MAX_AGE: '1500ms' },
      temporal: { extraDynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 25 } },
    });
    await stack.startWorkers();
  });
  after(async () => stack?.teardown());

  it('re-checks a flagged live call across runs, never touches it, and reconciles once it ends', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'live-long' });
    const workflowId = callWorkflowId(run.callSid!);
    const before = stack.requests.length;
    await stack.temporal.client.workflow.start('callWatch', {
      workflowId,
      taskQueue: stack.config.temporal.taskQueue,
      args: [{ callSid: run.callSid!, startedBy: 'manual', settings: stack.settings, startedAtMs: Date.now() - 5 * 3600_000 } satisfies CallWatchInput],
    });
    const countRuns = async () => {
      let n = 0;
      for await (const _w of stack.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n++;
      return n;
    };
    await waitUntil('a second run after continue-as-new', async () => (await countRuns()) >= 2, { timeoutMs: 60_000, intervalMs: 500 });
    const carried = await stack.temporal.client.workflow.getHandle(workflowId).query(stateQuery);
    assert.equal(carried.phase, 'live-flagged', 'the new run knows the call was flagged');
    assert.equal(carried.outcome, 'live-flagged');
    assert.deepEqual(writesTo(stack.requests.slice(before)), [], 'nothing written while the call is live');

    stack.emu.admin.hangup(run.callSid!);
    const result = (await stack.temporal.client.workflow.getHandle(workflowId).result()) as CallWatchResult;
    assert.equal(result.callStatus, 'completed');
    assert.equal(result.taskSid, run.taskSid);
    // The hang-up plays out normally (final callback → 302 → Studio; the agent wraps up), so nothing is left to close.
    assert.equal(result.outcome, 'clean', result.summary);
    assert.deepEqual(writesTo(stack.requests.slice(before)), []);
    assert.equal(stack.emu.admin.inspectExecution(run.executionSid!)!.status, 'ended');
    assert.equal(stack.emu.admin.inspectTask(run.taskSid!)!.status, 'completed');
  });
});
