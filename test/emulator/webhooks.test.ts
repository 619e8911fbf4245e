/** Signed status callbacks and TaskRouter events, checked with the SDK's own validateRequest; the 302 path to Studio. */
import { strict as assert } from 'node:assert';
import twilio from 'twilio';
import { startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator';
import { startReceiver, waitFor } from './helpers';

describe('emulator webhooks', function () {
  this.timeout(30_000);
  let emu: Emulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let answer: 'ok' | 'redirect' | 'redirect-local' = 'ok';
  let flowUrl: string;

  before(async () => {
    emu = await startEmulator({ seed: 'webhooks' });
    flowUrl = `https://webhooks.twilio.com/v1/Accounts/${emu.accountSid}/Flows/${emu.seeded.flexFlowSid}`;
    receiver = await startReceiver((r) => {
      if (answer === 'redirect') return { status: 302, headers: { Location: flowUrl } };
      if (answer === 'redirect-local' && r.url.startsWith('/first')) return { status: 302, headers: { Location: '/second?x=1' } };
      return { status: 204 };
    });
  });
  after(async () => {
    await emu?.close();
    await receiver?.close();
  });
  beforeEach(() => {
    emu.admin.reset();
    receiver.received.length = 0;
    answer = 'ok';
  });

  const valid = (r: { url: string; headers: Record<string, unknown>; params: Record<string, string> }) =>
    twilio.validateRequest(emu.authToken, String(r.headers['x-twilio-signature']), `${receiver.url}${r.url}`, r.params);

  it('sends signed, form-encoded status callbacks to the number’s status_callback', async () => {
    emu.admin.setNumber(emu.seeded.phoneNumber, { statusCallback: `${receiver.url}/voice/status?tenant=a` });
    const { run } = await emu.admin.runScenario({ scenario: 'normal' });
    const got = await waitFor(() => (receiver.received.length >= 4 ? receiver.received : undefined), { what: '4 callbacks' });
    const sorted = [...got].sort((a, b) => Number(a.params.SequenceNumber) - Number(b.params.SequenceNumber));
    assert.deepEqual(sorted.map((r) => r.params.SequenceNumber), ['0', '1', '2', '3']);
    assert.deepEqual(sorted.map((r) => r.params.CallStatus), ['initiated', 'ringing', 'in-progress', 'completed']);
    for (const r of sorted) {
      assert.equal(r.method, 'POST');
      assert.match(String(r.headers['content-type']), /^application\/x-www-form-urlencoded/);
      assert.ok(valid(r), 'signature verifies with twilio.validateRequest');
      assert.equal(r.params.CallSid, run.callSid);
      assert.equal(r.params.AccountSid, emu.accountSid);
      assert.equal(r.params.CallbackSource, 'call-progress-events');
      assert.equal(r.params.Direction, 'inbound');
      assert.equal(r.params.ApiVersion, '2010-04-01');
      assert.equal(r.params.To, emu.seeded.phoneNumber);
      assert.match(r.params.Timestamp!, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    }
    assert.ok(sorted[3]!.params.CallDuration !== undefined);
    assert.equal(sorted[0]!.params.CallDuration, undefined);
    // A forged signature does not verify.
    assert.equal(twilio.validateRequest('0'.repeat(32), String(sorted[0]!.headers['x-twilio-signature']), `${receiver.url}${sorted[0]!.url}`, sorted[0]!.params), false);
    // Studio never got the final status: the Execution is stuck, exactly the documented misconfiguration.
    assert.equal(emu.admin.inspectExecution(run.executionSid!)!.status, 'active');
  });

  it('follows a 302 to the Studio Flow URL, re-POSTing the same body re-signed, and Studio ends the Execution', async () => {
    answer = 'redirect';
    emu.admin.setNumber(emu.seeded.phoneNumber, { statusCallback: `${receiver.url}/voice/status` });
    const { run, observed } = await emu.admin.runScenario({ scenario: 'normal' });
    await waitFor(() => emu.admin.inspectExecution(run.executionSid!)!.status === 'ended', { what: 'execution ended' });
    assert.equal(observed.callStatus, 'completed');
    const final = emu.admin.webhookLog({ callSid: run.callSid, kind: 'status-callback' }).find((d) => d.params.CallStatus === 'completed')!;
    assert.equal(final.hops.length, 2);
    assert.equal(final.hops[0]!.status, 302);
    assert.equal(final.hops[1]!.url, flowUrl);
    assert.equal(final.hops[1]!.status, 200);
    const steps = emu.core.store.executions.get(run.executionSid!)!.steps;
    assert.equal(steps[steps.length - 1]!.transitionedTo, 'Ended');
    assert.ok(receiver.received.every(valid));
  });

  it('re-signs the re-POSTed body for the redirect target', async () => {
    answer = 'redirect-local';
    emu.admin.setNumber(emu.seeded.phoneNumber, { statusCallback: `${receiver.url}/first` });
    await emu.admin.runScenario({ scenario: 'hangup-before-twiml' });
    const first = await waitFor(() => receiver.received.find((r) => r.url === '/first' && r.params.SequenceNumber === '2'), { what: 'first hop' });
    const second = await waitFor(() => receiver.received.find((r) => r.url === '/second?x=1' && r.params.SequenceNumber === '2'), { what: 'second hop' });
    assert.equal(second.method, 'POST');
    assert.equal(second.body, first.body);
    assert.ok(valid(first) && valid(second));
    assert.notEqual(first.headers['x-twilio-signature'], second.headers['x-twilio-signature']);
  });

  it('signs a GET status callback over the full URL with its query string', async () => {
    emu.admin.setNumber(emu.seeded.phoneNumber, { statusCallback: `${receiver.url}/get-status?a=1`, statusCallbackMethod: 'GET' });
    await emu.admin.runScenario({ scenario: 'sip-cancel-487' });
    const got = await waitFor(() => receiver.received.find((r) => r.url.includes('SequenceNumber=2')), { what: 'GET callback' });
    assert.equal(got.method, 'GET');
    assert.ok(got.url.startsWith('/get-status?a=1&'));
    assert.ok(twilio.validateRequest(emu.authToken, String(got.headers['x-twilio-signature']), `${receiver.url}${got.url}`, {}));
  });

  it('adds SipResponseCode=487 to the final callback of a SIP CANCEL', async () => {
    emu.admin.setNumber(emu.seeded.phoneNumber, { statusCallback: `${receiver.url}/voice/status` });
    await emu.admin.runScenario({ scenario: 'sip-cancel-487' });
    const final = await waitFor(() => receiver.received.find((r) => r.params.SequenceNumber === '2'), { what: 'final callback' });
    assert.equal(final.params.CallStatus, 'canceled');
    assert.equal(final.params.SipResponseCode, '487');
    assert.ok(valid(final));
  });

  it('sends signed TaskRouter workspace events to the event_callback_url, honouring EventsFilter', async () => {
    emu.admin.setWorkspace(emu.seeded.workspaceSid, { eventCallbackUrl: `${receiver.url}/taskrouter/events` });
    const { run } = await emu.admin.runScenario({ scenario: 'normal' });
    const types = () => receiver.received.filter((r) => r.params.TaskSid === run.taskSid).map((r) => r.params.EventType);
    await waitFor(() => types().includes('task.completed'), { what: 'task.completed event' });
    for (const t of ['task.created', 'reservation.created', 'reservation.accepted', 'task.wrapup', 'task.completed']) assert.ok(types().includes(t), `${t} in ${types().join(',')}`);
    for (const r of receiver.received) {
      assert.ok(valid(r));
      assert.equal(r.params.WorkspaceSid, emu.seeded.workspaceSid);
      assert.equal(r.params.TaskChannelUniqueName, 'voice');
      assert.match(r.params.Timestamp!, /^\d{10}$/);
      assert.equal(JSON.parse(r.params.TaskAttributes!).call_sid, run.callSid);
    }
    const completed = receiver.received.find((r) => r.params.EventType === 'task.completed')!;
    assert.equal(completed.params.TaskAssignmentStatus, 'completed');
    assert.ok(completed.params.TaskCompletedReason);

    receiver.received.length = 0;
    emu.admin.setWorkspace(emu.seeded.workspaceSid, { eventsFilter: 'task.canceled,task.completed' });
    const second = await emu.admin.runScenario({ scenario: 'normal' });
    await waitFor(() => receiver.received.some((r) => r.params.TaskSid === second.run.taskSid), { what: 'filtered event' });
    assert.deepEqual([...new Set(receiver.received.map((r) => r.params.EventType))], ['task.completed']);
  });
});
