/** The stuck-cause classifier: table-driven cases and properties over random facts. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CAUSE_FIXES, classifyStuck, outageWindows, TWIML_WIDGET_TYPES, type StuckFacts } from '../../src/policy/stuckCause';
import { STUCK_CAUSES, type StuckCause } from '../../src/shared/stuckTypes';

const MIN = 60_000;

describe('stuck cause classifier', () => {
  const table: { name: string; facts: StuckFacts; cause: StuckCause }[] = [
    { name: 'voice, hung up in a split before any TwiML widget', facts: { trigger: 'call', callEnded: true, widget: 'check', widgetType: 'split-based-on', visitedTypes: ['trigger', 'split-based-on'] }, cause: 'stop-after-hangup-before-twiml' },
    { name: 'voice, hung up with no Step at all (still at the Trigger)', facts: { trigger: 'call', callEnded: true, widget: 'Trigger', visitedTypes: [] }, cause: 'stop-after-hangup-before-twiml' },
    { name: 'voice, hung up while in Send to Flex: Studio was not told', facts: { trigger: 'call', callEnded: true, widget: 'SendToFlex', widgetType: 'send-to-flex', visitedTypes: ['trigger', 'send-to-flex'] }, cause: 'status-callback-misconfigured' },
    { name: 'voice, after a Say/Play, in a function', facts: { trigger: 'call', callEnded: true, widget: 'fn', widgetType: 'run-function', visitedTypes: ['say-play', 'run-function'] }, cause: 'status-callback-misconfigured' },
    { name: 'SMS, Send & Wait without timeout', facts: { trigger: 'message', widget: 'wait', widgetType: 'send-and-wait-for-reply' }, cause: 'send-and-wait-without-timeout' },
    { name: 'SMS, Send & Wait with timeout "abc"', facts: { trigger: 'message', widget: 'wait', widgetType: 'send-and-wait-for-reply', widgetTimeout: 'abc' }, cause: 'send-and-wait-without-timeout' },
    { name: 'SMS, Send & Wait with a valid timeout', facts: { trigger: 'message', widget: 'wait', widgetType: 'send-and-wait-for-reply', widgetTimeout: '3600' }, cause: 'unknown' },
    { name: 'voice, Steps not readable, concurrent calls off', facts: { trigger: 'call', callEnded: true, allowConcurrentCalls: false }, cause: 'concurrent-calls-off' },
    { name: 'voice, Steps not readable, concurrent calls on', facts: { trigger: 'call', callEnded: true, allowConcurrentCalls: true }, cause: 'unknown' },
    { name: 'webchat, nothing known', facts: { trigger: 'conversation' }, cause: 'unknown' },
  ];
  for (const c of table) it(c.name, () => assert.equal(classifyStuck(c.facts).cause, c.cause));

  const factsArb: fc.Arbitrary<StuckFacts> = fc.record(
    {
      trigger: fc.constantFrom('call', 'message', 'conversation', 'other'),
      callEnded: fc.boolean(),
      widget: fc.string(),
      visitedTypes: fc.array(fc.constantFrom('trigger', 'split-based-on', 'say-play', 'send-to-flex', 'run-function', 'send-and-wait-for-reply')),
      widgetType: fc.constantFrom('split-based-on', 'say-play', 'send-to-flex', 'send-and-wait-for-reply'),
      widgetTimeout: fc.oneof(fc.constant(undefined), fc.constant('3600'), fc.string(), fc.integer()),
      allowConcurrentCalls: fc.boolean(),
    },
    { requiredKeys: ['trigger'] },
  );

  it('always names a known cause with a fix, and a detail', () => {
    fc.assert(
      fc.property(factsArb, (f) => {
        const r = classifyStuck(f);
        assert.ok(STUCK_CAUSES.includes(r.cause));
        assert.ok(CAUSE_FIXES[r.cause].fix.length > 0);
        assert.ok(r.detail.length > 0);
      }),
    );
  });

  it('never says "before TwiML" when a TwiML widget was visited, nor blames the call for a messaging Execution', () => {
    fc.assert(
      fc.property(factsArb, (f) => {
        const r = classifyStuck(f);
        if (r.cause === 'stop-after-hangup-before-twiml') assert.ok(!(f.visitedTypes ?? []).some((t) => TWIML_WIDGET_TYPES.has(t)));
        if (f.trigger !== 'call') assert.ok(!['stop-after-hangup-before-twiml', 'status-callback-misconfigured', 'concurrent-calls-off'].includes(r.cause));
      }),
    );
  });

  it('Send & Wait without a valid timeout wins over everything else', () => {
    fc.assert(
      fc.property(factsArb, (f) => {
        const bad = f.widgetType === 'send-and-wait-for-reply' && !(typeof f.widgetTimeout === 'string' ? /^\s*\d+\s*$/.test(f.widgetTimeout) && Number(f.widgetTimeout) > 0 : Number.isInteger(f.widgetTimeout) && (f.widgetTimeout as number) > 0);
        assert.equal(classifyStuck(f).cause === 'send-and-wait-without-timeout', bad);
      }),
    );
  });

  it('finds outage windows: aligned windows with at least minCount records', () => {
    const base = 1_000 * 15 * MIN;
    const times = [...Array.from({ length: 10 }, (_, i) => base + i * MIN), base + 20 * MIN, base + 60 * MIN];
    assert.deepEqual(outageWindows(times), [base]);
    assert.deepEqual(outageWindows(times, 15 * MIN, 11), []);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e12 })), fc.integer({ min: 1, max: 5 }), (ts, min) => {
        for (const w of outageWindows(ts, 15 * MIN, min)) assert.ok(ts.filter((t) => t >= w && t < w + 15 * MIN).length >= min);
      }),
    );
  });
});
