/** Faults, limits and counters, seen through the real `twilio` SDK; and the HTTP admin API. */
import { strict as assert } from 'node:assert';
import { EmulatorAdminClient, SCENARIOS, startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator';
import { createTwilioClient } from '../../src/twilio/client';
import type { RawResponseInfo, TwilioClient } from '../../src/twilio/client';
import { startReceiver, waitFor } from './helpers';

type RestErr = { status?: number; code?: number; message?: string };

describe('emulator faults, limits and counters', function () {
  this.timeout(30_000);
  let emu: Emulator;
  let client: TwilioClient;
  const responses: RawResponseInfo[] = [];
  const ws = () => client.taskrouter.v1.workspaces(emu.seeded.workspaceSid);

  before(async () => {
    emu = await startEmulator({ seed: 'faults' });
  });
  after(async () => emu?.close());
  beforeEach(() => {
    emu.admin.reset();
    responses.length = 0;
    client = createTwilioClient(emu.twilioConfig({ maxInFlight: 100 }), { onResponse: (r) => responses.push(r) });
  });

  it('adds latency to one endpoint and method only', async () => {
    // Warm up: the SDK loads each API's modules on first use.
    await Promise.all([ws().tasks.list(), ws().fetch(), client.calls.list()]);
    emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'GET', latencyMs: 200 });
    let t0 = performance.now();
    await ws().tasks.list();
    assert.ok(performance.now() - t0 >= 195);
    t0 = performance.now();
    await ws().fetch();
    await client.calls.list();
    assert.ok(performance.now() - t0 < 180);
  });

  it('answers 429/20429 with Retry-After for the next N requests', async () => {
    emu.admin.addFault({ endpoint: 'api:Calls', status: 429, retryAfter: 2, times: 2 });
    for (let i = 0; i < 2; i++) await assert.rejects(client.calls.list(), (e: RestErr) => e.status === 429 && e.code === 20429);
    assert.equal(responses[0]!.headers['retry-after'], '2');
    assert.equal((await client.calls.list()).length, 0);
    assert.equal(emu.admin.counters().tooManyRequests, 2);
  });

  it('answers 500 and 503 with Twilio error bodies', async () => {
    emu.admin.addFault({ endpoint: 'studio:*', status: 500, times: 1 });
    emu.admin.addFault({ endpoint: 'studio:Flows', status: 503, retryAfter: 1, times: 1 });
    await assert.rejects(client.studio.v2.flows.list(), (e: RestErr) => e.status === 500);
    await assert.rejects(client.studio.v2.flows.list(), (e: RestErr) => e.status === 503);
    assert.equal((await client.studio.v2.flows.list()).length, 4);
    assert.equal(emu.admin.counters().serverErrors, 2);
  });

  it('drops connections (the SDK sees a socket error, not a response)', async () => {
    emu.admin.addFault({ endpoint: 'taskrouter:Workspaces', drop: true, times: 1 });
    await assert.rejects(ws().fetch(), (e: Error & { code?: string }) => /socket hang up|ECONNRESET/i.test(`${e.message} ${e.code ?? ''}`));
    assert.equal((await ws().fetch()).sid, emu.seeded.workspaceSid);
    assert.equal(emu.admin.counters().dropped, 1);
  });

  it('plays an outage window on every endpoint, then recovers', async () => {
    emu.admin.addFault({ endpoint: '*', status: 503, forMs: 300 });
    await assert.rejects(client.calls.list(), (e: RestErr) => e.status === 503);
    await assert.rejects(ws().tasks.list(), (e: RestErr) => e.status === 503);
    await waitFor(async () => {
      try {
        await client.calls.list();
        return true;
      } catch {
        return false;
      }
    }, { timeoutMs: 3000, intervalMs: 50, what: 'the outage to end' });
  });

  it('hits a fraction of requests with a probability', async () => {
    emu.admin.addFault({ endpoint: 'api:IncomingPhoneNumbers', status: 500, probability: 0.5 });
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => client.incomingPhoneNumbers.list()));
    const failed = results.filter((r) => r.status === 'rejected').length;
    assert.ok(failed > 5 && failed < 35, `${failed} of 40 failed`);
  });

  it('caps requests in flight per account with 429/20429 and reports Twilio-Concurrent-Requests', async () => {
    emu.admin.setLimits({ maxInFlight: 5 });
    emu.admin.addFault({ endpoint: '*', latencyMs: 150 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => ws().fetch()));
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(results.length - rejected.length, 5);
    assert.ok(rejected.every((r) => (r.reason as RestErr).status === 429 && (r.reason as RestErr).code === 20429));
    const concurrency = responses.map((r) => Number(r.headers['twilio-concurrent-requests']));
    assert.ok(Math.max(...concurrency) >= 6);
    assert.ok(responses.every((r) => /^RQ[0-9a-f]{32}$/.test(String(r.headers['twilio-request-id']))));
    const c = emu.admin.counters();
    assert.equal(c.tooManyRequests, 15);
    assert.ok(c.maxInFlightSeen > 5, 'more requests than the cap were in flight at once');
    await waitFor(() => emu.admin.counters().inFlight === 0, { what: 'in-flight back to 0' });
  });

  it('drops a fraction of status callbacks and TaskRouter events', async () => {
    const receiver = await startReceiver();
    try {
      emu.admin.setNumber(emu.seeded.phoneNumber, { statusCallback: `${receiver.url}/status` });
      emu.admin.setWorkspace(emu.seeded.workspaceSid, { eventCallbackUrl: `${receiver.url}/events` });
      emu.admin.setLimits({ dropStatusCallbacks: 1, dropTaskRouterEvents: 1 });
      const r = await emu.admin.runScenario({ scenario: 'normal' });
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(receiver.received.length, 0);
      const log = emu.admin.webhookLog();
      assert.ok(log.length >= 8 && log.every((d) => d.dropped));
      assert.equal(emu.admin.counters().webhooksDropped, log.length);
      // Studio never heard the end of the call: a stuck Execution, as in the field.
      assert.equal(r.observed.executionStatus, 'active');
    } finally {
      await receiver.close();
    }
  });

  it('counts requests by endpoint and method, reads and writes; resettable', async () => {
    emu.admin.resetCounters();
    const sid = emu.admin.seedTasks({ count: 1, assignmentStatuses: ['pending'] }).taskSids[0]!;
    await ws().tasks.list();
    await ws().tasks(sid).fetch();
    await ws().tasks(sid).update({ assignmentStatus: 'canceled' });
    await client.calls.list();
    const c = emu.admin.counters();
    assert.equal(c.reads, 3);
    assert.equal(c.writes, 1);
    assert.equal(c.total, 4);
    assert.equal(c.byEndpoint['taskrouter:Tasks GET'], 2);
    assert.equal(c.byEndpoint['taskrouter:Tasks POST'], 1);
    assert.equal(c.byEndpoint['api:Calls GET'], 1);
    assert.equal(emu.admin.resetCounters().total, 0);
  });

  it('the HTTP admin API mirrors the in-process one', async () => {
    const admin = new EmulatorAdminClient(emu.url);
    const info = await admin.info();
    assert.equal(info.accountSid, emu.accountSid);
    const run = await admin.createCall({ scenario: 'desync-reserved', wait: true });
    assert.deepEqual(run.observed, SCENARIOS['desync-reserved'].expect);
    const seeded = await admin.seedTasks({ count: 50, mix: { voiceEnded: 1 }, assignmentStatuses: ['assigned'] });
    assert.equal(seeded.byStatus.assigned, 50);
    const ex = await admin.seedExecutions({ count: 2, kind: 'webchat', ageMs: 5 * 3_600_000 });
    assert.equal(ex.executionSids.length, 2);
    const clock = await admin.advanceClock(3_600_000);
    assert.ok(clock.offsetMs >= 3_599_000);
    await admin.setLimits({ maxInFlight: 50 });
    assert.equal((await admin.faults()).maxInFlight, 50);
    await admin.addFault({ endpoint: 'api:Calls', status: 503, times: 1 });
    await assert.rejects(client.calls.list(), (e: RestErr) => e.status === 503);
    const snap = await admin.snapshot();
    assert.equal(snap.tasks.byStatus.assigned, 50);
    assert.ok((await admin.counters()).total >= 1);
    await admin.setNumber(emu.seeded.phoneNumber, { statusCallback: 'https://example.org/cb' });
    assert.equal((await client.incomingPhoneNumbers(emu.seeded.phoneNumberSid).fetch()).statusCallback, 'https://example.org/cb');
    await admin.reset();
    assert.equal((await admin.snapshot()).tasks.total, 0);
  });
});
