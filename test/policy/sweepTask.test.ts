// decideSweepTask / taskNeedsCall: cross-product invariants, parity with the seed cleaner, expected answers.
import assert from 'node:assert/strict';
import {
  decideSweepTask,
  isWriteAction,
  parseTaskAttributes,
  SKIP_REASONS,
  taskNeedsCall,
  TERMINAL_CALL_STATES,
  type CallFacts,
  type PolicySettings,
  type SweepTaskInput,
  type TaskAction,
  type TaskFacts,
  type TaskState,
} from '../../src/policy';
import { ATTRS, brief, CALL_SID, CALL_STATES, MIN, NOW, OTHER_CALL_SID, SEC, settings, TASK_REASON, TASK_SID, TASK_STATES, TERMINAL } from './fixtures';

const SWEEP_ATTRS: Record<string, string | undefined> = {
  ...ATTRS,
  malformedSid: JSON.stringify({ call_sid: 'CAb920ad5f119ab57be3fxxxxxxxx' }),
  hintWeb: JSON.stringify({ call_sid: CALL_SID, channelType: 'web' }),
  hintVoice: JSON.stringify({ call_sid: CALL_SID, channelType: 'voice' }),
  array: JSON.stringify([{ call_sid: CALL_SID }]),
  missing: undefined,
};
const CHANNELS = ['voice', 'chat', 'sms', 'default', undefined, 'fax', 'Voice'];

/**
 * The seed cleaner's rule, restated from Twilio's published script (003_…): parse attributes (skip on
 * error), skip unless channel is exactly `voice` and `call_sid` is truthy, fetch the call (a failed fetch
 * updates nothing), close when the call's status is in its terminal list (which omits `canceled`).
 */
const SEED_TERMINAL = ['completed', 'failed', 'busy', 'no-answer'];
function seedCleaner(task: TaskFacts, call: CallFacts | undefined): 'completed' | 'canceled' | undefined {
  if (!['pending', 'reserved', 'assigned'].includes(task.state)) return undefined; // it lists open tasks only
  let attributes: unknown;
  try {
    attributes = JSON.parse(task.attributes as string);
  } catch {
    return undefined;
  }
  const callSid = (attributes as { call_sid?: unknown } | null)?.call_sid; // (the script would throw on null; no update either way)
  if (task.channel !== 'voice' || !callSid) return undefined;
  if (!call || call.status === 'gone' || call.status === 'unknown') return undefined; // fetch failed → error logged, no update
  if (SEED_TERMINAL.includes(call.status)) return task.state === 'assigned' ? 'completed' : 'canceled';
  return undefined;
}

function callVariants(): (CallFacts | undefined)[] {
  const out: (CallFacts | undefined)[] = [undefined];
  for (const status of CALL_STATES) {
    for (const endedAtMs of [undefined, NOW - 30 * SEC, NOW - 10 * MIN]) {
      out.push(Object.freeze({ status, sid: CALL_SID, endedAtMs: TERMINAL.includes(status) ? endedAtMs : undefined }));
    }
  }
  out.push(Object.freeze({ status: 'completed', sid: OTHER_CALL_SID, endedAtMs: NOW - 10 * MIN }));
  out.push(Object.freeze({ status: 'completed', endedAtMs: NOW - 10 * MIN })); // sid not recorded
  return out;
}

function taskVariants(): TaskFacts[] {
  const out: TaskFacts[] = [];
  for (const state of TASK_STATES) {
    for (const channel of CHANNELS) {
      for (const attributes of Object.values(SWEEP_ATTRS)) out.push(Object.freeze({ sid: TASK_SID, state, channel, attributes }));
    }
  }
  return out;
}

function checkRow(input: SweepTaskInput, a: TaskAction): void {
  const { nowMs, task, call, settings: s } = input;
  if (!['pending', 'reserved', 'assigned'].includes(task.state)) assert.equal(a.kind, 'none', 'only open tasks are considered');
  if (a.kind === 'skip') {
    assert.ok(SKIP_REASONS.includes(a.reason));
    assert.ok(a.detail && a.detail.length > 0, 'a skip explains itself');
  }
  if (a.kind === 'cancel-task' || a.kind === 'complete-task') {
    assert.ok(call && TERMINAL_CALL_STATES.includes(call.status), 'close only when the call is terminal');
    assert.ok(call.endedAtMs === undefined || nowMs >= call.endedAtMs + s.graceMs, 'never within the grace period');
    assert.ok(call.sid === undefined || call.sid === CALL_SID);
    assert.equal(task.channel, 'voice');
    const attrs = parseTaskAttributes(task.attributes);
    assert.ok(attrs.ok && !attrs.customOrchestration && attrs.callSid === CALL_SID);
    assert.ok(attrs.channelHint === undefined || attrs.channelHint === 'voice');
    assert.equal(a.sid, task.sid);
    assert.equal(a.expectStatus, task.state);
    assert.equal(a.reason, s.taskReason);
    assert.equal(a.kind, task.state === 'assigned' ? 'complete-task' : 'cancel-task');
  }
  // taskNeedsCall: undefined means the call cannot change the answer.
  const needs = taskNeedsCall(task);
  if (needs === undefined) {
    assert.ok(!isWriteAction(a));
    assert.deepEqual(decideSweepTask({ ...input, call: undefined }), a, 'the call mattered though taskNeedsCall said no');
  } else {
    assert.equal(needs, CALL_SID);
    if (!call) assert.deepEqual(a, { kind: 'skip', reason: 'call-unknown', detail: 'call not fetched' });
  }
}

describe('policy: decideSweepTask', () => {
  it('cross product: invariants on every row, and parity with the seed cleaner', () => {
    const calls = callVariants();
    const tasks = taskVariants();
    const allSettings: PolicySettings[] = [settings(), settings({ graceMs: 0 })];
    const divergences = new Map<string, number>();
    let rows = 0;
    for (const task of tasks) {
      for (const call of calls) {
        for (const s of allSettings) {
          for (const channels of [undefined, ['fax']]) {
            const input = Object.freeze({ nowMs: NOW, task, call, settings: s, channels });
            const a = decideSweepTask(input);
            try {
              checkRow(input, a);
              const seed = seedCleaner(task, call);
              const ours = a.kind === 'complete-task' ? 'completed' : a.kind === 'cancel-task' ? 'canceled' : undefined;
              if (ours !== seed) {
                // Where we differ from the seed cleaner, it is on purpose: one extension, the rest are skips.
                const why = ours ? `close on a ${call?.status} call` : `skip:${a.kind === 'skip' ? a.reason : a.kind}`;
                if (ours) assert.equal(call?.status, 'canceled', 'we close only what the seed would, plus canceled calls');
                else {
                  assert.equal(a.kind, 'skip');
                  assert.ok(['custom-orchestration', 'no-call-sid', 'not-voice', 'grace-period', 'call-sid-mismatch'].includes(a.reason), why);
                }
                divergences.set(why, (divergences.get(why) ?? 0) + 1);
              } else if (ours) assert.equal(a.kind === 'complete-task' ? 'completed' : 'canceled', seed);
            } catch (err) {
              (err as Error).message += `\n  row: ${JSON.stringify({ task, call, s, channels })}\n  action: ${JSON.stringify(a)}`;
              throw err;
            }
            rows++;
          }
        }
      }
    }
    assert.ok(rows > 50_000, `${rows} rows`);
    // Every documented divergence actually occurs in the table.
    assert.deepEqual([...divergences.keys()].sort(), [
      'close on a canceled call',
      'skip:call-sid-mismatch',
      'skip:custom-orchestration',
      'skip:grace-period',
      'skip:no-call-sid',
      'skip:not-voice',
    ]);
  });

  /** null = absent. */
  const task = (state: TaskState, attributes: string | null | undefined = SWEEP_ATTRS.valid, channel: string | null = 'voice'): TaskFacts => ({
    sid: TASK_SID,
    state,
    channel: channel ?? undefined,
    attributes: attributes ?? undefined,
  });
  const call = (status: CallFacts['status'], endedAgoMs?: number): CallFacts => ({ status, sid: CALL_SID, endedAtMs: endedAgoMs === undefined ? undefined : NOW - endedAgoMs });
  const rows: [string, TaskFacts, CallFacts | undefined, string, (Partial<PolicySettings> & { channels?: string[] })?][] = [
    // seed parity: what the script closes
    ['seed: assigned voice task, call completed → complete', task('assigned'), call('completed', 10 * MIN), 'complete-task:assigned'],
    ['seed: pending voice task, call failed → cancel', task('pending'), call('failed', 10 * MIN), 'cancel-task:pending'],
    ['seed: reserved voice task, call busy → cancel', task('reserved'), call('busy', 10 * MIN), 'cancel-task:reserved'],
    ['seed: assigned voice task, call no-answer → complete', task('assigned'), call('no-answer', 10 * MIN), 'complete-task:assigned'],
    ['seed: end time unknown (no grace, like the script) → close', task('assigned'), call('completed'), 'complete-task:assigned'],
    ['extension: call canceled is terminal → cancel (the seed list omits canceled)', task('pending'), call('canceled', 10 * MIN), 'cancel-task:pending'],
    ['extension: assigned task, call canceled → complete', task('assigned'), call('canceled', 10 * MIN), 'complete-task:assigned'],
    // seed parity: what the script leaves alone
    ['seed: call in-progress → skip call-live', task('assigned'), call('in-progress'), 'skip:call-live'],
    ['seed: call ringing → skip call-live', task('pending'), call('ringing'), 'skip:call-live'],
    ['seed: call queued → skip call-live', task('reserved'), call('queued'), 'skip:call-live'],
    ['seed: call 404 → skip call-unknown', task('assigned'), call('gone'), 'skip:call-unknown'],
    ['seed: call fetch failed → skip call-unknown', task('assigned'), call('unknown'), 'skip:call-unknown'],
    ['call not fetched → skip call-unknown', task('assigned'), undefined, 'skip:call-unknown'],
    ['seed: unparsable attributes → skip', task('assigned', SWEEP_ATTRS.unparsable), call('completed', 10 * MIN), 'skip:attributes-unparsable'],
    ['attributes a JSON array → skip unparsable', task('assigned', SWEEP_ATTRS.array), call('completed', 10 * MIN), 'skip:attributes-unparsable'],
    ['attributes not read → skip unparsable', task('assigned', null), call('completed', 10 * MIN), 'skip:attributes-unparsable'],
    ['seed: no call_sid → skip', task('pending', SWEEP_ATTRS.noCallSid), undefined, 'skip:no-call-sid'],
    ['malformed call_sid → skip no-call-sid (the script would try to fetch it)', task('pending', SWEEP_ATTRS.malformedSid), undefined, 'skip:no-call-sid'],
    ['seed: chat task → skip not-voice', task('assigned', SWEEP_ATTRS.valid, 'chat'), call('completed', 10 * MIN), 'skip:not-voice'],
    ['seed: sms task → skip not-voice', task('pending', SWEEP_ATTRS.valid, 'sms'), undefined, 'skip:not-voice'],
    ['seed: default-channel task → skip not-voice', task('pending', SWEEP_ATTRS.valid, 'default'), undefined, 'skip:not-voice'],
    ['webchat task → skip not-voice', task('pending', SWEEP_ATTRS.valid, 'webchat'), undefined, 'skip:not-voice'],
    ['whatsapp task → skip not-voice', task('pending', SWEEP_ATTRS.valid, 'whatsapp'), undefined, 'skip:not-voice'],
    ['email task → skip not-voice', task('pending', SWEEP_ATTRS.valid, 'email'), undefined, 'skip:not-voice'],
    ['no channel → skip unknown-channel', task('assigned', SWEEP_ATTRS.valid, null), call('completed', 10 * MIN), 'skip:unknown-channel'],
    ['channel "fax" → skip unknown-channel', task('assigned', SWEEP_ATTRS.valid, 'fax'), call('completed', 10 * MIN), 'skip:unknown-channel'],
    ['channel "fax" known in the workspace → skip not-voice', task('assigned', SWEEP_ATTRS.valid, 'fax'), undefined, 'skip:not-voice', { channels: ['fax'] }],
    ['channel "Voice" (case differs) → skip unknown-channel', task('assigned', SWEEP_ATTRS.valid, 'Voice'), call('completed', 10 * MIN), 'skip:unknown-channel'],
    ['custom orchestration → skip', task('assigned', SWEEP_ATTRS.custom), call('completed', 10 * MIN), 'skip:custom-orchestration'],
    ['voice task with channelType web → skip not-voice', task('assigned', SWEEP_ATTRS.hintWeb), call('completed', 10 * MIN), 'skip:not-voice'],
    ['voice task with channelType voice → complete', task('assigned', SWEEP_ATTRS.hintVoice), call('completed', 10 * MIN), 'complete-task:assigned'],
    ['call ended 30 s ago (grace 60 s) → skip grace-period', task('assigned'), call('completed', 30 * SEC), 'skip:grace-period'],
    ['call ended exactly at grace end → complete', task('assigned'), call('completed', 1 * MIN), 'complete-task:assigned'],
    ['call ended 1 ms short of grace → skip grace-period', task('pending'), call('completed', 1 * MIN - 1), 'skip:grace-period'],
    ['call ended 30 s ago, grace 0 → complete', task('assigned'), call('completed', 30 * SEC), 'complete-task:assigned', { graceMs: 0 }],
    ['fetched call is another call → skip call-sid-mismatch', task('assigned'), { status: 'completed', sid: OTHER_CALL_SID, endedAtMs: NOW - 10 * MIN }, 'skip:call-sid-mismatch'],
    ['not open: wrapping → none', task('wrapping'), call('completed', 10 * MIN), 'none'],
    ['not open: completed → none', task('completed'), call('completed', 10 * MIN), 'none'],
    ['not open: canceled → none', task('canceled'), undefined, 'none'],
    ['not open: gone → none', task('gone'), undefined, 'none'],
    ['not open: unknown → none', task('unknown'), undefined, 'none'],
  ];
  for (const [name, t, c, expected, over] of rows) {
    it(name, () => {
      const { channels, ...s } = over ?? {};
      const a = decideSweepTask({ nowMs: NOW, task: t, call: c, settings: settings(s), channels });
      assert.equal(brief(a), expected);
      if (isWriteAction(a)) assert.equal(a.reason, TASK_REASON);
    });
  }

  it('taskNeedsCall names the call only when the answer depends on it', () => {
    assert.equal(taskNeedsCall(task('assigned')), CALL_SID);
    assert.equal(taskNeedsCall(task('pending')), CALL_SID);
    assert.equal(taskNeedsCall(task('wrapping')), undefined);
    assert.equal(taskNeedsCall(task('assigned', SWEEP_ATTRS.valid, 'chat')), undefined);
    assert.equal(taskNeedsCall(task('assigned', SWEEP_ATTRS.custom)), undefined);
    assert.equal(taskNeedsCall(task('assigned', SWEEP_ATTRS.malformedSid)), undefined);
    assert.equal(taskNeedsCall(task('assigned', SWEEP_ATTRS.unparsable)), undefined);
  });

  it('details say what was wrong', () => {
    const d = (t: TaskFacts) => {
      const a = decideSweepTask({ nowMs: NOW, task: t, settings: settings() });
      return a.kind === 'skip' ? a.detail : undefined;
    };
    assert.match(d(task('pending', SWEEP_ATTRS.malformedSid)) ?? '', /call_sid is a string "CAb920.*not a Call SID/);
    assert.equal(d(task('pending', SWEEP_ATTRS.noCallSid)), 'attributes have no call_sid');
    assert.equal(d(task('pending', SWEEP_ATTRS.valid, null)), 'task has no channel');
    assert.equal(d(task('pending', SWEEP_ATTRS.valid, 'chat')), 'task channel chat');
    assert.match(d(task('pending', SWEEP_ATTRS.unparsable)) ?? '', /^malformed JSON/);
  });
});
