/**
 * Decision safety in callWatch, end to end (emulator, worker, real dev server): with no TaskRouter events wired
 * the watch discovers its Task from a list that may carry no attributes; it must still decide on a fresh read, and
 * a Task that changes between that read and the write must be re-decided, not written.
 */
import * as assert from 'node:assert/strict';
import { startWatch } from '../../src/cli/watch';
import type { ScenarioRun } from '../../src/emulator';
import { callWorkflowId } from '../../src/shared/names';
import type { CallWatchResult } from '../../src/workflows/callWatch';
import { startStack, type Stack } from '../helpers/stack';

const LIST_MODES = ['full', 'null'] as const;

describe('decision safety: callWatch', function () {
  this.timeout(120_000);
  let stack: Stack;

  before(async () => {
    // No webhook: no status callbacks, no TaskRouter events. The watches poll and discover on their own.
    stack = await startStack({ viaWebhook: false, env: { UNSTICK_PROTECT_TASKS: 'taskType == "voicemail"', UNSTICK_POST_CALL_TASK_AFTER: '2m' } });
    await stack.startWorkers();
  });
  after(async () => {
    await stack?.teardown();
  });
  afterEach(() => {
    stack.emu.admin.updateSettings({ taskListAttributes: 'full' });
  });

  const attrsOf = (sid: string): Record<string, unknown> => JSON.parse(stack.emu.admin.inspectTask(sid)!.attributes) as Record<string, unknown>;
  const statusOf = (sid: string) => stack.emu.admin.inspectTask(sid)?.status;
  const tasksPosts = (sid: string) => stack.requests.filter((r) => r.method === 'POST' && r.uri.includes(sid));

  /** A call whose Task is stuck `assigned` after the call ended (TaskRouter/voice desync), no callbacks sent. */
  async function stuckAssigned(): Promise<ScenarioRun & { callSid: string; taskSid: string }> {
    const run = stack.emu.admin.createCall({ scenario: 'desync-assigned', callbackEvents: [] });
    await stack.emu.admin.whenSettled(run.id);
    return run as ScenarioRun & { callSid: string; taskSid: string };
  }

  async function watch(callSid: string): Promise<CallWatchResult> {
    await startWatch(stack.temporal.client, stack.config, callSid);
    return (await stack.temporal.client.workflow.getHandle(callWorkflowId(callSid)).result()) as CallWatchResult;
  }

  for (const mode of LIST_MODES) {
    it(`never completes a custom-orchestrated Task it found by discovery (list attributes ${mode})`, async () => {
      stack.emu.admin.updateSettings({ taskListAttributes: mode });
      const run = await stuckAssigned();
      stack.emu.admin.updateTask(run.taskSid, { attributes: { ...attrsOf(run.taskSid), custom_orchestration: true } });

      const result = await watch(run.callSid);

      assert.equal(statusOf(run.taskSid), 'assigned');
      assert.deepEqual(tasksPosts(run.taskSid), []);
      assert.ok(result.skipped.some((x) => x.sid === run.taskSid && x.reason === 'custom-orchestration'), JSON.stringify(result.skipped));
      // Only its stuck Execution (no final callback reached Studio) was written.
      assert.deepEqual(result.actions.map((a) => a.kind), ['end-execution']);
    });

    it(`a Task that changes after callWatch read it is re-decided, not written (list attributes ${mode})`, async () => {
      stack.emu.admin.updateSettings({ taskListAttributes: mode });
      const live = stack.emu.admin.createCall({ scenario: 'live-long' });
      const runs = await Promise.all([stuckAssigned(), stuckAssigned(), stuckAssigned(), stuckAssigned(), stuckAssigned()]);
      const [wrap, reroute, custom, protect, control] = runs as [typeof runs[0], typeof runs[0], typeof runs[0], typeof runs[0], typeof runs[0]];
      const admin = stack.emu.admin;
      const changes: [string, () => void][] = [
        [wrap.taskSid, () => admin.updateTask(wrap.taskSid, { assignmentStatus: 'wrapping' })],
        [reroute.taskSid, () => admin.updateTask(reroute.taskSid, { attributes: { ...attrsOf(reroute.taskSid), call_sid: live.callSid } })],
        [custom.taskSid, () => admin.updateTask(custom.taskSid, { attributes: { ...attrsOf(custom.taskSid), custom_orchestration: true } })],
        [protect.taskSid, () => admin.updateTask(protect.taskSid, { attributes: { ...attrsOf(protect.taskSid), taskType: 'voicemail' } })],
      ];
      // The first GET naming the Task is the reconcile's own fetch: the change lands between it and the write.
      const hooks = changes.map(([sid, change]) => admin.afterResponse({ method: 'GET', pathIncludes: sid, times: 1 }, change));
      try {
        const results = await Promise.all(runs.map((r) => watch(r.callSid)));

        for (const h of hooks) assert.equal(admin.hookFires(h), 1);
        assert.equal(statusOf(wrap.taskSid), 'wrapping');
        for (const r of [reroute, custom, protect]) assert.equal(statusOf(r.taskSid), 'assigned', r.taskSid);
        assert.equal(statusOf(control.taskSid), 'completed', 'the unchanged Task is closed');
        // Each changed Task: exactly one write, refused (412) because it carried the ETag of the read before the change.
        for (const [sid] of changes) {
          const posts = tasksPosts(sid);
          assert.deepEqual(posts.map((p) => p.status), [412], `${sid}: ${JSON.stringify(posts)}`);
        }
        const reasons = results.slice(0, 4).map((r) => r.skipped.map((x) => x.reason).join(','));
        assert.deepEqual(reasons, ['wrapping-left-to-agent', 'call-sid-mismatch', 'custom-orchestration', 'protected']);
        assert.equal(results[4]!.outcome, 'closed');
      } finally {
        admin.hangup(live.callSid!);
      }
    });
  }

  it('never cancels a callback Task created minutes after its call ended', async () => {
    const seeded = stack.emu.admin.seedTasks({ count: 1, mix: { callback: 1 }, callEndedAgoMs: 20 * 60_000, callbackDelayMs: 10 * 60_000 });
    const taskSid = seeded.byCategory.callback.taskSids[0]!;
    const callSid = seeded.byCategory.callback.callSids[0]!;
    const before = statusOf(taskSid);

    const result = await watch(callSid);

    assert.equal(statusOf(taskSid), before);
    assert.deepEqual(tasksPosts(taskSid), []);
    assert.ok(result.skipped.some((x) => x.sid === taskSid && x.reason === 'post-call-task'), JSON.stringify(result.skipped));
  });
});
