/** The stuck report's aggregation (pure): table-driven cases and properties. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { aggregate, dedupe, topCauses, type StuckItem } from '../../src/report/aggregate';
import { stuckItemsOf } from '../../src/report/collect';
import { sinceMsOf } from '../../src/cli/report';
import { STUCK_CAUSES, type StuckCause } from '../../src/shared/stuckTypes';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
const item = (sid: string, cause: StuckCause, atMs: number, o: Partial<StuckItem['stuck']> = {}): StuckItem => ({
  executionSid: sid,
  result: 'done',
  source: 'sweep',
  workflowId: 'sweep:x',
  stuck: { cause, detail: 'd', flowSid: 'FW1', flowRevision: 2, widget: 'w', widgetType: 'split-based-on', calledNumber: '+15550001', atMs, ...o },
});

describe('stuck report aggregation', () => {
  it('counts by cause (with the audit check), Flow+widget, number and hour', () => {
    const r = aggregate(
      [
        item('FN1', 'stop-after-hangup-before-twiml', T0 + 10),
        item('FN2', 'stop-after-hangup-before-twiml', T0 + HOUR + 10, { calledNumber: '+15550002' }),
        item('FN3', 'send-and-wait-without-timeout', T0 + HOUR + 20, { flowSid: 'FW2', widget: 'wait', widgetType: 'send-and-wait-for-reply', calledNumber: undefined }),
      ],
      { sinceMs: T0, untilMs: T0 + 2 * HOUR },
      3,
    );
    assert.equal(r.total, 3);
    assert.deepEqual(r.byCause.map((c) => [c.cause, c.count, c.auditCheck]), [['stop-after-hangup-before-twiml', 2, 'status-callback'], ['send-and-wait-without-timeout', 1, 'send-and-wait-timeout']]);
    assert.deepEqual(r.byFlowWidget[0], { key: 'FW1 r2 / w (split-based-on)', count: 2 });
    assert.deepEqual(r.byNumber.map((x) => x.key).sort(), ['(not a call)', '+15550001', '+15550002']);
    assert.deepEqual(r.overTime.map((b) => [b.startMs - T0, b.counts]), [[0, { 'stop-after-hangup-before-twiml': 1 }], [HOUR, { 'stop-after-hangup-before-twiml': 1, 'send-and-wait-without-timeout': 1 }]]);
    assert.equal(topCauses(r.byCause.flatMap((c) => Array.from({ length: c.count }, () => ({ cause: c.cause })))), 'stop-after-hangup-before-twiml 2, send-and-wait-without-timeout 1');
  });

  it('counts an Execution recorded twice (dry run, then closed) once, and drops records outside the window', () => {
    const r = aggregate([item('FN1', 'unknown', T0 + 1), { ...item('FN1', 'unknown', T0 + 5), result: 'dry-run' }, item('FN9', 'unknown', T0 - 1)], { sinceMs: T0, untilMs: T0 + HOUR }, 2);
    assert.equal(r.total, 1);
  });

  it('buckets by day for windows over 2 days', () => {
    const r = aggregate([item('FN1', 'unknown', T0 + 5 * HOUR)], { sinceMs: T0, untilMs: T0 + 7 * 24 * HOUR }, 1);
    assert.equal(r.overTime[0]!.bucketMs, 24 * HOUR);
  });

  it('every view sums to the total (property)', () => {
    const arb = fc.array(fc.record({ sid: fc.constantFrom('FN1', 'FN2', 'FN3', 'FN4', 'FN5'), cause: fc.constantFrom(...STUCK_CAUSES), at: fc.integer({ min: 0, max: 10 * HOUR }), n: fc.constantFrom('+1', '+2', undefined) }));
    fc.assert(
      fc.property(arb, (xs) => {
        const items = xs.map((x) => item(x.sid, x.cause, T0 + x.at, { calledNumber: x.n }));
        const r = aggregate(items, { sinceMs: T0, untilMs: T0 + 10 * HOUR }, 1);
        const sum = (rows: { count: number }[]) => rows.reduce((a, b) => a + b.count, 0);
        assert.equal(r.total, dedupe(items).length);
        for (const rows of [r.byCause, r.byFlowWidget, r.byNumber]) assert.equal(sum(rows), r.total);
        assert.equal(r.overTime.reduce((a, b) => a + Object.values(b.counts).reduce((x, y) => x + y, 0), 0), r.total);
      }),
    );
  });

  it('reads stuck records from callWatch and sweep results, and nothing from malformed ones', () => {
    const stuck = item('FN1', 'unknown', T0).stuck;
    assert.equal(stuckItemsOf('callWatch', 'call:CA1', { callSid: 'CA1', actions: [{ kind: 'end-execution', sid: 'FN1', result: 'done', reason: 'r', atMs: 1, stuck }] })[0]?.callSid, 'CA1');
    assert.equal(stuckItemsOf('sweep', 's', { actions: [{ kind: 'cancel-task', sid: 'WT1', stuck }] }).length, 0);
    for (const bad of [null, 1, 'x', {}, { actions: 'no' }, { actions: [null, { kind: 'end-execution', sid: 'FN1' }] }]) assert.deepEqual(stuckItemsOf('sweep', 's', bad), []);
  });

  it('--since: a duration, or a clear error naming the bad value', () => {
    assert.equal(sinceMsOf('7d', T0), T0 - 7 * 24 * HOUR);
    assert.equal(sinceMsOf('30m', T0), T0 - 30 * 60_000);
    for (const bad of ['', 'soon', '-1h', '0']) assert.throws(() => sinceMsOf(bad, T0), new RegExp(`--since must be .*got ${JSON.stringify(JSON.stringify(bad)).slice(1, -1)}`));
  });
});
