/**
 * Idempotence under the emulator's `answerLost` fault: Twilio applies unstick's write and the answer never arrives
 * (a 5xx instead, or a dropped connection). Whoever retries (the activity's own retry, Temporal's activity retry)
 * must find the write done, not do it again: a Task's retried If-Match write gets 412 and the re-read finds it
 * closed; an Execution's retried end is preceded by a read that finds it ended.
 */
import { strict as assert } from 'node:assert';
import type { AnsweredRequest, Emulator } from '../../src/emulator';
import type { CallWatchResult } from '../../src/workflows/callWatch';
import { callWorkflowId } from '../../src/shared/names';
import { startStack, type Stack } from '../helpers/stack';
import { startTestTemporal, waitUntil, type TestTemporal } from '../helpers/temporal';
import { runSweep, startRig, testInput, type SweepRig } from '../sweep/harness';

/** Every write the emulator handled (before any fault lost its answer), by resource SID. */
function recordWrites(emu: Emulator): Map<string, number[]> {
  const bySid = new Map<string, number[]>();
  emu.admin.afterResponse({ method: 'POST', times: Number.MAX_SAFE_INTEGER }, (r: AnsweredRequest) => {
    if (!/^taskrouter:Tasks$|^studio:Executions$/.test(r.endpoint)) return;
    const sid = r.path.split('/').pop()!;
    bySid.set(sid, [...(bySid.get(sid) ?? []), r.status]);
  });
  return bySid;
}
const applied = (writes: Map<string, number[]>, sid: string) => (writes.get(sid) ?? []).filter((s) => s >= 200 && s < 300).length;

describe('unstick does not write twice when the answer to its write is lost', function () {
  this.timeout(120_000);

  describe('callWatch', () => {
    let stack: Stack;
    before(async () => {
      // The lost-final-webhook call's end is learnt by the watch's poll: keep the backstop poll short.
      stack = await startStack({ env: { UNSTICK_POLL_WITH_CALLBACKS: '1s' } });
      await stack.startWorkers();
    });
    after(async () => stack?.teardown());

    for (const [name, lost] of [
      ['a 500 instead of the answer', { status: 500 as const }],
      ['a dropped connection', { drop: true }],
    ] as const) {
      it(`closes the Task and ends the Execution once each under ${name}`, async () => {
        const writes = recordWrites(stack.emu);
        stack.emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'POST', answerLost: true, times: 1, ...lost });
        stack.emu.admin.addFault({ endpoint: 'studio:Executions', method: 'POST', answerLost: true, times: 1, ...lost });
        const desync = stack.emu.admin.createCall({ scenario: 'desync-assigned' });
        const lostHook = stack.emu.admin.createCall({ scenario: 'lost-final-webhook' });
        for (const run of [desync, lostHook]) {
          const handle = stack.temporal.client.workflow.getHandle(callWorkflowId(run.callSid!));
          await waitUntil('the webhook started the watch', async () => !!(await handle.describe()));
          const result = (await handle.result()) as CallWatchResult;
          assert.notEqual(result.outcome, 'failed', result.summary);
        }
        assert.equal(stack.emu.admin.inspectTask(desync.taskSid!)!.status, 'completed');
        assert.equal(stack.emu.admin.inspectExecution(lostHook.executionSid!)!.status, 'ended');
        assert.equal(applied(writes, desync.taskSid!), 1, `Task writes handled: ${String(writes.get(desync.taskSid!))}`);
        assert.equal(applied(writes, lostHook.executionSid!), 1, `Execution writes handled: ${String(writes.get(lostHook.executionSid!))}`);
        assert.ok(stack.emu.admin.counters().answersLost >= 2, 'both answers were lost');
      });
    }
  });

  describe('sweep', () => {
    let t: TestTemporal;
    let rig: SweepRig;
    before(async () => {
      t = await startTestTemporal();
    });
    after(async () => t?.teardown());
    afterEach(async () => rig?.close());

    it('cancels a stuck Task once when the answer is lost: the write is not resent, the re-read finds it closed', async () => {
      rig = await startRig(t);
      const desync = await rig.emu.admin.runScenario({ scenario: 'desync-pending' });
      const writes = recordWrites(rig.emu);
      rig.emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'POST', status: 500, answerLost: true, times: 1 });
      const report = await runSweep(t, rig, testInput(rig));
      assert.equal(rig.emu.admin.inspectTask(desync.run.taskSid!)!.status, 'canceled');
      assert.deepEqual(writes.get(desync.run.taskSid!), [200], 'handled: the write only');
      assert.equal(applied(writes, desync.run.taskSid!), 1);
      assert.deepEqual(report.errors, []);
    });

    // Nothing versions an Execution's end: only a read before any resend makes it idempotent.
    it('ends a stuck Execution once when the answer is lost (a retry must read it first and find it ended)', async () => {
      rig = await startRig(t);
      const lostHook = await rig.emu.admin.runScenario({ scenario: 'lost-final-webhook' });
      // The sweep lists Executions created before its start, a filter Twilio applies at second precision.
      const settledAt = Date.now();
      await waitUntil('the next second', () => Math.floor(Date.now() / 1000) > Math.floor(settledAt / 1000) || undefined, { intervalMs: 20 });
      const writes = recordWrites(rig.emu);
      rig.emu.admin.addFault({ endpoint: 'studio:Executions', method: 'POST', status: 503, answerLost: true, times: 1 });
      const report = await runSweep(t, rig, testInput(rig));
      assert.equal(rig.emu.admin.inspectExecution(lostHook.run.executionSid!)!.status, 'ended', JSON.stringify({ counts: report.counts, actions: report.actions, errors: report.errors, writes: [...writes] }));
      assert.equal(applied(writes, lostHook.run.executionSid!), 1, `Execution writes handled: ${String(writes.get(lostHook.run.executionSid!))}`);
      assert.deepEqual(report.errors, []);
    });
  });
});
