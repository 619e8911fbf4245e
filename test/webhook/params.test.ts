import assert from 'node:assert/strict';
import { callStartEstimate, parseEventTimestamp, parseRfc2822, parseTaskRouterEvent, parseVoiceStatus } from '../../src/webhook/params';
import { clampSummary } from '../../src/webhook/starter';

const ACCOUNT = `AC${'1'.repeat(32)}`;
const CALL = `CA${'ab'.repeat(16)}`;
const TASK = `WT${'cd'.repeat(16)}`;
const WS = `WS${'ef'.repeat(16)}`;

describe('webhook parameter parsing', () => {
  it('reads Twilio RFC 2822 timestamps and TaskRouter epoch seconds or ms', () => {
    assert.equal(parseRfc2822('Tue, 14 Jan 2025 10:00:42 +0000'), Date.UTC(2025, 0, 14, 10, 0, 42));
    assert.equal(parseRfc2822('not a date'), undefined);
    assert.equal(parseEventTimestamp('1736848842'), 1736848842000);
    assert.equal(parseEventTimestamp('1736848842123'), 1736848842123);
    assert.equal(parseEventTimestamp('2025-01-14T10:00:42Z'), Date.UTC(2025, 0, 14, 10, 0, 42));
    assert.equal(parseEventTimestamp(''), undefined);
  });

  it('accepts the initiated event, refuses repeated or missing CallSid, ignores junk optional fields', () => {
    const ok = parseVoiceStatus({ CallSid: CALL, AccountSid: ACCOUNT, CallStatus: 'initiated', SequenceNumber: 'x', CallDuration: '-1' }, ACCOUNT);
    assert.ok(ok.ok);
    assert.deepEqual(ok.value.event, { callSid: CALL, status: 'initiated', source: 'webhook' });
    const repeated = parseVoiceStatus({ CallSid: [CALL, CALL], AccountSid: ACCOUNT, CallStatus: 'completed' }, ACCOUNT);
    assert.deepEqual(repeated, { ok: false, reason: 'CallSid is missing' });
    assert.equal(parseVoiceStatus({ AccountSid: ACCOUNT, CallStatus: 'completed' }, ACCOUNT).ok, false);
    assert.equal(parseVoiceStatus({ CallSid: CALL, AccountSid: ACCOUNT }, ACCOUNT).ok, false);
  });

  it('estimates the call start from an early event or from end time minus duration', () => {
    const t = Date.UTC(2025, 0, 14, 10, 0, 42);
    assert.equal(callStartEstimate({ callSid: CALL, status: 'ringing', source: 'webhook', timestampMs: t }), t);
    assert.equal(callStartEstimate({ callSid: CALL, status: 'completed', source: 'webhook', timestampMs: t, durationSec: 42 }), t - 42_000);
    assert.equal(callStartEstimate({ callSid: CALL, status: 'completed', source: 'webhook', timestampMs: t }), undefined);
  });

  it('links only task/reservation events whose attributes carry a valid call_sid', () => {
    const base = { AccountSid: ACCOUNT, WorkspaceSid: WS, EventType: 'task.canceled', TaskSid: TASK };
    const link = parseTaskRouterEvent({ ...base, TaskAttributes: JSON.stringify({ call_sid: CALL }) }, ACCOUNT);
    assert.equal(link.kind, 'link');
    assert.equal(parseTaskRouterEvent({ ...base, EventType: 'worker.activity.update' }, ACCOUNT).kind, 'ignore');
    assert.equal(parseTaskRouterEvent({ ...base, TaskAttributes: '[1]' }, ACCOUNT).kind, 'ignore');
    assert.equal(parseTaskRouterEvent({ ...base, TaskAttributes: JSON.stringify({ call_sid: 'CA123' }) }, ACCOUNT).kind, 'ignore');
    assert.equal(parseTaskRouterEvent({ ...base, WorkspaceSid: 'WS1' }, ACCOUNT).kind, 'refuse');
    assert.equal(parseTaskRouterEvent({ ...base, EventType: '' }, ACCOUNT).kind, 'refuse');
  });

  it('keeps workflow summaries on one line within 200 bytes', () => {
    const s = clampSummary(`call ${CALL} from ${'é'.repeat(200)}\nsecond line`);
    assert.ok(Buffer.byteLength(s) <= 200);
    assert.ok(!s.includes('\n'));
  });
});
