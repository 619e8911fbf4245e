/**
 * Wrap-up in the sweep: a wrapping Task is the agent's until UNSTICK_WRAP_LIMIT after its call ended; only then is
 * it completed, by the guarded write (fresh read, If-Match). Real Temporal, real sweep workflow, emulator via the SDK.
 */
import assert from 'node:assert/strict';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { runSweep, startRig, taskReason, taskStatus, testInput, type SweepRig } from './harness';

const MIN = 60_000;

describe('sweep: wrapping Tasks and the wrap limit', function () {
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

  /** One voice Task in wrap-up whose call ended 10 min ago, plus one assigned Task of an ended call. */
  const seedWrapping = (r: SweepRig) => {
    const [wrapping] = r.emu.admin.seedTasks({ count: 1, assignmentStatuses: ['wrapping'], callEndedAgoMs: 10 * MIN }).taskSids;
    const [assigned] = r.emu.admin.seedTasks({ count: 1, assignmentStatuses: ['assigned'], callEndedAgoMs: 10 * MIN }).taskSids;
    assert.equal(taskStatus(r, wrapping!), 'wrapping');
    return { wrapping: wrapping!, assigned: assigned! };
  };

  it('without a wrap limit leaves a wrapping Task alone and does not even list it', async () => {
    rig = await startRig(t);
    const { wrapping, assigned } = seedWrapping(rig);
    const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'] }));
    assert.equal(taskStatus(rig, wrapping), 'wrapping');
    assert.equal(taskStatus(rig, assigned), 'completed');
    assert.equal(report.counts.tasksSeen, 1, 'only the assigned Task was listed');
    assert.ok(!report.actions.some((a) => a.sid === wrapping));
  });

  it('with a wrap limit not reached yet leaves it to the agent (wrapping-left-to-agent)', async () => {
    rig = await startRig(t);
    const { wrapping } = seedWrapping(rig);
    const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'], wrapLimitMs: 30 * MIN }));
    assert.equal(taskStatus(rig, wrapping), 'wrapping');
    assert.equal(report.counts.tasksSeen, 2);
    assert.equal(report.counts.skipped['wrapping-left-to-agent'], 1);
  });

  it('with the wrap limit reached completes it by a write carrying If-Match, with the configured reason', async () => {
    rig = await startRig(t);
    const { wrapping } = seedWrapping(rig);
    const reason = 'test: wrap limit reached';
    const versionBefore = rig.emu.admin.inspectTask(wrapping)!.version;
    const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'], wrapLimitMs: 5 * MIN, taskReason: reason }));
    assert.equal(taskStatus(rig, wrapping), 'completed');
    assert.equal(taskReason(rig, wrapping), reason);
    assert.equal(rig.emu.admin.inspectTask(wrapping)!.version, versionBefore + 1);
    const action = report.actions.find((a) => a.sid === wrapping);
    assert.equal(action?.kind, 'complete-task');
    assert.equal(action?.fromStatus, 'wrapping');
    assert.equal(action?.result, 'done');
  });

  it('does not write when the agent completes the Task between the fresh read and the write', async () => {
    rig = await startRig(t);
    const { wrapping } = seedWrapping(rig);
    // Right after the sweep's fresh read of the Task, the agent finishes wrap-up: the read's ETag is stale.
    const hook = rig.emu.admin.afterResponse({ method: 'GET', pathIncludes: `/Tasks/${wrapping}`, times: 1 }, () =>
      rig!.emu.admin.updateTask(wrapping, { assignmentStatus: 'completed', reason: 'agent: wrap-up done' }),
    );
    rig.emu.admin.resetCounters();
    const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'], wrapLimitMs: 5 * MIN, taskReason: 'test: wrap limit' }));
    assert.equal(rig.emu.admin.hookFires(hook), 1);
    assert.equal(taskStatus(rig, wrapping), 'completed');
    assert.equal(taskReason(rig, wrapping), 'agent: wrap-up done', "the agent's completion stands");
    const hits = rig.emu.admin.counters();
    assert.equal(hits.byStatus['412'], 1, 'the stale write was refused by If-Match');
    assert.ok(!report.actions.some((a) => a.sid === wrapping && a.result === 'done'));
    assert.equal(report.counts.closed['complete-task'], 1, 'only the assigned Task');
  });
});
