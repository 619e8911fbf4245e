// flowFactsFromDefinition and widgetTimeoutMs: reading a Studio Flow definition (anything odd is unreadable, never a guess).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { flowFactsFromDefinition, SEND_AND_WAIT, widgetTimeoutMs, type WidgetFacts } from '../../src/policy';
import { FLOW_SID, runs } from './fixtures';
import { timeoutMs } from './invariants';

/** A Studio definition as the Flow fetch returns it (trimmed to what matters). */
const DEFINITION = {
  description: 'A New Flow',
  initial_state: 'Trigger',
  flags: { allow_concurrent_calls: true },
  states: [
    { name: 'Trigger', type: 'trigger', transitions: [{ event: 'incomingMessage', next: 'ask' }], properties: { offset: { x: 0, y: 0 } } },
    {
      name: 'ask',
      type: SEND_AND_WAIT,
      transitions: [{ event: 'incomingMessage', next: 'split' }, { event: 'timeout' }, { event: 'deliveryFailure' }],
      properties: { offset: { x: 0, y: 200 }, from: '{{flow.channel.address}}', body: 'Hi! What do you need?', timeout: '3600' },
    },
    { name: 'split', type: 'split-based-on', transitions: [{ event: 'noMatch' }], properties: { input: '{{widgets.ask.inbound.Body}}' } },
    { name: 'forever', type: SEND_AND_WAIT, transitions: [], properties: { body: 'Still there?' } },
  ],
};

describe('policy: flowFactsFromDefinition', () => {
  it('reads widgets, their types and Send & Wait timeouts', () => {
    assert.deepEqual(flowFactsFromDefinition(FLOW_SID, 7, DEFINITION), {
      kind: 'read',
      sid: FLOW_SID,
      revision: 7,
      widgets: { Trigger: { type: 'trigger' }, ask: { type: SEND_AND_WAIT, timeout: '3600' }, split: { type: 'split-based-on' }, forever: { type: SEND_AND_WAIT } },
    });
  });

  const unreadable: [string, unknown, unknown, RegExp][] = [
    ['no revision', undefined, DEFINITION, /no revision/],
    ['a revision that is not a whole number', 1.5, DEFINITION, /no revision/],
    ['a revision given as a string', '7', DEFINITION, /no revision/],
    ['no definition', 7, undefined, /no definition/],
    ['a null definition', 7, null, /no definition/],
    ['a definition that is a string (not parsed)', 7, JSON.stringify(DEFINITION), /no definition/],
    ['no states', 7, { description: 'x' }, /no states/],
    ['states not an array', 7, { states: { ask: {} } }, /no states/],
    ['a state that is null', 7, { states: [null] }, /not an object/],
    ['a state that is a string', 7, { states: ['ask'] }, /not an object/],
    ['a state without a name', 7, { states: [{ type: SEND_AND_WAIT }] }, /no name or type/],
    ['a state without a type', 7, { states: [{ name: 'ask' }] }, /no name or type/],
    ['a state whose name is a number', 7, { states: [{ name: 3, type: 'trigger' }] }, /no name or type/],
  ];
  for (const [name, revision, definition, detail] of unreadable) {
    it(`unreadable: ${name}`, () => {
      const f = flowFactsFromDefinition(FLOW_SID, revision, definition);
      assert.equal(f.kind, 'unreadable');
      assert.ok(f.kind === 'unreadable' && detail.test(f.detail) && f.sid === FLOW_SID, JSON.stringify(f));
    });
  }

  it('an empty definition is readable (no widgets)', () => assert.deepEqual(flowFactsFromDefinition(FLOW_SID, 1, { states: [] }), { kind: 'read', sid: FLOW_SID, revision: 1, widgets: {} }));
  it('properties that are not an object: no timeout', () => {
    const f = flowFactsFromDefinition(FLOW_SID, 1, { states: [{ name: 'a', type: SEND_AND_WAIT, properties: 'x' }, { name: 'b', type: SEND_AND_WAIT, properties: null }] });
    assert.deepEqual(f.kind === 'read' && f.widgets, { a: { type: SEND_AND_WAIT }, b: { type: SEND_AND_WAIT } });
  });
  it('a timeout of any type is kept as found (the policy judges it)', () => {
    const f = flowFactsFromDefinition(FLOW_SID, 1, { states: [{ name: 'a', type: SEND_AND_WAIT, properties: { timeout: { s: 1 } } }] });
    assert.deepEqual(f.kind === 'read' && f.widgets['a'], { type: SEND_AND_WAIT, timeout: { s: 1 } });
  });
  it('does not mutate the definition', () => {
    const frozen = JSON.parse(JSON.stringify(DEFINITION)) as typeof DEFINITION;
    const deepFreeze = (o: unknown): void => {
      if (o && typeof o === 'object') {
        Object.freeze(o);
        Object.values(o).forEach(deepFreeze);
      }
    };
    deepFreeze(frozen);
    assert.equal(flowFactsFromDefinition(FLOW_SID, 7, frozen).kind, 'read');
  });
});

describe('policy: widgetTimeoutMs', () => {
  const cases: [string, WidgetFacts | undefined, number | undefined | 'NaN'][] = [
    ['no widget', undefined, undefined],
    ['no timeout', { type: SEND_AND_WAIT }, undefined],
    ['null', { type: SEND_AND_WAIT, timeout: null }, undefined],
    ['empty string', { type: SEND_AND_WAIT, timeout: '' }, undefined],
    ['Studio\'s default "3600"', { type: SEND_AND_WAIT, timeout: '3600' }, 3_600_000],
    ['"60" with spaces', { type: SEND_AND_WAIT, timeout: ' 60 ' }, 60_000],
    ['a number 600', { type: SEND_AND_WAIT, timeout: 600 }, 600_000],
    ['"0"', { type: SEND_AND_WAIT, timeout: '0' }, 'NaN'],
    ['0', { type: SEND_AND_WAIT, timeout: 0 }, 'NaN'],
    ['"-5"', { type: SEND_AND_WAIT, timeout: '-5' }, 'NaN'],
    ['-5', { type: SEND_AND_WAIT, timeout: -5 }, 'NaN'],
    ['"1.5"', { type: SEND_AND_WAIT, timeout: '1.5' }, 'NaN'],
    ['1.5', { type: SEND_AND_WAIT, timeout: 1.5 }, 'NaN'],
    ['"1e3"', { type: SEND_AND_WAIT, timeout: '1e3' }, 'NaN'],
    ['"0x10"', { type: SEND_AND_WAIT, timeout: '0x10' }, 'NaN'],
    ['"soon"', { type: SEND_AND_WAIT, timeout: 'soon' }, 'NaN'],
    ['a Liquid template', { type: SEND_AND_WAIT, timeout: '{{flow.variables.t}}' }, 'NaN'],
    ['true', { type: SEND_AND_WAIT, timeout: true }, 'NaN'],
    ['an object', { type: SEND_AND_WAIT, timeout: { s: 1 } }, 'NaN'],
    ['Infinity', { type: SEND_AND_WAIT, timeout: Infinity }, 'NaN'],
  ];
  for (const [name, widget, expected] of cases) {
    it(`${name} → ${expected}`, () => {
      const t = widgetTimeoutMs(widget);
      if (expected === 'NaN') assert.ok(Number.isNaN(t), `got ${t}`);
      else assert.equal(t, expected);
    });
  }

  it('property: a timeout is a positive whole number of seconds or it cannot be relied on', () => {
    const raw = fc.oneof(fc.integer({ min: -10, max: 1e6 }), fc.double(), fc.string(), fc.integer({ min: 0, max: 1e6 }).map(String), fc.constantFrom<unknown>(null, undefined, true, {}, [], ' 7 '));
    fc.assert(
      fc.property(raw, (timeout) => {
        const t = widgetTimeoutMs({ type: SEND_AND_WAIT, timeout });
        const expected = timeoutMs(timeout);
        if (timeout === undefined || timeout === null || timeout === '') assert.equal(t, undefined);
        else if (expected === undefined) assert.ok(Number.isNaN(t), `${JSON.stringify(timeout)} → ${t}`);
        else assert.equal(t, expected);
      }),
      { numRuns: runs(2000) },
    );
  });
});
