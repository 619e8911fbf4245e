/** Every scenario settles in its documented state; concurrent-call blocking; live calls; traffic. */
import { strict as assert } from 'node:assert';
import { SCENARIOS, SCENARIO_NAMES, startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator';
import { createTwilioClient } from '../../src/twilio/client';
import type { TwilioClient } from '../../src/twilio/client';
import { waitFor } from './helpers';

describe('emulator scenarios', function () {
  this.timeout(30_000);
  let emu: Emulator;
  let client: TwilioClient;

  before(async () => {
    emu = await startEmulator({ seed: 'scenarios', simulator: { ringMs: 20, talkMs: 40, wrapMs: 20, stepMs: 2 } });
    client = createTwilioClient(emu.twilioConfig());
  });
  after(async () => emu?.close());

  it('each scenario ends in its documented state (SCENARIOS[name].expect), read back through the REST API', async () => {
    const results = await Promise.all(SCENARIO_NAMES.map((scenario) => emu.admin.runScenario({ scenario })));
    // Give in-flight status callbacks time to reach Studio before comparing.
    await waitFor(() => emu.core.counters.inFlight.size === 0 && emu.admin.webhookLog().every((d) => d.dropped || d.finalStatus !== null), { what: 'webhooks delivered' });
    for (const r of results) {
      const want = SCENARIOS[r.run.scenario].expect;
      const call = r.run.callSid ? await client.calls(r.run.callSid).fetch() : undefined;
      const ex = r.run.executionSid ? await client.studio.v2.flows(emu.admin.inspectExecution(r.run.executionSid)!.flowSid).executions(r.run.executionSid).fetch() : undefined;
      const task = r.run.taskSid ? await client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).tasks(r.run.taskSid).fetch() : undefined;
      assert.deepEqual(
        { callStatus: call?.status ?? null, executionStatus: ex?.status ?? null, taskStatus: task?.assignmentStatus ?? null },
        want,
        r.run.scenario,
      );
    }
  });

  it('stuck stories carry their evidence: "Stop Execution", 487, lost callback, markers, channels', async () => {
    const hang = await emu.admin.runScenario({ scenario: 'hangup-before-twiml' });
    const steps = await client.studio.v2.flows(emu.seeded.flexFlowSid).executions(hang.run.executionSid!).steps.list();
    assert.equal(steps[steps.length - 1]!.transitionedTo, 'Stop Execution');
    assert.equal(steps[steps.length - 1]!.type, 'split-based-on');
    await waitFor(() => emu.admin.webhookLog({ callSid: hang.run.callSid }).some((d) => d.params.CallStatus === 'canceled' && d.finalStatus === 200), { what: 'final callback delivered' });
    assert.equal((await client.studio.v2.flows(emu.seeded.flexFlowSid).executions(hang.run.executionSid!).fetch()).status, 'active', 'Studio stopped listening');

    const lost = await emu.admin.runScenario({ scenario: 'lost-final-webhook' });
    const finals = emu.admin.webhookLog({ callSid: lost.run.callSid }).filter((d) => d.eventType === 'completed');
    assert.equal(finals.length, 1);
    assert.equal(finals[0]!.dropped, true);

    const unp = await emu.admin.runScenario({ scenario: 'task-unparsable' });
    const unpTask = await client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).tasks(unp.run.taskSid!).fetch();
    assert.throws(() => JSON.parse(unpTask.attributes));
    assert.ok(unpTask.attributes.includes(unp.run.callSid!));

    const custom = await emu.admin.runScenario({ scenario: 'task-custom-orchestration' });
    const attrs = JSON.parse((await client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).tasks(custom.run.taskSid!).fetch()).attributes);
    assert.equal(attrs.custom_orchestration, true);
    assert.equal(attrs.orchestration, 'custom');
    assert.equal(attrs.call_sid, custom.run.callSid);

    const chat = await emu.admin.runScenario({ scenario: 'chat-task' });
    const chatTask = await client.taskrouter.v1.workspaces(emu.seeded.workspaceSid).tasks(chat.run.taskSid!).fetch();
    assert.equal(chatTask.taskChannelUniqueName, 'chat');
    const chatAttrs = JSON.parse(chatTask.attributes);
    assert.equal(chatAttrs.call_sid, undefined);
    assert.match(chatAttrs.conversationSid, /^CH/);
    assert.ok(chatAttrs.channelType);
  });

  it('abandoned SMS and webchat Executions sit on Send & Wait for Reply, created in the past', async () => {
    const sms = await emu.admin.runScenario({ scenario: 'abandoned-sms', ageMs: 6 * 3_600_000, lastStepAgeMs: 5 * 3_600_000 });
    const ex = await client.studio.v2.flows(emu.seeded.messagingFlowSid).executions(sms.run.executionSid!).fetch();
    assert.match(ex.initiatedBy!, /^SM/);
    assert.match(ex.contactChannelAddress, /^\+1/);
    assert.ok(Date.now() - ex.dateCreated.getTime() >= 6 * 3_600_000 - 2000);
    const steps = await client.studio.v2.flows(emu.seeded.messagingFlowSid).executions(ex.sid).steps.list();
    assert.equal(steps.length, 1);
    assert.equal(steps[0]!.transitionedTo, 'send_and_wait');
    assert.ok(Date.now() - steps[0]!.dateCreated.getTime() >= 5 * 3_600_000 - 2000);
    const ctx = await client.studio.v2.flows(emu.seeded.messagingFlowSid).executions(ex.sid).executionContext().fetch();
    assert.equal((ctx.context as { trigger: { message: { MessageSid: string } } }).trigger.message.MessageSid, ex.initiatedBy);

    const web = await emu.admin.runScenario({ scenario: 'abandoned-webchat' });
    const wex = await client.studio.v2.flows(emu.seeded.webchatFlowSid).executions(web.run.executionSid!).fetch();
    assert.match(wex.contactChannelAddress, /^CH/);
    assert.match(wex.initiatedBy!, /^IM/);
    const flow = await client.studio.v2.flows(emu.seeded.webchatFlowSid).fetch();
    const swr = (flow.definition as { states: { type: string; properties: Record<string, unknown> }[] }).states.find((s) => s.type === 'send-and-wait-for-reply')!;
    assert.equal(swr.properties.timeout, undefined, 'the seeded webchat flow has no Send & Wait timeout');
  });

  it('live-long: started more than 4 h ago, stays live until hung up, then closes cleanly', async () => {
    const live = await emu.admin.runScenario({ scenario: 'live-long' });
    const call = await client.calls(live.run.callSid!).fetch();
    assert.equal(call.status, 'in-progress');
    assert.ok(Date.now() - call.startTime.getTime() > 4 * 3_600_000);
    assert.equal(live.observed.taskStatus, 'assigned');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(emu.admin.runState(live.run.id)!.observed.callStatus, 'in-progress', 'never ends by itself');
    assert.equal(emu.admin.hangup(live.run.callSid!), true);
    await waitFor(() => {
      const o = emu.admin.runState(live.run.id)!.observed;
      return o.callStatus === 'completed' && o.executionStatus === 'ended' && o.taskStatus === 'completed';
    }, { what: 'live-long closed after hang-up' });
  });

  it('a flow without concurrent calls blocks a second call from a caller whose Execution is stuck', async () => {
    const caller = '+15557654321';
    const first = await emu.admin.runScenario({ scenario: 'hangup-before-twiml', to: emu.seeded.legacyNumber, from: caller });
    assert.equal(first.observed.executionStatus, 'active');
    const second = await emu.admin.runScenario({ scenario: 'normal', to: emu.seeded.legacyNumber, from: caller });
    assert.equal(second.run.executionSid, undefined);
    assert.equal(second.run.blockedByExecutionSid, first.run.executionSid);
    assert.ok(emu.admin.snapshot().blockedCalls.some((b) => b.callSid === second.run.callSid));
    // Ending the stuck Execution unblocks the caller.
    await client.studio.v2.flows(emu.seeded.legacyFlowSid).executions(first.run.executionSid!).update({ status: 'ended' });
    const third = await emu.admin.runScenario({ scenario: 'normal', to: emu.seeded.legacyNumber, from: caller });
    assert.ok(third.run.executionSid);
    assert.equal(third.run.blockedByExecutionSid, undefined);
    // The Flex flow allows concurrent calls: no blocking there.
    const a = await emu.admin.runScenario({ scenario: 'hangup-before-twiml', from: caller });
    const b = await emu.admin.runScenario({ scenario: 'normal', from: caller });
    assert.ok(a.run.executionSid && b.run.executionSid);
  });

  it('hanging up through the REST API ends a ringing or live call as Twilio does', async () => {
    const run = emu.admin.createCall({ scenario: 'normal', ringMs: 2000 });
    await waitFor(() => emu.core.store.calls.get(run.callSid!)!.taskSid, { what: 'the Task of the ringing call' });
    assert.equal(emu.core.store.calls.get(run.callSid!)!.status, 'ringing');
    const canceled = await client.calls(run.callSid!).update({ status: 'canceled' });
    assert.equal(canceled.status, 'canceled');
    await emu.admin.whenSettled(run.id);
    const o = emu.admin.runState(run.id)!.observed;
    assert.equal(o.taskStatus, 'canceled', 'the waiting Task is canceled when the caller is gone');
    await waitFor(() => emu.admin.runState(run.id)!.observed.executionStatus === 'ended', { what: 'execution ended by the final callback' });
  });

  it('generates traffic at a rate with a scenario mix', async () => {
    const t = emu.admin.startTraffic({ rate: 200, count: 20, mix: { normal: 3, 'desync-assigned': 1 } });
    await waitFor(() => !emu.admin.listTraffic().find((x) => x.id === t.id)!.running, { what: 'traffic done' });
    const done = emu.admin.listTraffic().find((x) => x.id === t.id)!;
    assert.equal(done.started, 20);
    assert.equal((done.byScenario.normal ?? 0) + (done.byScenario['desync-assigned'] ?? 0), 20);
    assert.ok((done.byScenario.normal ?? 0) > 0 && (done.byScenario['desync-assigned'] ?? 0) > 0);
  });
});
