// decideCall over the cross product of call, Execution, Task and settings variants, and on random facts: the
// callWatch invariants (and, past grace, the Task and Execution invariants of the bound decisions) on every row.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideCall, type CallDecisionInput, type CallFacts, type CallState, type ExecutionFacts, type PolicySettings, type TaskFacts, type TaskState } from '../../src/policy';
import {
  ATTR_VARIANTS,
  attrs,
  CALL_SID,
  CALL_STATES,
  EXEC_SID,
  EXECUTION_STATES,
  explain,
  FLOW_SID,
  HOUR,
  LIVE,
  MIN,
  NOW,
  OTHER_CALL_SID,
  PROTECT,
  SEC,
  settings,
  TASK_SID,
  TERMINAL,
  TRIGGERS,
  VERSION,
  waitingIn,
  runs,
} from './fixtures';
import { checkDecision } from './invariants';

function callVariants(): CallFacts[] {
  const out: CallFacts[] = [];
  // Live: start unknown, young, exactly at max age, in the future (clock skew); the other live statuses once.
  for (const startedAtMs of [undefined, NOW - 1 * HOUR, NOW - 4 * HOUR, NOW + 10 * SEC]) out.push({ status: 'in-progress', sid: CALL_SID, ...(startedAtMs ? { startedAtMs } : {}) });
  for (const status of ['ringing', 'queued'] as CallState[]) out.push({ status, sid: CALL_SID, startedAtMs: NOW - 1 * MIN });
  // Terminal: end unknown; within grace; exactly at grace end; well past grace (and past a 2 min wrap limit).
  for (const endedAtMs of [undefined, NOW - 30 * SEC, NOW - 1 * MIN, NOW - 10 * MIN]) out.push({ status: 'completed', sid: CALL_SID, startedAtMs: NOW - 20 * MIN, ...(endedAtMs ? { endedAtMs } : {}) });
  for (const status of TERMINAL.filter((t) => t !== 'completed')) {
    for (const endedAtMs of [undefined, NOW - 10 * MIN]) out.push({ status, sid: CALL_SID, startedAtMs: NOW - 20 * MIN, ...(endedAtMs ? { endedAtMs } : {}) });
  }
  for (const status of CALL_STATES.filter((c) => !LIVE.includes(c) && !TERMINAL.includes(c))) out.push({ status, sid: CALL_SID }, { status, sid: CALL_SID, endedAtMs: NOW - 10 * MIN });
  out.push({ status: 'completed', endedAtMs: NOW - 10 * MIN });
  return out.map((c) => Object.freeze(c));
}

function executionVariants(): (ExecutionFacts | undefined)[] {
  const out: (ExecutionFacts | undefined)[] = [undefined];
  for (const state of EXECUTION_STATES) {
    for (const trigger of TRIGGERS) {
      const base = { sid: EXEC_SID, state, trigger, createdAtMs: NOW - 20 * MIN, updatedAtMs: NOW - 20 * MIN, flowSid: FLOW_SID, flowRevision: 1 };
      out.push({ ...base, ...(trigger === 'call' ? { callSid: CALL_SID } : {}), source: 'fetch', readAtMs: NOW, waiting: waitingIn('confirm', 5 * HOUR) });
    }
  }
  const active = { sid: EXEC_SID, state: 'active' as const, createdAtMs: NOW - 20 * MIN, source: 'list' as const };
  out.push({ ...active, trigger: 'call', callSid: CALL_SID }, { ...active, trigger: 'call' }, { ...active, trigger: 'call', callSid: OTHER_CALL_SID, source: 'fetch', readAtMs: NOW });
  return out.map((e) => e && Object.freeze(e));
}

function taskVariants(): (TaskFacts | undefined)[] {
  const out: (TaskFacts | undefined)[] = [undefined];
  const variants = ATTR_VARIANTS.filter((v) => ['valid', 'protectedVip', 'otherCall', 'unknown'].includes(v));
  for (const state of ['pending', 'assigned', 'wrapping', 'completed', 'unknown'] as TaskState[]) {
    for (const variant of variants) {
      for (const source of ['fetch', 'list'] as const) {
        out.push({ sid: TASK_SID, state, channel: 'voice', attributes: attrs(variant), createdAtMs: NOW - 15 * MIN, source, ...(source === 'fetch' ? { version: VERSION, readAtMs: NOW } : {}) });
      }
    }
  }
  out.push({ sid: TASK_SID, state: 'assigned', channel: 'chat', attributes: attrs('valid'), createdAtMs: NOW - 15 * MIN, source: 'fetch', version: VERSION, readAtMs: NOW });
  out.push({ sid: TASK_SID, state: 'pending', channel: 'voice', attributes: attrs('valid'), createdAtMs: NOW, source: 'fetch', version: VERSION, readAtMs: NOW });
  return out.map((t) => t && Object.freeze(t));
}

function settingsVariants(): PolicySettings[] {
  const out: PolicySettings[] = [];
  for (const [graceMs, wrapLimitMs] of [[1 * MIN, undefined], [1 * MIN, 2 * MIN], [0, undefined]] as const) {
    out.push(settings({ graceMs, ...(wrapLimitMs ? { wrapLimitMs } : {}), protectTasks: PROTECT, postCallTaskAfterMs: 5 * MIN }));
  }
  return out;
}

describe('policy: decideCall invariants', () => {
  it('cross product: call × Execution × Task × settings, deterministically and without mutating its input', () => {
    const calls = callVariants();
    const executions = executionVariants();
    const tasks = taskVariants();
    const allSettings = settingsVariants();
    let rows = 0;
    let writes = 0;
    const t0 = performance.now();
    for (const call of calls) {
      for (const execution of executions) {
        for (const task of tasks) {
          for (const s of allSettings) {
            const input: CallDecisionInput = Object.freeze({ nowMs: NOW, call, ...(execution ? { execution } : {}), ...(task ? { task } : {}), settings: s });
            const d = decideCall(input);
            explain(input, d, () => {
              if (checkDecision(input, d)) writes++;
              if (rows % 97 === 0) assert.deepEqual(decideCall(input), d, 'deterministic');
            });
            rows++;
          }
        }
      }
    }
    const ms = performance.now() - t0;
    assert.equal(rows, calls.length * executions.length * tasks.length * allSettings.length);
    assert.ok(rows > 50_000, `rows: ${rows}`);
    assert.ok(writes > 0 && writes < rows, 'the table exercises both acting and not acting');
    console.log(`      decideCall: ${rows} rows (${writes} with a write) in ${Math.round(ms)} ms`);
  });

  it('property: random call, Execution, Task and settings → every invariant holds (5,000 runs)', () => {
    const statuses = [...CALL_STATES, 'completed', 'completed', 'completed'] as CallState[];
    const at = fc.option(fc.oneof(fc.integer({ min: -6 * HOUR, max: 1 * MIN }), fc.constantFrom(-1 * MIN, -30 * SEC, -4 * HOUR, 0)), { nil: undefined, freq: 6 });
    const callArb = fc.record({ status: fc.constantFrom(...statuses), startedAt: at, endedAt: at }).map(
      ({ status, startedAt, endedAt }): CallFacts => ({ status, sid: CALL_SID, ...(startedAt === undefined ? {} : { startedAtMs: NOW + startedAt }), ...(endedAt === undefined ? {} : { endedAtMs: NOW + endedAt }) }),
    );
    const executions = executionVariants();
    const tasks = taskVariants();
    const inputArb = fc
      .record({
        call: callArb,
        execution: fc.constantFrom(...executions),
        task: fc.constantFrom(...tasks),
        graceMs: fc.constantFrom(0, 1, 30 * SEC, 1 * MIN, 10 * MIN),
        maxAgeMs: fc.constantFrom(0, 1 * HOUR, 4 * HOUR),
        wrapLimitMs: fc.constantFrom(undefined, 0, 2 * MIN, 1 * HOUR),
      })
      .map(({ call, execution, task, ...s }): CallDecisionInput => ({
        nowMs: NOW,
        call,
        ...(execution ? { execution } : {}),
        ...(task ? { task } : {}),
        settings: settings({ graceMs: s.graceMs, maxAgeMs: s.maxAgeMs, ...(s.wrapLimitMs === undefined ? {} : { wrapLimitMs: s.wrapLimitMs }) }),
      }));
    fc.assert(fc.property(inputArb, (input) => void checkDecision(input, decideCall(input))), { numRuns: runs(5000) });
  });
});
