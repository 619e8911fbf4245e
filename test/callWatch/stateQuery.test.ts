/**
 * The callWatch `state` query in each phase a test can hold the watch in: `nextCheckAtMs` is when the timer the
 * watch waits on fires (unset while it works and once it is done), and `actions`/`skipped` are always lists.
 */
import * as assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { stateQuery, type CallWatchInput, type CallWatchState } from '../../src/shared/messages';
import { startCallWatch } from '../../src/temporal/startCallWatch';
import { startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

const GRACE_MS = 5_000;
const MAX_AGE_MS = 60_000;
const WRAP_LIMIT_MS = 60_000;

describe('callWatch state query: the next check and the lists in every phase', function () {
  this.timeout(120_000);
  let stack: Stack;

  // No webhook: each watch is started here and learns the call's end by polling it. No linker either, so no wait for
  // a link (a timer in `reconciling`): the watches discover at once.
  before(async () => {
    stack = await startStack({ viaWebhook: false, env: { UNSTICK_LINKER: 'false', UNSTICK_GRACE_PERIOD: `${GRACE_MS}ms`, UNSTICK_MAX_AGE: `${MAX_AGE_MS}ms`, UNSTICK_WRAP_LIMIT: `${WRAP_LIMIT_MS}ms` } });
    await stack.startWorkers();
  });
  after(async () => stack?.teardown());
  afterEach(() => stack.emu.admin.clearFaults());

  async function watch(callSid: string, input: Partial<Omit<CallWatchInput, 'callSid'>> = {}): Promise<WorkflowHandle> {
    const started = await startCallWatch(stack.temporal.client, callSid, {
      taskQueue: stack.config.temporal.taskQueue,
      input: { startedBy: 'manual', settings: stack.settings, ...input },
      summary: `call ${callSid} (state query test)`,
    });
    assert.equal(started.kind, 'started');
    return stack.temporal.client.workflow.getHandle(started.workflowId);
  }

  /** Queries `state` until `ok` holds; every answer on the way must carry both lists. */
  function stateWhen(handle: WorkflowHandle, what: string, ok: (s: CallWatchState) => boolean, intervalMs = 50): Promise<CallWatchState> {
    return waitUntil(
      what,
      async () => {
        const s = await handle.query(stateQuery);
        assert.ok(Array.isArray(s.actions), `actions is a list in phase ${s.phase}: ${JSON.stringify(s.actions)}`);
        assert.ok(Array.isArray(s.skipped), `skipped is a list in phase ${s.phase}: ${JSON.stringify(s.skipped)}`);
        return ok(s) ? s : undefined;
      },
      { intervalMs },
    );
  }

  it('a live call: the next check is its max age, or the end of the first poll delay when that comes first', async () => {
    const live = stack.emu.admin.createCall({ scenario: 'live-long' });
    const startedAtMs = Date.now() - 10_000;
    const handle = await watch(live.callSid!, { startedAtMs });
    // A webhook-started watch (its call sends callbacks) first polls after UNSTICK_POLL_WITH_CALLBACKS, here 30 s.
    const other = stack.emu.admin.createCall({ scenario: 'live-long' });
    const pollDelayMs = 30_000;
    const queriedFrom = Date.now();
    const delayed = await watch(other.callSid!, { startedBy: 'webhook', startedAtMs, settings: { ...stack.settings, pollInitialMs: 1_000, pollMaxMs: 1_000, pollWithCallbacksMs: pollDelayMs } });
    try {
      const s = await stateWhen(handle, 'a wait for the max age', (x) => x.phase === 'waiting-for-end' && x.nextCheckAtMs !== undefined);
      assert.equal(s.nextCheckAtMs, startedAtMs + MAX_AGE_MS);
      assert.ok(s.nextCheckAtMs! > Date.now(), 'the next check lies ahead');
      assert.deepEqual([s.actions, s.skipped], [[], []]);

      const d = await stateWhen(delayed, 'a wait for the first poll', (x) => x.nextCheckAtMs !== undefined);
      assert.equal(d.phase, 'waiting-for-end');
      assert.ok(d.nextCheckAtMs! > Date.now(), 'the next check lies ahead');
      assert.ok(d.nextCheckAtMs! >= queriedFrom + pollDelayMs && d.nextCheckAtMs! <= Date.now() + pollDelayMs, `the first poll is due in ${pollDelayMs} ms`);
      assert.ok(d.nextCheckAtMs! < startedAtMs + MAX_AGE_MS, 'before the max age');
    } finally {
      for (const h of [handle, delayed]) await h.terminate('test done');
      for (const c of [live, other]) stack.emu.admin.hangup(c.callSid!);
    }
  });

  it('a live call past its max age: flagged, and the next check is one max age after the look', async () => {
    const live = stack.emu.admin.createCall({ scenario: 'live-long' });
    const handle = await watch(live.callSid!, { startedAtMs: Date.now() - 5 * 3600_000 });
    try {
      const before = Date.now();
      const s = await stateWhen(handle, 'the flagged call waiting for its next look', (x) => x.phase === 'live-flagged' && x.nextCheckAtMs !== undefined);
      const queriedAt = Date.now();
      assert.ok(s.nextCheckAtMs! > queriedAt, 'the next check lies ahead');
      assert.ok(s.nextCheckAtMs! >= before + MAX_AGE_MS && s.nextCheckAtMs! <= queriedAt + MAX_AGE_MS, 'one max age after the look');
      assert.deepEqual(s.actions, []);
    } finally {
      await handle.terminate('test done');
      stack.emu.admin.hangup(live.callSid!);
    }
  });

  it('a call past its max age whose status turns unreadable before the poll settles: the next look waits, no re-read loop', async () => {
    const live = stack.emu.admin.createCall({ scenario: 'live-long' });
    // The poll's first read sees the call live (and waits 60 s to retry); right after it the record turns malformed.
    const hook = stack.emu.admin.afterResponse({ method: 'GET', pathIncludes: `/Calls/${live.callSid}`, times: 1 }, () =>
      stack.emu.admin.setCallStatus(live.callSid!, 'not-a-status' as never),
    );
    const handle = await watch(live.callSid!, { startedAtMs: Date.now() - 5 * 3600_000, settings: { ...stack.settings, pollInitialMs: 60_000, pollMaxMs: 60_000 } });
    try {
      const fetchesOfCall = async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        const scheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchCall').map((e) => Number(e.eventId)));
        const completed = events.filter((e) => scheduled.has(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1))).length;
        return { scheduled: scheduled.size, completed };
      };
      await waitUntil('the watch\'s own look at the call', async () => (await fetchesOfCall()).completed >= 1);
      assert.equal(stack.emu.admin.hookFires(hook), 1, 'the poll read first, then the record turned malformed');
      const s = await stateWhen(handle, 'a wait after the unreadable look', (x) => x.nextCheckAtMs !== undefined);
      assert.equal(s.phase, 'waiting-for-end');
      assert.equal(s.callStatus, 'unknown');
      assert.ok(s.nextCheckAtMs! > Date.now(), `the next look lies ahead (${s.nextCheckAtMs! - Date.now()} ms)`);
      assert.deepEqual(await fetchesOfCall(), { scheduled: 1, completed: 1 }, 'one look at the call, not one per millisecond');
    } finally {
      await handle.terminate('test done');
      stack.emu.admin.hangup(live.callSid!);
    }
  });

  it('an ended call: the grace end while in grace, no next check while reconciling, none when done', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'desync-assigned' });
    const handle = await watch(run.callSid!);
    const grace = await stateWhen(handle, 'the grace period', (x) => x.phase === 'grace');
    assert.ok(grace.callEndedAtMs !== undefined);
    assert.equal(grace.nextCheckAtMs, grace.callEndedAtMs + GRACE_MS);
    assert.ok(grace.nextCheckAtMs > Date.now(), 'the grace ends ahead');
    assert.deepEqual([grace.actions, grace.skipped], [[], []]);

    // Slow TaskRouter answers hold the watch in its reads long enough to be seen there.
    stack.emu.admin.addFault({ endpoint: 'taskrouter:*', latencyMs: 1_500 });
    const working = await stateWhen(handle, 'the reconcile reads', (x) => x.phase === 'reconciling', 20);
    assert.equal(working.nextCheckAtMs, undefined, 'no timer while it reads and writes');

    await handle.result();
    const done = await handle.query(stateQuery);
    assert.equal(done.phase, 'done');
    assert.equal(done.nextCheckAtMs, undefined);
    assert.deepEqual(done.actions.map((a) => [a.kind, a.result]), [['complete-task', 'done']]);
    assert.deepEqual(done.skipped, []);
  });

  it('a Task left wrapping after the call: the next check is the wrap limit, with the skip recorded', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'desync-assigned' });
    const handle = await watch(run.callSid!);
    try {
      await stateWhen(handle, 'the grace period', (x) => x.phase === 'grace');
      stack.emu.admin.updateTask(run.taskSid!, { assignmentStatus: 'wrapping' });
      const s = await stateWhen(handle, 'a wait for the wrap limit', (x) => x.phase === 'reconciling' && x.nextCheckAtMs !== undefined);
      assert.equal(s.nextCheckAtMs, s.callEndedAtMs! + WRAP_LIMIT_MS);
      assert.ok(s.nextCheckAtMs! > Date.now(), 'the wrap limit lies ahead');
      assert.deepEqual(s.actions, []);
      assert.deepEqual(s.skipped.map((x) => [x.sid, x.reason]), [[run.taskSid, 'wrapping-left-to-agent']]);
      assert.equal(stack.emu.admin.inspectTask(run.taskSid!)!.status, 'wrapping');
    } finally {
      await handle.terminate('test done');
    }
  });
});
