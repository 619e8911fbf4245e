import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import twilio from 'twilio';
import type { CallStatusEvent, CallWatchInput, TaskLinkEvent } from '../../src/shared/messages';
import { CALL_WATCH_WORKFLOW_TYPE, callWorkflowId } from '../../src/shared/names';
import { CallSidKey } from '../../src/shared/searchAttributes';
import { createWebhookServer, startWebhook, type RunningWebhook } from '../../src/webhook';
import { startTestTemporal, uniqueId, type TestTemporal } from '../helpers/temporal';
import {
  ACCOUNT, FLOW, PUBLIC_URL, REDIRECTED_NUMBER, TOKEN, TR, VOICE, WORKSPACE,
  type Params, assertNoWorkflow, captureLog, decode, newCallSid, post, signals, taskParams, testConfig, voiceParams, waitFor,
} from './webhookHarness';

describe('webhook starter (real Temporal dev server, real HTTP)', function () {
  this.timeout(90_000);
  let t: TestTemporal;
  let client: Client;
  let webhook: RunningWebhook;
  let logLines: string[];
  const taskQueue = uniqueId('webhook-test');

  before(async function () {
    t = await startTestTemporal({ logLevel: 'error' });
    client = t.client;
    const captured = captureLog();
    logLines = captured.lines;
    webhook = await startWebhook(testConfig(taskQueue, t.address), client, { log: captured.log });
  });

  after(async function () {
    await webhook?.close();
    await t?.teardown();
  });

  it('starts callWatch for a valid completed callback, signals it, and redirects to the number\'s Studio Flow', async () => {
    const sid = newCallSid();
    const res = await post(webhook.url, VOICE, voiceParams(sid, { To: REDIRECTED_NUMBER }));
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `https://webhooks.twilio.com/v1/Accounts/${ACCOUNT}/Flows/${FLOW}`);

    const handle = client.workflow.getHandle(callWorkflowId(sid));
    const desc = await handle.describe();
    assert.equal(desc.type, CALL_WATCH_WORKFLOW_TYPE);
    assert.equal(desc.workflowId, `call:${sid}`);
    assert.equal(desc.taskQueue, taskQueue);
    assert.equal(desc.status.name, 'RUNNING');
    assert.equal(desc.typedSearchAttributes.get(CallSidKey), sid);
    assert.equal(await desc.staticSummary(), `call ${sid} from +15557654321 to ${REDIRECTED_NUMBER}`);

    const history = await handle.fetchHistory();
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    const input = decode<CallWatchInput>(started.input?.payloads);
    assert.equal(input.callSid, sid);
    assert.equal(input.startedBy, 'webhook');
    assert.equal(input.from, '+15557654321');
    assert.equal(input.to, REDIRECTED_NUMBER);
    assert.equal(input.startedAtMs, Date.parse('2025-01-14T10:00:00Z'));
    assert.deepEqual(input.settings.flowSids, [FLOW]);

    const sigs = await signals(client, sid);
    assert.equal(sigs.length, 1);
    assert.equal(sigs[0]!.name, 'callStatus');
    const expected: CallStatusEvent = {
      callSid: sid,
      status: 'completed',
      source: 'webhook',
      sequenceNumber: 3,
      timestampMs: Date.parse('2025-01-14T10:00:42Z'),
      durationSec: 42,
      from: '+15557654321',
      to: REDIRECTED_NUMBER,
    };
    assert.deepEqual(sigs[0]!.arg, expected);
  });

  it('answers 204 for a number without a configured flow', async () => {
    const sid = newCallSid();
    const res = await post(webhook.url, VOICE, voiceParams(sid, { CallStatus: 'ringing', SequenceNumber: '1', CallDuration: '' }));
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('location'), null);
    const sigs = await signals(client, sid);
    assert.deepEqual(sigs.map((s) => (s.arg as CallStatusEvent).status), ['ringing']);
    assert.equal((sigs[0]!.arg as CallStatusEvent).durationSec, undefined);
  });

  it('keeps one workflow for duplicate and out-of-order callbacks, with every signal in its history', async () => {
    const sid = newCallSid();
    const order: Params[] = [
      { CallStatus: 'completed', SequenceNumber: '3' },
      { CallStatus: 'initiated', SequenceNumber: '0', CallDuration: '' },
      { CallStatus: 'in-progress', SequenceNumber: '2', CallDuration: '' },
      { CallStatus: 'completed', SequenceNumber: '3' },
    ];
    for (const over of order) assert.equal((await post(webhook.url, VOICE, voiceParams(sid, over))).status, 204);
    const desc = await client.workflow.getHandle(callWorkflowId(sid)).describe();
    const runs = await waitFor('visibility of the call workflow', async () => {
      const n = (await client.workflow.count(`WorkflowId = '${callWorkflowId(sid)}'`)).count;
      return n > 0 ? n : undefined;
    });
    assert.equal(runs, 1);
    const sigs = await signals(client, sid);
    assert.deepEqual(sigs.map((s) => (s.arg as CallStatusEvent).sequenceNumber), [3, 0, 2, 3]);
    assert.ok(sigs.every((s) => s.name === 'callStatus'));
    assert.equal((await client.workflow.getHandle(callWorkflowId(sid)).describe()).runId, desc.runId);
  });

  it('does not start a second watch for a late callback after the watch closed, and answers as done', async () => {
    const sid = newCallSid();
    assert.equal((await post(webhook.url, VOICE, voiceParams(sid))).status, 204);
    const handle = client.workflow.getHandle(callWorkflowId(sid));
    const first = await handle.describe();
    await handle.terminate('test: the watch finished');

    const late = await post(webhook.url, VOICE, voiceParams(sid, { To: REDIRECTED_NUMBER, SequenceNumber: '4' }));
    assert.equal(late.status, 302, 'a late callback is still redirected to Studio');
    const again = await post(webhook.url, VOICE, voiceParams(sid, { SequenceNumber: '5' }));
    assert.equal(again.status, 204);
    const after = await handle.describe();
    assert.equal(after.runId, first.runId);
    assert.equal(after.status.name, 'TERMINATED');
    assert.equal((await signals(client, sid)).length, 1);
    assert.ok(logLines.some((l) => l.includes(sid) && l.includes('"decision":"already-closed"')));
  });

  describe('refuses requests that fail validation, and starts nothing', () => {
    const cases: { name: string; status: number; send: (sid: string) => Promise<Response> }[] = [
      { name: 'forged signature', status: 403, send: (sid) => post(webhook.url, VOICE, voiceParams(sid), { sign: 'forged' }) },
      { name: 'missing signature', status: 403, send: (sid) => post(webhook.url, VOICE, voiceParams(sid), { sign: 'none' }) },
      {
        name: 'signature for the listen address instead of the public URL',
        status: 403,
        send: (sid) => post(webhook.url, VOICE, voiceParams(sid), { signUrl: `${webhook.url}${VOICE}` }),
      },
      {
        name: 'signature for another path',
        status: 403,
        send: (sid) => post(webhook.url, VOICE, voiceParams(sid), { signUrl: `${PUBLIC_URL}${TR}` }),
      },
      {
        name: 'tampered parameter after signing',
        status: 403,
        send: (sid) => {
          const p = voiceParams(sid);
          const signature = twilio.getExpectedTwilioSignature(TOKEN, `${PUBLIC_URL}${VOICE}`, { ...p, CallStatus: 'ringing' });
          return post(webhook.url, VOICE, p, { sign: 'none', headers: { 'x-twilio-signature': signature } });
        },
      },
      { name: 'another account', status: 400, send: (sid) => post(webhook.url, VOICE, voiceParams(sid, { AccountSid: `AC${'9'.repeat(32)}` })) },
      { name: 'unknown CallStatus', status: 400, send: (sid) => post(webhook.url, VOICE, voiceParams(sid, { CallStatus: 'exploded' })) },
      {
        name: 'malformed CallSid',
        status: 400,
        send: (sid) => post(webhook.url, VOICE, voiceParams(sid, { CallSid: `${sid.slice(0, 33)}zz` })).then(async (r) => {
          await assertNoWorkflow(client, `${sid.slice(0, 33)}zz`);
          return r;
        }),
      },
      {
        name: 'JSON body',
        status: 400,
        send: (sid) => post(webhook.url, VOICE, voiceParams(sid), { contentType: 'application/json', body: JSON.stringify(voiceParams(sid)) }),
      },
      {
        name: 'body over WEBHOOK_MAX_BODY_BYTES',
        status: 413,
        send: (sid) => post(webhook.url, VOICE, voiceParams(sid, { CallerName: 'x'.repeat(4000) })),
      },
      {
        name: 'TaskRouter event with a forged signature',
        status: 403,
        send: (sid) => post(webhook.url, TR, taskParams(sid), { sign: 'forged' }),
      },
      {
        name: 'TaskRouter event from another account',
        status: 400,
        send: (sid) => post(webhook.url, TR, taskParams(sid, { AccountSid: `AC${'9'.repeat(32)}` })),
      },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.status}`, async () => {
        const sid = newCallSid();
        const res = await c.send(sid);
        assert.equal(res.status, c.status);
        await assertNoWorkflow(client, sid);
      });
    }

    it('unknown route → 404, wrong method → 405', async () => {
      const sid = newCallSid();
      assert.equal((await post(webhook.url, '/twilio/voice/nope', voiceParams(sid))).status, 404);
      const get = await fetch(`${webhook.url}${VOICE}`);
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
      assert.equal((await fetch(`${webhook.url}/healthz`, { method: 'POST' })).status, 405);
      await assertNoWorkflow(client, sid);
    });
  });

  it('links a TaskRouter voice task to its call with taskLink', async () => {
    const sid = newCallSid();
    const p = taskParams(sid, { EventType: 'reservation.accepted', TaskAssignmentStatus: 'assigned' });
    const res = await post(webhook.url, TR, p);
    assert.equal(res.status, 204);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const desc = await client.workflow.getHandle(callWorkflowId(sid)).describe();
    assert.equal(desc.type, CALL_WATCH_WORKFLOW_TYPE);
    assert.equal(desc.typedSearchAttributes.get(CallSidKey), sid);
    const sigs = await signals(client, sid);
    assert.equal(sigs.length, 1);
    assert.equal(sigs[0]!.name, 'taskLink');
    const expected: TaskLinkEvent = {
      callSid: sid,
      workspaceSid: WORKSPACE,
      taskSid: p.TaskSid!,
      eventType: 'reservation.accepted',
      assignmentStatus: 'assigned',
      channel: 'voice',
      timestampMs: 1736848842000,
    };
    assert.deepEqual(sigs[0]!.arg, expected);
  });

  it('acknowledges chat tasks and unparsable attributes without starting anything', async () => {
    const before = (await client.workflow.count(`TaskQueue = '${taskQueue}'`)).count;
    const chat = taskParams(undefined);
    const chatRes = await post(webhook.url, TR, chat);
    assert.equal(chatRes.status, 204);
    assert.match(chatRes.headers.get('content-type') ?? '', /^application\/json/);
    const broken = newCallSid();
    const brokenRes = await post(webhook.url, TR, taskParams(broken, { TaskAttributes: `{"call_sid":"${broken}",` }));
    assert.equal(brokenRes.status, 204);
    await assertNoWorkflow(client, broken);
    assert.ok(logLines.some((l) => l.includes(chat.TaskSid!) && l.includes('TaskAttributes has no call_sid')));
    assert.ok(logLines.some((l) => l.includes('TaskAttributes is not JSON')));

    // Visibility is asynchronous: start one control workflow after them and wait for it to show.
    const control = newCallSid();
    assert.equal((await post(webhook.url, VOICE, voiceParams(control))).status, 204);
    await waitFor('the control workflow in visibility', async () =>
      (await client.workflow.count(`WorkflowId = '${callWorkflowId(control)}'`)).count === 1 ? true : undefined,
    );
    assert.equal((await client.workflow.count(`TaskQueue = '${taskQueue}'`)).count, before + 1);
  });

  it('serves /healthz and /readyz while Temporal is up', async () => {
    assert.equal((await fetch(`${webhook.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${webhook.url}/readyz`)).status, 200);
  });

  it('never logs the auth token', () => {
    assert.ok(logLines.length > 10);
    assert.ok(!logLines.some((l) => l.includes(TOKEN)));
  });

  it('logs accepted callbacks at debug, and refusals at info or above', async () => {
    assert.equal((await post(webhook.url, VOICE, voiceParams(newCallSid()), { sign: 'forged' })).status, 403);
    assert.equal((await post(webhook.url, VOICE, voiceParams(newCallSid(), { CallStatus: 'exploded' }))).status, 400);
    const entries = logLines.map((l) => JSON.parse(l) as { level: number; decision?: string });
    const accepted = entries.filter((e) => ['signalled', 'already-closed', 'ignored'].includes(e.decision ?? ''));
    const refused = entries.filter((e) => e.decision === 'refused');
    assert.ok(accepted.length > 5 && refused.length >= 2, `${accepted.length} accepted, ${refused.length} refused`);
    assert.ok(accepted.every((e) => e.level === 20), 'accepted callbacks at debug (20)');
    assert.ok(refused.every((e) => e.level >= 30), 'refusals at info (30) or above');
  });

  describe('without WEBHOOK_PUBLIC_URL (URL rebuilt from the request)', () => {
    async function listen(trustProxy: boolean): Promise<{ url: string; close: () => Promise<void> }> {
      const config = testConfig(taskQueue, t.address, { WEBHOOK_PUBLIC_URL: '' });
      const app = createWebhookServer({ config, client, log: pino({ level: 'silent' }), trustProxy });
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      return { url, close: () => app.close() };
    }

    it('validates against the Host it was called on', async () => {
      const s = await listen(false);
      try {
        const sid = newCallSid();
        assert.equal((await post(s.url, VOICE, voiceParams(sid), { signUrl: `${s.url}${VOICE}` })).status, 204);
        assert.equal((await client.workflow.getHandle(callWorkflowId(sid)).describe()).status.name, 'RUNNING');
      } finally {
        await s.close();
      }
    });

    it('honours X-Forwarded-Proto/-Host only with trustProxy', async () => {
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'proxy.example.test' };
      const signUrl = `https://proxy.example.test${VOICE}`;
      const untrusted = await listen(false);
      try {
        const sid = newCallSid();
        assert.equal((await post(untrusted.url, VOICE, voiceParams(sid), { signUrl, headers: forwarded })).status, 403);
        await assertNoWorkflow(client, sid);
      } finally {
        await untrusted.close();
      }
      const trusted = await listen(true);
      try {
        const sid = newCallSid();
        assert.equal((await post(trusted.url, VOICE, voiceParams(sid), { signUrl, headers: forwarded })).status, 204);
        assert.equal((await signals(client, sid)).length, 1);
      } finally {
        await trusted.close();
      }
    });
  });
});
