/**
 * The tools for attacking read-then-write windows: after-response hooks, in-process actors (agents, other apps,
 * Flow publishes, calls ending) and the seeds for the stories they play, through the real `twilio` SDK, with every
 * REST answer validated against the OpenAPI specs.
 */
import { strict as assert } from 'node:assert';
import { EmulatorAdminClient, startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator';
import { createTwilioClient, fetchTaskWithEtag } from '../../src/twilio/client';
import type { RawResponseInfo, TwilioClient } from '../../src/twilio/client';
import { startReceiver, waitFor } from './helpers';
import { OpenApiValidator } from './openapi';

type RestErr = { status?: number; code?: number; message?: string };
const MIN = 60_000;
const HOUR = 3_600_000;
/** Twilio serialises Studio/TaskRouter/API dates at second precision. */
const sec = (ms: number) => Math.floor(ms / 1000) * 1000;

describe('emulator race tools (after-response hooks, actors, seeds)', function () {
  this.timeout(30_000);
  let emu: Emulator;
  let client: TwilioClient;
  const recorded: RawResponseInfo[] = [];
  const validator = new OpenApiValidator();
  let now: number;
  const tasks = () => client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).tasks;
  const seedOne = (status: 'pending' | 'reserved' | 'assigned') => emu.admin.seedTasks({ count: 1, assignmentStatuses: [status] }).taskSids[0]!;
  const task = (sid: string) => emu.admin.inspectTask(sid)!;
  /** reservationSid is not in the admin view: the one read of the store's record. */
  const reservationOf = (sid: string) => emu.core.store.tasks.get(sid)!.reservationSid;

  before(async () => {
    emu = await startEmulator({ seed: 'races' });
  });
  after(async () => emu?.close());
  beforeEach(() => {
    emu.admin.reset();
    now = emu.admin.clock.set(Date.parse('2030-01-15T12:00:00Z'), true).epochMs;
    client = createTwilioClient(emu.twilioConfig(), { onResponse: (r) => recorded.push(r) });
  });
  afterEach(() => {
    const problems = recorded.splice(0).flatMap((r) => validator.check(r).map((p) => `${r.method} ${r.uri} → ${r.statusCode}: ${p}`));
    assert.deepEqual(problems, []);
  });

  describe('afterResponse', () => {
    it('fires once, after the matched answer and before the next request: a write with the read ETag gets 412', async () => {
      const sid = seedOne('assigned');
      let requestsWhenFired = -1;
      const id = emu.admin.afterResponse({ method: 'GET', endpoint: 'taskrouter:Tasks', pathIncludes: sid }, () => {
        requestsWhenFired = emu.admin.counters().total;
        emu.admin.updateTask(sid, { assignmentStatus: 'wrapping' });
      });
      const before = emu.admin.counters().total;
      const read = await fetchTaskWithEtag(client, emu.seeded.workspaceSid, sid);
      assert.equal(read.task.assignmentStatus, 'assigned', 'the answer is the state from before the action');
      assert.equal(emu.admin.hookFires(id), 1, 'fired by the time the client has the answer');
      assert.equal(requestsWhenFired, before + 1, 'no request after the GET had reached the emulator when it fired');
      assert.equal(task(sid).status, 'wrapping');
      await assert.rejects(tasks()(sid).update({ assignmentStatus: 'completed', reason: 'stale', ifMatch: read.etag }), (e: RestErr) => e.status === 412);
      const again = await fetchTaskWithEtag(client, emu.seeded.workspaceSid, sid);
      assert.equal(again.task.assignmentStatus, 'wrapping');
      assert.notEqual(again.etag, read.etag);
      assert.equal(emu.admin.hookFires(id), 1, 'times defaults to 1');
      assert.equal(task(sid).status, 'wrapping', 'the refused write changed nothing');
    });

    it('matches method, endpoint (with product:*), path and status; times; remove; admin requests never match', async () => {
      const [a, b] = emu.admin.seedTasks({ count: 2, assignmentStatuses: ['pending'] }).taskSids as [string, string];
      const getA = emu.admin.afterResponse({ method: 'get', endpoint: 'taskrouter:*', pathIncludes: a, times: 2 }, () => undefined);
      const postA = emu.admin.afterResponse({ method: 'POST', endpoint: 'taskrouter:Tasks', pathIncludes: a }, () => undefined);
      const notFound = emu.admin.afterResponse({ endpoint: 'taskrouter:Tasks', status: 404 }, () => undefined);
      const calls = emu.admin.afterResponse({ endpoint: 'api:Calls', times: 5 }, () => undefined);
      const any = emu.admin.afterResponse({ times: 100 }, () => undefined);
      await tasks()(b).fetch();
      assert.deepEqual([getA, postA, notFound, calls].map((id) => emu.admin.hookFires(id)), [0, 0, 0, 0]);
      await tasks()(a).fetch();
      await tasks()(a).fetch();
      await tasks()(a).fetch();
      assert.equal(emu.admin.hookFires(getA), 2, 'times: 2');
      await tasks()(a).update({ attributes: '{"x":1}' });
      assert.equal(emu.admin.hookFires(postA), 1);
      await assert.rejects(tasks()('WT' + '0'.repeat(32)).fetch(), (e: RestErr) => e.status === 404);
      assert.equal(emu.admin.hookFires(notFound), 1);
      assert.equal(emu.admin.removeAfterResponse(calls), true);
      await client.calls.list({ limit: 1 });
      assert.equal(emu.admin.hookFires(calls), 0, 'removed before any call request');
      assert.equal(emu.admin.removeAfterResponse(9999), false);
      const seen = emu.admin.hookFires(any);
      await new EmulatorAdminClient(emu.url).counters();
      assert.equal(emu.admin.hookFires(any), seen, 'the admin API is not matched');
      assert.equal(seen, 7);
      emu.admin.reset();
      assert.throws(() => emu.admin.hookFires(any), /no afterResponse hook/);
    });

    it('a streamed list answer is the state from before the action', async () => {
      const sids = emu.admin.seedTasks({ count: 250, assignmentStatuses: ['pending'] }).taskSids;
      const id = emu.admin.afterResponse({ method: 'GET', endpoint: 'taskrouter:Tasks' }, () => {
        for (const sid of sids) emu.admin.updateTask(sid, { assignmentStatus: 'canceled', reason: 'caller left' });
      });
      const page = await tasks().page({ assignmentStatus: ['pending'], pageSize: 250 });
      assert.equal(page.instances.length, 250);
      assert.ok(page.instances.every((t) => t.assignmentStatus === 'pending'));
      assert.equal(emu.admin.hookFires(id), 1);
      assert.equal((await tasks().list({ assignmentStatus: ['pending'] })).length, 0);
    });

    it('an action that throws is recorded and the answer goes out unchanged; an async action is flagged', async () => {
      const sid = seedOne('pending');
      const bad = emu.admin.afterResponse({ pathIncludes: sid }, () => emu.admin.updateTask('WT' + '0'.repeat(32), { assignmentStatus: 'canceled' }));
      assert.equal((await tasks()(sid).fetch()).assignmentStatus, 'pending');
      assert.equal(emu.admin.hookFires(bad), 1);
      assert.match(String(emu.admin.hookErrors(bad)[0]), /no Task WT0{32}/);
      const asyncHook = emu.admin.afterResponse({ pathIncludes: sid }, async () => undefined);
      await tasks()(sid).fetch();
      assert.match(String(emu.admin.hookErrors(asyncHook)[0]), /must be synchronous/);
    });
  });

  describe('actors', () => {
    it('updateTask walks TaskRouter moves, bumps the ETag at each and emits their events (delivered)', async () => {
      const receiver = await startReceiver();
      try {
        emu.admin.setWorkspace(emu.seeded.workspaceSid, { eventCallbackUrl: `${receiver.url}/events` });
        const sid = seedOne('reserved');
        const v0 = task(sid).version;
        const { etag: e0 } = await fetchTaskWithEtag(client, emu.seeded.workspaceSid, sid);
        emu.admin.updateTask(sid, { assignmentStatus: 'wrapping' });
        const { task: t1, etag: e1 } = await fetchTaskWithEtag(client, emu.seeded.workspaceSid, sid);
        assert.equal(t1.assignmentStatus, 'wrapping');
        assert.equal(Number(e1), Number(e0) + 2, 'accept, then wrap');
        emu.admin.updateTask(sid, { attributes: { call_sid: 'CA' + '1'.repeat(32), conference: { sid: 'CF1' } } });
        emu.admin.updateTask(sid, { assignmentStatus: 'completed', reason: 'agent done' });
        const { task: t2, etag: e2 } = await fetchTaskWithEtag(client, emu.seeded.workspaceSid, sid);
        assert.equal(t2.assignmentStatus, 'completed');
        assert.equal(t2.reason, 'agent done');
        assert.equal(JSON.parse(t2.attributes).conference.sid, 'CF1');
        assert.equal(Number(e2), v0 + 4);
        const types = (await client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).events.list({ taskSid: sid })).map((e) => e.eventType).reverse();
        assert.deepEqual(types, ['reservation.accepted', 'task.wrapup', 'reservation.wrapup', 'task.updated', 'task.completed', 'reservation.completed']);
        const got = await waitFor(() => (receiver.received.length >= 6 ? receiver.received : undefined), { what: 'six workspace events' });
        assert.deepEqual(got.map((r) => r.params.EventType), types);
        assert.equal(got.find((r) => r.params.EventType === 'task.completed')!.params.TaskCompletedReason, 'agent done');
      } finally {
        await receiver.close();
      }
    });

    it('updateTask: reserved → pending (rejected), pending → completed in steps; impossible moves throw and change nothing', async () => {
      const r = seedOne('reserved');
      emu.admin.updateTask(r, { assignmentStatus: 'pending' });
      assert.equal(task(r).status, 'pending');
      assert.equal(reservationOf(r), null);
      const p = seedOne('pending');
      emu.admin.updateTask(p, { assignmentStatus: 'completed' });
      const types = emu.core.store.events.get(emu.seeded.workspaceSid)!.filter((e) => e.data.task_sid === p).map((e) => e.eventType);
      assert.deepEqual(types, ['reservation.created', 'reservation.accepted', 'task.completed', 'reservation.completed']);
      const a = seedOne('assigned');
      const v = task(a).version;
      assert.throws(() => emu.admin.updateTask(a, { assignmentStatus: 'canceled', attributes: '{}' }), /cannot go from assigned to canceled/);
      assert.throws(() => emu.admin.updateTask(p, { assignmentStatus: 'pending' }), /cannot go from completed to pending/);
      assert.throws(() => emu.admin.updateTask('WT' + '0'.repeat(32), {}), /no Task/);
      assert.equal(task(a).version, v);
      assert.equal(task(a).attributes === '{}', false);
    });

    it('createTask: a callback Task after the call ended, found by call_sid, dated as asked, announced', async () => {
      const { callSids } = emu.admin.seedExecutions({ count: 1, kind: 'voice-ended-call', ageMs: 30 * MIN, callEndedAgoMs: 10 * MIN });
      const callSid = callSids[0]!;
      const call = await client.calls(callSid).fetch();
      assert.equal(call.endTime.getTime(), sec(now - 10 * MIN));
      const sid = emu.admin.createTask({ attributes: { type: 'callback', call_sid: callSid }, channel: 'voice', createdAtMs: call.endTime.getTime() + 3 * MIN });
      const t = await tasks()(sid).fetch();
      assert.equal(t.dateCreated.getTime(), sec(now - 7 * MIN));
      assert.equal(t.assignmentStatus, 'pending');
      assert.equal(t.taskChannelUniqueName, 'voice');
      const found = await tasks().list({ evaluateTaskAttributes: `call_sid == "${callSid}"` });
      assert.deepEqual(found.map((x) => x.sid), [sid]);
      const created = emu.core.store.events.get(emu.seeded.workspaceSid)!.filter((e) => e.data.task_sid === sid).map((e) => e.eventType);
      assert.deepEqual(created, ['task.created', 'task-queue.entered']);
      assert.match(emu.admin.createTask({ attributes: '{}', assignmentStatus: 'assigned', quiet: true }), /^WT[0-9a-f]{32}$/);
      assert.throws(() => emu.admin.createTask({ attributes: '{}', createdAtMs: now + 1 }), /in the future/);
      assert.throws(() => emu.admin.createTask({ attributes: '{}', channel: 'fax' }), /no TaskChannel/);
    });

    it('setCallStatus ends a call at a given time (end_time, duration), moves an ended call\'s end, refuses to revive one', async () => {
      const { callSids } = emu.admin.seedExecutions({ count: 1, kind: 'voice-live-call', ageMs: 20 * MIN });
      const sid = callSids[0]!;
      assert.equal((await client.calls(sid).fetch()).endTime, null);
      emu.admin.setCallStatus(sid, 'completed', { endTimeMs: now - 5 * MIN });
      const c = await client.calls(sid).fetch();
      assert.equal(c.status, 'completed');
      assert.equal(c.endTime.getTime(), sec(now - 5 * MIN));
      assert.equal(c.duration, String((15 * MIN - 5_000) / 1000));
      emu.admin.setCallStatus(sid, 'completed', { endTimeMs: now - 2 * MIN });
      assert.equal((await client.calls(sid).fetch()).endTime.getTime(), sec(now - 2 * MIN));
      assert.throws(() => emu.admin.setCallStatus(sid, 'in-progress'), /already ended/);
      assert.throws(() => emu.admin.setCallStatus(sid, 'completed', { endTimeMs: now + 1 }), /endTimeMs must lie/);
    });

    it('setCallStatus on a call the simulator plays: it hangs up, sends its final callback, wraps its Task', async () => {
      emu.admin.clock.real();
      const run = await emu.admin.runScenario({ scenario: 'live-long', startedAgoMs: HOUR });
      emu.admin.setCallStatus(run.run.callSid!, 'completed');
      await waitFor(() => emu.admin.webhookLog({ callSid: run.run.callSid!, kind: 'status-callback' }).some((d) => d.params.CallStatus === 'completed'), { what: 'the final status callback' });
      await waitFor(() => task(run.run.taskSid!).status === 'completed', { what: 'the Task wrapped and completed' });
      assert.equal(emu.core.store.executions.get(run.run.executionSid!)!.status, 'ended', 'Studio heard the final callback');
    });

    it('setSendAndWaitTimeout republishes the Flow (revision + 1); Executions keep their flow_version', async () => {
      const flowSid = emu.seeded.messagingFlowSid;
      const flowApi = client.studio.v2.flows(flowSid);
      const before = await flowApi.fetch();
      const [oldEx] = emu.admin.seedExecutions({ count: 1, kind: 'sms', ageMs: HOUR }).executionSids;
      emu.admin.clock.advance(MIN);
      assert.equal(emu.admin.setSendAndWaitTimeout(flowSid, '86400'), before.revision + 1);
      const after = await flowApi.fetch();
      assert.equal(after.revision, before.revision + 1);
      assert.equal(after.dateUpdated.getTime(), sec(now + MIN));
      const swr = (after.definition as { states: { type: string; properties: { timeout?: string } }[] }).states.find((s) => s.type === 'send-and-wait-for-reply')!;
      assert.equal(swr.properties.timeout, '86400');
      assert.equal((await flowApi.executions(oldEx!).fetch()).flowVersion, before.revision);
      const [newEx] = emu.admin.seedExecutions({ count: 1, kind: 'sms', ageMs: MIN }).executionSids;
      assert.equal((await flowApi.executions(newEx!).fetch()).flowVersion, before.revision + 1);
      assert.equal(emu.admin.setSendAndWaitTimeout(flowSid, undefined), before.revision + 2);
      const none = (await flowApi.fetch()).definition as { states: { type: string; properties: Record<string, unknown> }[] };
      assert.ok(!('timeout' in none.states.find((s) => s.type === 'send-and-wait-for-reply')!.properties));
      assert.throws(() => emu.admin.setSendAndWaitTimeout(emu.seeded.flexFlowSid, '60'), /no Send & Wait/);
    });

    it('createFlow and setFlowDefinition: a published Flow the seeds and the REST API serve', async () => {
      const base = emu.core.store.flows.get(emu.seeded.messagingFlowSid)!.definition;
      const sid = emu.admin.createFlow({ friendlyName: 'Daily SMS', definition: base });
      const f = await client.studio.v2.flows(sid).fetch();
      assert.equal(f.revision, 1);
      assert.equal(f.friendlyName, 'Daily SMS');
      assert.ok((await client.studio.v2.flows.list()).some((x) => x.sid === sid));
      const [ex] = emu.admin.seedExecutions({ count: 1, kind: 'sms', flowSid: sid }).executionSids;
      assert.equal((await client.studio.v2.flows(sid).executions(ex!).fetch()).flowVersion, 1);
      assert.equal(emu.admin.setFlowDefinition(sid, { ...base, description: 'v2' }), 2);
      assert.equal(((await client.studio.v2.flows(sid).fetch()).definition as { description: string }).description, 'v2');
      assert.throws(() => emu.admin.setFlowDefinition(sid, { states: 'nope' }), /states array/);
    });
  });

  describe('seeds for the race stories', () => {
    it('(a) an SMS Execution idle 5 h in a Send & Wait whose timeout is 86400', async () => {
      const flowSid = emu.seeded.messagingFlowSid;
      emu.admin.setSendAndWaitTimeout(flowSid, '86400');
      const [sid] = emu.admin.seedExecutions({ count: 1, kind: 'sms', ageMs: 6 * HOUR, lastStepAgeMs: 5 * HOUR, flowSid }).executionSids;
      const flowApi = client.studio.v2.flows(flowSid);
      const ex = await flowApi.executions(sid!).fetch();
      assert.equal(ex.status, 'active');
      assert.equal(ex.dateCreated.getTime(), sec(now - 6 * HOUR));
      assert.equal(ex.dateUpdated.getTime(), sec(now - 5 * HOUR));
      const flow = await flowApi.fetch();
      assert.equal(ex.flowVersion, flow.revision);
      const steps = await flowApi.executions(sid!).steps.list();
      const newest = steps.reduce((a, b) => (b.dateCreated.getTime() >= a.dateCreated.getTime() ? b : a));
      assert.equal(newest.transitionedFrom, 'Trigger');
      assert.equal(newest.name, 'incomingMessage');
      assert.equal(newest.type, 'trigger');
      assert.equal(newest.dateCreated.getTime(), sec(now - 5 * HOUR));
      const widget = (flow.definition as { states: { name: string; type: string; properties: { timeout?: string } }[] }).states.find((s) => s.name === newest.transitionedTo)!;
      assert.equal(widget.type, 'send-and-wait-for-reply');
      assert.equal(widget.properties.timeout, '86400');
    });

    it('(b) a voice call that ended minutes ago with its stuck Execution, created at the call\'s start', async () => {
      const { executionSids, callSids } = emu.admin.seedExecutions({ count: 1, kind: 'voice-ended-call', ageMs: 10 * MIN, callEndedAgoMs: 4 * MIN });
      const call = await client.calls(callSids[0]!).fetch();
      assert.equal(call.status, 'completed');
      assert.equal(call.startTime.getTime(), sec(now - 10 * MIN));
      assert.equal(call.endTime.getTime(), sec(now - 4 * MIN));
      const ex = await client.studio.v2.flows(emu.seeded.flexFlowSid).executions(executionSids[0]!).fetch();
      assert.equal(ex.status, 'active');
      assert.equal(ex.initiatedBy, call.sid);
      assert.equal(ex.dateCreated.getTime(), call.startTime.getTime());
      const steps = await client.studio.v2.flows(emu.seeded.flexFlowSid).executions(ex.sid).steps.list();
      assert.equal(steps.at(-1)!.transitionedTo, 'SendCallToAgent');
      // Without callEndedAgoMs a short-lived seed never ends in the future.
      const short = emu.admin.seedExecutions({ count: 5, kind: 'voice-ended-call', ageMs: MIN }).callSids;
      for (const s of short) assert.ok((await client.calls(s).fetch()).endTime.getTime() <= now);
      assert.throws(() => emu.admin.seedExecutions({ count: 1, kind: 'voice-ended-call', ageMs: MIN, callEndedAgoMs: 2 * MIN }), /cannot end before it starts/);
    });

    it('(c) a pending callback Task carrying an ended call\'s call_sid, created minutes after the call ended', async () => {
      const seeded = emu.admin.seedTasks({ count: 1, mix: { callback: 1 }, assignmentStatuses: ['pending'], ageMs: 30 * MIN, spreadMs: 0, callEndedAgoMs: 20 * MIN, callbackDelayMs: 5 * MIN });
      const { taskSids: [sid], callSids: [callSid] } = seeded.byCategory.callback;
      const t = await tasks()(sid!).fetch();
      assert.equal(t.assignmentStatus, 'pending');
      assert.equal(JSON.parse(t.attributes).call_sid, callSid);
      assert.equal(JSON.parse(t.attributes).taskType, 'callback');
      const call = await client.calls(callSid!).fetch();
      assert.equal(call.endTime.getTime(), sec(now - 20 * MIN));
      assert.equal(t.dateCreated.getTime(), sec(now - 15 * MIN));
      assert.equal(emu.core.store.calls.get(callSid!)!.taskSid, undefined, 'not the call\'s own Task');
      assert.throws(() => emu.admin.seedTasks({ count: 1, mix: { callback: 1 }, ageMs: 30 * MIN, callEndedAgoMs: MIN, callbackDelayMs: 2 * MIN }), /in the future/);
    });
  });
});
