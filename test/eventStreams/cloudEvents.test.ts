import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCloudEvent, parseEventBatch, type EventDecision } from '../../src/webhook/cloudEvents';

const ACCOUNT = `AC${'a1'.repeat(16)}`;
const OTHER_ACCOUNT = `AC${'0e'.repeat(16)}`;
const CALL = `CA${'c1'.repeat(16)}`;
const FLOW = `FW${'f0'.repeat(16)}`;
const EXEC = `FN${'e1'.repeat(16)}`;
const WS = `WS${'b2'.repeat(16)}`;
const TASK = `WT${'d4'.repeat(16)}`;

/** A CloudEvent shaped like Twilio's documented examples (docs/events/event-types). */
export function cloudEvent(type: string, data: unknown, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    type,
    source: '/v2/Flows/x',
    id: `EZ${Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32)}`,
    dataschema: 'https://events-schemas.twilio.com/Studio.FlowExecutionEvent/2',
    datacontenttype: 'application/json',
    time: '2026-12-04T03:00:00.000Z',
    data,
    ...over,
  };
}

const execData = (over: Record<string, unknown> = {}) => ({
  execution_sid: EXEC, account_sid: ACCOUNT, flow_sid: FLOW, contact_channel_address: '+15557654321', status: 'active',
  date_created: '2026-12-04T03:00:00.000Z', date_updated: '2026-12-04T03:00:00.000Z', started_by: CALL, flow_revision: 3, ...over,
});
const taskData = (over: Record<string, unknown> = {}) => ({
  account_sid: ACCOUNT, workspace_sid: WS, task_sid: TASK, task_assignment_status: 'pending', task_channel_unique_name: 'voice',
  task_attributes: JSON.stringify({ call_sid: CALL, from: '+15557654321', to: '+15550002222' }), ...over,
});

interface Case { name: string; event: unknown; kind: EventDecision['kind']; reason?: RegExp; check?: (d: EventDecision) => void }

const cases: Case[] = [
  {
    name: 'execution.started links the Execution to started_by',
    event: cloudEvent('com.twilio.studio.flow.execution.started', execData()),
    kind: 'execution',
    check: (d) => assert.deepEqual(d.kind === 'execution' && d.link, { callSid: CALL, flowSid: FLOW, executionSid: EXEC, eventType: 'started', timestampMs: Date.parse('2026-12-04T03:00:00.000Z') }),
  },
  { name: 'execution.ended links too (it never writes by itself)', event: cloudEvent('com.twilio.studio.flow.execution.ended', execData({ status: 'ended', ended_reason: 'FLOW_END' })), kind: 'execution' },
  { name: 'an Execution started by a message is ignored', event: cloudEvent('com.twilio.studio.flow.execution.started', execData({ started_by: `SM${'11'.repeat(16)}` })), kind: 'ignore', reason: /started_by/ },
  { name: 'an Execution of another account is ignored', event: cloudEvent('com.twilio.studio.flow.execution.started', execData({ account_sid: OTHER_ACCOUNT })), kind: 'ignore', reason: /not this account/ },
  { name: 'an Execution event without execution_sid is skipped', event: cloudEvent('com.twilio.studio.flow.execution.started', execData({ execution_sid: undefined })), kind: 'skip', reason: /execution_sid/ },
  { name: 'an Execution event with a bad flow_sid is skipped', event: cloudEvent('com.twilio.studio.flow.execution.ended', execData({ flow_sid: 'FWnope' })), kind: 'skip', reason: /flow_sid/ },
  {
    name: 'task.created of a voice Task links it to call_sid',
    event: cloudEvent('com.twilio.taskrouter.task.created', taskData()),
    kind: 'task',
    check: (d) => {
      assert.ok(d.kind === 'task');
      assert.deepEqual(d.link, { callSid: CALL, workspaceSid: WS, taskSid: TASK, eventType: 'task.created', assignmentStatus: 'pending', channel: 'voice', timestampMs: Date.parse('2026-12-04T03:00:00.000Z') });
      assert.equal(d.from, '+15557654321');
    },
  },
  { name: 'task.completed links (the watch decides after a fresh read)', event: cloudEvent('com.twilio.taskrouter.task.completed', taskData({ task_assignment_status: 'completed' })), kind: 'task' },
  { name: 'task_attributes as an object is accepted', event: cloudEvent('com.twilio.taskrouter.task.canceled', taskData({ task_attributes: { call_sid: CALL } })), kind: 'task' },
  { name: 'a chat Task is ignored', event: cloudEvent('com.twilio.taskrouter.task.created', taskData({ task_attributes: '{"channelType":"web"}' })), kind: 'ignore', reason: /call_sid/ },
  { name: 'task_attributes that are not JSON: ignored', event: cloudEvent('com.twilio.taskrouter.task.updated', taskData({ task_attributes: '{nope' })), kind: 'ignore', reason: /not JSON/ },
  { name: 'a Task event with a bad workspace_sid is skipped', event: cloudEvent('com.twilio.taskrouter.task.created', taskData({ workspace_sid: 'WS1' })), kind: 'skip', reason: /WorkspaceSid/ },
  { name: 'a Task event without account_sid is skipped', event: cloudEvent('com.twilio.taskrouter.task.created', taskData({ account_sid: undefined })), kind: 'skip', reason: /account_sid/ },
  {
    name: 'a voice status-callback event with a CallStatus reports the status',
    event: cloudEvent('com.twilio.voice.status-callback.call.completed', { sid: CALL, timestamp: '2026-12-04T03:01:00.000Z', request: { parameters: { CallStatus: 'completed', SequenceNumber: '3' } } }),
    kind: 'call',
    check: (d) => assert.deepEqual(d.kind === 'call' && d.event, { callSid: CALL, status: 'completed', source: 'webhook', sequenceNumber: 3, timestampMs: Date.parse('2026-12-04T03:00:00.000Z') }),
  },
  { name: 'a voice event without a CallStatus is ignored (the type alone cannot tell completed from busy)', event: cloudEvent('com.twilio.voice.status-callback.call.completed', { sid: CALL }), kind: 'ignore', reason: /CallStatus/ },
  { name: 'a voice event with an unknown CallStatus is skipped', event: cloudEvent('com.twilio.voice.status-callback.call.ringing', { sid: CALL, request: { parameters: { CallStatus: 'dancing' } } }), kind: 'skip', reason: /dancing/ },
  { name: 'a voice event whose sid is not a Call SID is skipped', event: cloudEvent('com.twilio.voice.status-callback.call.ringing', { sid: 'XX1' }), kind: 'skip', reason: /Call SID/ },
  { name: 'another product\'s event is ignored', event: cloudEvent('com.twilio.messaging.message.delivered', { messageSid: 'SM1' }), kind: 'ignore', reason: /not used/ },
  { name: 'the sink test event is ignored', event: cloudEvent('com.twilio.eventstreams.test-event', { test_id: 'x' }), kind: 'ignore' },
  { name: 'a Studio step event is ignored', event: cloudEvent('com.twilio.studio.flow.step.ended', { execution_sid: EXEC }), kind: 'ignore' },
  { name: 'an event without id is skipped', event: cloudEvent('com.twilio.studio.flow.execution.started', execData(), { id: undefined }), kind: 'skip', reason: /no id/ },
  { name: 'an event without type is skipped', event: cloudEvent('x', execData(), { type: 42 }), kind: 'skip', reason: /no type/ },
  { name: 'specversion other than 1.0 is skipped', event: cloudEvent('com.twilio.studio.flow.execution.started', execData(), { specversion: '0.3' }), kind: 'skip', reason: /specversion/ },
  { name: 'a used type without data is skipped', event: cloudEvent('com.twilio.studio.flow.execution.started', 'nope'), kind: 'skip', reason: /data/ },
  { name: 'a non-object event is skipped', event: 7, kind: 'skip', reason: /not a JSON object/ },
];

describe('Event Streams CloudEvents parser (pure)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const d = parseCloudEvent(c.event, ACCOUNT);
      assert.equal(d.kind, c.kind, JSON.stringify(d));
      if (c.reason) assert.match('reason' in d ? d.reason : '', c.reason);
      c.check?.(d);
    });
  }

  it('a batch must be a JSON array; one bad event does not spoil the others', () => {
    assert.deepEqual(parseEventBatch('{nope', ACCOUNT), { ok: false, reason: 'body is not JSON' });
    assert.equal(parseEventBatch('{"type":"x"}', ACCOUNT).ok, false);
    assert.equal(parseEventBatch('"x"', ACCOUNT).ok, false);
    const single = parseEventBatch(JSON.stringify(cloudEvent('com.twilio.studio.flow.execution.started', execData())), ACCOUNT);
    assert.ok(single.ok && single.events.length === 1 && single.events[0]!.kind === 'execution', 'one CloudEvent object is a batch of one');
    const batch = parseEventBatch(JSON.stringify([cloudEvent('com.twilio.studio.flow.execution.started', execData()), 'junk', cloudEvent('com.twilio.taskrouter.task.created', taskData())]), ACCOUNT);
    assert.ok(batch.ok);
    assert.deepEqual(batch.events.map((e) => e.kind), ['execution', 'skip', 'task']);
    assert.deepEqual(parseEventBatch('[]', ACCOUNT), { ok: true, events: [] });
  });

  it('never throws, whatever JSON value an event is (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom('com.twilio.studio.flow.execution.started', 'com.twilio.taskrouter.task.created', 'com.twilio.voice.status-callback.call.completed'), (data, type) => {
        const d = parseCloudEvent(cloudEvent(type, data), ACCOUNT);
        assert.ok(['execution', 'task', 'call', 'ignore', 'skip'].includes(d.kind));
        const raw = parseEventBatch(JSON.stringify([data]), ACCOUNT);
        assert.ok(raw.ok);
      }),
    );
  });
});
