// decideTask: the expected answer for each meaningful case, by name (every row also passes the shared invariants).
import assert from 'node:assert/strict';
import { decideTask, type CallFacts, type PolicySettings, type TaskDecisionInput, type TaskFacts } from '../../src/policy';
import {
  brief,
  CALL_SID,
  endedCall,
  explain,
  HOUR,
  listedTask,
  liveCall,
  MIN,
  NOW,
  OTHER_CALL_SID,
  PROTECT,
  SEC,
  settings,
  task,
  TASK_REASON,
  TASK_SID,
  VERSION,
} from './fixtures';
import { checkTaskAnswer } from './invariants';

interface Row {
  name: string;
  task: TaskFacts;
  /** Default: CALL_SID completed 10 min ago; null: not read. */
  call?: CallFacts | null;
  settings?: Partial<PolicySettings>;
  ctx?: Pick<TaskDecisionInput, 'watchedCallSid' | 'ownedByCallWatch' | 'channels'>;
  /** brief() of the answer. */
  expect: string;
  detail?: RegExp;
  /** The read's SID (for `read:*`). */
  sid?: string;
  recheckAtMs?: number;
}

const callEnd = NOW - 10 * MIN;
const json = (v: unknown) => JSON.stringify(v);

const rows: Row[] = [
  // --- closed or not known ---
  { name: 'completed → none', task: task({ state: 'completed' }), expect: 'none' },
  { name: 'canceled → none', task: task({ state: 'canceled' }), expect: 'none' },
  { name: 'gone (404) → none', task: task({ state: 'gone' }), expect: 'none' },
  { name: 'completed with unparsable attributes → none', task: task({ state: 'completed', attrs: 'unparsable' }), expect: 'none' },
  { name: 'completed on a live call → none', task: task({ state: 'canceled' }), call: liveCall(), expect: 'none' },
  { name: 'a link (status unknown, list) → read the Task', task: listedTask({ state: 'unknown', attrs: 'unknown' }), call: null, expect: 'read:task', sid: TASK_SID },
  { name: 'a list item without attributes → read the Task', task: listedTask({ attrs: 'unknown' }), expect: 'read:task', sid: TASK_SID },

  // --- attributes ---
  { name: 'unparsable attributes → skip', task: task({ attrs: 'unparsable' }), expect: 'skip:attributes-unparsable', detail: /^malformed JSON/ },
  { name: 'attributes a JSON array → skip unparsable', task: task({ attrs: 'array' }), expect: 'skip:attributes-unparsable', detail: /got an array/ },
  { name: 'custom_orchestration → skip', task: task({ attrs: 'custom' }), expect: 'skip:custom-orchestration' },
  { name: 'orchestration "custom" → skip', task: task({ attrs: json({ call_sid: CALL_SID, orchestration: 'custom' }) }), expect: 'skip:custom-orchestration' },
  { name: 'orchestration "flex" → complete', task: task({ attrs: json({ call_sid: CALL_SID, orchestration: 'flex' }) }), expect: 'complete-task:assigned' },
  { name: 'custom orchestration decided on a list item (no read needed)', task: listedTask({ attrs: 'custom' }), call: null, expect: 'skip:custom-orchestration' },
  { name: 'protected (vip == true) → skip', task: task({ attrs: 'protectedVip' }), settings: { protectTasks: PROTECT }, expect: 'skip:protected', detail: /UNSTICK_PROTECT_TASKS \(vip == true/ },
  { name: 'protected (queue == "escalations") → skip', task: task({ state: 'pending', attrs: 'protectedQueue' }), settings: { protectTasks: PROTECT }, expect: 'skip:protected' },
  { name: 'protected on a list item → skip without reading', task: listedTask({ attrs: 'protectedVip' }), call: null, settings: { protectTasks: PROTECT }, expect: 'skip:protected' },
  { name: 'protected wrapping Task past the wrap limit → skip', task: task({ state: 'wrapping', attrs: 'protectedVip' }), settings: { protectTasks: PROTECT, wrapLimitMs: 1 * MIN }, expect: 'skip:protected' },
  { name: 'vip attribute but no protection configured → complete', task: task({ attrs: 'protectedVip' }), expect: 'complete-task:assigned' },
  { name: 'protection configured, vip false / queue sales → complete', task: task({ attrs: 'notProtected' }), settings: { protectTasks: PROTECT }, expect: 'complete-task:assigned' },
  { name: 'protection "true" protects everything', task: task({ attrs: 'valid' }), settings: { protectTasks: 'true' }, expect: 'skip:protected' },
  { name: 'protection blank: nothing protected', task: task({ attrs: 'valid' }), settings: { protectTasks: '  ' }, expect: 'complete-task:assigned' },

  // --- channel ---
  { name: 'chat Task → skip not-voice', task: task({ channel: 'chat' }), expect: 'skip:not-voice', detail: /^task channel chat$/ },
  { name: 'sms Task → skip not-voice', task: task({ state: 'pending', channel: 'sms' }), expect: 'skip:not-voice' },
  { name: 'default-channel Task → skip not-voice', task: task({ channel: 'default' }), expect: 'skip:not-voice' },
  { name: 'no channel → skip unknown-channel', task: task({ channel: undefined }), expect: 'skip:unknown-channel', detail: /^task has no channel$/ },
  { name: 'channel "fax" → skip unknown-channel', task: task({ channel: 'fax' }), expect: 'skip:unknown-channel', detail: /fax/ },
  { name: 'channel "fax" known in the workspace → skip not-voice', task: task({ channel: 'fax' }), ctx: { channels: ['fax'] }, expect: 'skip:not-voice' },
  { name: 'channel "Voice" (case differs) → skip unknown-channel', task: task({ channel: 'Voice' }), expect: 'skip:unknown-channel' },
  { name: 'voice Task whose attributes say channelType web → skip not-voice', task: task({ attrs: 'hintWeb' }), expect: 'skip:not-voice', detail: /channelType web/ },
  { name: 'voice Task with channelType "Voice" → complete', task: task({ attrs: 'hintVoice' }), expect: 'complete-task:assigned' },
  { name: 'chat Task on a list item → skip without reading', task: listedTask({ channel: 'chat' }), call: null, expect: 'skip:not-voice' },

  // --- call_sid and ownership ---
  { name: 'no call_sid → skip', task: task({ attrs: 'noCallSid' }), expect: 'skip:no-call-sid', detail: /^attributes have no call_sid$/ },
  { name: 'malformed call_sid (the seed article\'s redacted one) → skip', task: task({ attrs: 'malformedSid' }), expect: 'skip:no-call-sid', detail: /not a Call SID/ },
  { name: 'callWatch: the Task names another call → skip', task: task({ attrs: 'otherCall' }), ctx: { watchedCallSid: CALL_SID }, expect: 'skip:call-sid-mismatch' },
  { name: 'callWatch: the Task names the watched call → complete', task: task(), ctx: { watchedCallSid: CALL_SID }, expect: 'complete-task:assigned' },
  { name: 'callWatch: a Task without call_sid is not the watched call\'s → skip', task: task({ attrs: 'noCallSid' }), ctx: { watchedCallSid: CALL_SID }, expect: 'skip:no-call-sid' },
  { name: 'sweep: the call has a running callWatch → skip', task: task(), ctx: { ownedByCallWatch: true }, expect: 'skip:owned-by-callwatch' },
  { name: 'sweep: owned, decided on a list item', task: listedTask(), call: null, ctx: { ownedByCallWatch: true }, expect: 'skip:owned-by-callwatch' },

  // --- the call ---
  { name: 'call not read → read it', task: task(), call: null, expect: 'read:call', sid: CALL_SID },
  { name: 'the call read is another call → read the one named', task: task({ attrs: 'otherCall' }), expect: 'read:call', sid: OTHER_CALL_SID, detail: undefined },
  { name: 'call facts without a SID → read the call', task: task(), call: { status: 'completed', endedAtMs: callEnd }, expect: 'read:call', sid: CALL_SID },
  { name: 'call in-progress → skip call-live', task: task(), call: liveCall('in-progress'), expect: 'skip:call-live' },
  { name: 'call ringing → skip call-live', task: task({ state: 'pending' }), call: liveCall('ringing'), expect: 'skip:call-live' },
  { name: 'call queued → skip call-live', task: task({ state: 'reserved' }), call: liveCall('queued'), expect: 'skip:call-live' },
  { name: 'call live for days → still skip', task: task(), call: liveCall('in-progress', 48 * HOUR), expect: 'skip:call-live' },
  { name: 'call status unknown → skip call-unknown', task: task(), call: { sid: CALL_SID, status: 'unknown' }, expect: 'skip:call-unknown', detail: /^call status unknown$/ },
  { name: 'call not found (404) → skip call-unknown', task: task(), call: { sid: CALL_SID, status: 'gone' }, expect: 'skip:call-unknown', detail: /404/ },
  { name: 'call unknown with an old end time → still skip', task: task(), call: { sid: CALL_SID, status: 'unknown', endedAtMs: NOW - 5 * HOUR }, expect: 'skip:call-unknown' },
  { name: 'call completed, end unknown → skip grace-period (never close on absence of evidence)', task: task(), call: endedCall('completed', null), expect: 'skip:grace-period', detail: /unknown/ },
  { name: 'call ended 30 s ago → skip grace-period until end + grace', task: task(), call: endedCall('completed', 30 * SEC), expect: 'skip:grace-period', recheckAtMs: NOW + 30 * SEC },
  { name: 'call ended 1 ms short of grace → skip', task: task({ state: 'pending' }), call: endedCall('completed', 1 * MIN - 1), expect: 'skip:grace-period', recheckAtMs: NOW + 1 },
  { name: 'call ended exactly at grace end → close', task: task({ state: 'pending' }), call: endedCall('completed', 1 * MIN), expect: 'cancel-task:pending' },
  { name: 'grace 0, call ended just now → close', task: task(), call: endedCall('completed', 0), settings: { graceMs: 0 }, expect: 'complete-task:assigned' },
  { name: 'call end in the future (clock skew) → skip grace-period', task: task(), call: endedCall('completed', -10 * SEC), expect: 'skip:grace-period', recheckAtMs: NOW + 70 * SEC },
  { name: 'call canceled (hung up in the queue) → cancel the pending Task', task: task({ state: 'pending' }), call: endedCall('canceled'), expect: 'cancel-task:pending' },
  { name: 'call failed → complete', task: task(), call: endedCall('failed'), expect: 'complete-task:assigned' },
  { name: 'call busy → cancel reserved', task: task({ state: 'reserved' }), call: endedCall('busy'), expect: 'cancel-task:reserved' },
  { name: 'call no-answer → cancel pending', task: task({ state: 'pending' }), call: endedCall('no-answer'), expect: 'cancel-task:pending' },

  // --- the call's live Task, or a later one (callback, voicemail) ---
  { name: 'created during the call → close', task: task({ createdAtMs: callEnd - 5 * MIN }), expect: 'complete-task:assigned' },
  { name: 'created exactly postCallTaskAfterMs after the end → close', task: task({ createdAtMs: callEnd + 10 * MIN }), call: endedCall('completed', 10 * MIN), expect: 'complete-task:assigned' },
  { name: 'created 1 ms later than that → skip post-call-task', task: task({ createdAtMs: callEnd + 10 * MIN + 1 }), expect: 'skip:post-call-task', detail: /after the call ended/ },
  { name: 'a callback Task created 2 h after the call → skip post-call-task', task: task({ state: 'pending', createdAtMs: NOW }), call: endedCall('completed', 2 * HOUR), expect: 'skip:post-call-task' },
  { name: 'postCallTaskAfterMs 0: created 1 ms after the end → skip', task: task({ createdAtMs: callEnd + 1 }), settings: { postCallTaskAfterMs: 0 }, expect: 'skip:post-call-task' },
  { name: 'creation time unknown on a fetch → skip post-call-task', task: task({ createdAtMs: undefined }), expect: 'skip:post-call-task', detail: /unknown/ },
  { name: 'creation time unknown on a list item → read the Task', task: listedTask({ createdAtMs: undefined }), expect: 'read:task' },

  // --- assignment status ---
  { name: 'pending → cancel', task: task({ state: 'pending' }), expect: 'cancel-task:pending' },
  { name: 'reserved → cancel', task: task({ state: 'reserved' }), expect: 'cancel-task:reserved' },
  { name: 'assigned → complete', task: task({ state: 'assigned' }), expect: 'complete-task:assigned' },
  { name: 'wrapping, no wrap limit → left to the agent, nothing to wait for', task: task({ state: 'wrapping' }), expect: 'skip:wrapping-left-to-agent', detail: /no wrap limit/ },
  { name: 'wrapping, wrap limit not reached → skip until it is', task: task({ state: 'wrapping' }), settings: { wrapLimitMs: 30 * MIN }, expect: 'skip:wrapping-left-to-agent', recheckAtMs: NOW + 20 * MIN },
  { name: 'wrapping, 1 ms before the wrap limit → skip', task: task({ state: 'wrapping' }), settings: { wrapLimitMs: 10 * MIN + 1 }, expect: 'skip:wrapping-left-to-agent', recheckAtMs: NOW + 1 },
  { name: 'wrapping, wrap limit reached → complete', task: task({ state: 'wrapping' }), settings: { wrapLimitMs: 10 * MIN }, expect: 'complete-task:wrapping' },
  { name: 'wrapping, wrap limit 0 but grace running → grace first', task: task({ state: 'wrapping' }), call: endedCall('completed', 30 * SEC), settings: { wrapLimitMs: 0 }, expect: 'skip:grace-period', recheckAtMs: NOW + 30 * SEC },
  { name: 'wrapping, wrap limit shorter than grace → complete at grace end', task: task({ state: 'wrapping' }), call: endedCall('completed', 1 * MIN), settings: { wrapLimitMs: 10 * SEC }, expect: 'complete-task:wrapping' },
  { name: 'wrapping chat Task past the wrap limit → skip not-voice', task: task({ state: 'wrapping', channel: 'chat' }), settings: { wrapLimitMs: 1 * MIN }, expect: 'skip:not-voice' },
  { name: 'wrapping custom Task past the wrap limit → skip', task: task({ state: 'wrapping', attrs: 'custom' }), settings: { wrapLimitMs: 1 * MIN }, expect: 'skip:custom-orchestration' },

  // --- only on a fresh fetch, with its ETag ---
  { name: 'all good on a list item → read the Task first', task: listedTask(), expect: 'read:task', detail: /list item/ },
  { name: 'a list item that carries a version and a read time still never writes', task: listedTask({ version: VERSION, readAtMs: NOW }), expect: 'read:task' },
  { name: 'fetched exactly maxReadAgeMs ago → close', task: task({ readAtMs: NOW - 30 * SEC }), expect: 'complete-task:assigned' },
  { name: 'fetched 1 ms longer ago → read again', task: task({ readAtMs: NOW - 30 * SEC - 1 }), expect: 'read:task', detail: /too old/ },
  { name: 'maxReadAgeMs 5 s, fetched 6 s ago → read again', task: task({ readAtMs: NOW - 6 * SEC }), settings: { maxReadAgeMs: 5 * SEC }, expect: 'read:task' },
  { name: 'a fetch without a read time → read again', task: task({ readAtMs: undefined }), expect: 'read:task' },
  { name: 'a fetch without an ETag → skip task-version-unknown', task: task({ version: undefined }), expect: 'skip:task-version-unknown', detail: /If-Match/ },
  { name: 'a fetch without an ETag on a live call → call-live first', task: task({ version: undefined }), call: liveCall(), expect: 'skip:call-live' },
  { name: 'a stale fetch on a live call → skip (a skip needs no fresh read)', task: task({ readAtMs: NOW - 1 * HOUR }), call: liveCall(), expect: 'skip:call-live' },
  { name: 'read time in the future (clock skew) counts as fresh', task: task({ readAtMs: NOW + 5 * SEC }), expect: 'complete-task:assigned' },
];

describe('policy: decideTask expected answers', () => {
  it('has a broad table', () => assert.ok(rows.length >= 80, `${rows.length} rows`));
  for (const r of rows) {
    it(r.name, () => {
      const input: TaskDecisionInput = {
        nowMs: NOW,
        task: r.task,
        settings: settings(r.settings),
        ...(r.call === null ? {} : { call: r.call ?? endedCall() }),
        ...r.ctx,
      };
      const a = decideTask(input);
      explain(input, a, () => {
        assert.equal(brief(a), r.expect);
        checkTaskAnswer(input, a);
        if (r.detail) assert.match(a.kind === 'skip' ? a.detail ?? '' : a.kind === 'read' || a.kind === 'none' ? a.reason : '', r.detail);
        if (r.sid) assert.equal(a.kind === 'read' && a.sid, r.sid);
        if (a.kind === 'skip') assert.equal(a.recheckAtMs, r.recheckAtMs);
      });
    });
  }

  it('a write carries the fetched ETag, the configured reason and the status it was decided on', () => {
    assert.deepEqual(decideTask({ nowMs: NOW, task: task({ state: 'reserved', version: 'W/"abc"' }), call: endedCall(), settings: settings() }), {
      kind: 'cancel-task',
      sid: TASK_SID,
      reason: TASK_REASON,
      expectStatus: 'reserved',
      version: 'W/"abc"',
    });
  });

  it('details are human-readable', () => {
    const detail = (t: TaskFacts, c: CallFacts = endedCall()) => {
      const a = decideTask({ nowMs: NOW, task: t, call: c, settings: settings({ wrapLimitMs: 30 * MIN }) });
      return a.kind === 'skip' ? a.detail : a.kind;
    };
    assert.equal(detail(task(), endedCall('completed', 30 * SEC)), 'call ended 30s ago');
    assert.equal(detail(task({ createdAtMs: NOW - 10 * MIN + 2 * HOUR })), 'task created 2h after the call ended');
    assert.equal(detail(task({ state: 'wrapping' })), 'wrap limit 30m not reached');
    assert.equal(detail(task(), liveCall('ringing')), 'call ringing');
    assert.match(detail(task({ attrs: 'malformedSid' })) ?? '', /call_sid is a string "CAb920.*not a Call SID/);
  });

  it('does not mutate its input', () => {
    const input = Object.freeze({ nowMs: NOW, task: Object.freeze(task()), call: Object.freeze(endedCall()), settings: settings() });
    assert.equal(decideTask(input).kind, 'complete-task');
  });

  describe('surprising behaviour (reported)', () => {
    it('a fresh fetch whose status is not one the policy knows is answered "read the Task" again, not a skip', () => {
      // A new Twilio status maps to `unknown`; the guarded loop then re-reads until its step bound and reports
      // `changed-under-us`, which is not what happened.
      const a = decideTask({ nowMs: NOW, task: task({ state: 'unknown' }), call: endedCall(), settings: settings() });
      assert.equal(brief(a), 'read:task');
    });
  });
});
