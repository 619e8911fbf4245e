import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config';
import { createTemporalHealth } from '../../src/webhook/health';

describe('webhook limits: WEBHOOK_REQUEST_BUDGET, WEBHOOK_MAX_IN_FLIGHT, WEBHOOK_MAX_QUEUED', () => {
  it('defaults to a 10 s budget, 32 calls in flight and 1000 queued', () => {
    const c = loadConfig({});
    assert.deepEqual({ b: c.webhook.requestBudgetMs, f: c.webhook.maxInFlight, q: c.webhook.maxQueued }, { b: 10_000, f: 32, q: 1000 });
    assert.equal(loadConfig({ WEBHOOK_REQUEST_BUDGET: '12s' }).webhook.requestBudgetMs, 12_000);
  });

  it('reports one line per bad variable, and refuses a budget past Twilio\'s 15 s webhook timeout', () => {
    assert.throws(
      () => loadConfig({ WEBHOOK_REQUEST_BUDGET: '20s', WEBHOOK_MAX_IN_FLIGHT: '0', WEBHOOK_MAX_QUEUED: 'lots' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 3, err.problems.join('\n'));
        assert.ok(err.problems.some((p) => p.startsWith('WEBHOOK_REQUEST_BUDGET="20s"') && p.includes('15 s')));
        assert.ok(err.problems.some((p) => p.startsWith('WEBHOOK_MAX_IN_FLIGHT="0"')));
        assert.ok(err.problems.some((p) => p.startsWith('WEBHOOK_MAX_QUEUED="lots"')));
        return true;
      },
    );
    assert.throws(() => loadConfig({ WEBHOOK_REQUEST_BUDGET: 'soon' }), (err: unknown) => err instanceof ConfigError && err.problems.length === 1);
  });
});

describe('webhook Temporal health (probe state, no server)', () => {
  it('probes only when the evidence is stale, goes down on a failed probe (aborting waiters), and comes back up', async () => {
    let clock = 0;
    let probes = 0;
    let answering = true;
    const health = createTemporalHealth({
      probe: async () => {
        probes++;
        if (!answering) throw new Error('UNAVAILABLE');
      },
      now: () => clock,
    });
    assert.equal(health.state, 'unknown');
    assert.equal(await health.check(), true);
    assert.equal(probes, 1);
    health.noteAnswer();
    clock = 500;
    assert.equal(await health.check(), true);
    assert.equal(probes, 1, 'fresh evidence needs no probe');

    const waiter = health.downSignal;
    answering = false;
    clock = 2000;
    assert.equal(await health.check(), false);
    assert.equal(health.state, 'down');
    assert.ok(waiter.aborted, 'callbacks waiting on Temporal are released at once');

    health.recheckIfDown();
    assert.equal(probes, 2, 'no re-probe within recheckMs');
    answering = true;
    clock = 3500;
    health.recheckIfDown();
    await Promise.resolve();
    await health.probeNow();
    assert.equal(health.state, 'up');
    assert.ok(!health.downSignal.aborted, 'a fresh signal once Temporal is up again');
  });
});
