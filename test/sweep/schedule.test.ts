/**
 * The Schedule `unstick-sweep` (apply is idempotent; interval, overlap SKIP, catch-up window; a triggered run
 * produces a report) and `unstick sweep --wait` (progress lines off a TTY, the report table, the exit code).
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { loadConfig, type Config } from '../../src/config';
import { applySchedule, describeSchedule, pauseSchedule, triggerSchedule, unpauseSchedule } from '../../src/schedule';
import { runSweepCommand } from '../../src/cli/sweep';
import { SCHEDULE_ID, SCHEDULED_SWEEP_ID_PREFIX } from '../../src/shared/names';
import type { SweepReport } from '../../src/shared/sweepTypes';
import { startTestTemporal, waitUntil, type TestTemporal } from '../helpers/temporal';
import { startRig, taskStatus, type SweepRig } from './harness';

function configFor(t: TestTemporal, rig: SweepRig, env: Record<string, string> = {}): Config {
  const s = rig.emu.seeded;
  return loadConfig({
    TEMPORAL_ADDRESS: t.address,
    TEMPORAL_TASK_QUEUE: rig.taskQueue,
    TWILIO_ACCOUNT_SID: rig.emu.accountSid,
    TWILIO_AUTH_TOKEN: rig.emu.authToken,
    TWILIO_API_BASE_URL: rig.emu.url,
    TWILIO_WORKSPACE_SIDS: s.workspaceSid,
    TWILIO_FLOW_SIDS: [s.flexFlowSid, s.messagingFlowSid, s.webchatFlowSid].join(','),
    UNSTICK_GRACE_PERIOD: '0',
    UNSTICK_SWEEP_INTERVAL: '1h',
    UNSTICK_SWEEP_CATCHUP: '10m',
    UNSTICK_SWEEP_MAX_ACTIONS: '0',
    ...env,
  });
}

describe('sweep schedule and CLI', function () {
  let t: TestTemporal;
  let rig: SweepRig;

  before(async () => {
    t = await startTestTemporal();
    rig = await startRig(t);
  });
  after(async () => {
    await rig?.close();
    await t?.teardown();
  });

  it('schedule apply creates the Schedule (interval, overlap SKIP, catch-up window), is idempotent, and a triggered run reports', async () => {
    const seeded = rig.emu.admin.seedTasks({ count: 5 });
    const config = configFor(t, rig);
    assert.equal((await applySchedule(t.client, config)).outcome, 'created');
    assert.equal((await applySchedule(t.client, config)).outcome, 'unchanged');
    assert.equal((await applySchedule(t.client, configFor(t, rig, { UNSTICK_SWEEP_CATCHUP: '15m' }), { replace: true })).outcome, 'updated');

    const d = await describeSchedule(t.client);
    assert.equal(d.scheduleId, SCHEDULE_ID);
    assert.equal(d.spec.intervals?.length, 1);
    assert.equal(Number(d.spec.intervals![0]!.every), 3_600_000);
    assert.equal(d.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(Number(d.policies.catchupWindow), 15 * 60_000);
    assert.equal(d.action.workflowType, 'sweep');
    assert.equal(d.action.taskQueue, rig.taskQueue);
    assert.match(d.action.staticSummary ?? '', /unstick sweep \(scheduled, every 60 min\)/);

    await pauseSchedule(t.client, 'test');
    assert.equal((await describeSchedule(t.client)).state.paused, true);
    await unpauseSchedule(t.client, 'test');
    assert.equal((await describeSchedule(t.client)).state.paused, false);

    const worker = await rig.worker();
    const report = await worker.runUntil(async () => {
      await triggerSchedule(t.client);
      const wfId = await waitUntil('the triggered sweep to start', async () => (await describeSchedule(t.client)).info.recentActions[0]?.action.workflow.workflowId);
      assert.ok(wfId.startsWith(`${SCHEDULED_SWEEP_ID_PREFIX}-`), wfId);
      return (await t.client.workflow.getHandle(wfId).result()) as SweepReport;
    });
    assert.equal(report.startedBy, 'schedule');
    assert.equal(report.counts.tasksSeen, 5);
    const ended = seeded.byCategory.voiceEnded.taskSids;
    assert.equal(report.counts.closed['cancel-task'] + report.counts.closed['complete-task'], ended.length);
    for (const sid of ended) assert.ok(['canceled', 'completed'].includes(taskStatus(rig, sid)!));
    await t.client.schedule.getHandle(SCHEDULE_ID).delete();
  });

  it('the cron strings the configuration accepts are the ones the real server\'s Schedules accept (and the refused ones it refuses)', async () => {
    const create = (cron: string, i: number) =>
      t.client.schedule.create({
        scheduleId: `cron-check-${i}-${Date.now()}`,
        spec: { cronExpressions: [cron] },
        action: { type: 'startWorkflow', workflowType: 'sweep', taskQueue: rig.taskQueue, args: [] },
        state: { paused: true },
      });
    const good = ['*/15 * * * *', '0 3 * * 1-5', '@hourly', '@every 15m', '@every 1h/5m', 'CRON_TZ=Europe/Paris 0 3 * * *', '0 3 * * * 2027', '0 0 3 * * * 2027'];
    for (const [i, cron] of good.entries()) {
      assert.equal(configFor(t, rig, { UNSTICK_SWEEP_CRON: cron }).sweep.cron, cron);
      const handle = await create(cron, i);
      const d = await handle.describe();
      assert.ok(d.spec.calendars?.length || d.spec.intervals?.length, `${cron}: the server compiled it to nothing`);
      await handle.delete();
    }
    for (const [i, cron] of ['banana', '61 * * * *', '* * *', '@every 15'].entries()) {
      assert.throws(() => configFor(t, rig, { UNSTICK_SWEEP_CRON: cron }), /UNSTICK_SWEEP_CRON=/);
      await assert.rejects(create(cron, 100 + i), `${cron}: the server accepted what the configuration refuses`);
    }
  });

  it('unstick sweep --wait prints progress lines off a TTY, the report table, and exits 0', async () => {
    rig.emu.admin.seedTasks({ count: 8 });
    const config = configFor(t, rig);
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    const worker = await rig.worker();
    const code = await worker.runUntil(runSweepCommand(t.client, config, { wait: true, dryRun: true }, { out, pollMs: 50 }));
    assert.equal(code, 0);
    assert.match(text, /^started sweep:\d{4}-\d\d-\d\dT[\d:.]+Z \(dry run\)$/m);
    assert.match(text, /^\[sweep:[^\]]+\] (targets|tasks|executions|done).*page \d+, examined \d+/m);
    assert.match(text, /Tasks examined\s*│\s*8/);
    assert.match(text, /dry run: nothing written/);
  });
});
