// decideCall: the expected answer for each meaningful combination, by name.
import assert from 'node:assert/strict';
import { decideCall, type CallFacts, type CallState, type ExecutionFacts, type PolicySettings, type TaskFacts, type TaskState } from '../../src/policy';
import { ATTRS, brief, CALL_SID, EXEC_SID, HOUR, MIN, NOW, OTHER_CALL_SID, SEC, settings, TASK_REASON, TASK_SID, type AttrVariant } from './fixtures';

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
  wait?: 'call-live' | 'grace' | 'call-unknown' | 'wrap-limit';
  flag?: boolean;
}

const ended = (status: CallState = 'completed', agoMs = 10 * MIN): CallFacts => ({ status, sid: CALL_SID, startedAtMs: NOW - 20 * MIN, endedAtMs: NOW - agoMs });
/** startedAgoMs null = start unknown. */
const live = (status: CallState = 'in-progress', startedAgoMs: number | null = 10 * MIN): CallFacts => ({
  status,
  startedAtMs: startedAgoMs === null ? undefined : NOW - startedAgoMs,
});
const ex = (state: ExecutionFacts['state'] = 'active', trigger: ExecutionFacts['trigger'] = 'call'): ExecutionFacts => ({ sid: EXEC_SID, state, trigger });
/** null = absent (attributes not read / no channel). */
const task = (state: TaskState = 'assigned', attrs: AttrVariant | string | null = 'valid', channel: string | null = 'voice'): TaskFacts => ({
  sid: TASK_SID,
  state,
  channel: channel ?? undefined,
  attributes: attrs === null ? undefined : attrs in ATTRS ? ATTRS[attrs as AttrVariant] : attrs,
});

const rows: Row[] = [
  // --- live calls: never act ---
  { name: 'in-progress, young: wait for max age', call: live(), execution: ex(), task: task(), execution_: 'skip:call-live', task_: 'skip:call-live', next: NOW - 10 * MIN + 4 * HOUR, wait: 'call-live', flag: false },
  { name: 'ringing, young', call: live('ringing', 5 * SEC), execution: ex(), task: task('pending'), execution_: 'skip:call-live', task_: 'skip:call-live', next: NOW - 5 * SEC + 4 * HOUR, wait: 'call-live', flag: false },
  { name: 'queued, young', call: live('queued', 1 * SEC), task: task('reserved'), execution_: 'none', task_: 'skip:call-live', next: NOW - 1 * SEC + 4 * HOUR, wait: 'call-live', flag: false },
  { name: 'in-progress exactly at max age: flagged, re-check one max age later', call: live('in-progress', 4 * HOUR), execution: ex(), task: task(), execution_: 'skip:call-live', task_: 'skip:call-live', next: NOW + 4 * HOUR, wait: 'call-live', flag: true },
  { name: 'in-progress past max age: flagged, never closed', call: live('in-progress', 9 * HOUR), execution: ex(), task: task('pending'), execution_: 'skip:call-live', task_: 'skip:call-live', next: NOW + 4 * HOUR, wait: 'call-live', flag: true },
  { name: 'in-progress, start unknown: treated as started now', call: live('in-progress', null), execution: ex(), task: task(), execution_: 'skip:call-live', task_: 'skip:call-live', next: NOW + 4 * HOUR, wait: 'call-live', flag: false },
  { name: 'in-progress, start in the future (clock skew)', call: { status: 'in-progress', startedAtMs: NOW + 5 * SEC }, task: task(), execution_: 'none', task_: 'skip:call-live', next: NOW + 5 * SEC + 4 * HOUR, wait: 'call-live', flag: false },
  { name: 'live, maxAge 0 and start unknown: minimum re-check', call: live('in-progress', null), settings: { maxAgeMs: 0 }, execution_: 'none', task_: 'none', next: NOW + 1 * SEC, wait: 'call-live', flag: false },
  { name: 'live with nothing known', call: live(), execution_: 'none', task_: 'none', next: NOW - 10 * MIN + 4 * HOUR, wait: 'call-live', flag: false },
  { name: 'live, execution already ended', call: live(), execution: ex('ended'), task: task('completed'), execution_: 'none', task_: 'none', next: NOW - 10 * MIN + 4 * HOUR, wait: 'call-live', flag: false },
  { name: 'live, wrapping task (agent wrapping early)', call: live(), task: task('wrapping'), settings: { wrapLimitMs: 1 * MIN }, execution_: 'none', task_: 'skip:call-live', next: NOW - 10 * MIN + 4 * HOUR, wait: 'call-live', flag: false },
  { name: 'live, custom orchestration task', call: live(), task: task('assigned', 'custom'), execution_: 'none', task_: 'skip:call-live', next: NOW - 10 * MIN + 4 * HOUR, wait: 'call-live', flag: false },

  // --- call we cannot see: never act ---
  { name: 'call unknown: re-check after grace', call: { status: 'unknown' }, execution: ex(), task: task(), execution_: 'skip:call-unknown', task_: 'skip:call-unknown', next: NOW + 1 * MIN, wait: 'call-unknown', flag: false },
  { name: 'call gone (404)', call: { status: 'gone' }, execution: ex(), task: task('pending'), execution_: 'skip:call-unknown', task_: 'skip:call-unknown', next: NOW + 1 * MIN, wait: 'call-unknown', flag: false },
  { name: 'call unknown, grace 0: minimum re-check', call: { status: 'unknown' }, task: task(), settings: { graceMs: 0 }, execution_: 'none', task_: 'skip:call-unknown', next: NOW + 1 * SEC, wait: 'call-unknown', flag: false },
  { name: 'call unknown with an old end time still not trusted', call: { status: 'unknown', endedAtMs: NOW - 1 * HOUR }, execution: ex(), execution_: 'skip:call-unknown', task_: 'none', next: NOW + 1 * MIN, wait: 'call-unknown', flag: false },
  { name: 'call gone, resources already closed', call: { status: 'gone' }, execution: ex('gone'), task: task('canceled'), execution_: 'none', task_: 'none', next: NOW + 1 * MIN, wait: 'call-unknown', flag: false },
  { name: 'call unknown, nothing known', call: { status: 'unknown' }, execution_: 'none', task_: 'none', next: NOW + 1 * MIN, wait: 'call-unknown', flag: false },

  // --- grace period ---
  { name: 'completed 30 s ago: grace running', call: ended('completed', 30 * SEC), execution: ex(), task: task(), execution_: 'none', task_: 'none', next: NOW + 30 * SEC, wait: 'grace', flag: false },
  { name: 'completed 1 ms short of grace', call: ended('completed', 1 * MIN - 1), execution: ex(), task: task(), execution_: 'none', task_: 'none', next: NOW + 1, wait: 'grace', flag: false },
  { name: 'completed, end unknown: grace from now', call: { status: 'completed' }, execution: ex(), task: task(), execution_: 'none', task_: 'none', next: NOW + 1 * MIN, wait: 'grace', flag: false },
  { name: 'completed, end unknown, grace 0: act now', call: { status: 'completed' }, settings: { graceMs: 0 }, execution: ex(), task: task(), execution_: 'end-execution', task_: 'complete-task:assigned' },
  { name: 'end in the future (clock skew): wait for end + grace', call: ended('completed', -10 * SEC), task: task(), execution_: 'none', task_: 'none', next: NOW + 10 * SEC + 1 * MIN, wait: 'grace', flag: false },
  { name: 'grace running, task already completed', call: ended('completed', 10 * SEC), task: task('completed'), execution_: 'none', task_: 'none', next: NOW + 50 * SEC, wait: 'grace', flag: false },
  { name: 'exactly at grace end: act', call: ended('completed', 1 * MIN), execution: ex(), task: task('pending'), execution_: 'end-execution', task_: 'cancel-task:pending' },

  // --- after grace: executions ---
  { name: 'completed: active call execution ended', call: ended(), execution: ex('active', 'call'), execution_: 'end-execution', task_: 'none' },
  { name: 'canceled (SIP 487) call: execution ended', call: ended('canceled'), execution: ex(), execution_: 'end-execution', task_: 'none' },
  { name: 'failed call: execution ended', call: ended('failed'), execution: ex(), execution_: 'end-execution', task_: 'none' },
  { name: 'busy call: execution ended', call: ended('busy'), execution: ex(), execution_: 'end-execution', task_: 'none' },
  { name: 'no-answer call: execution ended', call: ended('no-answer'), execution: ex(), execution_: 'end-execution', task_: 'none' },
  { name: 'execution trigger unknown (linked by context): ended', call: ended(), execution: ex('active', 'unknown'), execution_: 'end-execution', task_: 'none' },
  { name: 'message-triggered execution on a call: skip', call: ended(), execution: ex('active', 'message'), execution_: 'skip:execution-trigger-unknown', task_: 'none' },
  { name: 'conversation-triggered execution on a call: skip', call: ended(), execution: ex('active', 'conversation'), execution_: 'skip:execution-trigger-unknown', task_: 'none' },
  { name: 'REST-triggered execution on a call: skip', call: ended(), execution: ex('active', 'request'), execution_: 'skip:execution-trigger-unknown', task_: 'none' },
  { name: 'execution already ended', call: ended(), execution: ex('ended'), execution_: 'none', task_: 'none' },
  { name: 'execution gone (404)', call: ended(), execution: ex('gone'), execution_: 'none', task_: 'none' },
  { name: 'execution state unknown', call: ended(), execution: ex('unknown'), execution_: 'none', task_: 'none' },
  { name: 'no execution known', call: ended(), execution_: 'none', task_: 'none' },

  // --- after grace: tasks ---
  { name: 'pending voice task canceled', call: ended(), task: task('pending'), execution_: 'none', task_: 'cancel-task:pending' },
  { name: 'reserved voice task canceled', call: ended(), task: task('reserved'), execution_: 'none', task_: 'cancel-task:reserved' },
  { name: 'assigned voice task completed', call: ended(), task: task('assigned'), execution_: 'none', task_: 'complete-task:assigned' },
  { name: 'both stuck: both closed', call: ended(), execution: ex(), task: task('assigned'), execution_: 'end-execution', task_: 'complete-task:assigned' },
  { name: 'canceled call, reserved task: canceled (seed omits canceled)', call: ended('canceled'), task: task('reserved'), execution_: 'none', task_: 'cancel-task:reserved' },
  { name: 'task without channel, linked to the call: closed', call: ended(), task: task('pending', 'valid', null), execution_: 'none', task_: 'cancel-task:pending' },
  { name: 'task without call_sid, linked by callWatch: closed', call: ended(), task: task('assigned', 'noCallSid'), execution_: 'none', task_: 'complete-task:assigned' },
  { name: 'task without attributes (not read): closed', call: ended(), task: task('assigned', null), execution_: 'none', task_: 'complete-task:assigned' },
  { name: 'task call_sid names another call: skip', call: ended(), task: task('assigned', JSON.stringify({ call_sid: OTHER_CALL_SID })), execution_: 'none', task_: 'skip:call-sid-mismatch' },
  { name: 'task with unparsable attributes: skip', call: ended(), task: task('assigned', 'unparsable'), execution_: 'none', task_: 'skip:attributes-unparsable' },
  { name: 'task attributes a JSON array: skip', call: ended(), task: task('pending', '[1,2]'), execution_: 'none', task_: 'skip:attributes-unparsable' },
  { name: 'task with custom_orchestration: skip', call: ended(), task: task('assigned', 'custom'), execution_: 'none', task_: 'skip:custom-orchestration' },
  { name: 'task with orchestration "custom": skip', call: ended(), task: task('pending', JSON.stringify({ call_sid: CALL_SID, orchestration: 'custom' })), execution_: 'none', task_: 'skip:custom-orchestration' },
  { name: 'task with orchestration "flex": closed', call: ended(), task: task('pending', JSON.stringify({ call_sid: CALL_SID, orchestration: 'flex' })), execution_: 'none', task_: 'cancel-task:pending' },
  { name: 'chat task: skip', call: ended(), task: task('assigned', 'valid', 'chat'), execution_: 'none', task_: 'skip:not-voice' },
  { name: 'sms task: skip', call: ended(), task: task('pending', 'valid', 'sms'), execution_: 'none', task_: 'skip:not-voice' },
  { name: 'voice task whose attributes say channelType web: skip', call: ended(), task: task('assigned', JSON.stringify({ call_sid: CALL_SID, channelType: 'web' })), execution_: 'none', task_: 'skip:not-voice' },
  { name: 'voice task with channelType voice: closed', call: ended(), task: task('assigned', JSON.stringify({ call_sid: CALL_SID, channelType: 'voice' })), execution_: 'none', task_: 'complete-task:assigned' },
  { name: 'wrapping, no wrap limit: left to the agent, nothing to wait for', call: ended(), task: task('wrapping'), execution_: 'none', task_: 'skip:wrapping-left-to-agent' },
  { name: 'wrapping, wrap limit not reached: wait for it', call: ended('completed', 10 * MIN), task: task('wrapping'), settings: { wrapLimitMs: 30 * MIN }, execution_: 'none', task_: 'skip:wrapping-left-to-agent', next: NOW + 20 * MIN, wait: 'wrap-limit', flag: false },
  { name: 'wrapping, 1 ms before the wrap limit: wait', call: ended('completed', 10 * MIN), task: task('wrapping'), settings: { wrapLimitMs: 10 * MIN + 1 }, execution_: 'none', task_: 'skip:wrapping-left-to-agent', next: NOW + 1, wait: 'wrap-limit', flag: false },
  { name: 'wrapping, wrap limit reached: completed', call: ended('completed', 10 * MIN), task: task('wrapping'), settings: { wrapLimitMs: 10 * MIN }, execution_: 'none', task_: 'complete-task:wrapping' },
  { name: 'wrapping, wrap limit shorter than grace: completed at grace end', call: ended('completed', 1 * MIN), task: task('wrapping'), settings: { wrapLimitMs: 10 * SEC }, execution_: 'none', task_: 'complete-task:wrapping' },
  { name: 'wrapping + active execution, limit pending: end execution, wait for wrap', call: ended('completed', 5 * MIN), execution: ex(), task: task('wrapping'), settings: { wrapLimitMs: 15 * MIN }, execution_: 'end-execution', task_: 'skip:wrapping-left-to-agent', next: NOW + 10 * MIN, wait: 'wrap-limit', flag: false },
  { name: 'wrapping chat task with wrap limit reached: skip not-voice', call: ended(), task: task('wrapping', 'valid', 'chat'), settings: { wrapLimitMs: 1 * MIN }, execution_: 'none', task_: 'skip:not-voice' },
  { name: 'wrapping custom task with wrap limit reached: skip', call: ended(), task: task('wrapping', 'custom'), settings: { wrapLimitMs: 1 * MIN }, execution_: 'none', task_: 'skip:custom-orchestration' },
  { name: 'task completed', call: ended(), task: task('completed'), execution_: 'none', task_: 'none' },
  { name: 'task canceled', call: ended(), task: task('canceled'), execution_: 'none', task_: 'none' },
  { name: 'task gone (404)', call: ended(), task: task('gone'), execution_: 'none', task_: 'none' },
  { name: 'task state unknown: nothing, no schedule', call: ended(), task: task('unknown'), execution_: 'none', task_: 'none' },
  { name: 'completed task with unparsable attributes: nothing', call: ended(), task: task('completed', 'unparsable'), execution_: 'none', task_: 'none' },
  { name: 'call without sid in facts: call_sid not compared', call: { status: 'completed', endedAtMs: NOW - 10 * MIN }, task: task('assigned', JSON.stringify({ call_sid: OTHER_CALL_SID })), execution_: 'none', task_: 'complete-task:assigned' },
];

describe('policy: decideCall expected answers', () => {
  it('has a broad table', () => assert.ok(rows.length >= 60, `${rows.length} rows`));
  for (const r of rows) {
    it(r.name, () => {
      const s = settings(r.settings);
      const d = decideCall({ nowMs: NOW, call: r.call, execution: r.execution, task: r.task, settings: s });
      assert.deepEqual(
        { execution: brief(d.execution), task: brief(d.task), next: d.nextCheckAtMs, wait: d.waitReason, flag: d.flagLongLive },
        { execution: r.execution_, task: r.task_, next: r.next, wait: r.wait, flag: r.flag ?? false },
      );
      if (d.task.kind === 'cancel-task' || d.task.kind === 'complete-task') {
        assert.equal(d.task.sid, TASK_SID);
        assert.equal(d.task.reason, TASK_REASON);
      }
      if (d.execution.kind === 'end-execution') {
        assert.equal(d.execution.sid, EXEC_SID);
        assert.match(d.execution.reason, new RegExp(`call ${r.call.status} .*grace`));
      }
      for (const a of [d.execution, d.task]) {
        if (a.kind === 'skip') assert.ok(a.detail && a.detail.length > 0, 'a skip explains itself');
        if (a.kind === 'none') assert.ok(a.reason.length > 0);
      }
    });
  }

  it('reasons are human-readable', () => {
    const d = decideCall({ nowMs: NOW, call: ended('canceled', 90 * SEC), execution: ex(), task: task('assigned'), settings: settings() });
    assert.deepEqual(d.execution, { kind: 'end-execution', sid: EXEC_SID, reason: 'call canceled 90s ago; execution still active after the 60s grace period' });
    assert.deepEqual(d.task, { kind: 'complete-task', sid: TASK_SID, reason: TASK_REASON, expectStatus: 'assigned' });
    const unknownEnd = decideCall({ nowMs: NOW, call: { status: 'busy' }, execution: ex(), settings: settings({ graceMs: 0 }) });
    assert.equal(unknownEnd.execution.kind === 'end-execution' && unknownEnd.execution.reason, 'call busy at an unknown time; execution still active after the 0s grace period');
    const grace = decideCall({ nowMs: NOW, call: ended('completed', 1 * SEC), execution: ex(), task: task(), settings: settings() });
    assert.deepEqual([grace.execution, grace.task], [{ kind: 'none', reason: 'grace period' }, { kind: 'none', reason: 'grace period' }]);
    const gone = decideCall({ nowMs: NOW, call: { status: 'gone' }, task: task(), settings: settings() });
    assert.deepEqual(gone.task, { kind: 'skip', reason: 'call-unknown', detail: 'call not found (404)' });
  });
});
