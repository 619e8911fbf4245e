/**
 * Progress while a page activity runs: the activity signals its counts to its workflow, so the `progress` query and
 * the Web UI's current details grow before the page is done (real dev server, emulator, SDK).
 */
import assert from 'node:assert/strict';
import { SWEEP_WORKFLOW_TYPE } from '../../src/shared/names';
import type { SweepProgress, SweepReport } from '../../src/shared/sweepTypes';
import { startTestTemporal, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';
import { startRig, testInput, type SweepRig } from './harness';

describe('sweep progress while a page runs', function () {
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

  it('shows the running page activity\'s counts through the progress query and the current details before the activity completes', async () => {
    rig = await startRig(t);
    rig.emu.admin.seedTasks({ count: 24, mix: { voiceEnded: 1 } });
    // A slow write: one page of 24 Tasks, two at a time, takes seconds.
    rig.emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'POST', latencyMs: 250 });
    const worker = await rig.worker({ deps: { progressEveryMs: 100 } });
    const workflowId = uniqueId('sweep-progress-live');
    await worker.runUntil(async () => {
      const handle = await t.client.workflow.start(SWEEP_WORKFLOW_TYPE, {
        taskQueue: rig!.taskQueue,
        workflowId,
        args: [testInput(rig!, { pageSize: 1000, concurrency: 2, channels: ['voice'] })],
      });
      const p = await waitUntil('progress counts from the running page', async () => {
        const q = (await handle.query('progress')) as SweepProgress;
        return q.acted >= 2 ? q : undefined;
      }, { intervalMs: 20 });
      // The page activity has not completed: its counts came from its signals, not from its result.
      const history = await handle.fetchHistory();
      const completed = (history.events ?? []).filter((e) => e.activityTaskCompletedEventAttributes).length;
      assert.equal(completed, 1, 'only the targets activity has completed');
      assert.equal(p.pageRunning, true);
      assert.ok(p.seen >= p.acted && p.seen < 24, `seen ${p.seen} of 24 while running`);
      assert.ok(p.acted < 24);
      const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
      const examined = Number(/\| Tasks examined \| (\d+) \|/.exec(meta.currentDetails ?? '')?.[1]);
      assert.ok(examined > 0, `current details show Tasks examined while the page runs: ${meta.currentDetails}`);

      const report = (await handle.result()) as SweepReport;
      // The page's own result replaces its signalled counts: nothing counted twice.
      assert.equal(report.counts.tasksSeen, 24);
      assert.equal(report.counts.closed['cancel-task'] + report.counts.closed['complete-task'], 24);
      const after = (await handle.query('progress')) as SweepProgress;
      assert.equal(after.seen, 24);
      assert.equal(after.acted, 24);
      assert.equal(after.pageRunning, false);
    });
  });
});
