/**
 * Decision safety in the sweep, against the real dev server and the emulator through the SDK: the list only
 * nominates; every write is decided by the policy on a fresh read and carries its ETag. Each case here closed
 * something it must not have (or waited hours for something it could close) before the guarded writer.
 */
import assert from 'node:assert/strict';
import type { SweepReport } from '../../src/shared/sweepTypes';
import { startTestTemporal, type TestTemporal } from '../helpers/temporal';
import { executionStatus, runSweep, startRig, taskStatus, testInput, type SweepRig } from '../sweep/harness';

const HOUR = 3_600_000;
const MIN = 60_000;
const LIST_MODES = ['full', 'null'] as const;

describe('decision safety: sweep', function () {
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

  const attrsOf = (sid: string): Record<string, unknown> => JSON.parse(rig!.emu.admin.inspectTask(sid)!.attributes) as Record<string, unknown>;
  const postsTo = (sid: string): number => [...rig!.writesByPath].filter(([p]) => p.endsWith(sid)).reduce((n, [, c]) => n + c, 0);

  /**
   * Four stuck voice Tasks (assigned, call over) that change at `when` — after the list page was answered, or after
   * the sweep's own fetch of that Task — in the four ways that must stop a write: an agent starts wrap-up, the
   * call_sid now names a live call, a custom orchestration marker, a protected attribute.
   */
  async function raceRun(listAttributes: (typeof LIST_MODES)[number], when: 'after-list' | 'after-fetch'): Promise<{ report: SweepReport; sids: Record<string, string> }> {
    rig = await startRig(t, { settings: { taskListAttributes: listAttributes } });
    const admin = rig.emu.admin;
    const seeded = admin.seedTasks({ count: 6, mix: { voiceEnded: 5, voiceLive: 1 }, assignmentStatuses: ['assigned'] });
    const [wrap, reroute, custom, protect, control] = seeded.byCategory.voiceEnded.taskSids as [string, string, string, string, string];
    const liveCall = seeded.byCategory.voiceLive.callSids[0]!;
    const changes: [string, () => void][] = [
      [wrap, () => admin.updateTask(wrap, { assignmentStatus: 'wrapping' })],
      [reroute, () => admin.updateTask(reroute, { attributes: { ...attrsOf(reroute), call_sid: liveCall } })],
      [custom, () => admin.updateTask(custom, { attributes: { ...attrsOf(custom), custom_orchestration: true } })],
      [protect, () => admin.updateTask(protect, { attributes: { ...attrsOf(protect), taskType: 'voicemail' } })],
    ];
    const hooks: number[] = [];
    if (when === 'after-list') {
      const listPath = `/Workspaces/${rig.emu.seeded.workspaceSid}/Tasks`;
      hooks.push(admin.afterResponse({ method: 'GET', endpoint: 'taskrouter:Tasks', pathIncludes: listPath, times: 1 }, () => changes.forEach(([, change]) => change())));
    } else {
      for (const [sid, change] of changes) hooks.push(admin.afterResponse({ method: 'GET', pathIncludes: sid, times: 1 }, change));
    }
    const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'], protectTasks: 'taskType IN ["callback", "voicemail"]' }));
    for (const h of hooks) assert.equal(admin.hookFires(h), 1, 'the change happened inside the window');
    assert.equal(taskStatus(rig, control), 'completed', 'the unchanged stuck Task is still closed');
    return { report, sids: { wrap, reroute, custom, protect } };
  }

  for (const mode of LIST_MODES) {
    for (const when of ['after-list', 'after-fetch'] as const) {
      it(`a Task that changes ${when === 'after-list' ? 'after the sweep listed it' : "between the sweep's fetch and its write"} is re-decided, not written (list attributes ${mode})`, async () => {
        const { report, sids } = await raceRun(mode, when);
        assert.equal(taskStatus(rig!, sids.wrap!), 'wrapping', 'wrap-up left to the agent');
        for (const sid of [sids.reroute!, sids.custom!, sids.protect!]) assert.equal(taskStatus(rig!, sid), 'assigned', `${sid} left open`);
        if (when === 'after-list') {
          // Seen by the fresh read: no write was even tried.
          for (const sid of Object.values(sids)) assert.equal(postsTo(sid), 0, `${sid} was not written`);
          assert.equal(report.counts.skipped['wrapping-left-to-agent'], 1);
          assert.equal(report.counts.skipped['call-live'], 2, 'the rerouted Task and the live-call Task');
          assert.equal(report.counts.skipped['custom-orchestration'], 1);
          assert.equal(report.counts.skipped['protected'], 1);
        } else {
          // Changed after the fetch: the write carried the old ETag, got 412, and the re-read left it alone.
          for (const sid of Object.values(sids)) assert.equal(postsTo(sid), 1, `${sid}: one refused write`);
          assert.equal(report.counts.changed, 4);
        }
        assert.equal(report.counts.closed['complete-task'], 1);
        assert.equal(report.counts.errors, 0);
      });
    }
  }

  it('leaves an SMS Execution alone while its Send & Wait timeout (24 h) runs, though it is idle past the 4 h threshold', async () => {
    rig = await startRig(t);
    const admin = rig.emu.admin;
    const flow = rig.emu.seeded.messagingFlowSid;
    admin.setSendAndWaitTimeout(flow, '86400');
    const waiting = admin.seedExecutions({ count: 2, kind: 'sms', ageMs: 6 * HOUR, lastStepAgeMs: 5 * HOUR }).executionSids;
    const timedOut = admin.seedExecutions({ count: 1, kind: 'sms', ageMs: 30 * HOUR, lastStepAgeMs: 25 * HOUR }).executionSids;

    const report = await runSweep(t, rig, testInput(rig, { channels: ['sms'], executionThresholdMs: 4 * HOUR, graceMs: 2 * MIN }));

    for (const sid of waiting) assert.equal(executionStatus(rig, sid), 'active', sid);
    assert.equal(executionStatus(rig, timedOut[0]!), 'ended', 'idle past timeout + grace');
    assert.equal(report.counts.skipped['messaging-not-idle'], waiting.length);
    const action = report.actions.find((a) => a.sid === timedOut[0]);
    assert.equal(action?.widget, 'send_and_wait');
    assert.match(action!.reason, /timeout 24h/);
  });

  it('an unreadable Flow definition leaves its messaging Executions alone', async () => {
    rig = await startRig(t);
    const admin = rig.emu.admin;
    const sids = admin.seedExecutions({ count: 2, kind: 'webchat', ageMs: 30 * HOUR, lastStepAgeMs: 25 * HOUR }).executionSids;
    // A malformed record (a state without a type), as a broken publish or an API change could serve it.
    rig.emu.admin.setRawFlowDefinition(rig.emu.seeded.webchatFlowSid, { states: [{ name: 'Trigger' }] });

    const report = await runSweep(t, rig, testInput(rig, { channels: ['webchat'], executionThresholdMs: 4 * HOUR }));

    for (const sid of sids) assert.equal(executionStatus(rig, sid), 'active', sid);
    assert.equal(report.counts.skipped['flow-unreadable'], sids.length);
  });

  it("ends a voice Execution minutes after its call ended, whatever its age (an outage's lost final webhook)", async () => {
    rig = await startRig(t);
    const admin = rig.emu.admin;
    const stuck = admin.seedExecutions({ count: 2, kind: 'voice-ended-call', ageMs: 10 * MIN, callEndedAgoMs: 5 * MIN }).executionSids;
    const inGrace = admin.seedExecutions({ count: 1, kind: 'voice-ended-call', ageMs: 10 * MIN, callEndedAgoMs: 30_000 }).executionSids;
    const live = admin.seedExecutions({ count: 1, kind: 'voice-live-call', ageMs: 10 * MIN }).executionSids;

    const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'], executionThresholdMs: 4 * HOUR, graceMs: 2 * MIN }));

    for (const sid of stuck) assert.equal(executionStatus(rig, sid), 'ended', sid);
    for (const sid of [...inGrace, ...live]) assert.equal(executionStatus(rig, sid), 'active', sid);
    assert.equal(report.counts.closed['end-execution'], stuck.length);
    assert.equal(report.counts.skipped['grace-period'], inGrace.length);
    assert.equal(report.counts.skipped['call-live'], live.length);
  });

  for (const mode of LIST_MODES) {
    it(`never closes a callback Task created after its call ended, nor a protected one (list attributes ${mode})`, async () => {
      rig = await startRig(t, { settings: { taskListAttributes: mode } });
      const admin = rig.emu.admin;
      const seeded = admin.seedTasks({ count: 6, mix: { voiceEnded: 3, callback: 3 }, callbackDelayMs: 10 * MIN, callEndedAgoMs: 20 * MIN });
      const [protectedSid, ...stuck] = seeded.byCategory.voiceEnded.taskSids as [string, ...string[]];
      admin.updateTask(protectedSid, { attributes: { ...attrsOf(protectedSid), conversations: { external_contact: '+15550001111' } } });
      const before = new Map(seeded.taskSids.map((sid) => [sid, taskStatus(rig!, sid)]));

      const report = await runSweep(
        t,
        rig,
        testInput(rig, { channels: ['voice'], postCallTaskAfterMs: 2 * MIN, protectTasks: 'conversations.external_contact != null AND taskType != "callback"' }),
      );

      for (const sid of [...seeded.byCategory.callback.taskSids, protectedSid]) assert.equal(taskStatus(rig, sid), before.get(sid), `${sid} untouched`);
      for (const sid of stuck) assert.ok(['canceled', 'completed'].includes(taskStatus(rig, sid)!), `${sid} closed`);
      assert.equal(report.counts.skipped['post-call-task'], seeded.byCategory.callback.taskSids.length);
      assert.equal(report.counts.skipped['protected'], 1);
    });
  }
});
