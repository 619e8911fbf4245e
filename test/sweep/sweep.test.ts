/**
 * The sweep workflow end to end: real Temporal dev server, real sweep workflow and activities, the real twilio SDK
 * against the emulator. Small data and short thresholds keep it quick.
 */
import { saveHistoryFixture } from '../helpers/histories';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

import type { SweepInput, SweepReport } from '../../src/shared/sweepTypes';
import { SWEEP_WORKFLOW_TYPE, callWorkflowId } from '../../src/shared/names';
import { CallSidKey, UnstickOutcomeKey } from '../../src/shared/searchAttributes';
import { createTwilioClient } from '../../src/twilio/client';
import { startTestTemporal, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';
import { ENDED_LISTS, executionStatus, LIVE_SNAPSHOT_LISTS, runSweep, startRig, taskReason, taskStatus, testInput, type SweepRig } from './harness';

describe('sweep workflow', function () {
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

  it('closes voice Tasks whose call is over by the seed rule, and leaves everything else alone', async () => {
    rig = await startRig(t);
    const seeded = rig.emu.admin.seedTasks({ count: 40, mix: { voiceEnded: 5, voiceLive: 2, chat: 1, unparsable: 1 } });
    rig.emu.admin.resetCounters();
    const ended = seeded.byCategory.voiceEnded.taskSids;
    const statusBefore = new Map(seeded.taskSids.map((sid) => [sid, taskStatus(rig!, sid)!]));
    const reason = 'test: closed stuck voice Task';
    // The live-call snapshot starts with the first list page; a slow list lets it finish first, so that no Task is
    // examined before it (one examined earlier would fetch its call, live or not).
    rig.emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'GET', latencyMs: 300 });

    const report = await runSweep(t, rig, testInput(rig, { taskReason: reason, channels: ['voice'] }));

    for (const sid of ended) {
      const before = statusBefore.get(sid);
      assert.equal(taskStatus(rig, sid), before === 'assigned' ? 'completed' : 'canceled', `${sid} was ${before}`);
      assert.equal(taskReason(rig, sid), reason);
    }
    for (const sid of [...seeded.byCategory.voiceLive.taskSids, ...seeded.byCategory.chat.taskSids, ...seeded.byCategory.unparsable.taskSids]) {
      assert.equal(taskStatus(rig, sid), statusBefore.get(sid), `${sid} must stay open`);
    }
    const assigned = ended.filter((sid) => statusBefore.get(sid) === 'assigned').length;
    assert.equal(report.counts.closed['complete-task'], assigned);
    assert.equal(report.counts.closed['cancel-task'], ended.length - assigned);
    assert.equal(report.counts.tasksSeen, 40);
    assert.equal(report.counts.skipped['call-live'], seeded.byCategory.voiceLive.taskSids.length);
    assert.equal(report.counts.skipped['not-voice'], seeded.byCategory.chat.taskSids.length);
    assert.equal(report.counts.skipped['attributes-unparsable'], seeded.byCategory.unparsable.taskSids.length);
    assert.equal(report.counts.errors, 0);
    // Minimal requests: one list page; three list requests for the live-call snapshot (queued, ringing,
    // in-progress), so live calls need no fetch; one Calls list of the completed calls that started in the span of the
    // page's Tasks, so no ended call is fetched either; a fresh fetch of each Task right before its write (the list
    // only nominates); one write per close.
    const hits = rig.emu.admin.counters().byEndpoint;
    assert.equal(hits['taskrouter:Tasks GET'], 1 + ended.length);
    assert.equal(hits['api:Calls GET'], LIVE_SNAPSHOT_LISTS + ENDED_LISTS);
    assert.equal(hits['taskrouter:Tasks POST'], ended.length);
    assert.equal(report.counts.requests.writes, ended.length);
    assert.equal(report.actions.filter((a) => a.result === 'done').length, ended.length);
  });

  it('in dry run writes nothing and reports the actions it would take', async () => {
    rig = await startRig(t);
    const seeded = rig.emu.admin.seedTasks({ count: 12, mix: { voiceEnded: 2, voiceLive: 1 } });
    // The SMS Flow's Send & Wait times out after 1 h: idle 2 h is past it.
    rig.emu.admin.seedExecutions({ count: 2, kind: 'sms', ageMs: 3 * 3_600_000, lastStepAgeMs: 2 * 3_600_000 });
    rig.emu.admin.resetCounters();

    const report = await runSweep(t, rig, testInput(rig, { dryRun: true, executionThresholdMs: 5_000 }));

    assert.equal(rig.emu.admin.counters().writes, 0, 'no write reached the emulator');
    assert.equal(rig.writesByPath.size, 0);
    const ended = seeded.byCategory.voiceEnded.taskSids;
    assert.equal(report.dryRun, true);
    assert.equal(report.counts.wouldClose['cancel-task'] + report.counts.wouldClose['complete-task'], ended.length);
    assert.equal(report.counts.wouldClose['end-execution'], 2);
    assert.equal(report.counts.closed['cancel-task'] + report.counts.closed['complete-task'] + report.counts.closed['end-execution'], 0);
    assert.deepEqual(new Set(report.actions.filter((a) => a.kind !== 'end-execution').map((a) => a.sid)), new Set(ended));
    assert.ok(report.actions.every((a) => a.result === 'dry-run'));
    for (const sid of seeded.taskSids) assert.ok(['pending', 'reserved', 'assigned'].includes(taskStatus(rig, sid)!));
    assert.match(report.summary, /dry run: .*would close 10/);
  });

  it('stops writing at maxActions and says so', async () => {
    rig = await startRig(t);
    const seeded = rig.emu.admin.seedTasks({ count: 30 });
    rig.emu.admin.resetCounters();

    const report = await runSweep(t, rig, testInput(rig, { maxActions: 7, concurrency: 4, pageSize: 10, channels: ['voice'] }));

    assert.equal(rig.emu.admin.counters().writes, 7);
    assert.equal(report.counts.closed['cancel-task'] + report.counts.closed['complete-task'], 7);
    assert.equal(report.capReached, true);
    assert.match(report.summary, /stopped at maxActions=7/);
    const open = seeded.taskSids.filter((sid) => ['pending', 'reserved', 'assigned'].includes(taskStatus(rig!, sid)!));
    assert.equal(open.length, 23);
    // Later pages were not read: the rest is for the next sweep.
    assert.ok(report.pages <= 1, `pages ${report.pages}`);
  });

  it("retries 429s from the account's concurrency cap inside the page instead of failing it", async () => {
    rig = await startRig(t);
    const seeded = rig.emu.admin.seedTasks({ count: 30 });
    rig.emu.admin.addFault({ endpoint: '*', latencyMs: 15 });
    rig.emu.admin.setLimits({ maxInFlight: 3 });
    rig.emu.admin.resetCounters();

    const report = await runSweep(t, rig, testInput(rig, { concurrency: 10, channels: ['voice'] }));

    assert.ok(rig.emu.admin.counters().tooManyRequests > 0, 'the cap was hit');
    assert.equal(report.counts.requests.throttled, rig.emu.admin.counters().tooManyRequests);
    assert.equal(report.counts.errors, 0);
    assert.equal(report.resumedPages, 0, 'no page activity failed');
    for (const sid of seeded.taskSids) assert.ok(['canceled', 'completed'].includes(taskStatus(rig, sid)!));
  });

  it('fetches Tasks the list returns without attributes before deciding (and writes with their ETag)', async () => {
    rig = await startRig(t, { settings: { taskListAttributes: 'null' } });
    const seeded = rig.emu.admin.seedTasks({ count: 6, mix: { voiceEnded: 2, voiceLive: 1 } });
    rig.emu.admin.resetCounters();

    const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'] }));

    for (const sid of seeded.byCategory.voiceEnded.taskSids) assert.ok(['canceled', 'completed'].includes(taskStatus(rig, sid)!));
    for (const sid of seeded.byCategory.voiceLive.taskSids) assert.ok(['pending', 'reserved', 'assigned'].includes(taskStatus(rig, sid)!));
    const hits = rig.emu.admin.counters().byEndpoint;
    // One list page, then one fetch per Task (for its attributes and ETag).
    assert.equal(hits['taskrouter:Tasks GET'], 1 + 6);
    assert.equal(report.counts.closed['cancel-task'] + report.counts.closed['complete-task'], seeded.byCategory.voiceEnded.taskSids.length);
  });

  it('re-reads and decides again when the Task changed under it (412 on If-Match)', async () => {
    rig = await startRig(t, { settings: { taskListAttributes: 'null' } });
    const [sid] = rig.emu.admin.seedTasks({ count: 1, assignmentStatuses: ['pending'] }).taskSids;
    // Right after the sweep's fresh read of the Task, someone else updates it (a harmless attribute): its ETag changes.
    const hook = rig.emu.admin.afterResponse({ method: 'GET', pathIncludes: sid!, times: 1 }, () =>
      rig!.emu.admin.updateTask(sid!, { attributes: { ...JSON.parse(rig!.emu.admin.inspectTask(sid!)!.attributes), note: 'touched' } }),
    );
    rig.emu.admin.resetCounters();
    const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'] }));
    assert.equal(rig.emu.admin.hookFires(hook), 1);
    const hits = rig.emu.admin.counters();
    assert.equal(hits.byStatus['412'], 1);
    assert.equal(hits.byEndpoint['taskrouter:Tasks POST'], 2, 'the stale write, then one with the fresh ETag');
    assert.equal(taskStatus(rig, sid!), 'canceled');
    assert.equal(report.counts.closed['cancel-task'], 1);
    assert.equal(report.actions[0]?.result, 'done');
  });

  it('fails fast, without retrying, when Twilio refuses the credentials', async () => {
    rig = await startRig(t);
    rig.emu.admin.seedTasks({ count: 3 });
    const bad = createTwilioClient(rig.emu.twilioConfig({ authToken: 'not-the-token' }));
    const worker = await rig.worker({ deps: { twilio: bad } });
    const started = Date.now();
    await assert.rejects(
      worker.runUntil(t.client.workflow.execute(SWEEP_WORKFLOW_TYPE, { taskQueue: rig.taskQueue, workflowId: uniqueId('sweep-401'), args: [testInput(rig)] })),
      (err: unknown) => err instanceof WorkflowFailedError && /refused the credentials/.test(String((err.cause?.cause as Error | undefined)?.message)),
    );
    assert.ok(Date.now() - started < 10_000);
    // The first Task page and the live-call snapshot start together; each is refused once and never retried.
    const hits = rig.emu.admin.counters();
    assert.equal(hits.byEndpoint['taskrouter:Tasks GET'], 1);
    assert.ok((hits.byEndpoint['api:Calls GET'] ?? 0) <= 1);
    assert.equal(hits.unauthorized, hits.total, 'every request refused, none retried');
  });

  it('continues as new on a long sweep and keeps the totals', async () => {
    rig = await startRig(t);
    const seeded = rig.emu.admin.seedTasks({ count: 23, mix: { voiceEnded: 2, voiceLive: 1 } });
    const workflowId = uniqueId('sweep-can');

    const report = await runSweep(t, rig, testInput(rig, { pageSize: 5, pagesPerRun: 2, channels: ['voice'], maxReportedActions: 4 }), workflowId);

    const ended = seeded.byCategory.voiceEnded.taskSids.length;
    assert.ok(report.runs >= 3, `runs ${report.runs}`);
    assert.equal(report.counts.tasksSeen, 23);
    assert.equal(report.counts.closed['cancel-task'] + report.counts.closed['complete-task'], ended);
    assert.equal(report.counts.skipped['call-live'], seeded.byCategory.voiceLive.taskSids.length);
    assert.equal(report.actions.length, 4);
    assert.equal(report.actionsOmitted, ended - 4);
    // Every run but the last ends in ContinuedAsNew, carrying the totals; the first one starts the sweep afresh.
    const runs: { runId: string; startMs: number; status: string }[] = [];
    for await (const wf of t.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      runs.push({ runId: wf.runId, startMs: wf.startTime.getTime(), status: wf.status.name });
    }
    runs.sort((x, y) => x.startMs - y.startMs);
    assert.equal(runs.length, report.runs);
    assert.deepEqual(runs.map((r) => r.status), [...Array(runs.length - 1).fill('CONTINUED_AS_NEW'), 'COMPLETED']);
    const first = await t.client.workflow.getHandle(workflowId, runs[0]!.runId).fetchHistory();
    const events = first.events ?? [];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    assert.ok(started, 'the first event starts the workflow');
    assert.equal(started.continuedExecutionRunId ?? '', '', 'the first run is not itself a continuation');
    const last = events[events.length - 1]!;
    assert.ok(last.workflowExecutionContinuedAsNewEventAttributes, 'the first run ends in ContinuedAsNew');
    const carried = defaultPayloadConverter.fromPayload(last.workflowExecutionContinuedAsNewEventAttributes.input!.payloads![0]!) as SweepInput;
    assert.ok(carried.carried, 'the next run gets the carried state');
    assert.equal(carried.carried.runs, 1);
    assert.ok(carried.carried.counts.tasksSeen > 0 && carried.carried.counts.tasksSeen < 23, `carried tasksSeen ${carried.carried.counts.tasksSeen}`);
    assert.ok(carried.carried.nextPageUrl, 'and the URL of the next page');
    await saveHistoryFixture('sweep-continue-as-new', t.client.workflow.getHandle(workflowId), t.server);
  });

  it('ends voice Executions whose call is over and messaging Executions idle past their widget timeout, not younger ones', async () => {
    rig = await startRig(t);
    const admin = rig.emu.admin;
    // SMS: Send & Wait with a 1 h timeout; webchat: Send & Wait without one (the threshold, 8 s, applies).
    const oldSms = admin.seedExecutions({ count: 3, kind: 'sms', ageMs: 3 * 3_600_000, lastStepAgeMs: 3_700_000 }).executionSids;
    const waitingSms = admin.seedExecutions({ count: 2, kind: 'sms', ageMs: 3 * 3_600_000, lastStepAgeMs: 15_000 }).executionSids;
    const oldChat = admin.seedExecutions({ count: 2, kind: 'webchat', ageMs: 20_000, lastStepAgeMs: 12_000 }).executionSids;
    const youngSms = admin.seedExecutions({ count: 2, kind: 'sms', ageMs: 20_000, lastStepAgeMs: 1_000 }).executionSids;
    const newSms = admin.seedExecutions({ count: 1, kind: 'sms', ageMs: 1_000, lastStepAgeMs: 1_000 }).executionSids;
    // Hours old: the seeded calls last up to ~10 minutes.
    const voiceEnded = admin.seedExecutions({ count: 2, kind: 'voice-ended-call', ageMs: 2 * 3_600_000 }).executionSids;
    const voiceLive = admin.seedExecutions({ count: 1, kind: 'voice-live-call', ageMs: 2 * 3_600_000 }).executionSids;

    const report = await runSweep(t, rig, testInput(rig, { executionThresholdMs: 8_000, channels: ['voice', 'sms', 'webchat'] }));

    for (const sid of [...oldSms, ...oldChat, ...voiceEnded]) assert.equal(executionStatus(rig, sid), 'ended', sid);
    for (const sid of [...waitingSms, ...youngSms, ...newSms, ...voiceLive]) assert.equal(executionStatus(rig, sid), 'active', sid);
    assert.equal(report.counts.closed['end-execution'], oldSms.length + oldChat.length + voiceEnded.length);
    assert.equal(report.counts.skipped['messaging-not-idle'], waitingSms.length + youngSms.length + newSms.length);
    assert.equal(report.counts.skipped['call-live'], voiceLive.length);
    // Every active Execution older than the grace (0 here) is a candidate.
    assert.equal(report.counts.executionsSeen, oldSms.length + waitingSms.length + oldChat.length + youngSms.length + newSms.length + voiceEnded.length + voiceLive.length);
    const smsAction = report.actions.find((a) => a.sid === oldSms[0]);
    assert.equal(smsAction?.widget, 'send_and_wait', 'the record names the widget it was stuck in');
  });

  it('goes through several Flows\' Execution pages in one activity, and across continueAsNew', async () => {
    rig = await startRig(t);
    const admin = rig.emu.admin;
    // Three Flows (messaging, webchat, voice), several pages each at page size 2.
    const sms = admin.seedExecutions({ count: 5, kind: 'sms', ageMs: 3 * 3_600_000, lastStepAgeMs: 2 * 3_600_000 }).executionSids;
    const chat = admin.seedExecutions({ count: 3, kind: 'webchat', ageMs: 20_000, lastStepAgeMs: 15_000 }).executionSids;
    const voice = admin.seedExecutions({ count: 4, kind: 'voice-ended-call', ageMs: 2 * 3_600_000 }).executionSids;
    const workflowId = uniqueId('sweep-flows');

    const report = await runSweep(t, rig, testInput(rig, { executionThresholdMs: 8_000, channels: ['voice', 'sms', 'webchat'], pageSize: 2, pagesPerRun: 4 }), workflowId);

    for (const sid of [...sms, ...chat, ...voice]) assert.equal(executionStatus(rig, sid), 'ended', sid);
    assert.equal(report.counts.closed['end-execution'], sms.length + chat.length + voice.length);
    assert.equal(report.counts.executionsSeen, sms.length + chat.length + voice.length);
    assert.equal(report.counts.errors, 0);
    assert.ok(report.runs >= 2, `runs ${report.runs}`);
    // Fewer Execution activities than Execution pages: one activity goes on from Flow to Flow.
    let activities = 0;
    for await (const run of t.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await t.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      for (const e of history.events ?? []) if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'sweepExecutionPage') activities++;
    }
    assert.ok(activities < report.pages, `${activities} Execution activities for ${report.pages} pages`);
    await saveHistoryFixture('sweep-multi-flow-executions', t.client.workflow.getHandle(workflowId), t.server);
  });

  it('leaves calls with a running callWatch to it', async () => {
    rig = await startRig(t);
    const seeded = rig.emu.admin.seedTasks({ count: 6 });
    rig.emu.admin.resetCounters();
    const calls = seeded.byCategory.voiceEnded.callSids;
    const owned = calls.slice(0, 2);
    const idle = uniqueId('no-worker');
    for (const callSid of owned) {
      // A callWatch that stays Running: nobody polls its task queue.
      await t.client.workflow.start('callWatch', {
        taskQueue: idle,
        workflowId: callWorkflowId(callSid),
        args: [{ callSid }],
        typedSearchAttributes: [{ key: CallSidKey, value: callSid }],
      });
    }
    await waitUntil('visibility shows the callWatch runs', async () =>
      (await t.client.workflow.count(`WorkflowType = 'callWatch' AND ExecutionStatus = 'Running' AND CallSid IN (${owned.map((s) => `'${s}'`).join(', ')})`)).count === 2,
    );

    const report = await runSweep(t, rig, testInput(rig, { channels: ['voice'] }));

    const taskOf = new Map(calls.map((c, i) => [c, seeded.byCategory.voiceEnded.taskSids[i]!]));
    for (const c of owned) assert.ok(['pending', 'reserved', 'assigned'].includes(taskStatus(rig, taskOf.get(c)!)!), `${c} is owned by its callWatch`);
    for (const c of calls.slice(2)) assert.ok(['canceled', 'completed'].includes(taskStatus(rig, taskOf.get(c)!)!));
    assert.equal(report.counts.skipped['owned-by-callwatch'], 2);
    // No call is fetched: the others are proven over by the ended-calls list, and owned ones are not even looked up.
    assert.equal(rig.emu.admin.counters().byEndpoint['api:Calls GET'], LIVE_SNAPSHOT_LISTS + ENDED_LISTS);
    for (const c of owned) await t.client.workflow.getHandle(callWorkflowId(c)).terminate('test over');
  });

  it('splits the ownership query when the visibility store refuses a long IN list', async () => {
    rig = await startRig(t);
    const seeded = rig.emu.admin.seedTasks({ count: 300, mix: { voiceEnded: 1 } });
    const calls = seeded.byCategory.voiceEnded.callSids;
    const owned = [calls[7]!, calls[250]!];
    const idle = uniqueId('no-worker');
    for (const callSid of owned) {
      await t.client.workflow.start('callWatch', { taskQueue: idle, workflowId: callWorkflowId(callSid), args: [{ callSid }], typedSearchAttributes: [{ key: CallSidKey, value: callSid }] });
    }
    await waitUntil('visibility shows the callWatch runs', async () =>
      (await t.client.workflow.count(`WorkflowType = 'callWatch' AND ExecutionStatus = 'Running' AND CallSid IN (${owned.map((s) => `'${s}'`).join(', ')})`)).count === 2,
    );
    // The real client, except that list() refuses queries naming more than 120 CallSids (as a store with a limit would).
    const refused: number[] = [];
    const workflowClient = new Proxy(t.client.workflow, {
      get(target, prop, receiver) {
        if (prop !== 'list') return Reflect.get(target, prop, receiver) as unknown;
        return (opts: { query?: string }) => {
          const n = (opts.query?.match(/'CA/g) ?? []).length;
          if (n > 120) {
            refused.push(n);
            throw new Error(`query too long: ${n} values`);
          }
          return target.list(opts);
        };
      },
    });
    const temporal = new Proxy(t.client, { get: (target, prop, receiver) => (prop === 'workflow' ? workflowClient : Reflect.get(target, prop, receiver)) as unknown });
    const worker = await rig.worker({ deps: { temporal } });

    const report = (await worker.runUntil(
      t.client.workflow.execute(SWEEP_WORKFLOW_TYPE, { taskQueue: rig.taskQueue, workflowId: uniqueId('sweep-split'), args: [testInput(rig, { channels: ['voice'], pageSize: 1000 })] }),
    )) as SweepReport;

    assert.deepEqual(refused, [300, 150, 150], 'one page of 300 CallSids, then both halves of 150; the quarters of 75 pass');
    assert.equal(report.counts.skipped['owned-by-callwatch'], 2);
    assert.equal(report.counts.closed['cancel-task'] + report.counts.closed['complete-task'], 298);
    assert.equal(report.counts.errors, 0);
    for (const c of owned) await t.client.workflow.getHandle(callWorkflowId(c)).terminate('test over');
  });

  it('hands each live call to a callWatch of its own, linked to its Task, once', async () => {
    rig = await startRig(t);
    const seeded = rig.emu.admin.seedTasks({ count: 8, mix: { voiceEnded: 1, voiceLive: 1 } });
    const live = seeded.byCategory.voiceLive;
    const watchQueue = uniqueId('watch-tq'); // nobody polls it: the started watches stay Running for inspection
    const settings = { dryRun: true, graceMs: 1000, maxAgeMs: 3_600_000, pollInitialMs: 1000, pollMaxMs: 5000, messagingIdleMs: 3_600_000, taskReason: 'x', postCallTaskAfterMs: 120_000, flowSids: [], workspaceSids: [] };
    const input = testInput(rig, { channels: ['voice'], watchLiveCalls: { taskQueue: watchQueue, settings } });

    const report = await runSweep(t, rig, input);
    assert.equal(report.counts.skipped['call-live'], live.callSids.length);
    assert.equal(report.counts.watchesStarted, live.callSids.length);
    for (const [i, callSid] of live.callSids.entries()) {
      const handle = t.client.workflow.getHandle(callWorkflowId(callSid));
      const d = await handle.describe();
      assert.equal(d.type, 'callWatch');
      assert.equal(d.taskQueue, watchQueue);
      assert.equal(d.typedSearchAttributes.get(CallSidKey), callSid);
      const history = await handle.fetchHistory();
      const signal = history.events!.find((e) => e.workflowExecutionSignaledEventAttributes)?.workflowExecutionSignaledEventAttributes;
      assert.equal(signal?.signalName, 'taskLink');
      const link = defaultPayloadConverter.fromPayload<{ taskSid: string; callSid: string }>(signal!.input!.payloads![0]!);
      assert.deepEqual([link.callSid, link.taskSid], [callSid, live.taskSids[i]], 'the signal links the Task the sweep saw');
    }
    // A second sweep finds them owned by their watches and starts nothing new.
    const again = await runSweep(t, rig, input);
    assert.equal(again.counts.skipped['owned-by-callwatch'], live.callSids.length);
    assert.equal(again.counts.watchesStarted ?? 0, 0);
    for (const c of live.callSids) await t.client.workflow.getHandle(callWorkflowId(c)).terminate('test over');
  });

  it('answers the progress query while it runs and shows a report in the Web UI fields', async () => {
    rig = await startRig(t);
    rig.emu.admin.seedTasks({ count: 20 });
    rig.emu.admin.addFault({ endpoint: 'api:Calls', latencyMs: 40 });
    const worker = await rig.worker();
    const workflowId = uniqueId('sweep-progress');
    const report = await worker.runUntil(async () => {
      const handle = await t.client.workflow.start(SWEEP_WORKFLOW_TYPE, { taskQueue: rig!.taskQueue, workflowId, args: [testInput(rig!, { pageSize: 5, concurrency: 2, channels: ['voice'] })] });
      const p = await waitUntil('a page done', async () => {
        const q = await handle.query('progress');
        return (q as { pages: number }).pages >= 1 ? q : undefined;
      });
      assert.equal((p as { sweepId: string }).sweepId, workflowId);
      const result = (await handle.result()) as SweepReport;
      // The Web UI's "current details": a markdown summary.
      const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
      assert.match(meta.currentDetails ?? '', /## Sweep [\s\S]*\| Tasks examined \| 20 \|/);
      return result;
    });
    assert.equal(report.counts.tasksSeen, 20);
    const desc = await t.client.workflow.getHandle(workflowId).describe();
    assert.equal(desc.typedSearchAttributes.get(UnstickOutcomeKey), 'closed');
  });
});
