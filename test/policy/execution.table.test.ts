// decideExecution: the expected answer for each meaningful case, by name (every row also passes the shared invariants).
import assert from 'node:assert/strict';
import { decideExecution, type CallFacts, type ExecutionDecisionInput, type ExecutionFacts, type FlowFacts, type PolicySettings } from '../../src/policy';
import {
  brief,
  CALL_SID,
  endedCall,
  EXEC_SID,
  execution,
  explain,
  flowRead,
  flowUnreadable,
  FLOW_SID,
  HOUR,
  liveCall,
  MIN,
  noSteps,
  NOW,
  OTHER_CALL_SID,
  SEC,
  settings,
  waitingIn,
  WIDGETS,
} from './fixtures';
import { checkExecutionAnswer } from './invariants';

interface Row {
  name: string;
  execution: ExecutionFacts;
  /** Voice default: CALL_SID completed 10 min ago; null: not read. */
  call?: CallFacts | null;
  flow?: FlowFacts;
  settings?: Partial<PolicySettings>;
  ctx?: Pick<ExecutionDecisionInput, 'watchedCallSid' | 'ownedByCallWatch' | 'sweptChannels'>;
  expect: string;
  detail?: RegExp;
  sid?: string;
  revision?: number;
  recheckAtMs?: number;
  widget?: string;
}

/** An active SMS Execution (revision 3 of FLOW_SID) waiting where `waiting` says; updated 10 h ago. */
const sms = (over: Partial<ExecutionFacts> = {}): ExecutionFacts => execution({ trigger: 'message', ...over });
const GRACE = 1 * MIN;
/** The shortest limit the Flow allows (the `say` widget's 5 s) plus grace: touched more recently than this is not idle. */
const FLOOR = 5 * SEC + GRACE;

const voiceRows: Row[] = [
  // --- closed or not known ---
  { name: 'ended → none', execution: execution({ state: 'ended' }), expect: 'none' },
  { name: 'gone (404) → none', execution: execution({ state: 'gone' }), expect: 'none' },
  { name: 'ended, call live → none', execution: execution({ state: 'ended' }), call: liveCall(), expect: 'none' },
  { name: 'a link (state unknown) → read the Execution', execution: { sid: EXEC_SID, state: 'unknown', trigger: 'unknown', flowSid: FLOW_SID, source: 'list' }, call: null, expect: 'read:execution', sid: EXEC_SID },

  // --- what started it ---
  { name: 'REST-triggered, 2 days old → never ended', execution: execution({ trigger: 'request', createdAtMs: NOW - 48 * HOUR }), expect: 'skip:execution-trigger-unknown' },
  { name: 'unknown trigger → never ended', execution: execution({ trigger: 'unknown' }), expect: 'skip:execution-trigger-unknown' },
  { name: 'unknown trigger in a callWatch → never ended', execution: execution({ trigger: 'unknown' }), ctx: { watchedCallSid: CALL_SID }, expect: 'skip:execution-trigger-unknown' },
  { name: 'call-triggered but no call known (sweep) → skip', execution: execution({ callSid: undefined }), call: null, expect: 'skip:execution-trigger-unknown' },
  { name: 'call-triggered without a call SID in a callWatch: the watched call → end', execution: execution({ callSid: undefined }), ctx: { watchedCallSid: CALL_SID }, expect: 'end-execution' },

  // --- voice: the call ---
  { name: 'call completed 10 min ago → end', execution: execution(), expect: 'end-execution' },
  { name: 'call canceled → end', execution: execution(), call: endedCall('canceled'), expect: 'end-execution' },
  { name: 'call failed → end', execution: execution(), call: endedCall('failed'), expect: 'end-execution' },
  { name: 'call busy → end', execution: execution(), call: endedCall('busy'), expect: 'end-execution' },
  { name: 'call no-answer → end', execution: execution(), call: endedCall('no-answer'), expect: 'end-execution' },
  { name: 'call ended exactly at grace end → end', execution: execution(), call: endedCall('completed', GRACE), expect: 'end-execution' },
  { name: 'call ended 1 ms short of grace → skip until grace end', execution: execution(), call: endedCall('completed', GRACE - 1), expect: 'skip:grace-period', recheckAtMs: NOW + 1 },
  { name: 'call ended, end unknown → skip grace-period', execution: execution(), call: endedCall('completed', null), expect: 'skip:grace-period' },
  { name: 'call in-progress → skip call-live', execution: execution(), call: liveCall(), expect: 'skip:call-live' },
  { name: 'call ringing → skip call-live', execution: execution(), call: liveCall('ringing'), expect: 'skip:call-live' },
  { name: 'call queued → skip call-live', execution: execution(), call: liveCall('queued'), expect: 'skip:call-live' },
  { name: 'a 2-day-old Execution on a live call → still skip', execution: execution({ createdAtMs: NOW - 48 * HOUR }), call: liveCall('in-progress', 48 * HOUR), expect: 'skip:call-live' },
  { name: 'call status unknown → skip call-unknown', execution: execution(), call: { sid: CALL_SID, status: 'unknown' }, expect: 'skip:call-unknown' },
  { name: 'sweep: call not found (404), Execution older than the threshold → end by age', execution: execution({ createdAtMs: NOW - 4 * HOUR }), call: { sid: CALL_SID, status: 'gone' }, expect: 'end-execution', detail: /404.*active for 4h/ },
  { name: 'sweep: call not found, Execution 1 ms younger than the threshold → skip', execution: execution({ createdAtMs: NOW - 4 * HOUR + 1 }), call: { sid: CALL_SID, status: 'gone' }, expect: 'skip:call-unknown' },
  { name: 'sweep: call not found, Execution age unknown → skip', execution: execution({ createdAtMs: undefined }), call: { sid: CALL_SID, status: 'gone' }, expect: 'skip:call-unknown', detail: /unknown age/ },
  { name: 'callWatch: call not found → skip (no age fallback)', execution: execution({ createdAtMs: NOW - 48 * HOUR }), call: { sid: CALL_SID, status: 'gone' }, ctx: { watchedCallSid: CALL_SID }, expect: 'skip:call-unknown' },
  { name: 'call not read → read it', execution: execution(), call: null, expect: 'read:call', sid: CALL_SID },
  { name: 'the call read is another call → read its own', execution: execution(), call: endedCall('completed', 10 * MIN, OTHER_CALL_SID), expect: 'read:call', sid: CALL_SID },
  { name: 'callWatch of another call → skip call-sid-mismatch', execution: execution(), ctx: { watchedCallSid: OTHER_CALL_SID }, expect: 'skip:call-sid-mismatch' },
  { name: 'sweep: the call has a running callWatch → skip', execution: execution(), ctx: { ownedByCallWatch: true }, expect: 'skip:owned-by-callwatch' },
  { name: 'sweep of sms only → voice not swept', execution: execution(), ctx: { sweptChannels: ['sms'] }, expect: 'skip:channel-not-swept' },
  { name: 'sweep of voice → end', execution: execution(), ctx: { sweptChannels: ['voice'] }, expect: 'end-execution' },
  { name: 'sweep of voice and sms → end', execution: execution(), ctx: { sweptChannels: ['voice', 'sms'] }, expect: 'end-execution' },

  // --- voice: only on a fresh fetch ---
  { name: 'stuck, decided on a list item → read the Execution first', execution: execution({ source: 'list', readAtMs: undefined }), expect: 'read:execution', detail: /list item/ },
  { name: 'stuck, fetched 31 s ago → read again', execution: execution({ readAtMs: NOW - 31 * SEC }), expect: 'read:execution', detail: /too old/ },
  { name: 'stuck, fetch without a read time → read again', execution: execution({ readAtMs: undefined }), expect: 'read:execution' },
  { name: 'a list item on a live call → skip without reading', execution: execution({ source: 'list', readAtMs: undefined }), call: liveCall(), expect: 'skip:call-live' },
];

const messagingRows: Row[] = [
  // --- who may end it, what is swept ---
  { name: 'callWatch never ends a messaging Execution', execution: sms({ waiting: waitingIn('confirm', 1 * HOUR) }), flow: flowRead(), ctx: { watchedCallSid: CALL_SID }, expect: 'skip:execution-trigger-unknown' },
  { name: 'sweep of voice only → messaging not swept', execution: sms({ waiting: waitingIn('confirm', 1 * HOUR) }), flow: flowRead(), ctx: { sweptChannels: ['voice'] }, expect: 'skip:channel-not-swept' },
  { name: 'sweep of webchat covers messaging → end', execution: sms({ waiting: waitingIn('confirm', 1 * HOUR) }), flow: flowRead(), ctx: { sweptChannels: ['webchat'] }, expect: 'end-execution', widget: 'confirm' },
  { name: 'a live call does not matter to an SMS Execution', execution: sms({ waiting: waitingIn('confirm', 1 * HOUR) }), flow: flowRead(), call: liveCall(), expect: 'end-execution' },

  // --- the Flow definition ---
  { name: 'Flow not read → read it at the Execution\'s revision', execution: sms(), expect: 'read:flow', sid: FLOW_SID, revision: 3 },
  { name: 'Flow not read, revision unknown → read the current one', execution: sms({ flowRevision: undefined }), expect: 'read:flow', sid: FLOW_SID, revision: undefined },
  { name: 'the Flow read is older than the Execution\'s revision → read again', execution: sms(), flow: flowRead(2), expect: 'read:flow', revision: 3 },
  { name: 'the Execution names no Flow → skip flow-unreadable', execution: sms({ flowSid: undefined }), expect: 'skip:flow-unreadable' },
  { name: 'Flow unreadable (404) → skip flow-unreadable', execution: sms({ waiting: waitingIn('ask', 48 * HOUR) }), flow: flowUnreadable(), expect: 'skip:flow-unreadable', detail: /404/ },
  { name: 'Flow unreadable, even 2 days idle → skip', execution: sms({ waiting: noSteps(), createdAtMs: NOW - 48 * HOUR }), flow: flowUnreadable('the definition has no states'), expect: 'skip:flow-unreadable' },

  // --- recently touched: not idle before any Step is read ---
  { name: 'updated 30 s ago → not idle (re-check when the shortest limit plus grace has passed)', execution: sms({ updatedAtMs: NOW - 30 * SEC }), flow: flowRead(), expect: 'skip:messaging-not-idle', recheckAtMs: NOW - 30 * SEC + FLOOR },
  { name: 'created just now (no update time) → not idle', execution: sms({ createdAtMs: NOW - 1 * SEC, updatedAtMs: undefined }), flow: flowRead(), expect: 'skip:messaging-not-idle' },
  { name: 'updated longer ago than the shortest limit → read where it waits', execution: sms({ updatedAtMs: NOW - FLOOR }), flow: flowRead(), expect: 'read:steps', sid: EXEC_SID },
  { name: 'where it waits was read 31 s ago → read the Steps again', execution: sms({ waiting: waitingIn('confirm', 1 * HOUR, 31 * SEC) }), flow: flowRead(), expect: 'read:steps' },

  // --- Send & Wait: its own timeout ---
  { name: 'waits in "ask" (24 h) for 5 h → not idle until since + 24 h + grace', execution: sms({ waiting: waitingIn('ask', 5 * HOUR) }), flow: flowRead(), expect: 'skip:messaging-not-idle', recheckAtMs: NOW - 5 * HOUR + 24 * HOUR + GRACE },
  { name: 'waits in "ask" for 24 h + grace → end', execution: sms({ waiting: waitingIn('ask', 24 * HOUR + GRACE) }), flow: flowRead(), expect: 'end-execution', widget: 'ask' },
  { name: 'waits in "ask" 1 ms short of 24 h + grace → not idle', execution: sms({ waiting: waitingIn('ask', 24 * HOUR + GRACE - 1) }), flow: flowRead(), expect: 'skip:messaging-not-idle', recheckAtMs: NOW + 1 },
  { name: 'waits in "confirm" (10 min) for 11 min → end (before the 4 h threshold)', execution: sms({ waiting: waitingIn('confirm', 11 * MIN) }), flow: flowRead(), expect: 'end-execution', widget: 'confirm' },
  { name: 'waits in "confirm" 1 ms short of 10 min + grace → not idle', execution: sms({ waiting: waitingIn('confirm', 11 * MIN - 1) }), flow: flowRead(), expect: 'skip:messaging-not-idle' },
  { name: 'grace 0: "confirm" exactly at its timeout → end', execution: sms({ waiting: waitingIn('confirm', 10 * MIN) }), flow: flowRead(), settings: { graceMs: 0 }, expect: 'end-execution' },
  { name: 'Send & Wait without a timeout → the threshold: 3 h idle is not enough', execution: sms({ waiting: waitingIn('nothing', 3 * HOUR) }), flow: flowRead(), expect: 'skip:messaging-not-idle', detail: /has no timeout: the threshold/ },
  { name: 'Send & Wait without a timeout, idle threshold + grace → end', execution: sms({ waiting: waitingIn('nothing', 4 * HOUR + GRACE) }), flow: flowRead(), expect: 'end-execution' },
  { name: 'Send & Wait with an unreadable timeout → the threshold, not the number', execution: sms({ waiting: waitingIn('bad', 1 * HOUR) }), flow: flowRead(), expect: 'skip:messaging-not-idle', detail: /unreadable timeout/ },
  { name: 'Send & Wait with an unreadable timeout, idle past the threshold → end', execution: sms({ waiting: waitingIn('bad', 4 * HOUR + GRACE) }), flow: flowRead(), expect: 'end-execution' },
  { name: 'waits in a gather widget (timeout 5 s, not Send & Wait) → the threshold applies', execution: sms({ waiting: waitingIn('say', 10 * MIN) }), flow: flowRead(), expect: 'skip:messaging-not-idle', detail: /gather-input-on-call/ },
  { name: 'waits in a split widget past the threshold → end', execution: sms({ waiting: waitingIn('split', 4 * HOUR + GRACE) }), flow: flowRead(), expect: 'end-execution', widget: 'split' },
  { name: 'waits in a widget missing from the definition → the threshold', execution: sms({ waiting: waitingIn('renamed', 1 * HOUR) }), flow: flowRead(), expect: 'skip:messaging-not-idle', detail: /not in the definition/ },
  { name: 'waits in a widget missing from the definition past the threshold → end', execution: sms({ waiting: waitingIn('renamed', 4 * HOUR + GRACE) }), flow: flowRead(), expect: 'end-execution' },
  { name: 'no Steps (still in the Trigger), created past the threshold → end', execution: sms({ waiting: noSteps() }), flow: flowRead(), expect: 'end-execution', widget: undefined, detail: /its Trigger/ },
  { name: 'no Steps, created 1 h ago → not idle', execution: sms({ waiting: noSteps(), createdAtMs: NOW - 1 * HOUR, updatedAtMs: NOW - 1 * HOUR }), flow: flowRead(), expect: 'skip:messaging-not-idle' },
  { name: 'no Steps and no creation time → not idle (nothing to measure from)', execution: sms({ waiting: noSteps(), createdAtMs: undefined }), flow: flowRead(), expect: 'skip:messaging-not-idle', detail: /no activity time/ },
  { name: 'a Flow whose only Send & Wait times out in 1 h, threshold 10 min, idle 20 min → not idle', execution: sms({ waiting: waitingIn('ask', 20 * MIN) }), flow: flowRead(3, { ask: { type: 'send-and-wait-for-reply', timeout: 3600 } }), settings: { messagingIdleMs: 10 * MIN }, expect: 'skip:messaging-not-idle' },
  { name: 'a numeric timeout (3600) counts like "3600"', execution: sms({ waiting: waitingIn('ask', 1 * HOUR + GRACE) }), flow: flowRead(3, { ask: { type: 'send-and-wait-for-reply', timeout: 3600 } }), expect: 'end-execution' },

  // --- a definition of another revision (or of an unknown one): its timeouts are unknown, so nothing ends ---
  { name: 'revision mismatch: "confirm" idle threshold + grace → skip (another revision\'s timeouts)', execution: sms({ waiting: waitingIn('confirm', 4 * HOUR + GRACE) }), flow: flowRead(4), expect: 'skip:flow-unreadable', detail: /runs revision 3 .* revision 4/ },
  { name: 'revision mismatch: "ask" idle 24 h + grace → skip', execution: sms({ waiting: waitingIn('ask', 24 * HOUR + GRACE) }), flow: flowRead(4), expect: 'skip:flow-unreadable' },
  { name: 'revision unknown: "confirm" idle 11 min → skip', execution: sms({ flowRevision: undefined, waiting: waitingIn('confirm', 11 * MIN) }), flow: flowRead(9), expect: 'skip:flow-unreadable', detail: /does not say which revision/ },

  // --- conversations, and only on a fresh fetch ---
  { name: 'conversation-triggered (webchat) in "confirm" 11 min → end', execution: sms({ trigger: 'conversation', waiting: waitingIn('confirm', 11 * MIN) }), flow: flowRead(), expect: 'end-execution' },
  { name: 'stuck, decided on a list item → read the Execution first', execution: sms({ source: 'list', readAtMs: undefined, waiting: waitingIn('confirm', 1 * HOUR) }), flow: flowRead(), expect: 'read:execution' },
  { name: 'stuck, Execution fetched 31 s ago → read it again', execution: sms({ readAtMs: NOW - 31 * SEC, waiting: waitingIn('confirm', 1 * HOUR) }), flow: flowRead(), expect: 'read:execution' },
  { name: 'maxReadAgeMs 5 s: Steps read 6 s ago → read them again', execution: sms({ waiting: waitingIn('confirm', 1 * HOUR, 6 * SEC) }), flow: flowRead(), settings: { maxReadAgeMs: 5 * SEC }, expect: 'read:steps' },
];

function run(r: Row, messaging: boolean): void {
  const input: ExecutionDecisionInput = {
    nowMs: NOW,
    execution: r.execution,
    settings: settings(r.settings),
    ...(r.call === null ? {} : r.call || !messaging ? { call: r.call ?? endedCall() } : {}),
    ...(r.flow ? { flow: r.flow } : {}),
    ...r.ctx,
  };
  const a = decideExecution(input);
  explain(input, a, () => {
    assert.equal(brief(a), r.expect);
    checkExecutionAnswer(input, a);
    if (r.detail) assert.match(a.kind === 'skip' ? a.detail ?? '' : a.kind === 'end-execution' || a.kind === 'read' || a.kind === 'none' ? a.reason : '', r.detail);
    if (r.sid) assert.equal(a.kind === 'read' && a.sid, r.sid);
    if (a.kind === 'read' && a.what === 'flow') assert.equal(a.revision, r.revision);
    if (a.kind === 'skip' && r.recheckAtMs !== undefined) assert.equal(a.recheckAtMs, r.recheckAtMs);
    if (a.kind === 'end-execution' && 'widget' in r) assert.equal(a.widget, r.widget);
  });
}

describe('policy: decideExecution expected answers', () => {
  it('has a broad table', () => assert.ok(voiceRows.length + messagingRows.length >= 75, `${voiceRows.length + messagingRows.length} rows`));
  describe('voice (and closed, unknown, not ours)', () => {
    for (const r of voiceRows) it(r.name, () => run(r, false));
  });
  describe('messaging (Send & Wait timeouts from the Flow definition)', () => {
    for (const r of messagingRows) it(r.name, () => run(r, true));
  });

  it('reasons are human-readable', () => {
    assert.deepEqual(decideExecution({ nowMs: NOW, execution: execution(), call: endedCall('canceled', 90 * SEC), settings: settings() }), {
      kind: 'end-execution',
      sid: EXEC_SID,
      reason: 'call canceled 90s ago; execution still active after the 60s grace period',
    });
    assert.deepEqual(decideExecution({ nowMs: NOW, execution: sms({ waiting: waitingIn('confirm', 11 * MIN) }), flow: flowRead(), settings: settings() }), {
      kind: 'end-execution',
      sid: EXEC_SID,
      reason: 'message execution idle 11m in "confirm"; Send & Wait "confirm" timeout 10m',
      widget: 'confirm',
    });
    assert.deepEqual(decideExecution({ nowMs: NOW, execution: sms({ waiting: waitingIn('ask', 5 * HOUR) }), flow: flowRead(), settings: settings() }), {
      kind: 'skip',
      reason: 'messaging-not-idle',
      detail: 'idle 5h; Send & Wait "ask" timeout 24h, plus 60s grace',
      recheckAtMs: NOW + 19 * HOUR + GRACE,
    });
  });

  it('does not mutate its input', () => {
    const input = Object.freeze({ nowMs: NOW, execution: Object.freeze(sms({ waiting: Object.freeze(waitingIn('confirm', 11 * MIN)) })), flow: Object.freeze(flowRead()), settings: settings() });
    assert.equal(decideExecution(input).kind, 'end-execution');
    assert.equal(WIDGETS['confirm']!.timeout, '600');
  });

  describe('gaps that were closed (pinned)', () => {
    it('the Execution\'s revision unknown: a 10 min timeout of the definition read does not end it', () => {
      const a = decideExecution({ nowMs: NOW, execution: sms({ flowRevision: undefined, waiting: waitingIn('confirm', 11 * MIN) }), flow: flowRead(9), settings: settings() });
      assert.equal(brief(a), 'skip:flow-unreadable');
    });
    it('revision mismatch: a newer revision that shortened the timeout does not end an Execution of the older one', () => {
      // The Execution runs revision 3, whose "ask" waits 24 h; revision 4 (the one the Flow fetch returns) waits 10 min.
      const current = flowRead(4, { ...WIDGETS, ask: { type: 'send-and-wait-for-reply', timeout: '600' } });
      const a = decideExecution({ nowMs: NOW, execution: sms({ waiting: waitingIn('ask', 4 * HOUR + GRACE) }), flow: current, settings: settings() });
      assert.equal(brief(a), 'skip:flow-unreadable');
    });
    it('Steps read before the Execution\'s fetch are read again before an end', () => {
      // Steps read 5 s ago, the Execution fetched 2 s ago: a reply between the two would be in neither.
      const a = decideExecution({ nowMs: NOW, execution: sms({ readAtMs: NOW - 2 * SEC, waiting: waitingIn('confirm', 11 * MIN, 5 * SEC) }), flow: flowRead(), settings: settings() });
      assert.equal(brief(a), 'read:steps');
    });
  });
});
