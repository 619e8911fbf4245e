/**
 * The short soak (`npm run soak` at a small size): every stuck story and every protected case, all Twilio faults
 * (429 + Retry-After, 5xx, dropped connections, answers lost after the write was applied), 30 % of status callbacks
 * and TaskRouter events dropped, and the worker, the webhook and the Temporal dev server each SIGKILLed once and
 * started again. Judged from Twilio state read back from the emulator; timings are reported, not asserted.
 */
import { strict as assert } from 'node:assert';
import { runSoak, type SoakResult } from '../../bench/soakRun';
import { renderSoakMarkdown } from '../../bench/soakReport';

describe('soak (short): stuck stories, protected cases, Twilio faults, lost callbacks, processes killed', function () {
  this.timeout(240_000);
  let r: SoakResult;
  before(async () => {
    r = await runSoak({
      calls: 32,
      rate: 2,
      killRounds: 1,
      // The backstop poll of a watch that hears callbacks (default 1 h) scaled down with the 3 s grace: a lost final
      // callback is found by the watch's own poll, since the sweep leaves a call with a running watch to it.
      pollWithCallbacksMs: 10_000,
      settleTimeoutMs: 90_000,
      log: () => undefined,
    });
    process.stderr.write(renderSoakMarkdown(r, '(test)'));
  });

  it('played every story and killed each process once', () => {
    for (const story of ['normal', 'hangup-before-twiml', 'sip-cancel-487', 'lost-final-webhook', 'desync-pending', 'desync-reserved', 'desync-assigned', 'live-keep', 'task-unparsable', 'task-custom-orchestration', 'task-wrapping', 'task-protected-callback']) {
      assert.ok((r.stories[story] ?? 0) > 0, `no ${story} call`);
    }
    assert.deepEqual(r.processEvents.filter((e) => e.what === 'killed').map((e) => e.proc).sort(), ['temporal', 'webhook', 'worker']);
    assert.ok(r.verdict.requests.answersLost > 0 || r.verdict.requests.serverErrors > 0, 'the faults fired');
  });

  it('leaves nothing stuck', () => {
    assert.deepEqual(r.verdict.stuckLeft, []);
  });

  it('touches no live or protected Task or Execution', () => {
    assert.deepEqual(r.verdict.touched, []);
  });

  it('fails no workflow', () => {
    assert.deepEqual(r.verdict.failedWorkflows, { count: 0, ids: [] });
  });

  it('applies no write twice (but for the sweep re-sending an Execution end after a lost answer: a known defect)', () => {
    assert.equal(r.verdict.duplicateWrites.count, 0, JSON.stringify(r.verdict.duplicateWrites.sids));
  });
});
