import assert from 'node:assert/strict';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/shared/searchAttributes';
import { createWorker } from '../../src/worker';
import { pingActivities, timerThenActivity } from '../fixtures/timerWorkflows';
import { bundleWorkflowsOnce, TIMER_WORKFLOWS_PATH, startTestTemporal, uniqueId, type TestTemporal } from '../helpers/temporal';

describe('foundation: a workflow on the real dev server', () => {
  let t: TestTemporal;
  before(async () => {
    t = await startTestTemporal();
  });
  after(async () => {
    await t?.teardown();
  });

  it('runs a timer and an activity end to end through createWorker', async () => {
    const taskQueue = uniqueId('tq');
    const worker = await createWorker({
      connection: t.nativeConnection,
      namespace: t.namespace,
      taskQueue,
      activities: pingActivities,
      workflowBundle: await bundleWorkflowsOnce(TIMER_WORKFLOWS_PATH),
    });
    const workflowId = uniqueId('hello');
    const result = await worker.runUntil(t.client.workflow.execute(timerThenActivity, { taskQueue, workflowId, args: [200, 'e2e'] }));
    assert.equal(result, 'pong: e2e');

    const events = (await t.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    assert.ok(events.some((e) => e.timerFiredEventAttributes), 'the durable timer fired');
    assert.ok(events.some((e) => e.activityTaskCompletedEventAttributes), 'the activity completed');
  });

  it('registers the search attributes and a 30-day retention on the namespace', async () => {
    const { customAttributes } = await t.connection.operatorService.listSearchAttributes({ namespace: t.namespace });
    for (const key of ALL_SEARCH_ATTRIBUTES) assert.ok(customAttributes?.[key.name] !== undefined, `${key.name} is registered`);
    const ns = await t.connection.workflowService.describeNamespace({ namespace: t.namespace });
    assert.equal(Number(ns.config?.workflowExecutionRetentionTtl?.seconds), 30 * 24 * 3600);
  });
});
