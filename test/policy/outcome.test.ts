// summarizeOutcome: mapping decisions, actions and write results onto the UnstickOutcome keywords.
import assert from 'node:assert/strict';
import { decideCall, isWriteAction, OUTCOME, summarizeOutcome, UNSTICK_OUTCOMES, type CallDecision, type CallFacts, type ExecutionAction, type OutcomeInput, type TaskAction, type TaskFacts } from '../../src/policy';
import { EXEC_SID, endedCall, HOUR, liveCall, MIN, NOW, settings, task, TASK_SID, VERSION } from './fixtures';

const end: ExecutionAction = { kind: 'end-execution', sid: EXEC_SID, reason: 'r' };
const cancel: TaskAction = { kind: 'cancel-task', sid: TASK_SID, reason: 'r', expectStatus: 'pending', version: VERSION };
const none: TaskAction = { kind: 'none', reason: 'no task known' };
const skip: TaskAction = { kind: 'skip', reason: 'custom-orchestration', detail: 'd' };
const read: TaskAction = { kind: 'read', what: 'task', sid: TASK_SID, reason: 'attributes not read' };
const decision = (over: Partial<CallDecision>): CallDecision => ({ execution: { kind: 'none', reason: 'x' }, task: none, flagLongLive: false, ...over });

describe('policy: summarizeOutcome', () => {
  it('exports the keyword values', () => {
    assert.deepEqual(OUTCOME, { clean: 'clean', closed: 'closed', dryRun: 'dry-run', liveFlagged: 'live-flagged', skipped: 'skipped', watching: 'watching', errors: 'errors' });
    assert.deepEqual([...UNSTICK_OUTCOMES].sort(), ['clean', 'closed', 'dry-run', 'errors', 'live-flagged', 'skipped', 'watching']);
  });

  it('isWriteAction: only end/cancel/complete', () => {
    assert.deepEqual([end, cancel, { ...cancel, kind: 'complete-task' as const }, none, skip, read].map(isWriteAction), [true, true, true, false, false, false]);
  });

  const rows: [string, OutcomeInput, string][] = [
    ['nothing at all', {}, 'clean'],
    ['only none actions', { actions: [none, { kind: 'none', reason: 'task already completed' }] }, 'clean'],
    ['a write', { actions: [end, none] }, 'closed'],
    ['a write in dry run', { actions: [cancel], dryRun: true }, 'dry-run'],
    ['a write beats a skip', { actions: [skip, cancel] }, 'closed'],
    ['only skips', { actions: [skip, none] }, 'skipped'],
    ['errors beat everything', { actions: [cancel], results: ['done'], errors: 1 }, 'errors'],
    ['errors: 0 is no error', { actions: [skip], errors: 0 }, 'skipped'],
    ['results: done', { actions: [cancel], results: ['already-closed', 'done'] }, 'closed'],
    ['results: dry-run', { results: ['dry-run'] }, 'dry-run'],
    ['results: done beats dry-run', { results: ['dry-run', 'done'] }, 'closed'],
    ['results: the write found it already closed', { actions: [cancel], results: ['already-closed'] }, 'clean'],
    ['results: nothing written, a skip remains', { actions: [cancel, skip], results: ['skipped'] }, 'skipped'],
    ['results: changed under us counts as skipped', { actions: [cancel], results: ['changed'] }, 'skipped'],
    ['results: capped (maxActions spent) and nothing else', { actions: [cancel], results: ['capped'] }, 'clean'],
    ['decision: waiting for grace', { decision: decision({ nextCheckAtMs: NOW + 1, waitReason: 'grace' }) }, 'watching'],
    ['decision: live past max age', { decision: decision({ flagLongLive: true, nextCheckAtMs: NOW + 1, waitReason: 'call-live', task: { kind: 'skip', reason: 'call-live' } }) }, 'live-flagged'],
    ['decision: wrap limit pending beats its skip', { decision: decision({ task: { kind: 'skip', reason: 'wrapping-left-to-agent' }, nextCheckAtMs: NOW + 1, waitReason: 'wrap-limit' }) }, 'watching'],
    ['decision: skip, nothing to wait for', { decision: decision({ task: skip }) }, 'skipped'],
    ['decision: write', { decision: decision({ execution: end }) }, 'closed'],
    ['decision: write in dry run', { decision: decision({ execution: end }), dryRun: true }, 'dry-run'],
    ['decision plus the writers\' final actions', { decision: decision({ task: read }), actions: [skip] }, 'skipped'],
  ];
  for (const [name, input, expected] of rows) it(name, () => assert.equal(summarizeOutcome(input), expected));

  describe('surprising behaviour (reported)', () => {
    it('a decision still asking to read something summarizes as "clean", as if nothing were open', () => {
      assert.equal(summarizeOutcome({ decision: decision({ task: read }) }), 'clean');
      assert.equal(summarizeOutcome({ actions: [read] }), 'clean');
    });
    it('a write capped by maxActions summarizes as "clean" too', () => {
      assert.equal(summarizeOutcome({ actions: [cancel], results: ['capped'] }), 'clean');
    });
  });

  it('end to end with decideCall', () => {
    const s = settings();
    const at = (call: CallFacts, t: TaskFacts = task()) => summarizeOutcome({ decision: decideCall({ nowMs: NOW, call, task: t, settings: s }) });
    assert.equal(at(liveCall('in-progress', 1 * HOUR)), 'watching');
    assert.equal(at(liveCall('in-progress', 5 * HOUR)), 'live-flagged');
    assert.equal(at(endedCall('completed', 30 * 1000)), 'watching');
    assert.equal(at(endedCall('completed', 10 * MIN)), 'closed');
    assert.equal(at(endedCall('completed', 10 * MIN), task({ attrs: 'custom' })), 'skipped');
    assert.equal(at(endedCall('completed', 10 * MIN), task({ state: 'completed' })), 'clean');
  });
});
