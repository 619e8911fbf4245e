/**
 * Event Streams as a call's only input, end to end: the emulator's Sink emitter → the webhook's
 * /twilio/event-streams → signalWithStart → worker → Twilio REST through the real SDK. No status callback reaches
 * the webhook (viaWebhook: false) and no TaskRouter event callback is set, no linker runs: the links come from the
 * Studio and TaskRouter events alone, and the watch learns the call's end by reading the Call.
 */
import * as assert from 'node:assert/strict';
import type { ScenarioName } from '../../src/emulator';
import { callWorkflowId, EVENT_STREAMS_PATH } from '../../src/shared/names';
import type { CallWatchResult } from '../../src/workflows/callWatch';
import { startStack, writesTo, type RecordedRequest, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

/** The discovery requests a watch makes when no link reached it: Executions lists and Tasks lists. */
const discoveryRequests = (requests: RecordedRequest[]): RecordedRequest[] =>
  requests.filter((r) => r.method === 'GET' && (/\/Executions(\?|$)/.test(r.uri) || /\/Tasks(\?|$)/.test(r.uri)));

describe('Event Streams as the only input (emulator Sink + webhook + real Temporal)', function () {
  this.timeout(120_000);
  let stack: Stack;

  before(async () => {
    stack = await startStack({ viaWebhook: false, env: { UNSTICK_LINKER: 'false' } });
    await stack.startWorkers();
  });
  after(async () => {
    stack?.emu.admin.setEventStreamsSink(undefined);
    await stack?.teardown();
  });

  async function runScenario(scenario: ScenarioName) {
    const before = stack.requests.length;
    const run = stack.emu.admin.createCall({ scenario });
    assert.ok(run.callSid);
    const handle = stack.temporal.client.workflow.getHandle(callWorkflowId(run.callSid));
    await waitUntil(`callWatch for ${run.callSid}`, () => handle.describe().then(() => true), { timeoutMs: 20_000 });
    const result = (await handle.result()) as CallWatchResult;
    await stack.emu.admin.whenSettled(run.id);
    await stack.emu.admin.settleEventStreams();
    return { run, handle, result, requests: stack.requests.slice(before), observed: stack.emu.admin.runState(run.id)!.observed };
  }

  const sink = () => `${stack.webhook.url}${EVENT_STREAMS_PATH}`;

  for (const [scenario, expected] of [
    ['lost-final-webhook', { kind: 'end-execution', execution: 'ended', task: 'completed' }],
    ['desync-pending', { kind: 'cancel-task', execution: 'ended', task: 'canceled' }],
  ] as const) {
    it(`${scenario}: reconciled from Event Streams links alone, with zero discovery requests`, async () => {
      stack.emu.admin.setEventStreamsSink({ destination: sink() });
      const r = await runScenario(scenario);
      assert.equal(r.result.outcome, 'closed');
      assert.equal(r.result.executionSid, r.run.executionSid);
      assert.equal(r.result.taskSid, r.run.taskSid);
      const state = await r.handle.query<{ linkedBy?: Record<string, string>; callbacks?: number }>('state');
      assert.deepEqual(state.linkedBy, { execution: 'event', task: 'event' });
      assert.equal(state.callbacks, undefined, 'no status callback reached the watch');
      assert.deepEqual(discoveryRequests(r.requests), []);
      assert.deepEqual(r.result.actions.map((a) => [a.kind, a.result]), [[expected.kind, 'done']]);
      assert.equal(writesTo(r.requests).length, 1);
      assert.equal(r.observed.executionStatus, expected.execution);
      assert.equal(r.observed.taskStatus, expected.task);
      const { counters } = stack.emu.admin.eventStreams();
      assert.ok(counters.batchesSent > 0 && (counters.answers['200'] ?? 0) === counters.batchesSent, JSON.stringify(counters));
    });
  }

  it('duplicated, delayed and reordered batches give one correct outcome (one write each, the right final states)', async () => {
    stack.emu.admin.setEventStreamsSink({ destination: sink(), duplicate: 1, reorder: true, delayMs: 200, batchWindowMs: 5 });
    const before = stack.emu.admin.eventStreams().counters.batchesDuplicated;
    for (const [scenario, expected] of [
      ['desync-pending', { kind: 'cancel-task', task: 'canceled', execution: 'ended' }],
      ['lost-final-webhook', { kind: 'end-execution', task: 'completed', execution: 'ended' }],
    ] as const) {
      const r = await runScenario(scenario);
      assert.equal(r.result.outcome, 'closed', scenario);
      assert.deepEqual(r.result.actions.map((a) => [a.kind, a.result]), [[expected.kind, 'done']], scenario);
      assert.equal(writesTo(r.requests).length, 1, scenario);
      assert.deepEqual(discoveryRequests(r.requests), [], scenario);
      assert.equal(r.observed.taskStatus, expected.task, scenario);
      assert.equal(r.observed.executionStatus, expected.execution, scenario);
    }
    assert.ok(stack.emu.admin.eventStreams().counters.batchesDuplicated > before, 'batches really were duplicated');
  });
});
