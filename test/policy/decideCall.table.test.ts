// decideCall (callWatch): the expected answer for each meaningful combination, by name.
import assert from 'node:assert/strict';
import { decideCall, type CallDecision, type CallFacts, type ExecutionFacts, type PolicySettings, type TaskFacts } from '../../src/policy';
import {
  brief,
  CALL_SID,
  endedCall,
  EXEC_SID,
  execution,
  HOUR,
  listedTask,
  liveCall,
  MIN,
  NOW,
  SEC,
  settings,
  task,
  TASK_REASON,
  TASK_SID,
  VERSION,
  waitingIn,
} from './fixtures';
import { checkDecision } from './invariants';

interface Row {
  name: string;
  call: CallFacts;
  execution?: ExecutionFacts;
  task?: TaskFacts;
  settings?: Partial<PolicySettings>;
  /** brief() of the execution and task actions. */
  execution_: string;
  task_: string;
  next?: number;
  wait?: CallDecision['waitReason'];
  flag?: boolean;
}

const ex = (over: Partial<ExecutionFacts> = {}) => execution({ createdAtMs: NOW - 20 * MIN, ...over });
const sms = (over: Partial<ExecutionFacts> = {}) => ex({ trigger: 'message', waiting: waitingIn('confirm', 5 * HOUR), ...over });
const LIVE_NEXT = NOW - 10 * MIN + 4 * HOUR;

const rows: Row[] = [
  // --- live calls: never act ---
  { name: 'in-progress, young: wait for max age', call: liveCall(), execution: ex(), task: task(), execution_: 'skip:call-live', task_: 'skip:call-live', next: LIVE_NEXT, wait: 'call-live' },
  { name: 'ringing, young', call: liveCall('ringing', 5 * SEC), execution: ex(), task: task({ state: 'pending' }), execution_: 'skip:call-live', task_: 'skip:call-live', next: NOW - 5 * SEC + 4 * HOUR, wait: 'call-live' },
  { name: 'queued, young', call: liveCall('queued', 1 * SEC), task: task({ state: 'reserved' }), execution_: 'none', task_: 'skip:call-live', next: NOW - 1 * SEC + 4 * HOUR, wait: 'call-live' },
  { name: 'in-progress exactly at max age: flagged, re-check one max age later', call: liveCall('in-progress', 4 * HOUR), execution: ex(), task: task(), execution_: 'skip:call-live', task_: 'skip:call-live', next: NOW + 4 * HOUR, wait: 'call-live', flag: true },
  { name: 'in-progress past max age: flagged, never closed', call: liveCall('in-progress', 9 * HOUR), execution: ex(), task: task({ state: 'pending' }), execution_: 'skip:call-live', task_: 'skip:call-live', next: NOW + 4 * HOUR, wait: 'call-live', flag: true },
  { name: 'in-progress, start unknown: treated as started now, not flagged', call: liveCall('in-progress', null), execution: ex(), task: task(), execution_: 'skip:call-live', task_: 'skip:call-live', next: NOW + 4 * HOUR, wait: 'call-live' },
  { name: 'in-progress, start in the future (clock skew)', call: { status: 'in-progress', sid: CALL_SID, startedAtMs: NOW + 5 * SEC }, task: task(), execution_: 'none', task_: 'skip:call-live', next: NOW + 5 * SEC + 4 * HOUR, wait: 'call-live' },
  { name: 'live, maxAge 0 and start unknown: minimum re-check', call: liveCall('in-progress', null), settings: { maxAgeMs: 0 }, execution_: 'none', task_: 'none', next: NOW + 1 * SEC, wait: 'call-live' },
  { name: 'live with nothing known', call: liveCall(), execution_: 'none', task_: 'none', next: LIVE_NEXT, wait: 'call-live' },
  { name: 'live, Execution ended and Task completed', call: liveCall(), execution: ex({ state: 'ended' }), task: task({ state: 'completed' }), execution_: 'none', task_: 'none', next: LIVE_NEXT, wait: 'call-live' },
  { name: 'live, wrapping Task (agent wrapping early)', call: liveCall(), task: task({ state: 'wrapping' }), settings: { wrapLimitMs: 1 * MIN }, execution_: 'none', task_: 'skip:call-live', next: LIVE_NEXT, wait: 'call-live' },
  { name: 'live, a list item whose attributes are not read: still call-live (no read needed)', call: liveCall(), task: listedTask({ attrs: 'unknown' }), execution_: 'none', task_: 'skip:call-live', next: LIVE_NEXT, wait: 'call-live' },

  // --- a call we cannot see: never act ---
  { name: 'call unknown: re-check after grace', call: { status: 'unknown', sid: CALL_SID }, execution: ex(), task: task(), execution_: 'skip:call-unknown', task_: 'skip:call-unknown', next: NOW + 1 * MIN, wait: 'call-unknown' },
  { name: 'call gone (404)', call: { status: 'gone', sid: CALL_SID }, execution: ex(), task: task({ state: 'pending' }), execution_: 'skip:call-unknown', task_: 'skip:call-unknown', next: NOW + 1 * MIN, wait: 'call-unknown' },
  { name: 'call unknown, grace 0: minimum re-check', call: { status: 'unknown', sid: CALL_SID }, task: task(), settings: { graceMs: 0 }, execution_: 'none', task_: 'skip:call-unknown', next: NOW + 1 * SEC, wait: 'call-unknown' },
  { name: 'call unknown with an old end time: still not trusted', call: { status: 'unknown', sid: CALL_SID, endedAtMs: NOW - 1 * HOUR }, execution: ex(), execution_: 'skip:call-unknown', task_: 'none', next: NOW + 1 * MIN, wait: 'call-unknown' },
  { name: 'call gone, resources already closed', call: { status: 'gone', sid: CALL_SID }, execution: ex({ state: 'gone' }), task: task({ state: 'canceled' }), execution_: 'none', task_: 'none', next: NOW + 1 * MIN, wait: 'call-unknown' },

  // --- grace period ---
  { name: 'completed 30 s ago: grace running', call: endedCall('completed', 30 * SEC), execution: ex(), task: task(), execution_: 'none', task_: 'none', next: NOW + 30 * SEC, wait: 'grace' },
  { name: 'completed 1 ms short of grace', call: endedCall('completed', 1 * MIN - 1), execution: ex(), task: task(), execution_: 'none', task_: 'none', next: NOW + 1, wait: 'grace' },
  { name: 'completed, end unknown: the grace starts now', call: endedCall('completed', null), execution: ex(), task: task(), execution_: 'none', task_: 'none', next: NOW + 1 * MIN, wait: 'grace' },
  { name: 'completed, end unknown, grace 0: "now" is the end, act', call: endedCall('completed', null), settings: { graceMs: 0 }, execution: ex(), task: task(), execution_: 'end-execution', task_: 'complete-task:assigned' },
  { name: 'end in the future (clock skew): wait for end + grace', call: endedCall('completed', -10 * SEC), task: task(), execution_: 'none', task_: 'none', next: NOW + 10 * SEC + 1 * MIN, wait: 'grace' },
  { name: 'grace running, Task already completed', call: endedCall('completed', 10 * SEC), task: task({ state: 'completed' }), execution_: 'none', task_: 'none', next: NOW + 50 * SEC, wait: 'grace' },
  { name: 'exactly at grace end: act', call: endedCall('completed', 1 * MIN), execution: ex(), task: task({ state: 'pending' }), execution_: 'end-execution', task_: 'cancel-task:pending' },

  // --- after grace: the Execution ---
  { name: 'completed: active voice Execution ended', call: endedCall(), execution: ex(), execution_: 'end-execution', task_: 'none' },
  { name: 'canceled call (hung up before TwiML): Execution ended', call: endedCall('canceled'), execution: ex(), execution_: 'end-execution', task_: 'none' },
  { name: 'failed call', call: endedCall('failed'), execution: ex(), execution_: 'end-execution', task_: 'none' },
  { name: 'busy call', call: endedCall('busy'), execution: ex(), execution_: 'end-execution', task_: 'none' },
  { name: 'no-answer call', call: endedCall('no-answer'), execution: ex(), execution_: 'end-execution', task_: 'none' },
  { name: 'voice Execution without a call SID: the watched call\'s', call: endedCall(), execution: ex({ callSid: undefined }), execution_: 'end-execution', task_: 'none' },
  { name: 'voice Execution of another call: skip', call: endedCall(), execution: ex({ callSid: 'CA' + 'f'.repeat(32) }), execution_: 'skip:call-sid-mismatch', task_: 'none' },
  { name: 'unknown trigger: never ended', call: endedCall(), execution: ex({ trigger: 'unknown' }), execution_: 'skip:execution-trigger-unknown', task_: 'none' },
  { name: 'message-triggered Execution: not a callWatch\'s to end', call: endedCall(), execution: sms(), execution_: 'skip:execution-trigger-unknown', task_: 'none' },
  { name: 'conversation-triggered Execution: skip', call: endedCall(), execution: sms({ trigger: 'conversation' }), execution_: 'skip:execution-trigger-unknown', task_: 'none' },
  { name: 'REST-triggered Execution: skip', call: endedCall(), execution: ex({ trigger: 'request' }), execution_: 'skip:execution-trigger-unknown', task_: 'none' },
  { name: 'Execution already ended', call: endedCall(), execution: ex({ state: 'ended' }), execution_: 'none', task_: 'none' },
  { name: 'Execution gone (404)', call: endedCall(), execution: ex({ state: 'gone' }), execution_: 'none', task_: 'none' },
  { name: 'Execution state unknown: read it', call: endedCall(), execution: ex({ state: 'unknown', source: 'list' }), execution_: 'read:execution', task_: 'none' },
  { name: 'Execution known from a list item: read it before ending', call: endedCall(), execution: ex({ source: 'list', readAtMs: undefined }), execution_: 'read:execution', task_: 'none' },

  // --- after grace: the Task ---
  { name: 'pending voice Task canceled', call: endedCall(), task: task({ state: 'pending' }), execution_: 'none', task_: 'cancel-task:pending' },
  { name: 'reserved voice Task canceled', call: endedCall(), task: task({ state: 'reserved' }), execution_: 'none', task_: 'cancel-task:reserved' },
  { name: 'assigned voice Task completed', call: endedCall(), task: task(), execution_: 'none', task_: 'complete-task:assigned' },
  { name: 'both stuck: both closed', call: endedCall(), execution: ex(), task: task(), execution_: 'end-execution', task_: 'complete-task:assigned' },
  { name: 'canceled call, reserved Task: canceled (the seed\'s list omits canceled)', call: endedCall('canceled'), task: task({ state: 'reserved' }), execution_: 'none', task_: 'cancel-task:reserved' },
  { name: 'Task without a channel: skip unknown-channel', call: endedCall(), task: task({ state: 'pending', channel: undefined }), execution_: 'none', task_: 'skip:unknown-channel' },
  { name: 'Task without call_sid: not certainly this call\'s, skip', call: endedCall(), task: task({ attrs: 'noCallSid' }), execution_: 'none', task_: 'skip:no-call-sid' },
  { name: 'Task whose call_sid names another call: skip', call: endedCall(), task: task({ attrs: 'otherCall' }), execution_: 'none', task_: 'skip:call-sid-mismatch' },
  { name: 'Task link (attributes not read): read it', call: endedCall(), task: listedTask({ state: 'unknown', attrs: 'unknown' }), execution_: 'none', task_: 'read:task' },
  { name: 'Task from a list item: read it before writing', call: endedCall(), task: listedTask(), execution_: 'none', task_: 'read:task' },
  { name: 'Task fetched without an ETag: skip', call: endedCall(), task: task({ version: undefined }), execution_: 'none', task_: 'skip:task-version-unknown' },
  { name: 'Task unparsable: skip', call: endedCall(), task: task({ attrs: 'unparsable' }), execution_: 'none', task_: 'skip:attributes-unparsable' },
  { name: 'Task custom orchestration: skip', call: endedCall(), task: task({ attrs: 'custom' }), execution_: 'none', task_: 'skip:custom-orchestration' },
  { name: 'Task protected: skip', call: endedCall(), task: task({ attrs: 'protectedQueue' }), settings: { protectTasks: 'vip == true OR queue == "escalations"' }, execution_: 'none', task_: 'skip:protected' },
  { name: 'a callback Task created 30 min after the call: skip post-call-task', call: endedCall('completed', 40 * MIN), task: task({ state: 'pending', createdAtMs: NOW - 10 * MIN }), execution_: 'none', task_: 'skip:post-call-task' },
  { name: 'chat Task: skip', call: endedCall(), task: task({ channel: 'chat' }), execution_: 'none', task_: 'skip:not-voice' },
  { name: 'voice Task whose attributes say channelType web: skip', call: endedCall(), task: task({ attrs: 'hintWeb' }), execution_: 'none', task_: 'skip:not-voice' },
  { name: 'wrapping, no wrap limit: left to the agent, nothing to wait for', call: endedCall(), task: task({ state: 'wrapping' }), execution_: 'none', task_: 'skip:wrapping-left-to-agent' },
  { name: 'wrapping, wrap limit not reached: wait for it', call: endedCall('completed', 10 * MIN), task: task({ state: 'wrapping' }), settings: { wrapLimitMs: 30 * MIN }, execution_: 'none', task_: 'skip:wrapping-left-to-agent', next: NOW + 20 * MIN, wait: 'wrap-limit' },
  { name: 'wrapping, 1 ms before the wrap limit: wait at least the minimum re-check', call: endedCall('completed', 10 * MIN), task: task({ state: 'wrapping' }), settings: { wrapLimitMs: 10 * MIN + 1 }, execution_: 'none', task_: 'skip:wrapping-left-to-agent', next: NOW + 1 * SEC, wait: 'wrap-limit' },
  { name: 'wrapping, wrap limit reached: completed', call: endedCall('completed', 10 * MIN), task: task({ state: 'wrapping' }), settings: { wrapLimitMs: 10 * MIN }, execution_: 'none', task_: 'complete-task:wrapping' },
  { name: 'wrapping + active Execution, limit pending: end the Execution, wait for the wrap limit', call: endedCall('completed', 5 * MIN), execution: ex(), task: task({ state: 'wrapping' }), settings: { wrapLimitMs: 15 * MIN }, execution_: 'end-execution', task_: 'skip:wrapping-left-to-agent', next: NOW + 10 * MIN, wait: 'wrap-limit' },
  { name: 'Task completed', call: endedCall(), task: task({ state: 'completed' }), execution_: 'none', task_: 'none' },
  { name: 'Task canceled', call: endedCall(), task: task({ state: 'canceled' }), execution_: 'none', task_: 'none' },
  { name: 'Task gone (404)', call: endedCall(), task: task({ state: 'gone' }), execution_: 'none', task_: 'none' },
  { name: 'call facts without a SID: nothing is bound to it, read the call first', call: { status: 'completed', endedAtMs: NOW - 10 * MIN }, execution: ex(), task: task(), execution_: 'read:call', task_: 'read:call' },
];

describe('policy: decideCall expected answers', () => {
  it('has a broad table', () => assert.ok(rows.length >= 60, `${rows.length} rows`));
  for (const r of rows) {
    it(r.name, () => {
      const input = { nowMs: NOW, call: r.call, execution: r.execution, task: r.task, settings: settings(r.settings) };
      const d = decideCall(input);
      assert.deepEqual(
        { execution: brief(d.execution), task: brief(d.task), next: d.nextCheckAtMs, wait: d.waitReason, flag: d.flagLongLive },
        { execution: r.execution_, task: r.task_, next: r.next, wait: r.wait, flag: r.flag ?? false },
      );
      checkDecision(input, d);
    });
  }

  it('reasons are human-readable', () => {
    const d = decideCall({ nowMs: NOW, call: endedCall('canceled', 90 * SEC), execution: ex(), task: task(), settings: settings() });
    assert.deepEqual(d.execution, { kind: 'end-execution', sid: EXEC_SID, reason: 'call canceled 90s ago; execution still active after the 60s grace period' });
    assert.deepEqual(d.task, { kind: 'complete-task', sid: TASK_SID, reason: TASK_REASON, expectStatus: 'assigned', version: VERSION });
    const grace = decideCall({ nowMs: NOW, call: endedCall('completed', 1 * SEC), execution: ex(), task: task(), settings: settings() });
    assert.deepEqual([grace.execution, grace.task], [{ kind: 'none', reason: 'grace period' }, { kind: 'none', reason: 'grace period' }]);
    const gone = decideCall({ nowMs: NOW, call: { status: 'gone', sid: CALL_SID }, task: task(), settings: settings() });
    assert.deepEqual(gone.task, { kind: 'skip', reason: 'call-unknown', detail: 'call not found (404)' });
  });
});
