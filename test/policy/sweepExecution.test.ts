// decideSweepExecution / executionNeedsCall: cross-product invariants and expected answers.
import assert from 'node:assert/strict';
import {
  decideSweepExecution,
  executionNeedsCall,
  isWriteAction,
  SKIP_REASONS,
  TERMINAL_CALL_STATES,
  type CallFacts,
  type ExecutionFacts,
  type PolicySettings,
} from '../../src/policy';
import { brief, CALL_SID, CALL_STATES, EXEC_SID, EXECUTION_STATES, HOUR, MIN, NOW, SEC, settings, TERMINAL, TRIGGERS } from './fixtures';

describe('policy: decideSweepExecution', () => {
  it('cross product: invariants on every row', () => {
    const calls: (CallFacts | undefined)[] = [undefined];
    for (const status of CALL_STATES) {
      for (const endedAtMs of [undefined, NOW - 30 * SEC, NOW - 1 * MIN, NOW - 10 * MIN]) {
        calls.push(Object.freeze({ status, sid: CALL_SID, endedAtMs: TERMINAL.includes(status) ? endedAtMs : undefined }));
      }
    }
    const times = [undefined, NOW - 1 * HOUR, NOW - 4 * HOUR, NOW - 5 * HOUR, NOW + 1 * MIN];
    const allSettings: PolicySettings[] = [settings(), settings({ graceMs: 0, messagingIdleMs: 30 * MIN })];
    let rows = 0;
    let writes = 0;
    for (const state of EXECUTION_STATES) {
      for (const trigger of TRIGGERS) {
        for (const createdAtMs of times) {
          for (const lastStepAtMs of times) {
            const execution: ExecutionFacts = Object.freeze({ sid: EXEC_SID, state, trigger, createdAtMs, lastStepAtMs });
            for (const call of calls) {
              for (const s of allSettings) {
                const a = decideSweepExecution(Object.freeze({ nowMs: NOW, execution, call, settings: s }));
                try {
                  if (state !== 'active') assert.equal(a.kind, 'none');
                  if (a.kind === 'skip') assert.ok(SKIP_REASONS.includes(a.reason) && a.detail);
                  if (a.kind === 'end-execution') {
                    writes++;
                    assert.equal(state, 'active');
                    assert.equal(a.sid, EXEC_SID);
                    if (trigger === 'call') {
                      assert.ok(call && TERMINAL_CALL_STATES.includes(call.status), 'voice: call terminal');
                      assert.ok(call.endedAtMs === undefined || NOW >= call.endedAtMs + s.graceMs, 'voice: past grace');
                    } else {
                      assert.ok(trigger === 'message' || trigger === 'conversation', `never end a ${trigger}-triggered execution`);
                      const last = lastStepAtMs ?? createdAtMs;
                      assert.ok(last !== undefined && NOW - last >= s.messagingIdleMs, 'messaging: idle long enough');
                    }
                  }
                  if (!executionNeedsCall(execution)) {
                    assert.deepEqual(decideSweepExecution({ nowMs: NOW, execution, settings: s }), a, 'the call mattered though executionNeedsCall said no');
                  }
                  if (trigger === 'call' && state === 'active' && call && TERMINAL.includes(call.status) && (call.endedAtMs ?? 0) <= NOW - s.graceMs) {
                    assert.ok(isWriteAction(a), 'a stuck voice execution must be ended');
                  }
                } catch (err) {
                  (err as Error).message += `\n  row: ${JSON.stringify({ execution, call, s })}\n  action: ${JSON.stringify(a)}`;
                  throw err;
                }
                rows++;
              }
            }
          }
        }
      }
    }
    assert.ok(rows > 20_000 && writes > 0 && writes < rows, `${rows} rows, ${writes} writes`);
  });

  const ex = (trigger: ExecutionFacts['trigger'], over: Partial<ExecutionFacts> = {}): ExecutionFacts => ({ sid: EXEC_SID, state: 'active', trigger, createdAtMs: NOW - 1 * HOUR, ...over });
  const call = (status: CallFacts['status'], endedAgoMs?: number): CallFacts => ({ status, sid: CALL_SID, endedAtMs: endedAgoMs === undefined ? undefined : NOW - endedAgoMs });
  const rows: [string, ExecutionFacts, CallFacts | undefined, string][] = [
    ['voice: call completed 10 min ago → end', ex('call'), call('completed', 10 * MIN), 'end-execution'],
    ['voice: call canceled (hung up before TwiML) → end', ex('call'), call('canceled', 10 * MIN), 'end-execution'],
    ['voice: call failed, end unknown → end', ex('call'), call('failed'), 'end-execution'],
    ['voice: call busy → end', ex('call'), call('busy', 2 * MIN), 'end-execution'],
    ['voice: call no-answer → end', ex('call'), call('no-answer', 2 * MIN), 'end-execution'],
    ['voice: call ended exactly at grace → end', ex('call'), call('completed', 1 * MIN), 'end-execution'],
    ['voice: call ended 30 s ago → skip grace-period', ex('call'), call('completed', 30 * SEC), 'skip:grace-period'],
    ['voice: call in-progress → skip call-live', ex('call'), call('in-progress'), 'skip:call-live'],
    ['voice: call ringing → skip call-live', ex('call'), call('ringing'), 'skip:call-live'],
    ['voice: call queued → skip call-live', ex('call'), call('queued'), 'skip:call-live'],
    ['voice: call 404 → skip call-unknown', ex('call'), call('gone'), 'skip:call-unknown'],
    ['voice: call unreadable → skip call-unknown', ex('call'), call('unknown'), 'skip:call-unknown'],
    ['voice: call not fetched → skip call-unknown', ex('call'), undefined, 'skip:call-unknown'],
    ['voice: very old but call live → still skip', ex('call', { createdAtMs: NOW - 48 * HOUR }), call('in-progress'), 'skip:call-live'],
    ['sms: last step 5 h ago → end', ex('message', { lastStepAtMs: NOW - 5 * HOUR }), undefined, 'end-execution'],
    ['sms: last step exactly 4 h ago → end', ex('message', { lastStepAtMs: NOW - 4 * HOUR }), undefined, 'end-execution'],
    ['sms: last step 1 ms short of 4 h → skip messaging-not-idle', ex('message', { lastStepAtMs: NOW - 4 * HOUR + 1 }), undefined, 'skip:messaging-not-idle'],
    ['voice: call ended 1 ms short of grace → skip grace-period', ex('call'), call('completed', 1 * MIN - 1), 'skip:grace-period'],
    ['sms: last step 1 h ago → skip messaging-not-idle', ex('message', { lastStepAtMs: NOW - 1 * HOUR }), undefined, 'skip:messaging-not-idle'],
    ['sms: old creation but recent step → skip', ex('message', { createdAtMs: NOW - 30 * HOUR, lastStepAtMs: NOW - 10 * MIN }), undefined, 'skip:messaging-not-idle'],
    ['sms: no step known, created 5 h ago → end', ex('message', { createdAtMs: NOW - 5 * HOUR }), undefined, 'end-execution'],
    ['sms: no time known → skip messaging-not-idle', ex('message', { createdAtMs: undefined }), undefined, 'skip:messaging-not-idle'],
    ['webchat (conversation): idle 6 h → end', ex('conversation', { lastStepAtMs: NOW - 6 * HOUR }), undefined, 'end-execution'],
    ['webchat (conversation): idle 1 min → skip', ex('conversation', { lastStepAtMs: NOW - 1 * MIN }), undefined, 'skip:messaging-not-idle'],
    ['messaging: the call does not matter', ex('message', { lastStepAtMs: NOW - 5 * HOUR }), call('in-progress'), 'end-execution'],
    ['REST-triggered → skip execution-trigger-unknown', ex('request', { createdAtMs: NOW - 48 * HOUR }), undefined, 'skip:execution-trigger-unknown'],
    ['unknown trigger → skip execution-trigger-unknown', ex('unknown', { createdAtMs: NOW - 48 * HOUR }), call('completed', 10 * MIN), 'skip:execution-trigger-unknown'],
    ['ended → none', ex('call', { state: 'ended' }), call('completed', 10 * MIN), 'none'],
    ['gone → none', ex('message', { state: 'gone' }), undefined, 'none'],
    ['state unknown → none', ex('call', { state: 'unknown' }), call('completed', 10 * MIN), 'none'],
  ];
  for (const [name, execution, c, expected] of rows) {
    it(name, () => assert.equal(brief(decideSweepExecution({ nowMs: NOW, execution, call: c, settings: settings() })), expected));
  }

  it('executionNeedsCall: only active call-triggered executions', () => {
    assert.equal(executionNeedsCall(ex('call')), true);
    assert.equal(executionNeedsCall(ex('call', { state: 'ended' })), false);
    assert.equal(executionNeedsCall(ex('message')), false);
    assert.equal(executionNeedsCall(ex('unknown')), false);
  });

  it('reasons and details are readable', () => {
    const idle = decideSweepExecution({ nowMs: NOW, execution: ex('message', { lastStepAtMs: NOW - 5 * HOUR }), settings: settings() });
    assert.deepEqual(idle, { kind: 'end-execution', sid: EXEC_SID, reason: 'message execution idle for 5h' });
    const notIdle = decideSweepExecution({ nowMs: NOW, execution: ex('conversation', { lastStepAtMs: NOW - 90 * MIN }), settings: settings() });
    assert.deepEqual(notIdle, { kind: 'skip', reason: 'messaging-not-idle', detail: 'idle 90m of 4h' });
  });
});
