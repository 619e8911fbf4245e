/**
 * The webhook's own Prometheus metrics (WEBHOOK_METRICS_ADDRESS): after a scripted set of callbacks, the counters on
 * its metrics listener equal what was answered, by route, outcome and status; the port Twilio reaches serves none.
 */
import assert from 'node:assert/strict';
import pino from 'pino';
import { getFreePort } from '../../src/util/freePort';
import { startWebhook, type RunningWebhook } from '../../src/webhook';
import { startTestTemporal, uniqueId, type TestTemporal } from '../helpers/temporal';
import { REDIRECTED_NUMBER, TR, VOICE, newCallSid, post, taskParams, testConfig, voiceParams } from './webhookHarness';

function value(text: string, name: string, labels: Record<string, string>): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('webhook metrics on Prometheus (WEBHOOK_METRICS_ADDRESS)', function () {
  this.timeout(60_000);
  let t: TestTemporal;
  let webhook: RunningWebhook;

  before(async () => {
    t = await startTestTemporal({ logLevel: 'error' });
    const config = testConfig(uniqueId('webhook-metrics'), t.address, { WEBHOOK_METRICS_ADDRESS: `127.0.0.1:${await getFreePort()}` });
    webhook = await startWebhook(config, t.client, { log: pino({ level: 'silent' }) });
  });
  after(async () => {
    await webhook?.close();
    await t?.teardown();
  });

  it('counts callbacks by route, outcome and status, and their latency', async () => {
    const sid = newCallSid();
    assert.equal((await post(webhook.url, VOICE, voiceParams(sid))).status, 204);
    assert.equal((await post(webhook.url, VOICE, voiceParams(sid))).status, 204);
    assert.equal((await post(webhook.url, VOICE, voiceParams(newCallSid(), { To: REDIRECTED_NUMBER }))).status, 302);
    assert.equal((await post(webhook.url, VOICE, voiceParams(newCallSid()), { sign: 'forged' })).status, 403);
    assert.equal((await post(webhook.url, TR, taskParams(undefined))).status, 204);
    assert.equal((await fetch(`${webhook.url}/no-such-path`)).status, 404);

    assert.ok(webhook.metricsUrl);
    const text = await (await fetch(webhook.metricsUrl)).text();
    const calls = 'unstick_webhook_callbacks_total';
    assert.equal(value(text, calls, { route: VOICE, outcome: 'signalled', status: '204' }), 2);
    assert.equal(value(text, calls, { route: VOICE, outcome: 'signalled', status: '302' }), 1);
    assert.equal(value(text, calls, { route: VOICE, outcome: 'refused', status: '403' }), 1);
    assert.equal(value(text, calls, { route: TR, outcome: 'ignored', status: '204' }), 1);
    assert.equal(value(text, calls, { route: 'unmatched', outcome: 'refused', status: '404' }), 1);
    assert.equal(value(text, 'unstick_webhook_duration_seconds_count', { route: VOICE }), 4);

    assert.equal((await fetch(`${webhook.url}/metrics`)).status, 404, 'not on the port Twilio reaches');
  });
});
