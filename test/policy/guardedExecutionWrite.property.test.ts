/**
 * The policy plus the write path for Executions (guardedExecutionWrite in src/activities/guardedWrite.ts) against an
 * in-memory Twilio (twilioModel.ts), with the world changing between any two port calls.
 *
 * Studio has no If-Match, so a change in the last gap (between the last read and the write) cannot be seen: a reply
 * that arrives in that gap is ended with the Execution (the window, shown by a fixed scenario). What is guaranteed is
 * that every change before the last read is seen: an accepted end is approved on the state the last read saw, judged
 * at the moment of the write. The loop ends within a bounded number of port calls; dry run and a spent budget never
 * write.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { guardedExecutionWrite, type Guarded } from '../../src/activities/guardedWrite';
import { decideExecution, type CallFacts, type ExecutionAction, type ExecutionDecisionInput, type ExecutionFacts, type FlowFacts, type PolicySettings } from '../../src/policy';
import type { CallStatus } from '../../src/shared/constants';
import { CALL_SID, EXEC_SID, FLOW_SID, HOUR, MIN, NOW, OTHER_CALL_SID, runs, SEC, settings } from './fixtures';
import { checkExecutionAnswer } from './invariants';
import { callFactsOf, executionFactsOf, flowFactsOf, modelExecutionPort, snapshot, truthForExecution, type Change, type ModelState, type ModelWidget, type PortOp } from './twilioModel';
import { CAST, EXECUTION_RUNS, MAX_EXECUTION_PORT_CALLS, pick, tick, gapsOf, findLast, Options, optionsArb, optionsFor, Writer, baseModel } from './propertyWorld';


// ---------------------------------------------------------------------------------------------------------------
// Executions
// ---------------------------------------------------------------------------------------------------------------

type ExecutionKind = 'voice' | 'voice-context' | 'sms' | 'conversation' | 'request';
interface ExecutionScenario {
  kind: ExecutionKind;
  call: { status: CallStatus; endedAgo?: number } | 'missing';
  /** Send & Wait timeouts of `ask` and `confirm`, per revision (1..n); the current revision is the last. */
  revisions: (string | undefined)[][];
  /** The revision the Execution runs: the current one, the one before, or not recorded. */
  runs: 'current' | 'previous' | 'unrecorded';
  active: boolean;
  createdAgo: number;
  steps: { widget: string; ago: number }[];
  settings: PolicySettings;
  sweptChannels?: string[];
  writer: Writer;
  flowReads: 'current' | 'exact';
  options: Options;
  gaps: Change[][];
}

const WIDGET_NAMES = ['ask', 'confirm', 'say', 'split', 'renamed'];
const timeoutArb = pick<string | undefined>([[3, '600'], [2, '3600'], [2, '86400'], [1, undefined], [1, 'soon']]);
const executionChange: fc.Arbitrary<Change> = fc.oneof(
  { weight: 5, arbitrary: tick },
  { weight: 3, arbitrary: fc.constantFrom(...WIDGET_NAMES).map((widget): Change => ({ t: 'reply', widget })) },
  { weight: 1, arbitrary: fc.constant<Change>({ t: 'execution-ends' }) },
  { weight: 1, arbitrary: fc.constant<Change>({ t: 'execution-delete' }) },
  { weight: 2, arbitrary: fc.array(timeoutArb, { minLength: 2, maxLength: 2 }).map((timeouts): Change => ({ t: 'publish', timeouts })) },
  { weight: 1, arbitrary: fc.constant<Change>({ t: 'call-ends', which: 0 }) },
);
const agoArb = pick([[1, 30 * SEC], [1, 5 * MIN], [2, 11 * MIN], [1, 12 * MIN], [1, 1 * HOUR], [2, 4 * HOUR + 2 * MIN], [1, 24 * HOUR + 2 * MIN], [1, 25 * HOUR]]);

const executionScenarioArb = (gaps: fc.Arbitrary<Change[][]>): fc.Arbitrary<ExecutionScenario> =>
  fc.record({
    kind: pick<ExecutionKind>([[3, 'voice'], [1, 'voice-context'], [6, 'sms'], [2, 'conversation'], [1, 'request']]),
    call: pick<ExecutionScenario['call']>([
      [5, { status: 'completed', endedAgo: 10 * MIN }],
      [1, { status: 'completed', endedAgo: 30 * SEC }],
      [1, { status: 'no-answer', endedAgo: 2 * MIN }],
      [2, { status: 'in-progress' }],
      [1, 'missing'],
    ]),
    revisions: fc.array(fc.array(timeoutArb, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 3 }),
    runs: pick<ExecutionScenario['runs']>([[7, 'current'], [2, 'previous'], [1, 'unrecorded']]),
    active: pick([[9, true], [1, false]]),
    createdAgo: pick([[1, 10 * MIN], [1, 1 * HOUR], [2, 4 * HOUR + 2 * MIN], [2, 25 * HOUR]]),
    steps: fc.array(fc.record({ widget: fc.constantFrom(...WIDGET_NAMES), ago: agoArb }), { maxLength: 3 }),
    settings: fc
      .record({ graceMs: fc.constantFrom(0, 10 * SEC, 1 * MIN, 2 * MIN), messagingIdleMs: fc.constantFrom(10 * MIN, 1 * HOUR, 4 * HOUR), maxReadAgeMs: pick<number | undefined>([[3, undefined], [1, 5 * SEC]]) })
      .map((r) => settings(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)))),
    sweptChannels: pick<string[] | undefined>([[6, undefined], [1, ['voice']], [1, ['sms']], [1, ['voice', 'sms']]]),
    writer: pick<Writer>([[6, { kind: 'sweep', owned: false }], [1, { kind: 'sweep', owned: true }], [2, { kind: 'watch', watched: CALL_SID }], [1, { kind: 'watch', watched: OTHER_CALL_SID }]]),
    flowReads: pick<'current' | 'exact'>([[1, 'current'], [1, 'exact']]),
    options: optionsArb,
    gaps,
  });

const widgetsWith = ([ask, confirm]: (string | undefined)[]): ModelWidget[] => [
  { name: 'Trigger', type: 'trigger' },
  { name: 'ask', type: 'send-and-wait-for-reply', ...(ask === undefined ? {} : { timeout: ask }) },
  { name: 'confirm', type: 'send-and-wait-for-reply', ...(confirm === undefined ? {} : { timeout: confirm }) },
  { name: 'say', type: 'gather-input-on-call', timeout: '5' },
  { name: 'split', type: 'split-based-on' },
];

const INITIATED_BY: Record<ExecutionKind, string | undefined> = { voice: CALL_SID, 'voice-context': undefined, sms: 'SM' + '5'.repeat(32), conversation: 'CH' + '6'.repeat(32), request: 'RQ' + '7'.repeat(32) };

function executionModel(sc: ExecutionScenario): ModelState {
  const m = baseModel();
  m.flowReads = sc.flowReads;
  if (sc.call !== 'missing') {
    const live = sc.call.endedAgo === undefined;
    m.calls[CALL_SID] = { sid: CALL_SID, status: sc.call.status, startedAtMs: NOW - 30 * MIN, ...(live ? {} : { endedAtMs: NOW - sc.call.endedAgo! }) };
  }
  const revisions: Record<number, ModelWidget[]> = {};
  sc.revisions.forEach((t, i) => (revisions[i + 1] = widgetsWith(t)));
  const current = sc.revisions.length;
  const own = sc.runs === 'previous' && current > 1 ? current - 1 : current;
  m.flows[FLOW_SID] = { sid: FLOW_SID, revision: current, revisions };
  const createdAtMs = NOW - sc.createdAgo;
  const steps = sc.steps.map((s) => ({ widget: s.widget, atMs: Math.max(createdAtMs, NOW - s.ago) }));
  const initiatedBy = INITIATED_BY[sc.kind];
  m.executions[EXEC_SID] = {
    sid: EXEC_SID,
    flowSid: FLOW_SID,
    revision: own,
    ...(sc.runs === 'unrecorded' ? {} : { flowVersion: own }),
    status: sc.active ? 'active' : 'ended',
    ...(initiatedBy ? { initiatedBy } : {}),
    context: sc.kind === 'voice' || sc.kind === 'voice-context' ? { trigger: 'call', callSid: CALL_SID } : { trigger: sc.kind === 'sms' ? 'message' : sc.kind === 'conversation' ? 'conversation' : 'request' },
    createdAtMs,
    updatedAtMs: Math.max(createdAtMs, ...steps.map((s) => s.atMs)),
    steps,
    deleted: false,
  };
  return m;
}

const executionDecider = (sc: ExecutionScenario) => (nowMs: number) => (execution: ExecutionFacts, call: CallFacts | undefined, flow: FlowFacts | undefined) => {
  const input: ExecutionDecisionInput = {
    nowMs,
    execution,
    ...(call ? { call } : {}),
    ...(flow ? { flow } : {}),
    settings: sc.settings,
    ...(sc.sweptChannels ? { sweptChannels: sc.sweptChannels } : {}),
    ...(sc.writer.kind === 'watch' ? { watchedCallSid: sc.writer.watched } : { ownedByCallWatch: sc.writer.owned && execution.callSid === CALL_SID }),
  };
  const a = decideExecution(input);
  checkExecutionAnswer(input, a);
  return a;
};

interface ExecutionRun {
  g: Guarded<ExecutionFacts, ExecutionAction>;
  trace: PortOp[];
  m: ModelState;
}

async function runExecution(sc: ExecutionScenario): Promise<ExecutionRun> {
  const m = executionModel(sc);
  const trace: PortOp[] = [];
  const decideAt = executionDecider(sc);
  const start: ExecutionFacts =
    sc.writer.kind === 'watch' ? { sid: EXEC_SID, state: 'unknown', trigger: 'unknown', flowSid: FLOW_SID, source: 'list' } : executionFactsOf(m, EXEC_SID, 'list');
  const call = sc.writer.kind === 'watch' ? { call: callFactsOf(m, sc.writer.watched) } : {};
  let g: Guarded<ExecutionFacts, ExecutionAction>;
  try {
    g = await guardedExecutionWrite(modelExecutionPort(m, CAST, sc.gaps, trace), { execution: start, ...call, ...optionsFor(sc.options), decide: (e, c, f) => decideAt(m.now)(e, c, f) });
  } catch (err) {
    // Steps of a deleted Execution: 404 from the port (the activity reports an error); nothing was written.
    assert.equal((err as { status?: number }).status, 404, String(err));
    g = { result: 'none', action: { kind: 'none', reason: String(err) }, facts: start, conflicts: 0 };
  }
  return { g, trace, m };
}

interface ExecutionFindings {
  /** The end was accepted although a change in the last gap made the policy refuse at that moment. */
  window: boolean;
}

/**
 * Every property of one guarded Execution write.
 *
 * The Flow: a definition is immutable per revision and a running Execution keeps its revision, so publishing a new
 * one changes nothing about the Execution. "The state the last read saw" is therefore judged with the definition
 * the writer actually read (when it read one) — and separately against the Execution's own revision (the ground
 * truth), which differs only when the port answers with the current revision (`flowReads: 'current'`).
 */
function checkExecutionRun(sc: ExecutionScenario, { g, trace, m }: ExecutionRun): ExecutionFindings {
  const decideAt = executionDecider(sc);
  assert.ok(trace.length <= MAX_EXECUTION_PORT_CALLS, `${trace.length} port calls`);
  const ends = trace.filter((o) => o.op === 'endExecution');
  assert.ok(ends.length <= 1);
  if (sc.options.dryRun || sc.options.reserve === false) assert.equal(ends.length, 0, 'dry run / spent budget wrote');
  const findings: ExecutionFindings = { window: false };
  const flowRead = findLast(trace, (o) => o.op === 'fetchFlow');
  const asRead = flowRead?.op === 'fetchFlow' ? () => flowRead.result : undefined;
  const exactly = (state: ModelState, now: number) => ({ ...snapshot(state), flowReads: 'exact' as const, now });
  /** Every change before the last read is seen: the policy approves on what the last read saw, judged at `now`. */
  const judgeSeen = (lastRead: PortOp, now: number, what: string) => {
    const atLastRead = truthForExecution(exactly(lastRead.before, now), EXEC_SID, decideAt(now), asRead);
    if (atLastRead.kind === 'end-execution') return;
    // Ended or deleted by Studio before the last read: an end can do no harm there (Studio answers 404).
    const e = lastRead.before.executions[EXEC_SID]!;
    if (atLastRead.kind === 'none' && (e.deleted || e.status === 'ended')) return;
    assert.fail(`${what} although the state the last read saw says ${JSON.stringify(atLastRead)}`);
  };
  const end = ends[0];
  if (end && end.op === 'endExecution') {
    assert.equal(trace.at(-1), end, 'nothing is read after the write');
    const lastRead = trace.at(-2);
    assert.ok(lastRead, 'an end without a read');
    if (end.outcome === 'done') {
      judgeSeen(lastRead, end.atMs, 'ended');
      const now = truthForExecution(exactly(end.before, end.atMs), EXEC_SID, decideAt(end.atMs), asRead);
      if (!end.changed) assert.equal(now.kind, 'end-execution', 'ended although nothing changed and the policy refuses');
      findings.window = now.kind !== 'end-execution';
      // The ground truth: the definition of the revision the Execution really runs.
      const e = lastRead.before.executions[EXEC_SID]!;
      const seen = exactly(lastRead.before, end.atMs);
      const own = truthForExecution(seen, EXEC_SID, decideAt(end.atMs), (sid) => flowFactsOf(seen, sid, e.revision));
      assert.equal(own.kind, 'end-execution', `ended against the Execution's own revision of the Flow: ${JSON.stringify(own)}`);
    } else {
      const e = end.before.executions[EXEC_SID]!;
      assert.ok(e.deleted || e.status === 'ended', '404 on an active Execution');
    }
  }
  assert.equal(g.result === 'done', end?.op === 'endExecution' && end.outcome === 'done');
  if (g.result === 'dry-run' || g.result === 'capped') {
    assert.equal(g.action.kind, 'end-execution');
    const lastRead = trace.at(-1);
    assert.ok(lastRead, 'a dry-run/capped end without a read');
    judgeSeen(lastRead, m.now, 'reported as ended');
  }
  return findings;
}

/** An SMS Execution stuck in "confirm" (10 min) for 1 h, swept: flow, steps, execution, end. */
function stuckSms(gaps: Change[][]): ExecutionScenario {
  return {
    kind: 'sms',
    call: 'missing',
    revisions: [['86400', '600']],
    runs: 'current',
    active: true,
    createdAgo: 2 * HOUR,
    steps: [{ widget: 'confirm', ago: 1 * HOUR }],
    settings: settings(),
    writer: { kind: 'sweep', owned: false },
    flowReads: 'exact',
    options: { dryRun: false },
    gaps,
  };
}


describe('guarded write property: policy + write path against a changing Twilio model', function () {
  this.timeout(60_000);

  describe('Executions (no If-Match in Studio)', () => {
    it(`every accepted end is approved on the state the last read saw, judged at write time; bounded; dry run and spent budgets never write (${EXECUTION_RUNS} runs)`, async () => {
      const stats = { runs: 0, done: 0, voice: 0, messaging: 0, gone: 0, window: 0, dryRun: 0, capped: 0 };
      await fc.assert(
        fc.asyncProperty(executionScenarioArb(gapsOf(executionChange)), async (sc) => {
          const run = await runExecution(sc);
          const w = checkExecutionRun(sc, run);
          stats.runs++;
          if (run.g.result === 'done') {
            stats.done++;
            stats[sc.kind === 'voice' || sc.kind === 'voice-context' ? 'voice' : 'messaging']++;
          }
          if (run.g.result === 'dry-run') stats.dryRun++;
          if (run.g.result === 'capped') stats.capped++;
          if (run.trace.some((o) => o.op === 'endExecution' && o.outcome === 'gone')) stats.gone++;
          if (w.window) stats.window++;
        }),
        { numRuns: EXECUTION_RUNS },
      );
      console.log(`      Executions: ${JSON.stringify(stats)}`);
      assert.ok(stats.voice > EXECUTION_RUNS / 40 && stats.messaging > EXECUTION_RUNS / 60, 'voice and messaging ends');
      assert.ok(stats.gone > 0 && stats.dryRun > 0 && stats.capped > 0, 'every result');
    });

    it('in a world that does not change, the loop ends exactly what the policy approves on it', async () => {
      await fc.assert(
        fc.asyncProperty(executionScenarioArb(fc.constant([])), async (sc) => {
          const truth = truthForExecution(executionModel(sc), EXEC_SID, executionDecider(sc)(NOW));
          const run = await runExecution(sc);
          checkExecutionRun(sc, run);
          assert.ok(run.trace.length <= 5, `${run.trace.length} port calls`);
          const expected = truth.kind !== 'end-execution' ? undefined : sc.options.reserve === false ? 'capped' : sc.options.dryRun ? 'dry-run' : 'done';
          if (!expected) assert.ok(!['done', 'dry-run', 'capped'].includes(run.g.result), `${run.g.result} although the policy refuses: ${JSON.stringify(truth)}`);
          else assert.equal(run.g.result, expected);
        }),
        { numRuns: runs(500) },
      );
    });

    it('a list item without initiated_by is fetched: the context names its call, and the Execution is ended', async () => {
      const sc: ExecutionScenario = { ...stuckSms([]), kind: 'voice-context', call: { status: 'completed', endedAgo: 10 * MIN } };
      assert.equal(truthForExecution(executionModel(sc), EXEC_SID, executionDecider(sc)(NOW)).kind, 'end-execution');
      const run = await runExecution(sc);
      assert.equal(run.trace[0]?.op, 'fetchExecution', 'the list item alone decides nothing');
      assert.equal(run.g.result, 'done');
    });

    it('the window: a reply that arrives between the last read and the end is not seen (Studio has no If-Match)', async () => {
      const sc = stuckSms([[], [], [], [{ t: 'reply', widget: 'ask' }]]);
      const run = await runExecution(sc);
      const w = checkExecutionRun(sc, run);
      assert.deepEqual(run.trace.map((o) => o.op), ['fetchFlow', 'fetchExecution', 'fetchSteps', 'endExecution']);
      assert.equal(run.g.result, 'done');
      assert.ok(w.window, 'the policy would refuse at the moment of the write, yet Studio ended it');
    });

    it('the Steps are read after the Execution fetch: a reply between the two is seen, even with no grace and a 5 s widget', async () => {
      // grace 0; the Flow's shortest wait is a gather widget's 5 s. A reply moves the Execution into "ask" (1 h)
      // between the Execution fetch and the Steps read; the Steps show it and nothing is ended.
      const sc: ExecutionScenario = {
        ...stuckSms([[], [], [{ t: 'reply', widget: 'ask' }, { t: 'tick', ms: 10 * SEC }], []]),
        revisions: [['3600', '600']],
        steps: [],
        createdAgo: 25 * HOUR,
        settings: settings({ graceMs: 0, messagingIdleMs: 10 * MIN }),
      };
      const run = await runExecution(sc);
      checkExecutionRun(sc, run);
      assert.deepEqual(run.trace.slice(0, 3).map((o) => o.op), ['fetchFlow', 'fetchExecution', 'fetchSteps']);
      assert.ok(!run.trace.some((o) => o.op === 'endExecution'));
      assert.equal(run.g.action.kind === 'skip' && run.g.action.reason, 'messaging-not-idle');
    });

    it('a Flow read answered with the current revision does not end an Execution of an older one (its timeouts are unknown)', async () => {
      // The Execution runs revision 1, whose "ask" waits 24 h; revision 2 (published since) waits 10 min. Idle 5 h.
      const sc: ExecutionScenario = { ...stuckSms([]), revisions: [['86400', '600'], ['600', '600']], runs: 'previous', steps: [{ widget: 'ask', ago: 5 * HOUR }], createdAgo: 6 * HOUR, flowReads: 'current' };
      const current = await runExecution(sc);
      checkExecutionRun(sc, current);
      assert.ok(!current.trace.some((o) => o.op === 'endExecution'));
      assert.equal(current.g.action.kind === 'skip' && current.g.action.reason, 'flow-unreadable');
      const exact = await runExecution({ ...sc, flowReads: 'exact' });
      assert.ok(!exact.trace.some((o) => o.op === 'endExecution'));
    });

    it('a reply before the last read is seen: the Execution is left alone', async () => {
      for (const at of [0, 1, 2]) {
        const gaps: Change[][] = [[], [], [], []];
        gaps[at] = [{ t: 'reply', widget: 'ask' }];
        const run = await runExecution(stuckSms(gaps));
        checkExecutionRun(stuckSms(gaps), run);
        assert.ok(!run.trace.some((o) => o.op === 'endExecution'), `a reply before read #${at + 1} was missed`);
      }
    });
  });
});
