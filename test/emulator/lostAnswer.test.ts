/** The `answerLost` fault: the emulator applies a write, then loses its answer (socket destroyed, or a 5xx instead). */
import { strict as assert } from 'node:assert';
import { startEmulator } from '../../src/emulator';
import type { Emulator } from '../../src/emulator';
import { createTwilioClient, etagOf } from '../../src/twilio/client';
import type { RawResponseInfo, TwilioClient } from '../../src/twilio/client';

type RestErr = { status?: number; code?: number; message?: string };

describe('emulator fault: the write is applied but its answer is lost', function () {
  this.timeout(30_000);
  let emu: Emulator;
  let client: TwilioClient;
  const responses: RawResponseInfo[] = [];
  const ws = () => client.taskrouter.v1.workspaces(emu.seeded.workspaceSid);
  const openTask = async (): Promise<{ sid: string; etag: string }> => {
    const t = await ws().tasks.create({ attributes: JSON.stringify({ call_sid: 'CA00000000000000000000000000000001' }), taskChannel: 'voice' });
    const res = await ws().tasks(t.sid).fetchWithHttpInfo();
    return { sid: t.sid, etag: etagOf(res.headers)! };
  };

  before(async () => {
    emu = await startEmulator({ seed: 'lost-answer' });
  });
  after(async () => emu?.close());
  beforeEach(() => {
    emu.admin.reset();
    responses.length = 0;
    client = createTwilioClient(emu.twilioConfig({ maxInFlight: 100 }), { onResponse: (r) => responses.push(r) });
  });

  it('answers 500 after canceling the Task; the retried If-Match write gets 412 and writes nothing', async () => {
    const { sid, etag } = await openTask();
    const before = emu.admin.inspectTask(sid)!.version;
    emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'POST', status: 500, answerLost: true, times: 1 });
    const applied: number[] = [];
    emu.admin.afterResponse({ method: 'POST', pathIncludes: sid, times: 10 }, (r) => applied.push(r.status));
    await assert.rejects(ws().tasks(sid).update({ assignmentStatus: 'canceled', reason: 'soak', ifMatch: etag }), (e: RestErr) => e.status === 500 && e.code === 20500);
    const t = emu.admin.inspectTask(sid)!;
    assert.equal(t.status, 'canceled', 'the write was applied');
    assert.equal(t.reason, 'soak');
    assert.equal(t.version, before + 1);
    assert.equal(responses.at(-1)!.headers.etag, undefined, 'the lost answer carries no ETag of the new version');
    // A client that retries the same request (same If-Match) learns the Task moved on; nothing is written twice.
    await assert.rejects(ws().tasks(sid).update({ assignmentStatus: 'canceled', reason: 'soak', ifMatch: etag }), (e: RestErr) => e.status === 412);
    assert.equal(emu.admin.inspectTask(sid)!.version, before + 1);
    assert.deepEqual(applied, [200, 412], 'the emulator handled the first write (200) and refused the retry');
    const c = emu.admin.counters();
    assert.equal(c.answersLost, 1);
    assert.equal(c.serverErrors, 1);
  });

  it('destroys the socket after completing the Task (the SDK sees a socket error)', async () => {
    const { sid } = await openTask();
    emu.admin.updateTask(sid, { assignmentStatus: 'assigned' });
    const etag = etagOf((await ws().tasks(sid).fetchWithHttpInfo()).headers)!;
    emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'POST', drop: true, answerLost: true, times: 1 });
    await assert.rejects(ws().tasks(sid).update({ assignmentStatus: 'completed', reason: 'soak', ifMatch: etag }), (e: Error & { code?: string }) =>
      /socket hang up|ECONNRESET|other side closed|terminated/i.test(`${e.message} ${e.code ?? ''}`),
    );
    assert.equal(emu.admin.inspectTask(sid)!.status, 'completed');
    const c = emu.admin.counters();
    assert.equal(c.answersLost, 1);
    assert.equal(c.dropped, 1);
  });

  it('answers 503 with Retry-After after ending an Execution; a fetch finds it ended', async () => {
    const run = await emu.admin.runScenario({ scenario: 'lost-final-webhook' });
    const ex = run.run.executionSid!;
    const flow = client.studio.v2.flows(emu.seeded.flexFlowSid);
    emu.admin.addFault({ endpoint: 'studio:Executions', method: 'POST', status: 503, retryAfter: 1, answerLost: true, times: 1 });
    await assert.rejects(flow.executions(ex).update({ status: 'ended' }), (e: RestErr) => e.status === 503);
    assert.equal(responses.at(-1)!.headers['retry-after'], '1');
    assert.equal(emu.admin.inspectExecution(ex)!.status, 'ended', 'the write was applied');
    assert.equal((await flow.executions(ex).fetch()).status, 'ended');
  });

  it('loses only the answers its rule matches: reads and other endpoints are answered', async () => {
    const { sid } = await openTask();
    emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'POST', status: 500, answerLost: true });
    assert.equal((await ws().tasks(sid).fetch()).assignmentStatus, 'pending');
    assert.equal((await client.calls.list()).length >= 0, true);
    assert.equal(emu.admin.counters().answersLost, 0);
  });

  it('a plain fault before it wins: the request is not handled, and the lost-answer rule is not consumed', async () => {
    const { sid, etag } = await openTask();
    emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'POST', status: 429, retryAfter: 1, times: 1 });
    emu.admin.addFault({ endpoint: 'taskrouter:Tasks', method: 'POST', status: 500, answerLost: true, times: 1 });
    await assert.rejects(ws().tasks(sid).update({ assignmentStatus: 'canceled', ifMatch: etag }), (e: RestErr) => e.status === 429);
    assert.equal(emu.admin.inspectTask(sid)!.status, 'pending', 'not handled');
    const rule = emu.admin.faults().rules.find((r) => r.answerLost) as { remaining?: number } | undefined;
    assert.equal(rule?.remaining, 1);
  });
});
