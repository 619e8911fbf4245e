// decideExecution over the cross product of the facts that matter, and on random facts (fast-check): the shared
// invariants on every answer; a read always names something that, once supplied fresh, changes the answer.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decideExecution,
  isWriteAction,
  type CallFacts,
  type CallState,
  type ExecutionAction,
  type ExecutionDecisionInput,
  type ExecutionFacts,
  type ExecutionState,
  type FlowFacts,
  type PolicySettings,
  type WaitingFacts,
  type WidgetFacts,
} from '../../src/policy';
import {
  CALL_SID,
  EXEC_SID,
  execution,
  explain,
  flowRead,
  flowUnreadable,
  FLOW_SID,
  HOUR,
  MIN,
  noSteps,
  NOW,
  OTHER_CALL_SID,
  SEC,
  settings,
  TRIGGERS,
  waitingIn,
  runs,
} from './fixtures';
import { checkExecutionAnswer } from './invariants';

type Ctx = Pick<ExecutionDecisionInput, 'watchedCallSid' | 'ownedByCallWatch'>;
const CONTEXTS: readonly Ctx[] = [{}, { ownedByCallWatch: true }, { watchedCallSid: CALL_SID }, { watchedCallSid: OTHER_CALL_SID }];
const SWEPT: readonly (readonly string[] | undefined)[] = [undefined, ['voice'], ['sms']];

/** The voice facts: the call SID the Execution names × the call read. */
function voiceVariants(): { callSid?: string; call?: CallFacts }[] {
  const calls: (CallFacts | undefined)[] = [
    undefined,
    { sid: CALL_SID, status: 'in-progress', startedAtMs: NOW - 10 * MIN },
    ...[30 * SEC, 1 * MIN, 10 * MIN].map((ago): CallFacts => ({ sid: CALL_SID, status: 'completed', endedAtMs: NOW - ago })),
    { sid: CALL_SID, status: 'completed' },
    { sid: CALL_SID, status: 'gone' },
    { sid: CALL_SID, status: 'unknown' },
    { sid: OTHER_CALL_SID, status: 'completed', endedAtMs: NOW - 10 * MIN },
  ];
  return [CALL_SID, undefined].flatMap((callSid) => calls.map((call) => ({ ...(callSid ? { callSid } : {}), ...(call ? { call } : {}) })));
}

/** The messaging facts: the Flow read × the Execution's revision × where it waits. */
function messagingVariants(): { flow?: FlowFacts; flowRevision?: number; waiting?: WaitingFacts }[] {
  const flows: (FlowFacts | undefined)[] = [undefined, flowUnreadable(), flowRead(3), flowRead(4), flowRead(2)];
  const waits: (WaitingFacts | undefined)[] = [
    undefined,
    waitingIn('confirm', 1 * HOUR, 31 * SEC),
    noSteps(),
    waitingIn('ask', 5 * HOUR),
    waitingIn('ask', 24 * HOUR + MIN),
    waitingIn('confirm', 11 * MIN),
    waitingIn('confirm', 5 * MIN),
    waitingIn('nothing', 4 * HOUR + MIN),
    waitingIn('bad', 1 * HOUR),
    waitingIn('say', 4 * HOUR + MIN),
    waitingIn('renamed', 4 * HOUR + MIN),
  ];
  const out: { flow?: FlowFacts; flowRevision?: number; waiting?: WaitingFacts }[] = [];
  for (const flow of flows) for (const flowRevision of [3, undefined]) for (const waiting of waits) out.push({ ...(flow ? { flow } : {}), ...(flowRevision ? { flowRevision } : {}), ...(waiting ? { waiting } : {}) });
  return out;
}

describe('policy: decideExecution invariants', () => {
  it('cross product: state × trigger × source × writer × swept channels × update time × (call facts | Flow × revision × waiting facts)', () => {
    const voice = voiceVariants();
    const messaging = messagingVariants();
    // Each resource's own facts in full, the other kind's at a "nothing known" and a "would end" value.
    type Facts = { callSid?: string; call?: CallFacts; flow?: FlowFacts; flowRevision?: number; waiting?: WaitingFacts };
    const facts: Facts[] = [
      ...voice.flatMap((v) => [v, { ...v, flow: flowRead(3), flowRevision: 3, waiting: waitingIn('confirm', 1 * HOUR) }]),
      ...messaging.flatMap((m) => [{ ...m, callSid: CALL_SID }, { ...m, callSid: CALL_SID, call: { sid: CALL_SID, status: 'completed' as CallState, endedAtMs: NOW - 10 * MIN } }]),
    ];
    const s = settings();
    let rows = 0;
    const answers = new Map<string, number>();
    const t0 = performance.now();
    for (const state of ['active', 'ended', 'unknown'] as ExecutionState[]) {
      for (const trigger of TRIGGERS) {
        for (const source of ['list', 'fetch'] as const) {
          for (const updatedAgo of [10 * HOUR, 30 * SEC]) {
            for (const f of facts) {
              const { call, flow, ...exFacts } = f;
              const ex: ExecutionFacts = Object.freeze({
                sid: EXEC_SID,
                state,
                trigger,
                createdAtMs: NOW - 20 * HOUR,
                updatedAtMs: NOW - updatedAgo,
                flowSid: FLOW_SID,
                source,
                ...(source === 'fetch' ? { readAtMs: NOW } : {}),
                ...exFacts,
              });
              for (const ctx of CONTEXTS) {
                for (const sweptChannels of SWEPT) {
                  const input: ExecutionDecisionInput = { nowMs: NOW, execution: ex, settings: s, ...(call ? { call } : {}), ...(flow ? { flow } : {}), ...ctx, ...(sweptChannels ? { sweptChannels } : {}) };
                  const a = decideExecution(input);
                  try {
                    checkExecutionAnswer(input, a);
                  } catch (err) {
                    explain(input, a, () => {
                      throw err;
                    });
                  }
                  const key = a.kind === 'skip' ? a.reason : a.kind === 'read' ? `read:${a.what}` : a.kind;
                  answers.set(key, (answers.get(key) ?? 0) + 1);
                  rows++;
                }
              }
            }
          }
        }
      }
    }
    const ms = performance.now() - t0;
    assert.ok(rows > 100_000, `${rows} rows`);
    for (const key of ['none', 'end-execution', 'read:execution', 'read:call', 'read:steps', 'read:flow', 'execution-trigger-unknown', 'channel-not-swept', 'call-sid-mismatch',
      'owned-by-callwatch', 'call-live', 'call-unknown', 'grace-period', 'flow-unreadable', 'messaging-not-idle']) {
      assert.ok(answers.has(key), `no row answered ${key}`);
    }
    console.log(`      decideExecution: ${rows} rows in ${Math.round(ms)} ms; ${answers.get('end-execution')} ends`);
  });

  // --- random facts ---

  const pick = <T>(weighted: [number, T][]): fc.Arbitrary<T> => fc.oneof(...weighted.map(([weight, v]) => ({ weight, arbitrary: fc.constant(v) })));
  /** How long ago: usually one of the boundaries that matter here, else anything within 30 h. */
  const ago = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0, 1, 30 * SEC, 1 * MIN, 2 * MIN, 5 * MIN, 10 * MIN, 11 * MIN, 1 * HOUR, 4 * HOUR, 4 * HOUR + MIN, 24 * HOUR + MIN, 25 * HOUR) },
    { weight: 1, arbitrary: fc.integer({ min: -1 * MIN, max: 30 * HOUR }) },
  );
  const timeout = fc.constantFrom<unknown>('600', '3600', '86400', undefined, 'soon', 3600, '0', '-5', ' 60 ', 1.5, '');
  const widgetsArb: fc.Arbitrary<Record<string, WidgetFacts>> = fc
    .record({ ask: timeout, confirm: timeout, say: timeout })
    .map(({ ask, confirm, say }) => ({
      Trigger: { type: 'trigger' },
      ask: ask === undefined ? { type: 'send-and-wait-for-reply' } : { type: 'send-and-wait-for-reply', timeout: ask },
      confirm: confirm === undefined ? { type: 'send-and-wait-for-reply' } : { type: 'send-and-wait-for-reply', timeout: confirm },
      say: say === undefined ? { type: 'gather-input-on-call' } : { type: 'gather-input-on-call', timeout: say },
      split: { type: 'split-based-on' },
    }));
  const flowArb: fc.Arbitrary<FlowFacts | undefined> = fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(flowUnreadable()) },
    { weight: 8, arbitrary: fc.record({ revision: pick([[6, 3], [1, 2], [2, 4]]), widgets: widgetsArb }).map(({ revision, widgets }) => flowRead(revision, widgets)) },
  );
  const waitingArb: fc.Arbitrary<WaitingFacts | undefined> = fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.record({ readAgo: ago }).map(({ readAgo }) => noSteps(Math.min(readAgo, 40 * SEC))) },
    {
      weight: 8,
      arbitrary: fc
        .record({ widget: fc.constantFrom('ask', 'confirm', 'say', 'split', 'renamed', 'Trigger'), since: ago, readAgo: pick([[8, 0], [1, 20 * SEC], [1, 31 * SEC]]) })
        .map(({ widget, since, readAgo }) => waitingIn(widget, since, readAgo)),
    },
  );
  const callArb: fc.Arbitrary<CallFacts | undefined> = fc.option(
    fc
      .record({
        status: pick<CallState>([[6, 'completed'], [1, 'in-progress'], [1, 'ringing'], [1, 'canceled'], [1, 'gone'], [1, 'unknown']]),
        sid: pick<string | undefined>([[8, CALL_SID], [1, OTHER_CALL_SID], [1, undefined]]),
        endedAgo: fc.option(ago, { nil: undefined, freq: 9 }),
      })
      .map(({ status, sid, endedAgo }) => ({ status, ...(sid ? { sid } : {}), ...(endedAgo === undefined ? {} : { endedAtMs: NOW - endedAgo }) })),
    { nil: undefined, freq: 8 },
  );
  const executionArb: fc.Arbitrary<ExecutionFacts> = fc
    .record({
      state: pick<ExecutionState>([[8, 'active'], [1, 'ended'], [1, 'gone'], [1, 'unknown']]),
      trigger: pick([[4, 'call'], [3, 'message'], [1, 'conversation'], [1, 'request'], [1, 'unknown']] as const),
      callSid: pick<string | undefined>([[8, CALL_SID], [1, OTHER_CALL_SID], [1, undefined]]),
      createdAgo: fc.option(ago, { nil: undefined, freq: 9 }),
      updatedAgo: fc.option(ago, { nil: undefined, freq: 5 }),
      flowSid: pick<string | undefined>([[9, FLOW_SID], [1, undefined]]),
      flowRevision: pick<number | undefined>([[7, 3], [1, 2], [1, 4], [1, undefined]]),
      source: pick<'fetch' | 'list'>([[8, 'fetch'], [1, 'list']]),
      readAgo: fc.option(pick([[8, 0], [1, 30 * SEC], [1, 31 * SEC]]), { nil: undefined, freq: 9 }),
      waiting: waitingArb,
    })
    .map((r) =>
      execution({
        state: r.state,
        trigger: r.trigger,
        callSid: r.trigger === 'call' ? r.callSid : undefined,
        createdAtMs: r.createdAgo === undefined ? undefined : NOW - r.createdAgo,
        updatedAtMs: r.updatedAgo === undefined ? undefined : NOW - r.updatedAgo,
        flowSid: r.flowSid,
        flowRevision: r.flowRevision,
        source: r.source,
        readAtMs: r.readAgo === undefined ? undefined : NOW - r.readAgo,
        waiting: r.waiting,
      }),
    );
  const settingsArb: fc.Arbitrary<PolicySettings> = fc
    .record({ graceMs: fc.constantFrom(0, 10 * SEC, 1 * MIN, 2 * MIN), messagingIdleMs: fc.constantFrom(10 * MIN, 1 * HOUR, 4 * HOUR), maxReadAgeMs: fc.constantFrom(undefined, undefined, 5 * SEC) })
    .map((r) => settings(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))));
  const ctxArb = pick<Ctx & Pick<ExecutionDecisionInput, 'sweptChannels'>>([
    [6, {}],
    [1, { ownedByCallWatch: true }],
    [2, { watchedCallSid: CALL_SID }],
    [1, { watchedCallSid: OTHER_CALL_SID }],
    [1, { sweptChannels: ['voice'] }],
    [1, { sweptChannels: ['sms'] }],
    [1, { sweptChannels: ['voice', 'webchat'] }],
  ]);
  const inputArb: fc.Arbitrary<ExecutionDecisionInput> = fc
    .record({ execution: executionArb, call: callArb, flow: flowArb, settings: settingsArb, ctx: ctxArb })
    .map(({ execution: ex, call, flow, settings: s, ctx }) => ({ nowMs: NOW, execution: ex, ...(call ? { call } : {}), ...(flow ? { flow } : {}), settings: s, ...ctx }));

  it('property: random Execution, call, Flow, Steps, settings and writer → every invariant holds (10,000 runs)', () => {
    let ends = 0;
    fc.assert(
      fc.property(inputArb, (input) => {
        const a = decideExecution(input);
        if (checkExecutionAnswer(input, a)) ends++;
        assert.deepEqual(decideExecution(input), a, 'deterministic');
      }),
      { numRuns: runs(10_000) },
    );
    assert.ok(ends > 300, `${ends} ends`);
    console.log(`      random facts: ${ends} answers were ends`);
  });

  /** What Twilio holds: the Execution (with its Steps) as a fetch now returns it, its Flow, and every call. */
  const worldArb = fc
    .record({
      input: inputArb,
      fetched: executionArb.filter((e) => e.state !== 'unknown'),
      steps: waitingArb.filter((w) => w !== undefined),
      flow: flowArb,
      calls: fc.tuple(callArb, callArb),
    })
    .map(({ input, fetched, steps, flow, calls }) => {
      const now = input.nowMs;
      // The world is consistent with the Execution the input describes: same SID, trigger, Flow and revision.
      const ex: ExecutionFacts = { ...fetched, sid: input.execution.sid, source: 'fetch', readAtMs: now, waiting: undefined };
      delete ex.waiting;
      const world = {
        execution: ex,
        steps: { ...steps!, readAtMs: now } as WaitingFacts,
        flow: flow ?? flowUnreadable(),
        calls: Object.fromEntries([CALL_SID, OTHER_CALL_SID].map((sid, i): [string, CallFacts] => [sid, { ...(calls[i] ?? { status: 'gone' }), sid }])),
      };
      return { world, input };
    });

  it('property: a read names what is missing; supplying it fresh changes the answer, and the answer settles within 4 reads (5,000 runs)', () => {
    const sameRead = (a: ExecutionAction, b: ExecutionAction) => a.kind === 'read' && b.kind === 'read' && a.what === b.what && a.sid === b.sid;
    let reads = 0;
    fc.assert(
      fc.property(worldArb, ({ world, input }) => {
        let cur = input;
        let a = decideExecution(cur);
        for (let i = 0; a.kind === 'read'; i++) {
          assert.ok(i < 4, `still reading after ${i} reads`);
          reads++;
          const ex = cur.execution;
          let next: ExecutionDecisionInput;
          switch (a.what) {
            case 'execution':
              next = { ...cur, execution: { ...world.execution, ...(ex.waiting ? { waiting: ex.waiting } : {}) } };
              break;
            case 'steps':
              next = { ...cur, execution: { ...ex, waiting: world.steps } };
              break;
            case 'call':
              next = { ...cur, call: world.calls[a.sid] ?? { sid: a.sid, status: 'gone' } };
              break;
            case 'flow': {
              // A Flow fetch returns a revision at least the one asked for (revisions only grow).
              const f = world.flow;
              next = { ...cur, flow: f.kind === 'read' && a.revision !== undefined && f.revision < a.revision ? { ...f, revision: a.revision } : f };
              break;
            }
            default:
              assert.fail(`an Execution decision asked to read ${a.what}`);
          }
          const answer = decideExecution(next);
          checkExecutionAnswer(next, answer);
          assert.ok(!sameRead(a, answer), `supplying ${a.what} ${a.sid} fresh did not change the answer`);
          cur = next;
          a = answer;
        }
      }),
      { numRuns: runs(5000) },
    );
    assert.ok(reads > 1000, `${reads} reads`);
  });

  it('property: an end stays an end later, on facts read as freshly', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 0, max: 30 * HOUR }), (input, later) => {
        const a = decideExecution(input);
        if (!isWriteAction(a)) return;
        const ex = input.execution;
        const moved: ExecutionFacts = { ...ex, readAtMs: ex.readAtMs! + later, ...(ex.waiting ? { waiting: { ...ex.waiting, readAtMs: ex.waiting.readAtMs + later } } : {}) };
        const after = decideExecution({ ...input, nowMs: input.nowMs + later, execution: moved });
        assert.equal(after.kind, 'end-execution');
      }),
      { numRuns: runs(3000) },
    );
  });
});
