// summarizeOutcome: mapping decisions and actions onto the UnstickOutcome keywords.
import assert from 'node:assert/strict';
import { decideCall, OUTCOME, summarizeOutcome, UNSTICK_OUTCOMES, type CallDecision, type ExecutionAction, type TaskAction } from '../../src/policy';
import { ATTRS, CALL_SID, EXEC_SID, HOUR, MIN, NOW, settings, TASK_SID } from './fixtures';

const end: ExecutionAction = { kind: 'end-execution', sid: EXEC_SID, reason: 'r' };
const cancel: TaskAction = { kind: 'cancel-task', sid: TASK_SID, reason: 'r', expectStatus: 'pending' };
const none: TaskAction = { kind: 'none', reason: 'no task known' };
const skip: TaskAction = { kind: 'skip', reason: 'custom-orchestration', detail: 'd' };
const decision = (over: Partial<CallDecision>): CallDecision => ({ execution: { kind: 'none', reason: 'x' }, task: none, flagLongLive: false, ...over });

describe('policy: summarizeOutcome', () => {
  it('exports the keyword values', () => {
    assert.deepEqual(OUTCOME, { clean: 'clean', closed: 'closed', dryRun: 'dry-run', liveFlagged: 'live-flagged', skipped: 'skipped', watching: 'watching' });
    assert.deepEqual([...UNSTICK_OUTCOMES].sort(), ['clean', 'closed', 'dry-run', 'live-flagged', 'skipped', 'watching']);
  });

  const rows: [string, Parameters<typeof summarizeOutcome>[0], string][] = [
    ['nothing at all', {}, 'clean'],
    ['only none actions', { actions: [none, { kind: 'none', reason: 'task already completed' }] }, 'clean'],
    ['a write', { actions: [end, none] }, 'closed'],
    ['a write in dry run', { actions: [cancel], dryRun: true }, 'dry-run'],
    ['a write beats a skip', { actions: [skip, cancel] }, 'closed'],
    ['only skips', { actions: [skip, none] }, 'skipped'],
    ['results: done', { actions: [cancel], results: ['already-closed', 'done'] }, 'closed'],
    ['results: dry-run', { results: ['dry-run'] }, 'dry-run'],
    ['results: the write found it already closed', { actions: [cancel], results: ['already-closed'] }, 'clean'],
    ['results: nothing written, a skip remains', { actions: [cancel, skip], results: ['skipped'] }, 'skipped'],
    ['decision: waiting for grace', { decision: decision({ nextCheckAtMs: NOW + 1, waitReason: 'grace' }) }, 'watching'],
    ['decision: live past max age', { decision: decision({ flagLongLive: true, nextCheckAtMs: NOW + 1, waitReason: 'call-live', task: { kind: 'skip', reason: 'call-live' } }) }, 'live-flagged'],
    ['decision: wrap limit pending beats its skip', { decision: decision({ task: { kind: 'skip', reason: 'wrapping-left-to-agent' }, nextCheckAtMs: NOW + 1, waitReason: 'wrap-limit' }) }, 'watching'],
    ['decision: skip, nothing to wait for', { decision: decision({ task: skip }) }, 'skipped'],
    ['decision: write', { decision: decision({ execution: end }) }, 'closed'],
    ['decision: write in dry run', { decision: decision({ execution: end }), dryRun: true }, 'dry-run'],
  ];
  for (const [name, input, expected] of rows) it(name, () => assert.equal(summarizeOutcome(input), expected));

  it('end to end with decideCall', () => {
    const s = settings();
    const task = { sid: TASK_SID, state: 'assigned' as const, channel: 'voice', attributes: ATTRS.valid };
    const at = (call: Parameters<typeof decideCall>[0]['call'], t = task) => summarizeOutcome({ decision: decideCall({ nowMs: NOW, call, task: t, settings: s }) });
    assert.equal(at({ status: 'in-progress', startedAtMs: NOW - 1 * HOUR }), 'watching');
    assert.equal(at({ status: 'in-progress', startedAtMs: NOW - 5 * HOUR }), 'live-flagged');
    assert.equal(at({ status: 'completed', sid: CALL_SID, endedAtMs: NOW - 10 * MIN }), 'closed');
    assert.equal(at({ status: 'completed', endedAtMs: NOW - 10 * MIN }, { ...task, attributes: ATTRS.custom }), 'skipped');
    assert.equal(at({ status: 'completed', endedAtMs: NOW - 10 * MIN }, { ...task, state: 'completed' as never }), 'clean');
  });
});
