// parseTaskAttributes / readTaskAttributes: malformed input, non-objects, call_sid formats, orchestration markers,
// channel hints, and the tri-state (unknown on a list item, unparsable on a fetch, parsed).
import assert from 'node:assert/strict';
import { CALL_SID_PATTERN, CUSTOM_ORCHESTRATION_KEYS, DEFAULT_ORCHESTRATION_VALUES, isCallSid, parseTaskAttributes, readTaskAttributes, type TaskAttributes } from '../../src/policy';
import { CALL_SID } from './fixtures';

const j = (v: unknown) => JSON.stringify(v);
/** The parsed attributes, or a failure that shows what came back instead. */
function parsed(raw: string): Extract<TaskAttributes, { kind: 'parsed' }> {
  const p = parseTaskAttributes(raw);
  assert.equal(p.kind, 'parsed', JSON.stringify(p));
  return p as Extract<TaskAttributes, { kind: 'parsed' }>;
}

describe('policy: parseTaskAttributes', () => {
  describe('not a JSON object → attributes-unparsable with a detail', () => {
    const cases: [string, string | undefined | null, RegExp][] = [
      ['undefined (not read)', undefined, /^attributes missing$/],
      ['null', null, /^attributes missing$/],
      ['empty string', '', /^malformed JSON/],
      ['truncated object', '{"call_sid": "' + CALL_SID + '", ', /^malformed JSON/],
      ['single quotes', "{'call_sid': 'CA1'}", /^malformed JSON/],
      ['trailing comma', '{"a":1,}', /^malformed JSON/],
      ['plain text', 'call_sid=CA123', /^malformed JSON/],
      ['JSON array', '[{"call_sid":"' + CALL_SID + '"}]', /^expected a JSON object, got an array$/],
      ['JSON string', '"' + CALL_SID + '"', /^expected a JSON object, got a string "CA0123/],
      ['JSON number', '42', /^expected a JSON object, got a number$/],
      ['JSON true', 'true', /^expected a JSON object, got a boolean$/],
      ['JSON null', 'null', /^expected a JSON object, got null$/],
    ];
    for (const [name, raw, detail] of cases) {
      it(name, () => {
        const p = parseTaskAttributes(raw);
        assert.equal(p.kind, 'unparsable');
        assert.ok(p.kind === 'unparsable');
        assert.match(p.detail, detail);
        assert.ok(p.detail.length < 140, 'detail stays short');
      });
    }
    it('a long string value is truncated in the detail', () => {
      const p = parseTaskAttributes(j('x'.repeat(500)));
      assert.ok(p.kind === 'unparsable' && p.detail.length < 100 && p.detail.includes('…'));
    });
    it('a long JSON error message is truncated too', () => {
      const p = parseTaskAttributes('{"a":' + '['.repeat(5000));
      assert.ok(p.kind === 'unparsable' && p.detail.length < 140);
    });
  });

  describe('call_sid', () => {
    const cases: [string, unknown, string | undefined, RegExp | undefined][] = [
      ['valid lower-case hex', CALL_SID, CALL_SID, undefined],
      ['valid upper-case hex', 'CA' + 'ABCDEF0123456789'.repeat(2), 'CA' + 'ABCDEF0123456789'.repeat(2), undefined],
      ['redacted like the seed example', 'CAb920ad5f119ab57be3fxxxxxxxx', undefined, /call_sid is a string "CAb920ad5f119ab57be3fxxxxxxxx", not a Call SID/],
      ['too short', 'CA' + 'a'.repeat(31), undefined, /not a Call SID/],
      ['too long', 'CA' + 'a'.repeat(33), undefined, /not a Call SID/],
      ['lower-case prefix', 'ca' + 'a'.repeat(32), undefined, /not a Call SID/],
      ['a Task SID', 'WT' + 'a'.repeat(32), undefined, /not a Call SID/],
      ['surrounding whitespace', ` ${CALL_SID} `, undefined, /not a Call SID/],
      ['a number', 12345, undefined, /call_sid is a number/],
      ['an object', { sid: CALL_SID }, undefined, /call_sid is an object/],
      ['null', null, undefined, undefined],
      ['empty string', '', undefined, undefined],
    ];
    for (const [name, value, callSid, problem] of cases) {
      it(name, () => {
        const p = parsed(j({ call_sid: value, from: '+15550000000' }));
        assert.equal(p.callSid, callSid);
        if (problem) assert.match(p.callSidProblem ?? '', problem);
        else assert.equal(p.callSidProblem, undefined);
      });
    }
    it('absent', () => assert.deepEqual(parseTaskAttributes('{}'), { kind: 'parsed', value: {}, customOrchestration: false }));
    it('the seed article example (redacted SID) parses but yields no call SID', () => {
      const seed = '{"from_country":"US","called":"+1555xxxxxxx","call_sid":"CAb920ad5f119ab57be3fxxxxxxxx","from":"+1678xxxxxxx", "to":"+1555xxxxxxx","direction":"inbound"}';
      const p = parsed(seed);
      assert.ok(p.callSid === undefined && p.callSidProblem !== undefined && !p.customOrchestration);
    });
    it('isCallSid / CALL_SID_PATTERN', () => {
      assert.ok(isCallSid(CALL_SID) && CALL_SID_PATTERN.test(CALL_SID));
      assert.ok(!isCallSid(42) && !isCallSid(undefined) && !isCallSid('CA'));
    });
  });

  describe('custom orchestration markers', () => {
    it('exports the marker keys and default values', () => {
      assert.deepEqual([...CUSTOM_ORCHESTRATION_KEYS], ['custom_orchestration', 'orchestration']);
      assert.deepEqual([...DEFAULT_ORCHESTRATION_VALUES], ['flex', 'default']);
    });
    const cases: [string, Record<string, unknown>, boolean][] = [
      ['no marker', {}, false],
      ['custom_orchestration true', { custom_orchestration: true }, true],
      ['custom_orchestration 1', { custom_orchestration: 1 }, true],
      ['custom_orchestration "yes"', { custom_orchestration: 'yes' }, true],
      ['custom_orchestration "true"', { custom_orchestration: 'true' }, true],
      ['custom_orchestration object', { custom_orchestration: { by: 'plugin' } }, true],
      ['custom_orchestration false', { custom_orchestration: false }, false],
      ['custom_orchestration 0', { custom_orchestration: 0 }, false],
      ['custom_orchestration null', { custom_orchestration: null }, false],
      ['custom_orchestration ""', { custom_orchestration: '' }, false],
      ['custom_orchestration "false"', { custom_orchestration: 'false' }, false],
      ['custom_orchestration "FALSE "', { custom_orchestration: 'FALSE ' }, false],
      ['custom_orchestration "no"', { custom_orchestration: 'no' }, false],
      ['orchestration "flex"', { orchestration: 'flex' }, false],
      ['orchestration "Default"', { orchestration: 'Default' }, false],
      ['orchestration null', { orchestration: null }, false],
      ['orchestration "custom"', { orchestration: 'custom' }, true],
      ['orchestration "my-plugin"', { orchestration: 'my-plugin' }, true],
      ['orchestration "" (present but not a default)', { orchestration: '' }, true],
      ['orchestration object', { orchestration: { mode: 'flex' } }, true],
      ['orchestration true', { orchestration: true }, true],
      ['orchestration "flex" but custom_orchestration true', { orchestration: 'flex', custom_orchestration: true }, true],
      ['a key that merely mentions it', { notes: 'custom_orchestration' }, false],
    ];
    for (const [name, attrs, custom] of cases) {
      it(`${name} → ${custom ? 'custom' : 'default'}`, () => {
        const p = parsed(j({ call_sid: CALL_SID, ...attrs }));
        assert.equal(p.customOrchestration, custom);
        assert.equal(p.callSid, CALL_SID);
      });
    }
  });

  describe('channel hint', () => {
    const cases: [string, Record<string, unknown>, string | undefined][] = [
      ['channelType', { channelType: 'web' }, 'web'],
      ['channel_type', { channel_type: 'sms' }, 'sms'],
      ['channelType wins over channel_type', { channelType: 'whatsapp', channel_type: 'sms' }, 'whatsapp'],
      ['trimmed', { channelType: ' voice ' }, 'voice'],
      ['empty → absent', { channelType: '' }, undefined],
      ['not a string → absent', { channelType: 7 }, undefined],
      ['empty channelType falls back to channel_type', { channelType: ' ', channel_type: 'chat' }, 'chat'],
      ['none', {}, undefined],
    ];
    for (const [name, attrs, hint] of cases) {
      it(name, () => {
        const p = parsed(j(attrs));
        assert.equal(p.channelHint, hint);
      });
    }
  });

  it('a full Flex voice task', () => {
    const value = { type: 'inbound', call_sid: CALL_SID, from: '+1', to: '+2', direction: 'inbound', conference: { sid: 'CF1' } };
    assert.deepEqual(parseTaskAttributes(j(value)), { kind: 'parsed', value, callSid: CALL_SID, customOrchestration: false });
  });

  it('the same raw string parses to the same result (the cache is pure)', () => {
    const raw = j({ call_sid: CALL_SID, n: 1 });
    assert.deepEqual(parseTaskAttributes(raw), parseTaskAttributes(raw));
    for (let i = 0; i < 5000; i++) parseTaskAttributes(j({ i })); // past the cache's size: it is cleared, not wrong
    assert.deepEqual(parseTaskAttributes(raw), { kind: 'parsed', value: { call_sid: CALL_SID, n: 1 }, callSid: CALL_SID, customOrchestration: false });
  });
});

describe('policy: readTaskAttributes (where the attributes came from)', () => {
  const cases: [string, string | null | undefined, 'list' | 'fetch', TaskAttributes['kind']][] = [
    ['a list item without attributes (null) → unknown: read the Task', null, 'list', 'unknown'],
    ['a list item without attributes (undefined) → unknown', undefined, 'list', 'unknown'],
    ['a fetch without attributes → unparsable (never a guess)', null, 'fetch', 'unparsable'],
    ['a fetch with undefined attributes → unparsable', undefined, 'fetch', 'unparsable'],
    ['a list item with attributes → parsed', j({ call_sid: CALL_SID }), 'list', 'parsed'],
    ['a list item with malformed attributes → unparsable', '{', 'list', 'unparsable'],
    ['a fetch with attributes → parsed', j({ call_sid: CALL_SID }), 'fetch', 'parsed'],
    ['a fetch with an empty string → unparsable', '', 'fetch', 'unparsable'],
    ['a list item with an empty string → unparsable (present, not JSON)', '', 'list', 'unparsable'],
  ];
  for (const [name, raw, source, kind] of cases) it(name, () => assert.equal(readTaskAttributes(raw, source).kind, kind));
});
