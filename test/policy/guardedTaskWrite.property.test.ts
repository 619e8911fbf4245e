/**
 * The policy plus the write path for Tasks (guardedTaskWrite in src/activities/guardedWrite.ts) against an in-memory
 * Twilio (twilioModel.ts), with the world changing between any two port calls.
 *
 * Every write the model accepts is one the policy approves on the model's true state at the moment of the write, and
 * a write the policy would refuse at that moment is never accepted: If-Match guarantees it (the control test turns
 * If-Match off and fast-check finds the unsafe write). The loop ends within a bounded number of port calls, a refused
 * write leads to a re-read, dry run and a spent budget (`reserve()` false) never write, and in a world that does not
 * change the loop writes exactly what the policy approves on it.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { guardedTaskWrite, type Guarded } from '../../src/activities/guardedWrite';
import { decideTask, isWriteAction, taskCallSid, type CallFacts, type PolicySettings, type TaskAction, type TaskDecisionInput, type TaskFacts } from '../../src/policy';
import type { CallStatus, TaskAssignmentStatus } from '../../src/shared/constants';
import { CALL_SID, HOUR, MIN, NOW, OTHER_CALL_SID, PROTECT, runs, SEC, settings, TASK_SID } from './fixtures';
import { checkTaskAnswer } from './invariants';
import { callFactsOf, listedTaskOf, modelTaskPort, snapshot, taskFactsOf, truthForTask, type Change, type ModelState, type PortOp } from './twilioModel';
import { CAST, TASK_RUNS, MAX_TASK_PORT_CALLS, pick, tick, gapsOf, findLast, Options, optionsArb, optionsFor, Writer, callStatus, baseModel } from './propertyWorld';


interface TaskScenario {
  call: { status: CallStatus; endedAgo?: number };
  status: TaskAssignmentStatus;
  channel?: string;
  attributes: string;
  /** When the Task was created, relative to the call's end (or to now, while the call is live). */
  createdOffset: number;
  settings: PolicySettings;
  etags: boolean;
  writer: Writer;
  start: 'link' | 'list' | 'stale-fetch' | 'fresh-fetch';
  options: Options;
  gaps: Change[][];
}

const taskChange: fc.Arbitrary<Change> = fc.oneof(
  { weight: 4, arbitrary: tick },
  { weight: 3, arbitrary: fc.constantFrom<TaskAssignmentStatus>('reserved', 'assigned', 'wrapping', 'completed', 'pending', 'canceled').map((to): Change => ({ t: 'task-status', to })) },
  { weight: 3, arbitrary: fc.constantFrom('custom', 'protected', 'live-call', 'ended-call', 'harmless', 'harmless').map((set): Change => ({ t: 'task-attrs', set: set as 'custom' })) },
  { weight: 1, arbitrary: fc.constantFrom<0 | 1>(0, 1).map((which): Change => ({ t: 'call-ends', which })) },
  { weight: 1, arbitrary: fc.constant<Change>({ t: 'task-delete' }) },
);

const taskScenarioArb = (gaps: fc.Arbitrary<Change[][]>): fc.Arbitrary<TaskScenario> =>
  fc.record({
    call: callStatus,
    status: pick<TaskAssignmentStatus>([[3, 'pending'], [2, 'reserved'], [4, 'assigned'], [2, 'wrapping'], [1, 'completed'], [1, 'canceled']]),
    channel: pick<string | undefined>([[9, 'voice'], [1, 'chat'], [1, undefined]]),
    attributes: pick([
      [12, JSON.stringify({ call_sid: CALL_SID, direction: 'inbound' })],
      [1, JSON.stringify({ call_sid: CALL_SID, custom_orchestration: true })],
      [1, JSON.stringify({ call_sid: CALL_SID, vip: true })],
      [1, JSON.stringify({ call_sid: OTHER_CALL_SID })],
      [1, JSON.stringify({ direction: 'inbound' })],
      [1, '{"call_sid": '],
    ]),
    createdOffset: pick([[6, -5 * MIN], [1, 1 * MIN], [1, 10 * MIN + 1], [1, 1 * HOUR]]),
    settings: fc
      .record({
        graceMs: fc.constantFrom(0, 10 * SEC, 1 * MIN, 2 * MIN),
        wrapLimitMs: pick<number | undefined>([[2, undefined], [1, 0], [1, 5 * MIN]]),
        protectTasks: pick<string | undefined>([[1, undefined], [1, PROTECT]]),
        maxReadAgeMs: pick<number | undefined>([[3, undefined], [1, 5 * SEC]]),
      })
      .map((r) => settings({ postCallTaskAfterMs: 10 * MIN, ...Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) })),
    etags: pick([[9, true], [1, false]]),
    writer: pick<Writer>([[5, { kind: 'sweep', owned: false }], [1, { kind: 'sweep', owned: true }], [3, { kind: 'watch', watched: CALL_SID }], [1, { kind: 'watch', watched: OTHER_CALL_SID }]]),
    start: pick<TaskScenario['start']>([[3, 'link'], [3, 'list'], [1, 'stale-fetch'], [1, 'fresh-fetch']]),
    options: optionsArb,
    gaps,
  });

function taskModel(sc: TaskScenario): ModelState {
  const m = baseModel();
  const live = sc.call.endedAgo === undefined;
  m.calls[CALL_SID] = { sid: CALL_SID, status: sc.call.status, startedAtMs: NOW - 20 * MIN, ...(live ? {} : { endedAtMs: NOW - sc.call.endedAgo! }) };
  const created = (live ? NOW : NOW - sc.call.endedAgo!) + sc.createdOffset;
  m.tasks[TASK_SID] = { sid: TASK_SID, status: sc.status, ...(sc.channel ? { channel: sc.channel } : {}), attributes: sc.attributes, createdAtMs: created, updatedAtMs: created, version: 1, deleted: false };
  m.etags = sc.etags;
  return m;
}

/** The writer's decision at `nowMs` (the closure the activities hand the loop), for a scenario. */
const taskDecider = (sc: TaskScenario) => (nowMs: number) => (task: TaskFacts, call: CallFacts | undefined) => {
  const input: TaskDecisionInput = {
    nowMs,
    task,
    ...(call ? { call } : {}),
    settings: sc.settings,
    ...(sc.writer.kind === 'watch' ? { watchedCallSid: sc.writer.watched } : { ownedByCallWatch: sc.writer.owned && taskCallSid(task) === CALL_SID }),
  };
  const a = decideTask(input);
  checkTaskAnswer(input, a);
  return a;
};

function startTask(sc: TaskScenario, m: ModelState): { task: TaskFacts; call?: CallFacts } {
  const call = sc.writer.kind === 'watch' ? { call: callFactsOf(m, sc.writer.watched) } : {};
  switch (sc.start) {
    case 'link':
      return { task: { sid: TASK_SID, state: 'unknown', attributes: { kind: 'unknown' }, source: 'list' }, ...call };
    case 'list':
      return { task: listedTaskOf(m, TASK_SID), ...call };
    case 'stale-fetch':
      return { task: { ...taskFactsOf(m, TASK_SID), readAtMs: NOW - 1 * HOUR }, ...call };
    case 'fresh-fetch':
      return { task: taskFactsOf(m, TASK_SID), ...call };
  }
}

const approves = (truth: TaskAction, write: { kind: string; version: string }) => isWriteAction(truth) && truth.kind === write.kind && 'version' in truth && truth.version === write.version;

interface TaskRun {
  g: Guarded<TaskFacts, TaskAction>;
  trace: PortOp[];
  m: ModelState;
  /** The facts the writer started from (a fresh fetch may have been made before the loop). */
  start: TaskFacts;
}

async function runTask(sc: TaskScenario, ifMatch = true): Promise<TaskRun> {
  const m = taskModel(sc);
  m.ifMatch = ifMatch;
  const trace: PortOp[] = [];
  const decideAt = taskDecider(sc);
  const start = startTask(sc, m);
  const g = await guardedTaskWrite(modelTaskPort(m, CAST, sc.gaps, trace), { ...start, ...optionsFor(sc.options), decide: (t, c) => decideAt(m.now)(t, c) });
  return { g, trace, m, start: start.task };
}

/** Every property of one guarded Task write. */
function checkTaskRun(sc: TaskScenario, { g, trace, m, start }: TaskRun): void {
  const decideAt = taskDecider(sc);
  assert.ok(trace.length <= MAX_TASK_PORT_CALLS, `${trace.length} port calls`);
  const maxConflicts = sc.options.maxConflicts ?? 3;
  let conflicts = 0;
  trace.forEach((op, i) => {
    if (op.op !== 'updateTask') return;
    // The write carries the version of the latest fetch of that Task (a port fetch, or the one the writer started from).
    const fetched = findLast(trace.slice(0, i), (o) => o.op === 'fetchTask');
    const version = fetched ? `"${fetched.before.tasks[TASK_SID]!.version}"` : start.source === 'fetch' ? start.version : undefined;
    assert.ok(version !== undefined, 'a write without a fetch');
    assert.ok(sc.etags, 'a write although the fetches carried no ETag');
    assert.equal(op.write.version, version, 'the write carries the fetched version');
    // Accepted ⇔ the policy approves it on the true state at the moment of the write.
    const truth = truthForTask(op.before, TASK_SID, decideAt(op.atMs));
    if (op.outcome === 'done') assert.ok(approves(truth, op.write), `accepted a write the policy refuses at that moment: ${JSON.stringify(truth)}`);
    if (approves(truth, op.write)) assert.equal(op.outcome, 'done', 'refused a write the policy approves (nothing had changed)');
    if (op.outcome === 'conflict') {
      conflicts++;
      const next = trace[i + 1];
      if (conflicts <= maxConflicts) assert.ok(next && next.op === 'fetchTask', 'a refused write is followed by a re-read');
      else assert.equal(next, undefined, 'after maxConflicts refusals the loop stops');
    }
  });
  const writes = trace.filter((o) => o.op === 'updateTask');
  if (sc.options.dryRun || sc.options.reserve === false) assert.equal(writes.length, 0, 'dry run / spent budget wrote');
  const done = writes.filter((o) => o.op === 'updateTask' && o.outcome === 'done');
  assert.ok(done.length <= 1);
  assert.equal(g.result === 'done', done.length === 1);
  if (g.result === 'done') assert.equal(trace.at(-1), done[0], 'nothing is read after the write');
  assert.equal(g.conflicts, conflicts);
  if (g.result === 'dry-run' || g.result === 'capped') {
    // Reported as if written: the policy approves it on the Task as last fetched (a real write would carry that
    // version, so a change since is left to If-Match), judged now.
    assert.ok(isWriteAction(g.action));
    const fetched = findLast(trace, (o) => o.op === 'fetchTask');
    const seen = snapshot(m);
    seen.tasks[TASK_SID] = structuredClone((fetched ? fetched.before : taskModel(sc)).tasks[TASK_SID]!);
    assert.ok(approves(truthForTask(seen, TASK_SID, decideAt(m.now)), g.action as { kind: string; version: string }), 'a dry-run/capped write the policy would not make');
  }
  if (g.result === 'changed') assert.ok(conflicts > 0 || (g.action.kind === 'skip' && g.action.reason === 'changed-under-us'));
  if (g.result === 'already-closed') {
    const t = m.tasks[TASK_SID]!;
    assert.ok(t.deleted || t.status === 'completed' || t.status === 'canceled', 'already-closed, but the Task is open');
  }
}

describe('guarded write property: policy + write path against a changing Twilio model', function () {
  this.timeout(60_000);

  describe('Tasks (If-Match)', () => {
    it(`every accepted write is approved on the true state at write time; bounded; re-reads after 412; dry run and spent budgets never write (${TASK_RUNS} runs)`, async () => {
      const stats = { runs: 0, done: 0, conflicts: 0, doneAfterConflict: 0, changed: 0, alreadyClosed: 0, dryRun: 0, capped: 0, skipped: 0, none: 0 };
      await fc.assert(
        fc.asyncProperty(taskScenarioArb(gapsOf(taskChange)), async (sc) => {
          const run = await runTask(sc);
          checkTaskRun(sc, run);
          stats.runs++;
          const key = ({ done: 'done', changed: 'changed', 'already-closed': 'alreadyClosed', 'dry-run': 'dryRun', capped: 'capped', skipped: 'skipped', none: 'none' } as const)[run.g.result as 'done'];
          if (key) stats[key]++;
          if (run.g.conflicts > 0) stats.conflicts++;
          if (run.g.result === 'done' && run.g.conflicts > 0) stats.doneAfterConflict++;
        }),
        { numRuns: TASK_RUNS },
      );
      console.log(`      Tasks: ${JSON.stringify(stats)}`);
      // The scenarios reach every outcome: the property is not vacuous.
      assert.ok(stats.done > TASK_RUNS / 20, 'writes');
      assert.ok(stats.conflicts > TASK_RUNS / 100 && stats.doneAfterConflict > 0, 'refused writes, and writes after a re-read');
      assert.ok(stats.changed > 0 && stats.alreadyClosed > 0 && stats.dryRun > 0 && stats.capped > 0, 'every result');
    });

    it('in a world that does not change, the loop writes exactly what the policy approves on it, within 4 port calls', async () => {
      await fc.assert(
        fc.asyncProperty(taskScenarioArb(fc.constant([])), async (sc) => {
          const truth = truthForTask(taskModel(sc), TASK_SID, taskDecider(sc)(NOW));
          const run = await runTask(sc);
          checkTaskRun(sc, run);
          assert.ok(run.trace.length <= 4, `${run.trace.length} port calls`);
          assert.notEqual(run.g.result, 'changed');
          const expected = !isWriteAction(truth) ? undefined : sc.options.reserve === false ? 'capped' : sc.options.dryRun ? 'dry-run' : 'done';
          if (expected) assert.equal(run.g.result, expected);
          else assert.ok(!['done', 'dry-run', 'capped'].includes(run.g.result), `${run.g.result} although the policy refuses: ${JSON.stringify(truth)}`);
        }),
        { numRuns: runs(500) },
      );
    });

    it('a 412 is re-read and decided again: an agent accepts the reservation just before the cancel', async () => {
      const sc: TaskScenario = {
        call: { status: 'completed', endedAgo: 10 * MIN },
        status: 'reserved',
        channel: 'voice',
        attributes: JSON.stringify({ call_sid: CALL_SID }),
        createdOffset: -5 * MIN,
        settings: settings(),
        etags: true,
        writer: { kind: 'sweep', owned: false },
        start: 'link',
        options: { dryRun: false },
        // link → fetchTask, fetchCall, [agent accepts] updateTask (412), fetchTask, updateTask (complete)
        gaps: [[], [], [{ t: 'task-status', to: 'assigned' }]],
      };
      const run = await runTask(sc);
      checkTaskRun(sc, run);
      assert.deepEqual(
        run.trace.map((o) => (o.op === 'updateTask' ? `${o.op}:${o.write.kind}:${o.outcome}${o.why ? `(${o.why})` : ''}` : o.op)),
        ['fetchTask', 'fetchCall', 'updateTask:cancel-task:conflict(412)', 'fetchTask', 'updateTask:complete-task:done'],
      );
      assert.equal(run.g.result, 'done');
      assert.equal(run.g.conflicts, 1);
    });

    it('a Task that becomes custom-orchestrated between the read and the write is not written (412, then skip)', async () => {
      const sc: TaskScenario = {
        call: { status: 'completed', endedAgo: 10 * MIN },
        status: 'assigned',
        channel: 'voice',
        attributes: JSON.stringify({ call_sid: CALL_SID }),
        createdOffset: -5 * MIN,
        settings: settings(),
        etags: true,
        writer: { kind: 'watch', watched: CALL_SID },
        start: 'link',
        options: { dryRun: false },
        gaps: [[], [{ t: 'task-attrs', set: 'custom' }]],
      };
      const run = await runTask(sc);
      checkTaskRun(sc, run);
      assert.equal(run.g.result, 'changed');
      assert.equal(run.g.action.kind === 'skip' && run.g.action.reason, 'custom-orchestration');
      assert.equal(run.m.tasks[TASK_SID]!.status, 'assigned');
    });

    it('(control) without If-Match the same property fails: fast-check finds an unsafe accepted write', async () => {
      const result = await fc.check(
        fc.asyncProperty(taskScenarioArb(gapsOf(taskChange)), async (sc) => checkTaskRun(sc, await runTask(sc, false))),
        { numRuns: TASK_RUNS, seed: 1 },
      );
      assert.ok(result.failed, 'the model without If-Match accepted only safe writes: the property would have no teeth');
      assert.match(String(result.errorInstance), /accepted a write the policy refuses|refused a write/);
    });
  });

});
