/**
 * The sweep records where each Execution it ends (or would end, in dry run) was stuck: last Step, widget type, Flow
 * revision, the number called, and the cause. Real Temporal, real sweep workflow, emulator through the SDK.
 */
import assert from 'node:assert/strict';
import { SWEEP_WORKFLOW_TYPE } from '../../src/shared/names';
import type { SweepReport } from '../../src/shared/sweepReport';
import { startTestTemporal, uniqueId, type TestTemporal } from '../helpers/temporal';
import { runSweep, startRig, testInput, type SweepRig } from './harness';

const HOUR = 3_600_000;

describe('sweep: where Executions get stuck', function () {
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

  it('records the widget, last Step, Flow revision, called number and cause of each Execution it ends', async () => {
    rig = await startRig(t);
    const s = rig.emu.admin;
    const voice = s.seedExecutions({ count: 2, kind: 'voice-ended-call', callEndedAgoMs: 10 * 60_000 });
    const revision = s.setSendAndWaitTimeout(rig.emu.seeded.messagingFlowSid, undefined);
    const sms = s.seedExecutions({ count: 1, kind: 'sms', ageMs: 3 * HOUR, lastStepAgeMs: 2 * HOUR });
    s.resetCounters();

    const worker = await rig.worker();
    const { report, details } = await worker.runUntil(async () => {
      const h = await t.client.workflow.start(SWEEP_WORKFLOW_TYPE, { taskQueue: rig!.taskQueue, workflowId: uniqueId('sweep-stuck'), args: [testInput(rig!, { executionThresholdMs: 5_000, channels: ['voice', 'sms'] })] });
      const r = (await h.result()) as SweepReport;
      const meta = (await h.query('__temporal_workflow_metadata')) as { currentDetails?: string };
      return { report: r, details: meta.currentDetails ?? '' };
    });
    // The Web UI's current details show the top causes, each with its audit check.
    assert.match(details, /### Where Executions got stuck \(top causes\)/);
    assert.match(details, /\| Send & Wait without timeout \| 1 \| send-and-wait-timeout \|/);
    assert.match(details, /\| 2 \| status-callback \|/);

    const ended = report.actions.filter((a) => a.kind === 'end-execution');
    assert.equal(ended.length, 3, JSON.stringify(report.actions));
    for (const sid of voice.executionSids) {
      const a = ended.find((x) => x.sid === sid);
      assert.ok(a?.stuck, `${sid} has a stuck record`);
      assert.equal(a.stuck.flowSid, rig.emu.seeded.flexFlowSid);
      assert.ok(['stop-after-hangup-before-twiml', 'status-callback-misconfigured'].includes(a.stuck.cause), a.stuck.cause);
      assert.ok(a.stuck.widget, 'the widget it was stuck in');
      assert.equal(typeof a.stuck.flowRevision, 'number');
      assert.match(a.stuck.calledNumber ?? '', /^\+\d+$/);
    }
    const m = ended.find((x) => x.sid === sms.executionSids[0]);
    assert.equal(m?.stuck?.cause, 'send-and-wait-without-timeout');
    assert.equal(m?.stuck?.widgetType, 'send-and-wait-for-reply');
    assert.equal(m?.stuck?.flowRevision, revision);
    assert.equal(m?.stuck?.calledNumber, undefined);
    assert.ok(m?.stuck?.transitionedFrom, 'the last Step');
  });

  it('records it in dry run too, and reads nothing extra for Executions it leaves alone', async () => {
    rig = await startRig(t);
    const s = rig.emu.admin;
    s.seedExecutions({ count: 1, kind: 'voice-ended-call', callEndedAgoMs: 10 * 60_000 });
    s.seedExecutions({ count: 2, kind: 'voice-live-call' });
    s.resetCounters();
    const report = await runSweep(t, rig, testInput(rig, { dryRun: true, executionThresholdMs: 5_000, channels: ['voice'] }));
    const ended = report.actions.filter((a) => a.kind === 'end-execution');
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.result, 'dry-run');
    assert.ok(ended[0]!.stuck);
    // One Steps list for the one stuck Execution; none for the two of live calls.
    assert.equal(s.counters().byEndpoint['studio:Steps GET'], 1);
    assert.equal(s.counters().writes, 0);
  });
});
