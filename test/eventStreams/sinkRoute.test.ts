import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { getFreePort } from '../../src/util/freePort';
import twilio from 'twilio';
import type { ExecutionLinkEvent, TaskLinkEvent } from '../../src/shared/messages';
import { callWorkflowId, EVENT_STREAMS_PATH } from '../../src/shared/names';
import { ConfigError } from '../../src/config';
import { startWebhook, type RunningWebhook } from '../../src/webhook';
import { startTestTemporal, uniqueId, type TestTemporal } from '../helpers/temporal';
import { ACCOUNT, FLOW, PUBLIC_URL, TOKEN, WORKSPACE, assertNoWorkflow, captureLog, newCallSid, newTaskSid, signals, testConfig } from '../webhook/webhookHarness';

const EXEC = (): string => `FN${[...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;

function execEvent(callSid: string, executionSid: string, type = 'started'): Record<string, unknown> {
  return {
    specversion: '1.0', type: `com.twilio.studio.flow.execution.${type}`, source: `/v2/Flows/${FLOW}`, id: `${executionSid}-${type}`,
    dataschema: 'https://events-schemas.twilio.com/Studio.FlowExecutionEvent/2', datacontenttype: 'application/json', time: new Date().toISOString(),
    data: { execution_sid: executionSid, account_sid: ACCOUNT, flow_sid: FLOW, contact_channel_address: '+15557654321', status: type === 'ended' ? 'ended' : 'active', started_by: callSid },
  };
}

function taskEvent(callSid: string, taskSid: string, type = 'created', status = 'pending'): Record<string, unknown> {
  return {
    specversion: '1.0', type: `com.twilio.taskrouter.task.${type}`, source: `/v1/Workspaces/${WORKSPACE}/Tasks/${taskSid}`, id: `${taskSid}-${type}`,
    dataschema: 'https://events-schemas.twilio.com/TaskRouter.WDSTaskEvent/1', datacontenttype: 'application/json', time: new Date().toISOString(),
    data: { account_sid: ACCOUNT, workspace_sid: WORKSPACE, task_sid: taskSid, task_assignment_status: status, task_channel_unique_name: 'voice', task_attributes: JSON.stringify({ call_sid: callSid }) },
  };
}

interface SinkPost { sign?: 'valid' | 'wrong-token' | 'none' | 'no-hash'; tamper?: boolean; contentType?: string; rawBody?: string; headers?: Record<string, string> }

/** Posts a batch as Event Streams does: JSON body, bodySHA256 in the query, X-Twilio-Signature over the full URL. */
async function postBatch(base: string, events: unknown, opts: SinkPost = {}): Promise<Response> {
  const body = opts.rawBody ?? JSON.stringify(events);
  const hash = createHash('sha256').update(body).digest('hex');
  const path = opts.sign === 'no-hash' ? EVENT_STREAMS_PATH : `${EVENT_STREAMS_PATH}?bodySHA256=${hash}`;
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json; charset=utf-8', ...opts.headers };
  if (opts.sign !== 'none') headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(opts.sign === 'wrong-token' ? 'not-the-token' : TOKEN, `${PUBLIC_URL}${path}`, {});
  const sent = opts.tamper ? body.replace(/"pending"/, '"assigned"').replace(/started/, 'ended') : body;
  return fetch(`${base}${path}`, { method: 'POST', headers, body: sent });
}

describe('Event Streams sink route (real Temporal dev server, real HTTP)', function () {
  this.timeout(90_000);
  let t: TestTemporal;
  let client: Client;
  let webhook: RunningWebhook;
  let logLines: string[];

  before(async function () {
    t = await startTestTemporal({ logLevel: 'error' });
    client = t.client;
    const captured = captureLog();
    logLines = captured.lines;
    webhook = await startWebhook(testConfig(uniqueId('es-route'), t.address, { WEBHOOK_METRICS_ADDRESS: `127.0.0.1:${await getFreePort()}` }), client, { log: captured.log });
  });
  after(async function () {
    await webhook?.close();
    await t?.teardown();
  });

  it('a signed batch starts the call\'s watch with executionLink and taskLink, on the callbacks\' workflow id', async () => {
    const callSid = newCallSid();
    const exec = EXEC();
    const task = newTaskSid();
    const res = await postBatch(webhook.url, [execEvent(callSid, exec), taskEvent(callSid, task), { specversion: '1.0', type: 'com.twilio.eventstreams.test-event', id: 'x', data: {} }]);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { received: 3, signalled: 2 });
    const desc = await client.workflow.getHandle(callWorkflowId(callSid)).describe();
    assert.equal(desc.status.name, 'RUNNING');
    const got = await signals(client, callSid);
    assert.deepEqual(got.map((s) => s.name).sort(), ['executionLink', 'taskLink']);
    const link = got.find((s) => s.name === 'executionLink')!.arg as ExecutionLinkEvent;
    assert.equal(link.executionSid, exec);
    assert.equal(link.flowSid, FLOW);
    assert.equal((got.find((s) => s.name === 'taskLink')!.arg as TaskLinkEvent).taskSid, task);
  });

  it('duplicated and reordered batches keep one watch: every event signals the same run', async () => {
    const callSid = newCallSid();
    const exec = EXEC();
    const task = newTaskSid();
    const batches = [
      [taskEvent(callSid, task, 'completed', 'completed'), execEvent(callSid, exec, 'ended')],
      [execEvent(callSid, exec), taskEvent(callSid, task)],
      [execEvent(callSid, exec), taskEvent(callSid, task, 'completed', 'completed')],
    ];
    for (const b of batches) assert.equal((await postBatch(webhook.url, b)).status, 200);
    const handle = client.workflow.getHandle(callWorkflowId(callSid));
    const runId = (await handle.describe()).runId;
    const { workflowId } = handle;
    assert.equal(workflowId, `call:${callSid}`);
    // Every event reached the one run (what the watch makes of them is the end-to-end suite's subject).
    const got = await signals(client, callSid);
    assert.equal(got.length, 6);
    assert.ok(got.every((s) => (s.arg as { callSid: string }).callSid === callSid));
    assert.equal((await handle.describe()).runId, runId);
  });

  describe('refuses what it cannot verify, and starts nothing', () => {
    const cases: { name: string; opts: SinkPost; status: number }[] = [
      { name: 'missing X-Twilio-Signature', opts: { sign: 'none' }, status: 403 },
      { name: 'signed with another token (forged)', opts: { sign: 'wrong-token' }, status: 403 },
      { name: 'body tampered after signing', opts: { tamper: true }, status: 403 },
      { name: 'no bodySHA256 in the URL', opts: { sign: 'no-hash' }, status: 403 },
      { name: 'form-encoded body', opts: { contentType: 'application/x-www-form-urlencoded' }, status: 400 },
      { name: 'text/plain body', opts: { contentType: 'text/plain' }, status: 400 },
      { name: 'a signed body that is not a JSON array', opts: { rawBody: '{"type":"com.twilio.studio.flow.execution.started"}' }, status: 400 },
      { name: 'a signed body that is not JSON', opts: { rawBody: '[{nope' }, status: 400 },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.status}`, async () => {
        const callSid = newCallSid();
        const res = await postBatch(webhook.url, [execEvent(callSid, EXEC())], c.opts);
        const text = await res.text();
        assert.equal(res.status, c.status, text);
        if (c.name.endsWith('body') && c.status === 400) assert.match(text, /application\/json/);
        await assertNoWorkflow(client, callSid);
      });
    }
    it('a body over WEBHOOK_MAX_BODY_BYTES → 413', async () => {
      const callSid = newCallSid();
      const big = Array.from({ length: 20 }, () => execEvent(callSid, EXEC()));
      assert.equal((await postBatch(webhook.url, big)).status, 413);
      await assertNoWorkflow(client, callSid);
    });
    it('GET → 405', async () => {
      assert.equal((await fetch(`${webhook.url}${EVENT_STREAMS_PATH}`)).status, 405);
    });
  });

  describe('with WEBHOOK_EVENT_STREAMS_BASIC_AUTH (credentials in the Sink destination URL)', () => {
    let guarded: RunningWebhook;
    const basic = (v: string) => ({ authorization: `Basic ${Buffer.from(v).toString('base64')}` });
    before(async () => {
      guarded = await startWebhook(testConfig(uniqueId('es-basic'), t.address, { WEBHOOK_EVENT_STREAMS_BASIC_AUTH: 'sink:s3cret:with-colon' }), client, { log: pino({ level: 'silent' }) });
    });
    after(async () => guarded?.close());

    it('requires the Basic credentials (401) and still the signature (403)', async () => {
      const missing = await postBatch(guarded.url, [execEvent(newCallSid(), EXEC())]);
      assert.equal(missing.status, 401);
      assert.equal(missing.headers.get('www-authenticate'), 'Basic realm="unstick"');
      assert.equal((await postBatch(guarded.url, [execEvent(newCallSid(), EXEC())], { headers: basic('sink:wrong') })).status, 401);
      assert.equal((await postBatch(guarded.url, [execEvent(newCallSid(), EXEC())], { headers: { authorization: 'Bearer x' } })).status, 401);
      assert.equal((await postBatch(guarded.url, [execEvent(newCallSid(), EXEC())], { headers: basic('sink:s3cret:with-colon'), sign: 'wrong-token' })).status, 403);
      const callSid = newCallSid();
      assert.equal((await postBatch(guarded.url, [execEvent(callSid, EXEC())], { headers: basic('sink:s3cret:with-colon') })).status, 200);
      assert.deepEqual((await signals(client, callSid)).map((s) => s.name), ['executionLink']);
    });

    it('a value that is not user:password stops start-up naming the variable', () => {
      assert.throws(
        () => testConfig('q', t.address, { WEBHOOK_EVENT_STREAMS_BASIC_AUTH: 'no-colon' }),
        (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0]!.startsWith('WEBHOOK_EVENT_STREAMS_BASIC_AUTH='),
      );
    });
  });

  it('skips a malformed event with its reason in the log, and still signals the rest', async () => {
    const callSid = newCallSid();
    const bad = { ...execEvent(callSid, EXEC()), id: 'bad-1', data: { account_sid: ACCOUNT, flow_sid: FLOW, started_by: callSid } };
    const res = await postBatch(webhook.url, [bad, taskEvent(callSid, newTaskSid())]);
    assert.equal(res.status, 200);
    assert.deepEqual((await signals(client, callSid)).map((s) => s.name), ['taskLink']);
    const line = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.eventId === 'bad-1');
    assert.ok(line, 'the skip is logged');
    assert.match(String(line.reason), /execution_sid/);
    assert.ok(webhook.stats().signalled >= 1);
    const metrics = await (await fetch(webhook.metricsUrl!)).text();
    assert.match(metrics, /unstick_webhook_stream_events_total\{decision="skip",outcome="none"\} [1-9]/);
    assert.match(metrics, /unstick_webhook_stream_events_total\{decision="task",outcome="signalled"\} [1-9]/);
  });
});

describe('Event Streams sink route with Temporal unreachable', () => {
  let dead: RunningWebhook;
  let deadConnection: Connection;
  before(async () => {
    const address = `127.0.0.1:${await getFreePort()}`;
    deadConnection = Connection.lazy({ address, connectTimeout: 500 });
    dead = await startWebhook(testConfig(uniqueId('es-dead'), address), new Client({ connection: deadConnection }), { log: pino({ level: 'silent' }), temporalTimeoutMs: 1000, readinessTimeoutMs: 500 });
  });
  after(async () => {
    await dead?.close();
    await deadConnection?.close().catch(() => undefined);
  });

  it('answers 503 with Retry-After (the batch is not acknowledged) within the Sink\'s 5 s, and still 403 to a forged one', async () => {
    const t0 = Date.now();
    const res = await postBatch(dead.url, [execEvent(newCallSid(), EXEC())]);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.equal((await postBatch(dead.url, [execEvent(newCallSid(), EXEC())], { sign: 'wrong-token' })).status, 403);
    // A batch with nothing to signal needs no Temporal: acknowledged.
    assert.equal((await postBatch(dead.url, [{ specversion: '1.0', type: 'com.twilio.eventstreams.test-event', id: 't', data: {} }])).status, 200);
  });
});
