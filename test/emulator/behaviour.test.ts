/** TaskRouter, Studio and API behaviours of the emulator, exercised through the real `twilio` SDK. */
import { strict as assert } from 'node:assert';
import { startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator';
import { createTwilioClient, etagOf, fetchTaskWithEtag } from '../../src/twilio/client';
import type { TwilioClient } from '../../src/twilio/client';

type RestErr = { status?: number; code?: number; message?: string };
const isErr = (status: number, code?: number, msg?: RegExp) => (err: RestErr) =>
  err.status === status && (code === undefined || err.code === code) && (!msg || msg.test(err.message ?? ''));

describe('emulator behaviour', function () {
  this.timeout(60_000);
  let emu: Emulator;
  let client: TwilioClient;
  const tasks = () => client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).tasks;
  const seedOne = (status: 'pending' | 'reserved' | 'assigned') => emu.admin.seedTasks({ count: 1, assignmentStatuses: [status] }).taskSids[0]!;

  before(async () => {
    emu = await startEmulator({ seed: 'behaviour' });
    client = createTwilioClient(emu.twilioConfig());
  });
  after(async () => emu?.close());
  beforeEach(() => {
    emu.admin.reset();
    client = createTwilioClient(emu.twilioConfig());
  });

  describe('Task transitions', () => {
    it('allows pending/reserved → canceled, assigned → wrapping → completed, assigned → completed', async () => {
      for (const s of ['pending', 'reserved'] as const) {
        const t = await tasks()(seedOne(s)).update({ assignmentStatus: 'canceled', reason: 'test' });
        assert.equal(t.assignmentStatus, 'canceled');
        assert.equal(t.reason, 'test');
      }
      const a = seedOne('assigned');
      assert.equal((await tasks()(a).update({ assignmentStatus: 'wrapping' })).assignmentStatus, 'wrapping');
      assert.equal((await tasks()(a).update({ assignmentStatus: 'completed', reason: 'done' })).assignmentStatus, 'completed');
      assert.equal((await tasks()(seedOne('assigned')).update({ assignmentStatus: 'completed', reason: 'done' })).assignmentStatus, 'completed');
    });

    it('refuses the others with 400/20001 and Twilio-style messages', async () => {
      const a = seedOne('assigned');
      await assert.rejects(tasks()(a).update({ assignmentStatus: 'canceled' }), isErr(400, 20001, /^Cannot cancel task WT[0-9a-f]{32} in workspace WS[0-9a-f]{32} for account AC[0-9a-f]{32} because it is not pending or reserved/));
      const p = seedOne('pending');
      await assert.rejects(tasks()(p).update({ assignmentStatus: 'completed' }), isErr(400, 20001, /^Cannot complete task/));
      await assert.rejects(tasks()(p).update({ assignmentStatus: 'wrapping' }), isErr(400, 20001, /^Cannot wrap up a task .* because it's not currently assigned/));
      await tasks()(p).update({ assignmentStatus: 'canceled' });
      await assert.rejects(tasks()(p).update({ assignmentStatus: 'canceled' }), isErr(400, 20001, /not pending or reserved/));
      await assert.rejects(tasks()(a).update({ assignmentStatus: 'assigned' }), isErr(400, 20001));
      assert.equal((await tasks()(a).fetch()).assignmentStatus, 'assigned', 'a refused update changes nothing');
    });

    it('honours If-Match: the current ETag passes, a stale one answers 412', async () => {
      const sid = seedOne('pending');
      const { etag } = await fetchTaskWithEtag(client, emu.seeded.workspaceSid, sid);
      assert.ok(etag);
      const res = await tasks()(sid).updateWithHttpInfo({ attributes: JSON.stringify({ touched: true }), ifMatch: etag });
      const newEtag = etagOf(res.headers);
      assert.notEqual(newEtag, etag);
      await assert.rejects(tasks()(sid).update({ assignmentStatus: 'canceled', ifMatch: etag }), isErr(412));
      assert.equal((await tasks()(sid).fetch()).assignmentStatus, 'pending');
      await tasks()(sid).update({ assignmentStatus: 'canceled', ifMatch: `"${newEtag}"` });
      await assert.rejects(tasks()(sid).remove({ ifMatch: newEtag }), isErr(412));
    });

    it('a closed Task answers 404/20404 five emulated minutes after it closed', async () => {
      const sid = seedOne('pending');
      await tasks()(sid).update({ assignmentStatus: 'canceled', reason: 'gone' });
      emu.admin.clock.advance(4 * 60_000);
      assert.equal((await tasks()(sid).fetch()).assignmentStatus, 'canceled');
      emu.admin.clock.advance(61_000);
      await assert.rejects(tasks()(sid).fetch(), isErr(404, 20404));
      await assert.rejects(tasks()(sid).update({ assignmentStatus: 'canceled' }), isErr(404, 20404));
      const list = await tasks().list({ assignmentStatus: ['canceled'] });
      assert.equal(list.length, 0);
    });

    it('Task age derives from the emulated clock', async () => {
      const sid = emu.admin.seedTasks({ count: 1, ageMs: 3_600_000, spreadMs: 0 }).taskSids[0]!;
      const before = (await tasks()(sid).fetch()).age;
      assert.ok(before >= 3590 && before < 3610, `age ${before}`);
      emu.admin.clock.advance(4 * 3_600_000);
      assert.ok((await tasks()(sid).fetch()).age >= before + 4 * 3600);
    });
  });

  describe('Task list', () => {
    it('pages through 2,500 tasks with PageToken links, each Task exactly once', async () => {
      const seeded = emu.admin.seedTasks({ count: 2500 });
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        tasks().each({ pageSize: 1000, assignmentStatus: ['pending', 'reserved', 'assigned'], callback: (t) => void seen.push(t.sid), done: (err: Error | undefined) => (err ? reject(err) : resolve()) });
      });
      assert.equal(seen.length, 2500);
      assert.equal(new Set(seen).size, 2500);
      assert.deepEqual(new Set(seen), new Set(seeded.taskSids));
    });

    it('keyset paging does not skip Tasks closed while paging', async () => {
      emu.admin.seedTasks({ count: 30, assignmentStatuses: ['pending'] });
      const page1 = await tasks().page({ assignmentStatus: ['pending'], pageSize: 10 });
      for (const t of page1.instances) await tasks()(t.sid).update({ assignmentStatus: 'canceled' });
      const page2 = await page1.nextPage();
      const page3 = await page2!.nextPage();
      const rest = [...page2!.instances, ...page3!.instances].map((t) => t.sid);
      assert.equal(new Set(rest).size, 20);
      assert.ok(rest.every((s) => !page1.instances.some((t) => t.sid === s)));
    });

    it('AssignmentStatus accepts repeated and comma-separated values; no channel filter exists', async () => {
      const r = emu.admin.seedTasks({ count: 60, mix: { voiceEnded: 0.5, chat: 0.5 } });
      const repeated = await tasks().list({ assignmentStatus: ['pending', 'reserved'] });
      const comma = await tasks().list({ assignmentStatus: 'pending,reserved' as unknown as string[] });
      assert.deepEqual(repeated.map((t) => t.sid).sort(), comma.map((t) => t.sid).sort());
      assert.equal(repeated.length, (r.byStatus.pending ?? 0) + (r.byStatus.reserved ?? 0));
      assert.ok(repeated.every((t) => t.assignmentStatus === 'pending' || t.assignmentStatus === 'reserved'));
      const voice = (await tasks().list()).filter((t) => t.taskChannelUniqueName === 'voice');
      assert.equal(voice.length, 30);
    });

    it('EvaluateTaskAttributes supports ==, !=, and/or (any case), parentheses, literals, dotted paths', async () => {
      emu.admin.setLimits({ evaluateTaskAttributesRps: 0 });
      const ws = emu.seeded.workspaceSid;
      const mk = (attrs: unknown) => client.taskrouter.v1.workspaces(ws).tasks.create({ attributes: JSON.stringify(attrs), taskChannel: 'voice' });
      const a = await mk({ call_sid: 'CA' + 'a'.repeat(32), direction: 'inbound', priority_hint: 3, vip: true, customer: { tier: 'gold' } });
      const b = await mk({ call_sid: 'CA' + 'b'.repeat(32), direction: 'outbound', priority_hint: 1, vip: false, customer: { tier: 'silver' } });
      const c = await mk({ channelType: 'web', conversationSid: 'CH' + 'c'.repeat(32) });
      const q = async (expr: string) => (await tasks().list({ evaluateTaskAttributes: expr })).map((t) => t.sid).sort();
      assert.deepEqual(await q(`call_sid == "CA${'a'.repeat(32)}"`), [a.sid]);
      // A missing attribute counts as "not equal" (c has no direction).
      assert.deepEqual(await q(`direction != 'inbound'`), [b.sid, c.sid].sort());
      assert.deepEqual(await q(`direction == "inbound" AND vip == true`), [a.sid]);
      assert.deepEqual(await q(`(direction == "outbound" or channelType == "web") and priority_hint != 3`), [b.sid, c.sid].sort());
      assert.deepEqual(await q(`customer.tier == 'silver' OR priority_hint == 3`), [a.sid, b.sid].sort());
      assert.deepEqual(await q(`vip == false`), [b.sid]);
      await assert.rejects(tasks().list({ evaluateTaskAttributes: 'call_sid == ' }), isErr(400, 20001));
    });

    it('EvaluateTaskAttributes is limited to 3 requests per second (429/20429)', async () => {
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => tasks().page({ evaluateTaskAttributes: 'direction == "inbound"' })));
      const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      assert.equal(results.length - rejected.length, 3);
      assert.ok(rejected.every((r) => isErr(429, 20429)(r.reason as RestErr)));
      // Plain lists are not limited.
      await Promise.all(Array.from({ length: 6 }, () => tasks().page({ assignmentStatus: ['pending'] })));
    });

    it('Ordering Priority:desc', async () => {
      for (const p of [5, 1, 9]) await tasks().create({ attributes: '{}', priority: p });
      const ordered = await tasks().list({ ordering: 'Priority:desc' });
      assert.deepEqual(ordered.map((t) => t.priority), [9, 5, 1]);
      await assert.rejects(tasks().list({ ordering: 'DateCreated:asc,VirtualStartTime:desc' }), isErr(400, 20001));
    });
  });

  describe('Studio Executions', () => {
    it('lists by lower-case status and a from-inclusive / to-exclusive date window', async () => {
      const old = emu.admin.seedExecutions({ count: 3, kind: 'sms', ageMs: 6 * 3_600_000 });
      const recent = emu.admin.seedExecutions({ count: 2, kind: 'sms', ageMs: 60_000 });
      const flow = client.studio.v2.flows(emu.seeded.messagingFlowSid);
      await flow.executions(recent.executionSids[0]!).update({ status: 'ended' });
      const active = await flow.executions.list({ status: 'active' } as never);
      assert.equal(active.length, 4);
      const ended = await flow.executions.list({ status: 'ended' } as never);
      assert.deepEqual(ended.map((e) => e.sid), [recent.executionSids[0]]);
      const olderThan4h = await flow.executions.list({ status: 'active', dateCreatedTo: new Date(emu.clock.now() - 4 * 3_600_000) } as never);
      assert.deepEqual(olderThan4h.map((e) => e.sid).sort(), [...old.executionSids].sort());
      const fromBoundary = await flow.executions.list({ dateCreatedFrom: olderThan4h[0]!.dateCreated, dateCreatedTo: olderThan4h[0]!.dateCreated });
      assert.equal(fromBoundary.length, 0, 'DateCreatedTo is exclusive');
      const e = await flow.executions(old.executionSids[0]!).fetch();
      assert.match(e.initiatedBy!, /^SM[0-9a-f]{32}$/);
      await assert.rejects(flow.executions.list({ status: 'stuck' } as never), isErr(400, 20001));
    });

    it('ending an Execution is idempotent; a second REST execution for the same contact is refused', async () => {
      const flow = client.studio.v2.flows(emu.seeded.flexFlowSid);
      const ex = await flow.executions.create({ to: '+15550009999', from: emu.seeded.phoneNumber });
      await assert.rejects(flow.executions.create({ to: '+15550009999', from: emu.seeded.phoneNumber }), isErr(409));
      assert.equal((await flow.executions(ex.sid).update({ status: 'ended' })).status, 'ended');
      assert.equal((await flow.executions(ex.sid).update({ status: 'ended' })).status, 'ended');
      await assert.rejects(flow.executions(ex.sid).update({ status: 'active' as never }), isErr(400, 20001));
    });
  });

  describe('auth', () => {
    it('a wrong auth token gets 401/20003; an API key works; another account in the path gets 404', async () => {
      const bad = createTwilioClient(emu.twilioConfig({ authToken: 'f'.repeat(32) }));
      await assert.rejects(bad.calls.list(), isErr(401, 20003, /Authenticate/));
      await assert.rejects(bad.taskrouter.v1.workspaces.list(), isErr(401, 20003));
      const keyed = createTwilioClient(emu.twilioConfig({ authToken: undefined, apiKey: emu.apiKey.sid, apiSecret: emu.apiKey.secret }));
      assert.equal((await keyed.taskrouter.v1.workspaces.list()).length, 1);
      assert.equal((await keyed.calls.list()).length, 0);
      const wrongKey = createTwilioClient(emu.twilioConfig({ authToken: undefined, apiKey: emu.apiKey.sid, apiSecret: 'nope' }));
      await assert.rejects(wrongKey.studio.v2.flows.list(), isErr(401, 20003));
      const other = createTwilioClient(emu.twilioConfig({ accountSid: 'AC' + '1'.repeat(32), authToken: undefined, apiKey: emu.apiKey.sid, apiSecret: emu.apiKey.secret }));
      await assert.rejects(other.calls.list(), isErr(404, 20404));
    });
  });

  describe('admin', () => {
    it('sets and advances the clock; resets to real time', async () => {
      const t = Date.UTC(2030, 0, 1);
      emu.admin.clock.set(t, true);
      assert.equal(emu.clock.now(), t);
      emu.admin.clock.advance(1000);
      assert.equal(emu.clock.now(), t + 1000);
      const created = await tasks().create({ attributes: '{}' });
      assert.equal(created.dateCreated.getTime(), t + 1000);
      emu.admin.clock.real();
      assert.ok(Math.abs(emu.clock.now() - Date.now()) < 50);
    });

    it('bulk-seeds 10,000 Tasks with their calls in seconds at most', () => {
      const t0 = performance.now();
      const r = emu.admin.seedTasks({ count: 10_000, mix: { voiceEnded: 0.6, voiceLive: 0.3, chat: 0.05, unparsable: 0.05 } });
      const ms = performance.now() - t0;
      assert.equal(r.taskSids.length, 10_000);
      assert.equal(r.byCategory.voiceEnded.taskSids.length, 6000);
      assert.equal(r.byCategory.voiceLive.callSids.length, 3000);
      assert.equal(r.byCategory.chat.callSids.length, 0);
      assert.equal(r.byCategory.unparsable.taskSids.length, 500);
      assert.ok(ms < 5000, `seeding took ${ms} ms`);
      const snap = emu.admin.snapshot();
      assert.equal(snap.calls.byStatus['in-progress'], 3000);
      assert.equal(snap.calls.byStatus.completed, 6500);
    });
  });
});
