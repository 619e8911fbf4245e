/**
 * The linker end to end: emulator calls → webhook → callWatch, with the account's linker workflow listing new
 * Executions and Tasks and signalling each watch its links. Real Temporal dev server, real HTTP, the twilio SDK.
 */
import * as assert from 'node:assert/strict';
import type { ScenarioName } from '../../src/emulator';
import { checkCallSignal, linkerStateQuery, linkerWorkflowId, type CallWatchInput, type LinkerProgress } from '../../src/shared/messages';
import { callWorkflowId } from '../../src/shared/names';
import { startLinker } from '../../src/worker';
import type { CallWatchResult } from '../../src/workflows/callWatch';
import { saveHistoryFixture } from '../helpers/histories';
import { startStack, writesTo, type RecordedRequest, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// The recorded URIs carry no query string: a list is a GET of the collection.
/** A list of a Flow's Executions (not a fetch of one, not its Context or Steps). */
const isExecutionList = (r: RecordedRequest) => r.method === 'GET' && /\/Executions$/.test(r.uri);
/** A list of a Workspace's Tasks: the linker's pages, or a per-call EvaluateTaskAttributes discovery. */
const isTaskList = (r: RecordedRequest) => r.method === 'GET' && /\/Tasks$/.test(r.uri);

async function runCalls(stack: Stack, scenarios: ScenarioName[]) {
  const runs = scenarios.map((scenario) => stack.emu.admin.createCall({ scenario }));
  const results = await Promise.all(
    runs.map(async (run) => {
      const handle = stack.temporal.client.workflow.getHandle(callWorkflowId(run.callSid!));
      await waitUntil(`callWatch for ${run.callSid}`, () => handle.describe().then(() => true), { timeoutMs: 30_000 });
      return { run, handle, result: (await handle.result()) as CallWatchResult };
    }),
  );
  await Promise.all(runs.map((r) => stack.emu.admin.whenSettled(r.id)));
  return results;
}

const linkerProgress = (stack: Stack): Promise<LinkerProgress> =>
  stack.temporal.client.workflow.getHandle(linkerWorkflowId(stack.config.twilio.accountSid)).query(linkerStateQuery);

describe('linker: one list per Flow and per Workspace per pass links every watch', function () {
  this.timeout(180_000);
  let stack: Stack;
  before(async () => {
    // Grace 3 s: with 25 calls at once the emulator's simulated agents may take over a second to wrap up a normal call.
    stack = await startStack({ env: { UNSTICK_LINKER_INTERVAL: '1s', UNSTICK_LINK_WAIT: '5s', UNSTICK_GRACE_PERIOD: '3s' } });
    await stack.startWorkers();
    await startLinker(stack.temporal.client, stack.config);
  });
  after(async () => stack?.teardown());

  it('is started once per account (a fixed id, USE_EXISTING) and shows itself in the Web UI', async () => {
    const id = linkerWorkflowId(stack.config.twilio.accountSid);
    const first = await stack.temporal.client.workflow.getHandle(id).describe();
    assert.equal(await startLinker(stack.temporal.client, stack.config), id);
    const again = await stack.temporal.client.workflow.getHandle(id).describe();
    assert.equal(again.runId, first.runId, 'a second start finds the running linker');
    assert.equal(again.status.name, 'RUNNING');
    assert.match((await again.staticSummary()) ?? '', /linker: lists new Executions and Tasks every 1s/);
    const progress = await waitUntil('a pass', async () => ((await linkerProgress(stack)).passes > 0 ? linkerProgress(stack) : undefined));
    assert.ok(progress.lastPassAtMs);
  });

  for (const n of [5, 25]) {
    it(`${n} concurrent calls: every watch is linked by the linker; Execution lists per pass do not grow with the calls`, async () => {
      const before = stack.requests.length;
      const t0 = Date.now();
      const p0 = await linkerProgress(stack);
      const scenarios: ScenarioName[] = Array.from({ length: n }, (_, i) => (['normal', 'desync-pending', 'desync-assigned'] as const)[i % 3]!);
      const results = await runCalls(stack, scenarios);
      const p1 = await linkerProgress(stack);
      const requests = stack.requests.slice(before);
      for (const { run, result } of results) {
        assert.equal(result.executionSid, run.executionSid);
        assert.equal(result.taskSid, run.taskSid);
        assert.equal(result.linkedBy?.execution, 'linker', result.summary);
        assert.ok(['linker', 'event'].includes(result.linkedBy?.task ?? ''), JSON.stringify(result.linkedBy));
        assert.equal(result.outcome, run.scenario === 'normal' ? 'clean' : 'closed', result.summary);
      }
      const passes = p1.passes - p0.passes;
      // One Flow and one Workspace configured, a pass every second at most: the lists are bounded by the time the
      // batch took, whatever the number of calls (no per-call Execution list, no per-call EvaluateTaskAttributes).
      const bound = Math.ceil((Date.now() - t0) / 1000) + 1;
      const lists = requests.filter(isExecutionList).length;
      assert.ok(lists <= bound, `${lists} Execution lists in ${Date.now() - t0} ms (${passes} passes)`);
      const taskLists = requests.filter(isTaskList).length;
      assert.ok(taskLists <= bound, `${taskLists} Task lists in ${Date.now() - t0} ms (${passes} passes)`);
      assert.equal(writesTo(requests).length, scenarios.filter((s) => s !== 'normal').length);
      const perCall = (requests.length - lists - taskLists) / n;
      process.stdout.write(`      [figure] ${n} calls: ${passes} passes (last ${p1.lastPassMs} ms), ${lists} Execution lists, ${taskLists} Task lists, ${perCall.toFixed(2)} other requests per call\n`);
    });
  }

  it('a clean call is verified by one Execution fetch; nothing else is read or written', async () => {
    const before = stack.requests.length;
    const [r] = await runCalls(stack, ['normal']);
    const own = stack.requests.slice(before).filter((q) => !isExecutionList(q) && !isTaskList(q));
    assert.equal(r!.result.outcome, 'clean');
    assert.deepEqual(own.map((q) => q.method), ['GET'], JSON.stringify(own.map((q) => q.uri)));
    assert.ok(own[0]!.uri.includes(r!.run.executionSid!));
    await saveHistoryFixture('callWatch-linked', r!.handle, stack.temporal.server);
  });

  it('a dense window (1,500 newer Executions) still links the call its Execution', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'hangup-before-twiml' });
    // Created after the call's Execution: a list newest first shows these 1,500 before it.
    stack.emu.admin.seedExecutions({ count: 1500, kind: 'voice-live-call', ageMs: 0 });
    const handle = stack.temporal.client.workflow.getHandle(callWorkflowId(run.callSid!));
    await waitUntil('watch', () => handle.describe().then(() => true), { timeoutMs: 30_000 });
    const result = (await handle.result()) as CallWatchResult;
    assert.equal(result.linkedBy?.execution, 'linker', result.summary);
    assert.equal(result.outcome, 'closed', result.summary);
    assert.equal(stack.emu.admin.inspectExecution(run.executionSid!)!.status, 'ended');
  });
});

describe('without a linker: watches wait briefly for a link, then discover on their own', function () {
  this.timeout(180_000);
  let stack: Stack;
  before(async () => {
    // UNSTICK_LINKER is on (the default), but nothing starts the linker: the watches' link wait runs out.
    stack = await startStack({ env: { UNSTICK_LINK_WAIT: '3s' } });
    await stack.startWorkers();
  });
  after(async () => stack?.teardown());

  it('a stuck call is still closed through per-call discovery', async () => {
    const [r] = await runCalls(stack, ['hangup-before-twiml']);
    assert.equal(r!.result.outcome, 'closed', r!.result.summary);
    assert.equal(r!.result.linkedBy?.execution, 'discovery');
    assert.deepEqual(r!.result.actions.map((a) => [a.kind, a.sid, a.result]), [['end-execution', r!.run.executionSid, 'done']]);
  });

  it('a checkCall that comes with the start (before the watch waits) is not lost: the watch reads its Call at once', async () => {
    // No callbacks: the watch is started here, as by a webhook (so it would poll only after UNSTICK_POLL_WITH_CALLBACKS, 2 h).
    const run = stack.emu.admin.createCall({ scenario: 'hangup-before-twiml', callbackEvents: [] });
    await stack.emu.admin.whenSettled(run.id);
    const handle = await stack.temporal.client.workflow.signalWithStart('callWatch', {
      workflowId: callWorkflowId(run.callSid!),
      taskQueue: stack.config.temporal.taskQueue,
      args: [{ callSid: run.callSid!, startedBy: 'webhook', settings: stack.settings } satisfies CallWatchInput],
      signal: checkCallSignal,
      signalArgs: [],
    });
    const result = (await handle.result()) as CallWatchResult;
    assert.ok(['completed', 'canceled'].includes(result.callStatus), result.summary);
    assert.equal(result.outcome, 'closed', result.summary);
  });

  it('a dense window (1,500 newer Executions): discovery pages past the first 1,000 and finds the Execution', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'sip-cancel-487' });
    stack.emu.admin.seedExecutions({ count: 1500, kind: 'voice-live-call', ageMs: 0 });
    const handle = stack.temporal.client.workflow.getHandle(callWorkflowId(run.callSid!));
    await waitUntil('watch', () => handle.describe().then(() => true), { timeoutMs: 30_000 });
    const result = (await handle.result()) as CallWatchResult;
    assert.equal(result.linkedBy?.execution, 'discovery');
    assert.equal(result.executionSid, run.executionSid);
    assert.equal(result.outcome, 'closed', result.summary);
  });
});

describe('linker live check: the backstop for a lost final callback when watches poll rarely', function () {
  this.timeout(180_000);
  let stack: Stack;
  before(async () => {
    // UNSTICK_POLL_WITH_CALLBACKS keeps its default (2 h): a webhook-started watch would not poll within this test.
    stack = await startStack({ env: { UNSTICK_LINKER_INTERVAL: '1s', UNSTICK_LINKER_LIVE_CHECK: '2s' } });
    await stack.startWorkers();
    await startLinker(stack.temporal.client, stack.config);
  });
  after(async () => stack?.teardown());

  it('a call whose final callback was lost is read within a live check and its stuck Execution ended', async () => {
    assert.equal(stack.settings.pollWithCallbacksMs, 2 * 3_600_000);
    const before = stack.requests.length;
    const [r] = await runCalls(stack, ['lost-final-webhook']);
    assert.equal(r!.result.outcome, 'closed', r!.result.summary);
    assert.equal(stack.emu.admin.inspectExecution(r!.run.executionSid!)!.status, 'ended');
    const progress = await linkerProgress(stack);
    assert.ok(progress.nudged >= 1 && progress.liveChecks >= 1, JSON.stringify(progress));
    // The watch never polled: the Call was read once, when the live check told it to (plus the guarded writes' reads).
    const callReads = stack.requests.slice(before).filter((q) => q.method === 'GET' && q.uri.includes(`/Calls/${r!.run.callSid}`));
    assert.ok(callReads.length >= 1 && callReads.length <= 3, `${callReads.length} Call reads`);
  });
});

describe('linker: a call whose callbacks never came gets its watch from the linker', function () {
  this.timeout(180_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { UNSTICK_LINKER_INTERVAL: '1s', UNSTICK_GRACE_PERIOD: '2s' } });
    await stack.startWorkers();
    await startLinker(stack.temporal.client, stack.config);
  });
  after(async () => stack?.teardown());

  it('every status callback and TaskRouter event lost: the linker starts each stuck call its watch, linked, and it is closed', async () => {
    stack.emu.admin.setLimits({ dropStatusCallbacks: 1, dropTaskRouterEvents: 1 });
    try {
      const p0 = await linkerProgress(stack);
      const results = await runCalls(stack, ['hangup-before-twiml', 'desync-pending', 'desync-assigned']);
      for (const { run, result, handle } of results) {
        assert.equal(result.outcome, 'closed', result.summary);
        assert.equal(result.linkedBy?.execution, 'linker', JSON.stringify(result.linkedBy));
        const input = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
        const started = JSON.parse(Buffer.from(input!.data!).toString()) as CallWatchInput;
        assert.equal(started.startedBy, 'linker');
        assert.match((await (await handle.describe()).staticSummary()) ?? '', /started by the linker/);
        if (run.executionSid) assert.equal(stack.emu.admin.inspectExecution(run.executionSid)!.status, 'ended');
        if (run.taskSid) assert.ok(['canceled', 'completed'].includes(stack.emu.admin.inspectTask(run.taskSid)!.status), run.scenario);
      }
      const p1 = await linkerProgress(stack);
      assert.ok(p1.started - p0.started >= 3, JSON.stringify(p1));
    } finally {
      stack.emu.admin.setLimits({ dropStatusCallbacks: 0, dropTaskRouterEvents: 0 });
    }
  });

  it('a call whose watch already finished is not watched again: the late link is dropped, nothing is started', async () => {
    const [r] = await runCalls(stack, ['desync-pending']);
    const first = await r!.handle.describe();
    assert.equal(first.status.name, 'COMPLETED');
    const p0 = await linkerProgress(stack);
    // A Task created later for the same call (a callback request, say) is listed by the linker: its call's watch is closed.
    stack.emu.admin.createTask({ attributes: { call_sid: r!.run.callSid, type: 'callback' } });
    // Past LINK_START_AFTER_MS (10 s) at one pass a second: the linker has tried to start a watch for it.
    const p1 = await waitUntil('the linker tries the link', async () => {
      const p = await linkerProgress(stack);
      return p.passes > p0.passes + 12 ? p : undefined;
    }, { timeoutMs: 60_000 });
    assert.equal(p1.started, p0.started, 'no watch counted as started');
    const after = await r!.handle.describe();
    assert.equal(after.runId, first.runId, 'no second run of the watch');
    assert.equal(after.status.name, 'COMPLETED');
  });
});
