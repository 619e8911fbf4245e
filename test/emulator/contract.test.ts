/**
 * Contract tests: every endpoint the emulator serves, called through the real `twilio` SDK (createTwilioClient),
 * with every raw response body validated against Twilio's OpenAPI specs (strict: no unknown, no missing field).
 */
import { strict as assert } from 'node:assert';
import { startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator';
import { createTwilioClient, etagOf } from '../../src/twilio/client';
import type { RawResponseInfo, TwilioClient } from '../../src/twilio/client';
import { OpenApiValidator } from './openapi';

describe('emulator contract (twilio SDK + OpenAPI schemas)', function () {
  this.timeout(30_000);
  let emu: Emulator;
  let client: TwilioClient;
  const recorded: RawResponseInfo[] = [];
  const validator = new OpenApiValidator();

  /** Validates every response recorded since the last call and returns how many were checked. */
  function validateRecorded(): number {
    const batch = recorded.splice(0);
    const problems = batch.flatMap((r) => validator.check(r).map((p) => `${r.method} ${r.uri} → ${r.statusCode}: ${p}`));
    assert.deepEqual(problems, []);
    return batch.length;
  }

  before(async () => {
    emu = await startEmulator({ seed: 'contract' });
    client = createTwilioClient(emu.twilioConfig(), { onResponse: (r) => recorded.push(r) });
    // Some history: a clean call, a stuck one and a live one.
    await emu.admin.runScenario({ scenario: 'normal' });
    await emu.admin.runScenario({ scenario: 'desync-assigned' });
    await emu.admin.runScenario({ scenario: 'live-long' });
  });
  after(async () => emu?.close());
  afterEach(() => validateRecorded());

  it('API v2010 Calls: list (with filters and paging), fetch, update', async () => {
    const all = await client.calls.list({ limit: 20 });
    assert.equal(all.length, 3);
    const live = await client.calls.list({ status: 'in-progress' });
    assert.equal(live.length, 1);
    const byFrom = await client.calls.list({ from: all[0]!.from, to: emu.seeded.phoneNumber });
    assert.ok(byFrom.some((c) => c.sid === all[0]!.sid));
    const page1 = await client.calls.page({ pageSize: 1 });
    assert.equal(page1.instances.length, 1);
    const page2 = await page1.nextPage();
    assert.ok(page2 && page2.instances.length === 1 && page2.instances[0]!.sid !== page1.instances[0]!.sid);
    const fetched = await client.calls(all[0]!.sid).fetch();
    assert.equal(fetched.sid, all[0]!.sid);
    assert.ok(fetched.dateCreated instanceof Date && !Number.isNaN(fetched.dateCreated.getTime()));
    const hung = await client.calls(live[0]!.sid).update({ status: 'completed' });
    assert.equal(hung.status, 'completed');
  });

  it('API v2010 IncomingPhoneNumbers: list, fetch, update', async () => {
    const numbers = await client.incomingPhoneNumbers.list();
    assert.equal(numbers.length, 3);
    const filtered = await client.incomingPhoneNumbers.list({ phoneNumber: '+1555123000*' });
    assert.equal(filtered.length, 3);
    const n = await client.incomingPhoneNumbers(emu.seeded.misconfiguredNumberSid).fetch();
    assert.equal(n.statusCallback, emu.seeded.misconfiguredStatusCallback);
    const flowUrl = `https://webhooks.twilio.com/v1/Accounts/${emu.accountSid}/Flows/${emu.seeded.flexFlowSid}`;
    const u = await client.incomingPhoneNumbers(emu.seeded.misconfiguredNumberSid).update({ statusCallback: flowUrl, statusCallbackMethod: 'POST' });
    assert.equal(u.statusCallback, flowUrl);
  });

  it('Studio Flows: list and fetch (definition, flags, webhook_url)', async () => {
    const flows = await client.studio.v2.flows.list();
    assert.equal(flows.length, 4);
    const flex = await client.studio.v2.flows(emu.seeded.flexFlowSid).fetch();
    const def = flex.definition as { states: { type: string }[]; flags: { allow_concurrent_calls: boolean } };
    assert.equal(def.flags.allow_concurrent_calls, true);
    assert.ok(def.states.some((s) => s.type === 'trigger'));
    assert.equal(flex.webhookUrl, `https://webhooks.twilio.com/v1/Accounts/${emu.accountSid}/Flows/${emu.seeded.flexFlowSid}`);
    const legacy = await client.studio.v2.flows(emu.seeded.legacyFlowSid).fetch();
    assert.equal((legacy.definition as { flags: { allow_concurrent_calls: boolean } }).flags.allow_concurrent_calls, false);
  });

  it('Studio Executions: list (status, date window), create, fetch, context, steps, step context, update, delete', async () => {
    const flow = client.studio.v2.flows(emu.seeded.flexFlowSid);
    const all = await flow.executions.list();
    assert.equal(all.length, 3);
    const active = await flow.executions.list({ status: 'active' } as never);
    assert.ok(active.every((e) => e.status === 'active'));
    const windowed = await flow.executions.list({ dateCreatedFrom: new Date(Date.now() - 60_000), dateCreatedTo: new Date(Date.now() + 60_000) });
    assert.equal(windowed.length, 2, 'the live-long execution is 5 h old');
    const e = all.find((x) => x.initiatedBy?.startsWith('CA'))!;
    const fetched = await flow.executions(e.sid).fetch();
    assert.equal(fetched.sid, e.sid);
    const ctx = await flow.executions(e.sid).executionContext().fetch();
    assert.equal((ctx.context as { trigger: { call: { CallSid: string } } }).trigger.call.CallSid, e.initiatedBy);
    const steps = await flow.executions(e.sid).steps.list();
    assert.equal(steps[0]!.transitionedFrom, 'Trigger');
    const step = await flow.executions(e.sid).steps(steps[0]!.sid).fetch();
    assert.equal(step.sid, steps[0]!.sid);
    const stepCtx = await flow.executions(e.sid).steps(steps[0]!.sid).stepContext().fetch();
    assert.equal(stepCtx.stepSid, steps[0]!.sid);

    const created = await flow.executions.create({ to: '+15550001111', from: emu.seeded.phoneNumber, parameters: { foo: 'bar' } });
    assert.match(created.sid, /^FN[0-9a-f]{32}$/);
    assert.equal(created.status, 'active');
    const ended = await flow.executions(created.sid).update({ status: 'ended' });
    assert.equal(ended.status, 'ended');
    assert.equal(await flow.executions(created.sid).remove(), true);
    await assert.rejects(flow.executions(created.sid).fetch(), (err: { status?: number; code?: number }) => err.status === 404 && err.code === 20404);
  });

  it('TaskRouter Workspaces, TaskChannels, Events', async () => {
    const wss = await client.taskrouter.v1.workspaces.list();
    assert.equal(wss.length, 1);
    const ws = await client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).fetch();
    assert.equal(ws.friendlyName, emu.seeded.workspaceName);
    const channels = await client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).taskChannels.list();
    assert.deepEqual(channels.map((c) => c.uniqueName).sort(), ['chat', 'default', 'sms', 'video', 'voice']);
    const events = await client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).events.list({ eventType: 'task.created' });
    assert.ok(events.length >= 2);
    const ev = await client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).events(events[0]!.sid).fetch();
    assert.equal(ev.eventType, 'task.created');
  });

  it('TaskRouter Tasks: list, create, fetch (ETag), update with If-Match, delete', async () => {
    const tasks = client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).tasks;
    const open = await tasks.list({ assignmentStatus: ['pending', 'reserved', 'assigned'] });
    assert.ok(open.length >= 1);
    const created = await tasks.create({ attributes: JSON.stringify({ call_sid: 'CA' + '0'.repeat(32) }), taskChannel: 'voice' });
    assert.equal(created.assignmentStatus, 'pending');
    const res = await tasks(created.sid).fetchWithHttpInfo();
    const etag = etagOf(res.headers);
    assert.ok(etag);
    const canceled = await tasks(created.sid).update({ assignmentStatus: 'canceled', reason: 'contract test', ifMatch: etag });
    assert.equal(canceled.assignmentStatus, 'canceled');
    assert.equal(canceled.reason, 'contract test');
    assert.equal(await tasks(created.sid).remove(), true);
  });

  it('the validator is strict: an unknown field, a missing field or a wrong date format fails', async () => {
    await client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).fetch();
    const [good] = recorded.splice(0);
    assert.ok(good);
    assert.deepEqual(validator.check(good), []);
    const body = good.body as Record<string, unknown>;
    const extra = { ...good, body: { ...body, surprise: 1 } };
    const { friendly_name: _dropped, ...rest } = body;
    const missing = { ...good, body: rest };
    const badDate = { ...good, body: { ...body, date_created: 'Fri, 18 Oct 2019 17:00:00 +0000' } };
    for (const bad of [extra, missing, badDate]) assert.notDeepEqual(validator.check(bad), []);
  });

  it('every operation in the specs was exercised and validated', () => {
    validateRecorded();
    const missing = validator.allOperationIds().filter((id) => !validator.covered.has(id));
    assert.deepEqual(missing, []);
  });
});
