/**
 * A worker stopped in the middle of a page activity: the next worker resumes the page from its heartbeat
 * checkpoint and no resource is written twice.
 */
import { saveHistoryFixture } from '../helpers/histories';
import assert from 'node:assert/strict';
import type { SweepInput, SweepReport } from '../../src/shared/sweepTypes';
import { SWEEP_WORKFLOW_TYPE } from '../../src/shared/names';
import { startTestTemporal, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';
import { executionStatus, startRig, taskStatus, testInput, type SweepRig } from './harness';

describe('sweep after a worker dies mid-page', function () {
  let t: TestTemporal;
  let rig: SweepRig | undefined;

  /**
   * Starts the sweep, stops its first worker once `minWrites` writes are made (fewer than `total`, so mid-activity),
   * and finishes it on a second worker.
   */
  async function sweepWithWorkerStopped(r: SweepRig, input: SweepInput, workflowId: string, minWrites: number, total: number) {
    const handle = await t.client.workflow.start(SWEEP_WORKFLOW_TYPE, { taskQueue: r.taskQueue, workflowId, args: [input] });
    const first = await r.worker();
    const firstRun = first.run();
    await waitUntil(`${minWrites} writes by the first worker`, () => r.emu.admin.counters().writes >= minWrites, { intervalMs: 10 });
    first.shutdown();
    await firstRun;
    const writesByFirst = r.emu.admin.counters().writes;
    assert.ok(writesByFirst < total, `the activity was still running when the worker stopped (${writesByFirst} writes)`);
    const second = await r.worker();
    const report = (await second.runUntil(handle.result())) as SweepReport;
    return { handle, report };
  }

  before(async () => {
    t = await startTestTemporal();
  });
  after(async () => {
    await rig?.close();
    await t?.teardown();
  });

  it('resumes from its checkpoint without a second write to any resource', async () => {
    rig = await startRig(t);
    const seeded = rig.emu.admin.seedTasks({ count: 60 });
    // Slow enough that the first page is still running when the worker goes away.
    rig.emu.admin.addFault({ endpoint: '*', latencyMs: 25 });
    rig.emu.admin.resetCounters();
    const input = testInput(rig, { pageSize: 40, concurrency: 3, channels: ['voice'], heartbeatTimeoutMs: 5_000 });
    // A few Tasks closed by the first worker, the first page (40) still running.
    const { handle, report } = await sweepWithWorkerStopped(rig, input, uniqueId('sweep-crash'), 8, 40);

    for (const sid of seeded.taskSids) assert.ok(['canceled', 'completed'].includes(taskStatus(rig, sid)!), `${sid} closed`);
    for (const [path, n] of rig.writesByPath) assert.equal(n, 1, `${path} written ${n} times`);
    assert.equal(rig.writesByPath.size, 60);
    assert.equal(rig.emu.admin.counters().writes, 60);
    assert.ok(report.resumedPages >= 1, 'the retried page started from the checkpoint');
    assert.equal(report.counts.closed['cancel-task'] + report.counts.closed['complete-task'], 60);
    assert.equal(report.counts.tasksSeen, 60);
    assert.equal(report.counts.errors, 0);
    await saveHistoryFixture('sweep-resume', handle, t.server);
  });

  it('resumes an Execution activity in the Flow and page it was in, without a second write', async () => {
    rig = await startRig(t);
    const admin = rig.emu.admin;
    // Flows in testInput order: Flex voice, messaging, webchat; 20 stuck Executions each, 2 pages each at size 10.
    const seeded = [
      ...admin.seedExecutions({ count: 20, kind: 'voice-ended-call', ageMs: 2 * 3_600_000 }).executionSids,
      ...admin.seedExecutions({ count: 20, kind: 'sms', ageMs: 3 * 3_600_000, lastStepAgeMs: 2 * 3_600_000 }).executionSids,
      ...admin.seedExecutions({ count: 20, kind: 'webchat', ageMs: 20_000, lastStepAgeMs: 15_000 }).executionSids,
    ];
    admin.addFault({ endpoint: '*', latencyMs: 25 });
    admin.resetCounters();
    const input = testInput(rig, { pageSize: 10, concurrency: 2, channels: ['voice', 'sms', 'webchat'], executionThresholdMs: 8_000, heartbeatTimeoutMs: 5_000 });
    // Past the first Flow (20): the activity is in the second Flow's pages when the worker goes away.
    const { report } = await sweepWithWorkerStopped(rig, input, uniqueId('sweep-crash-exec'), 25, 60);

    for (const sid of seeded) assert.equal(executionStatus(rig, sid), 'ended', sid);
    for (const [path, n] of rig.writesByPath) assert.equal(n, 1, `${path} written ${n} times`);
    assert.equal(rig.writesByPath.size, 60);
    assert.ok(report.resumedPages >= 1, 'the retried activity started from the checkpoint');
    assert.equal(report.counts.closed['end-execution'], 60);
    assert.equal(report.counts.executionsSeen, 60);
    assert.equal(report.counts.errors, 0);
  });
});
