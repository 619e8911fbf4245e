/**
 * What the sweep's lists prove and what it still fetches: ended calls proven over by a Calls list, and, when Task
 * list items carry no attributes (Twilio's spec), the Tasks it can leave alone without a fetch (real dev server,
 * emulator, SDK). Every write is still decided on a fresh fetch.
 */
import assert from 'node:assert/strict';
import { callWorkflowId } from '../../src/shared/names';
import { CallSidKey, TaskSidKey } from '../../src/shared/searchAttributes';
import { startTestTemporal, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';
import { ENDED_LISTS, LIVE_SNAPSHOT_LISTS, runSweep, startRig, taskStatus, testInput, type SweepRig } from './harness';

describe('sweep requests: what the lists prove, what is fetched', function () {
  let t: TestTemporal;
  let rig: SweepRig | undefined;

  before(async () => {
    t = await startTestTemporal();
  });
  after(async () => {
    await t?.teardown();
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  for (const listAttributes of ['full', 'null'] as const) {
    it(`fetches a call the ended-calls list does not prove over (another end status) before closing its Task (list attributes ${listAttributes})`, async () => {
      rig = await startRig(t, { settings: { taskListAttributes: listAttributes } });
      const seeded = rig.emu.admin.seedTasks({ count: 14, mix: { voiceEnded: 10, voiceLive: 2, chat: 2 }, assignmentStatuses: ['pending'] });
      const [canceled, failed] = seeded.byCategory.voiceLive.callSids as [string, string];
      rig.emu.admin.setCallStatus(canceled, 'canceled');
      rig.emu.admin.setCallStatus(failed, 'failed');
      rig.emu.admin.resetCounters();
      // Its call is only listed as completed: the list proves the other ten over, these two are fetched.
      const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'] }));
      for (const sid of [...seeded.byCategory.voiceEnded.taskSids, ...seeded.byCategory.voiceLive.taskSids]) assert.equal(taskStatus(rig, sid), 'canceled');
      for (const sid of seeded.byCategory.chat.taskSids) assert.equal(taskStatus(rig, sid), 'pending');
      assert.equal(report.counts.closed['cancel-task'], 12);
      assert.equal(report.counts.skipped['not-voice'], 2);
      const hits = rig.emu.admin.counters().byEndpoint;
      assert.equal(hits['api:Calls GET'], LIVE_SNAPSHOT_LISTS + ENDED_LISTS + 2, 'one fetch per call the list did not prove over');
      // Each closed Task: its fresh fetch and its write; a chat Task is not fetched even without list attributes.
      assert.equal(hits['taskrouter:Tasks GET'], 1 + 12);
      assert.equal(hits['taskrouter:Tasks POST'], 12);
    });
  }

  it('with list attributes null, leaves a Task linked to a running callWatch, and a chat Task, alone without fetching them; fetches every other Task before deciding', async () => {
    rig = await startRig(t, { settings: { taskListAttributes: 'null' } });
    const seeded = rig.emu.admin.seedTasks({ count: 10, mix: { voiceEnded: 4, voiceLive: 4, chat: 2 }, assignmentStatuses: ['pending'] });
    const live = seeded.byCategory.voiceLive;
    // Watches of two live calls that have linked their Task (TaskSid search attribute), on a queue nobody polls.
    const idle = uniqueId('no-worker');
    const watched = [0, 1].map((i) => ({ callSid: live.callSids[i]!, taskSid: live.taskSids[i]! }));
    for (const w of watched) {
      await t.client.workflow.start('callWatch', {
        taskQueue: idle,
        workflowId: callWorkflowId(w.callSid),
        args: [{ callSid: w.callSid }],
        typedSearchAttributes: [
          { key: CallSidKey, value: w.callSid },
          { key: TaskSidKey, value: w.taskSid },
        ],
      });
    }
    await waitUntil('visibility shows the watches with their Tasks', async () =>
      (await t.client.workflow.count(`WorkflowType = 'callWatch' AND ExecutionStatus = 'Running' AND TaskSid IN (${watched.map((w) => `'${w.taskSid}'`).join(', ')})`)).count === 2,
    );
    rig.emu.admin.resetCounters();

    const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'] }));

    for (const sid of seeded.byCategory.voiceEnded.taskSids) assert.equal(taskStatus(rig, sid), 'canceled');
    for (const sid of [...live.taskSids, ...seeded.byCategory.chat.taskSids]) assert.equal(taskStatus(rig, sid), 'pending');
    assert.equal(report.counts.tasksSeen, 10);
    assert.equal(report.counts.skipped['owned-by-callwatch'], 2);
    assert.equal(report.counts.skipped['call-live'], 2);
    assert.equal(report.counts.skipped['not-voice'], 2);
    assert.equal(report.counts.closed['cancel-task'], 4);
    // The list page, then a fetch of each Task that could be closable: the 4 stuck ones and the 2 unwatched live ones.
    const hits = rig.emu.admin.counters().byEndpoint;
    assert.equal(hits['taskrouter:Tasks GET'], 1 + 4 + 2);
    assert.equal(hits['taskrouter:Tasks POST'], 4);
    for (const w of watched) await t.client.workflow.getHandle(callWorkflowId(w.callSid)).terminate('test over');
  });
});
