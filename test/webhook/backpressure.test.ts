import assert from 'node:assert/strict';
import { Client, type WorkflowClientInterceptor } from '@temporalio/client';
import { callWorkflowId } from '../../src/shared/names';
import { startWebhook, type RunningWebhook } from '../../src/webhook';
import { startTestTemporal, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';
import { TR, VOICE, assertNoWorkflow, captureLog, newCallSid, post, taskParams, testConfig, voiceParams } from './webhookHarness';

/** Makes Temporal slow for this client: every signalWithStart waits `delayMs`, or for `gate` while one is set. */
class SlowTemporal {
  delayMs = 0;
  entered = 0;
  private open: (() => void) | undefined;
  private gate: Promise<void> | undefined;
  readonly interceptor: WorkflowClientInterceptor = {
    signalWithStart: async (input, next) => {
      this.entered++;
      if (this.gate) await this.gate;
      else if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      return next(input);
    },
  };
  close(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
}

interface Timed {
  status: number;
  ms: number;
}

async function timedPost(url: string, path: string, params: Record<string, string>, sign?: 'forged'): Promise<Timed> {
  const t0 = Date.now();
  const res = await post(url, path, params, sign ? { sign } : {});
  await res.arrayBuffer();
  return { status: res.status, ms: Date.now() - t0 };
}

describe('webhook back-pressure (real Temporal dev server, slowed by a client interceptor)', () => {
  let t: TestTemporal;
  let slow: SlowTemporal;
  let client: Client;
  const open: RunningWebhook[] = [];
  const taskQueue = uniqueId('webhook-backpressure');

  before(async () => {
    t = await startTestTemporal();
    slow = new SlowTemporal();
    client = new Client({ connection: t.connection, namespace: t.namespace, interceptors: { workflow: [slow.interceptor] } });
  });
  afterEach(async () => {
    slow.release();
    slow.delayMs = 0;
    slow.entered = 0;
    for (const w of open.splice(0)) await w.close();
  });
  after(async () => {
    await t?.teardown();
  });

  async function webhook(opts: { maxInFlight: number; maxQueued?: number; budgetMs: number }) {
    const captured = captureLog();
    const w = await startWebhook(testConfig(taskQueue, t.address), client, {
      log: captured.log,
      maxInFlight: opts.maxInFlight,
      maxQueued: opts.maxQueued ?? 1000,
      temporalTimeoutMs: opts.budgetMs,
      readinessTimeoutMs: 500,
    });
    open.push(w);
    return { w, lines: captured.lines };
  }

  it('answers every callback of a burst 20× the concurrency limit with 2xx while Temporal is slow, each within the budget', async () => {
    const budgetMs = 8000;
    const { w } = await webhook({ maxInFlight: 2, budgetMs });
    slow.delayMs = 100;
    const sids = Array.from({ length: 40 }, newCallSid);
    const answers = await Promise.all(
      sids.map((sid, i) => (i % 4 === 3 ? timedPost(w.url, TR, taskParams(sid)) : timedPost(w.url, VOICE, voiceParams(sid)))),
    );
    assert.deepEqual(answers.map((a) => a.status), answers.map(() => 204));
    const slowest = Math.max(...answers.map((a) => a.ms));
    assert.ok(slowest < budgetMs, `slowest callback took ${slowest} ms`);
    const stats = w.stats();
    assert.ok(stats.maxQueuedSeen >= 30, `queue reached only ${stats.maxQueuedSeen}: the burst did not wait for slots`);
    assert.equal(stats.signalled, 40);
    assert.equal(stats.overBudget + stats.queueFull + stats.unavailable, 0);
    // The slowest callback waited for about 19 others ahead of it in its slot, so the queue did its job.
    assert.ok(slowest >= 19 * slow.delayMs, `slowest ${slowest} ms: were calls not limited to 2?`);
    for (const sid of sids) await client.workflow.getHandle(callWorkflowId(sid)).describe();
  });

  it('refuses with 503 a callback that cannot get a slot within its budget or finds the queue full, counted apart from "unavailable"', async () => {
    const budgetMs = 1500;
    const { w, lines } = await webhook({ maxInFlight: 1, maxQueued: 1, budgetMs });
    slow.close();
    const [a, b, c] = [newCallSid(), newCallSid(), newCallSid()];
    const first = timedPost(w.url, VOICE, voiceParams(a));
    await waitUntil('the first callback holds the only slot', () => slow.entered === 1);
    const second = timedPost(w.url, VOICE, voiceParams(b));
    await waitUntil('the second callback is queued', () => w.stats().queued === 1);

    const third = await timedPost(w.url, VOICE, voiceParams(c));
    assert.equal(third.status, 503);
    assert.ok(third.ms < budgetMs / 2, `a full queue is refused at once, took ${third.ms} ms`);
    const forged = await timedPost(w.url, VOICE, voiceParams(newCallSid()), 'forged');
    assert.equal(forged.status, 403, 'forged requests are refused first, whatever the queue');

    const [one, two] = await Promise.all([first, second]);
    for (const r of [one, two]) {
      assert.equal(r.status, 503);
      assert.ok(r.ms >= budgetMs - 50 && r.ms < budgetMs + 1000, `answered after ${r.ms} ms, budget ${budgetMs} ms`);
    }
    const stats = w.stats();
    assert.deepEqual({ overBudget: stats.overBudget, queueFull: stats.queueFull, unavailable: stats.unavailable }, { overBudget: 2, queueFull: 1, unavailable: 0 });
    const decisions = lines.map((l) => JSON.parse(l) as { decision?: string; reason?: string }).filter((l) => l.decision === 'over-budget');
    assert.deepEqual(decisions.map((d) => d.reason).sort(), ['budget', 'budget', 'queue-full']);

    // Temporal was up all along; the queued callback that gave up is never sent once a slot frees.
    slow.release();
    await waitUntil('the held call settles', () => w.stats().inFlight + w.stats().queued === 0);
    assert.equal(slow.entered, 1);
    await assertNoWorkflow(client, b);
    await assertNoWorkflow(client, c);
    assert.equal((await fetch(`${w.url}/readyz`)).status, 200);
  });

  it('answers 503 at once, well within the budget, when Temporal goes away while callbacks wait', async () => {
    const budgetMs = 10_000;
    const { w, lines } = await webhook({ maxInFlight: 1, budgetMs });
    assert.equal((await timedPost(w.url, VOICE, voiceParams(newCallSid()))).status, 204, 'Temporal up: accepted');
    slow.close();
    const waiting = [timedPost(w.url, VOICE, voiceParams(newCallSid()))];
    await waitUntil('a callback holds the slot', () => slow.entered >= 2);
    waiting.push(timedPost(w.url, VOICE, voiceParams(newCallSid())), timedPost(w.url, TR, taskParams(newCallSid())));
    await waitUntil('two callbacks are queued', () => w.stats().queued === 2);

    await t.server.stop();
    slow.release();
    const answers = await Promise.all(waiting);
    for (const r of answers) {
      assert.equal(r.status, 503);
      assert.ok(r.ms < budgetMs / 2, `took ${r.ms} ms: should not wait out the ${budgetMs} ms budget`);
    }
    const later = await timedPost(w.url, VOICE, voiceParams(newCallSid()));
    assert.equal(later.status, 503);
    assert.ok(later.ms < 500, `once Temporal is known down, 503 comes at once (took ${later.ms} ms)`);
    assert.equal((await timedPost(w.url, VOICE, voiceParams(newCallSid()), 'forged')).status, 403);
    const stats = w.stats();
    assert.equal(stats.unavailable, 4);
    assert.equal(stats.overBudget + stats.queueFull, 0);
    assert.equal(stats.temporal, 'down');
    assert.ok(lines.some((l) => l.includes('"decision":"temporal-unavailable"')));
    assert.ok(!lines.some((l) => l.includes('"decision":"over-budget"')));
  });
});
