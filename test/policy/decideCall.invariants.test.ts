// decideCall over the full cross product of call, execution, task and settings variants: invariants on every row.
import assert from 'node:assert/strict';
import {
  decideCall,
  isWriteAction,
  parseTaskAttributes,
  SKIP_REASONS,
  type CallDecision,
  type CallDecisionInput,
  type CallFacts,
  type ExecutionFacts,
  type PolicySettings,
  type TaskFacts,
} from '../../src/policy';
import {
  ATTRS,
  CALL_SID,
  CALL_STATES,
  EXEC_SID,
  EXECUTION_STATES,
  HOUR,
  LIVE,
  MIN,
  NOW,
  SEC,
  settings,
  TASK_SID,
  TASK_STATES,
  TERMINAL,
  TRIGGERS,
  type AttrVariant,
} from './fixtures';

function callVariants(): CallFacts[] {
  const out: CallFacts[] = [];
  for (const status of CALL_STATES) {
    if (LIVE.includes(status)) {
      for (const startedAtMs of [undefined, NOW - 1 * HOUR, NOW - 4 * HOUR, NOW - 5 * HOUR, NOW + 10 * SEC]) {
        out.push(Object.freeze({ status, startedAtMs }));
      }
    } else if (TERMINAL.includes(status)) {
      // end unknown; within grace; exactly at grace end; well past grace (and past a 2 min wrap limit)
      for (const endedAtMs of [undefined, NOW - 30 * SEC, NOW - 1 * MIN, NOW - 10 * MIN]) {
        out.push(Object.freeze({ status, sid: CALL_SID, startedAtMs: NOW - 20 * MIN, endedAtMs }));
      }
    } else {
      for (const endedAtMs of [undefined, NOW - 10 * MIN]) out.push(Object.freeze({ status, endedAtMs }));
    }
  }
  return out;
}

function executionVariants(): (ExecutionFacts | undefined)[] {
  const out: (ExecutionFacts | undefined)[] = [undefined];
  for (const state of EXECUTION_STATES) {
    for (const trigger of TRIGGERS) out.push(Object.freeze({ sid: EXEC_SID, state, trigger, createdAtMs: NOW - 20 * MIN }));
  }
  return out;
}

function taskVariants(): (TaskFacts | undefined)[] {
  const out: (TaskFacts | undefined)[] = [undefined];
  for (const state of TASK_STATES) {
    for (const channel of ['voice', 'chat', undefined]) {
      for (const attrs of Object.keys(ATTRS) as AttrVariant[]) {
        out.push(Object.freeze({ sid: TASK_SID, state, channel, attributes: ATTRS[attrs] }));
      }
    }
  }
  return out;
}

function settingsVariants(): PolicySettings[] {
  const out: PolicySettings[] = [];
  for (const graceMs of [1 * MIN, 0]) {
    for (const wrapLimitMs of [undefined, 2 * MIN, 1 * HOUR]) out.push(settings({ graceMs, wrapLimitMs }));
  }
  return out;
}

const isLive = (c: CallFacts) => LIVE.includes(c.status);
const isTerminal = (c: CallFacts) => TERMINAL.includes(c.status);

function checkRow(input: CallDecisionInput, d: CallDecision): void {
  const { nowMs, call, execution, task, settings: s } = input;
  const end = call.endedAtMs ?? nowMs;
  const wrote = isWriteAction(d.execution) || isWriteAction(d.task);

  // Never act unless the call is terminal and its grace is over.
  if (wrote) {
    assert.ok(isTerminal(call), 'write on a non-terminal call');
    assert.ok(nowMs >= end + s.graceMs, 'write before end + grace');
  }

  // Execution.
  if (!execution) assert.equal(d.execution.kind, 'none');
  else if (execution.state !== 'active') assert.ok(!isWriteAction(d.execution), 'write on an execution that is not active');
  if (d.execution.kind === 'end-execution') {
    assert.ok(execution && execution.state === 'active', 'end only an active execution');
    assert.ok(execution.trigger === 'call' || execution.trigger === 'unknown', 'end only a call-triggered execution');
    assert.equal(d.execution.sid, execution.sid);
    assert.ok(d.execution.reason.length > 0);
  }
  if (execution && (execution.state === 'ended' || execution.state === 'gone')) assert.equal(d.execution.kind, 'none');

  // Task.
  if (!task) assert.equal(d.task.kind, 'none');
  if (task && ['completed', 'canceled', 'gone'].includes(task.state)) assert.equal(d.task.kind, 'none');
  if (d.task.kind === 'cancel-task' || d.task.kind === 'complete-task') {
    assert.ok(task, 'task action without a task');
    assert.equal(d.task.sid, task.sid);
    assert.equal(d.task.expectStatus, task.state);
    assert.equal(d.task.reason, s.taskReason);
    if (d.task.kind === 'cancel-task') assert.ok(['pending', 'reserved'].includes(task.state), `cancel from ${task.state}`);
    else assert.ok(['assigned', 'wrapping'].includes(task.state), `complete from ${task.state}`);
    if (task.state === 'wrapping') {
      assert.ok(s.wrapLimitMs !== undefined && nowMs >= end + s.wrapLimitMs, 'wrapping completed before the wrap limit');
    }
    const attrs = parseTaskAttributes(task.attributes);
    assert.ok(attrs.ok, 'action on unparsable attributes');
    assert.ok(!attrs.customOrchestration, 'action on custom orchestration');
    assert.ok(task.channel === undefined || task.channel === 'voice', 'action on a non-voice task');
  }

  // Skips carry a known reason.
  for (const a of [d.execution, d.task]) {
    if (a.kind === 'skip') assert.ok(SKIP_REASONS.includes(a.reason), `unknown skip reason ${a.reason}`);
  }

  // Waiting.
  assert.equal(d.nextCheckAtMs === undefined, d.waitReason === undefined, 'nextCheckAtMs and waitReason come together');
  if (d.nextCheckAtMs !== undefined) assert.ok(d.nextCheckAtMs > nowMs, 'nextCheckAtMs must be in the future');
  assert.equal(d.flagLongLive, isLive(call) && call.startedAtMs !== undefined && nowMs >= call.startedAtMs + s.maxAgeMs);
  if (isLive(call)) {
    assert.equal(d.waitReason, 'call-live');
    for (const a of [d.execution, d.task]) assert.ok(a.kind === 'none' || (a.kind === 'skip' && a.reason === 'call-live'));
  } else if (!isTerminal(call)) {
    assert.equal(d.waitReason, 'call-unknown');
    for (const a of [d.execution, d.task]) assert.ok(a.kind === 'none' || (a.kind === 'skip' && a.reason === 'call-unknown'));
  } else if (nowMs < end + s.graceMs) {
    assert.equal(d.waitReason, 'grace');
    assert.equal(d.nextCheckAtMs, end + s.graceMs);
    assert.ok(d.execution.kind === 'none' && d.task.kind === 'none');
  } else {
    // After grace: only the wrap limit can make us wait.
    if (d.waitReason !== undefined) {
      assert.equal(d.waitReason, 'wrap-limit');
      assert.ok(task?.state === 'wrapping' && s.wrapLimitMs !== undefined);
      assert.equal(d.nextCheckAtMs, end + s.wrapLimitMs);
    }
    // Liveness: what is plainly stuck gets closed.
    if (execution?.state === 'active' && execution.trigger === 'call') assert.equal(d.execution.kind, 'end-execution');
    if (task && ['pending', 'reserved', 'assigned'].includes(task.state) && task.channel !== 'chat') {
      const attrs = parseTaskAttributes(task.attributes);
      if (attrs.ok && !attrs.customOrchestration) assert.ok(isWriteAction(d.task), 'a stuck voice task must be closed');
    }
  }
}

describe('policy: decideCall invariants (cross product)', () => {
  it('holds every invariant on every combination, deterministically and without mutating its input', () => {
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
            const input = Object.freeze({ nowMs: NOW, call, execution, task, settings: s });
            const d = decideCall(input);
            try {
              checkRow(input, d);
              if (rows % 97 === 0) assert.deepEqual(decideCall(input), d, 'deterministic');
            } catch (err) {
              (err as Error).message += `\n  row: ${JSON.stringify({ call, execution, task, settings: s })}\n  decision: ${JSON.stringify(d)}`;
              throw err;
            }
            rows++;
            if (isWriteAction(d.execution) || isWriteAction(d.task)) writes++;
          }
        }
      }
    }
    const ms = performance.now() - t0;
    assert.equal(rows, calls.length * executions.length * tasks.length * allSettings.length);
    assert.ok(rows > 100_000, `rows: ${rows}`);
    assert.ok(writes > 0 && writes < rows, 'the table exercises both acting and not acting');
    console.log(`      decideCall: ${rows} rows (${writes} with a write) in ${Math.round(ms)} ms`);
  });
});
