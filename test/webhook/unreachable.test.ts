import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { getFreePort } from '../../src/util/freePort';
import { startWebhook, type RunningWebhook } from '../../src/webhook';
import { uniqueId } from '../helpers/temporal';
import { ACCOUNT, FLOW, REDIRECTED_NUMBER, TR, VOICE, newCallSid, post, taskParams, testConfig, voiceParams } from './webhookHarness';

describe('webhook starter with Temporal unreachable (real HTTP, no server on the port)', () => {
  const taskQueue = uniqueId('webhook-unreachable');
  let dead: RunningWebhook;
  let deadConnection: Connection;
  before(async () => {
    const address = `127.0.0.1:${await getFreePort()}`;
    deadConnection = Connection.lazy({ address, connectTimeout: 500 });
    const deadClient = new Client({ connection: deadConnection });
    dead = await startWebhook(testConfig(taskQueue, address), deadClient, { log: pino({ level: 'silent' }), temporalTimeoutMs: 1000, readinessTimeoutMs: 500 });
  });
  after(async () => {
    await dead?.close();
    await deadConnection?.close().catch(() => undefined);
  });

  it('answers 503 to a valid callback within the deadline, and /readyz 503, /healthz 200', async () => {
    const t0 = Date.now();
    const res = await post(dead.url, VOICE, voiceParams(newCallSid()));
    assert.equal(res.status, 503);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.equal((await post(dead.url, TR, taskParams(newCallSid()))).status, 503);
    assert.equal((await fetch(`${dead.url}/readyz`)).status, 503);
    assert.equal((await fetch(`${dead.url}/healthz`)).status, 200);
  });

  it('still redirects a configured number to Studio so Studio can end its Execution', async () => {
    const res = await post(dead.url, VOICE, voiceParams(newCallSid(), { To: REDIRECTED_NUMBER }));
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `https://webhooks.twilio.com/v1/Accounts/${ACCOUNT}/Flows/${FLOW}`);
  });

  it('still refuses forged requests with 403 first', async () => {
    assert.equal((await post(dead.url, VOICE, voiceParams(newCallSid()), { sign: 'forged' })).status, 403);
  });
});
