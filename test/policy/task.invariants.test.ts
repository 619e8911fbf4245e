// decideTask over the cross product of every fact that matters, and on random facts (fast-check): the shared
// invariants on every answer; a read always names something that, once supplied fresh, changes the answer.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decideTask,
  isWriteAction,
  readTaskAttributes,
  type CallFacts,
  type CallState,
  type PolicySettings,
  type TaskAction,
  type TaskDecisionInput,
  type TaskFacts,
  type TaskState,
} from '../../src/policy';
import {
  ATTR_VARIANTS,
  attrs,
  CALL_SID,
  explain,
  HOUR,
  MIN,
  NOW,
  OTHER_CALL_SID,
  PROTECT,
  RAW_ATTRS,
  SEC,
  settings,
  TASK_SID,
  TASK_STATES,
  TERMINAL as TERMINAL_STATES,
  VERSION,
  type AttrVariant,
  runs,
} from './fixtures';
import { checkTaskAnswer } from './invariants';

const POST_CALL = 10 * MIN;

/** The call named by the Task (or not): every status, with every end time that matters against a 1 min grace and a 2 min wrap limit. */
function callVariants(): (CallFacts | undefined)[] {
  const out: (CallFacts | undefined)[] = [undefined];
  for (const status of ['in-progress'] as CallState[]) out.push({ status, sid: CALL_SID, startedAtMs: NOW - 10 * MIN });
  // end unknown; within grace; exactly at grace end; past grace, before the wrap limit; past everything
  for (const ago of [null, 30 * SEC, 1 * MIN, 90 * SEC, 3 * HOUR]) out.push({ status: 'completed', sid: CALL_SID, startedAtMs: NOW - 4 * HOUR, ...(ago === null ? {} : { endedAtMs: NOW - ago }) });
  for (const status of ['canceled', 'failed', 'busy', 'no-answer'] as CallState[]) out.push({ status, sid: CALL_SID, startedAtMs: NOW - 4 * HOUR, endedAtMs: NOW - 3 * HOUR });
  out.push({ status: 'unknown', sid: CALL_SID }, { status: 'gone', sid: CALL_SID });
  out.push({ status: 'completed', sid: OTHER_CALL_SID, endedAtMs: NOW - 3 * HOUR }, { status: 'completed', endedAtMs: NOW - 3 * HOUR });
  return out.map((c) => c && Object.freeze(c));
}

type Source = 'list' | 'fresh' | 'fresh-no-etag' | 'stale';
const SOURCES: readonly Source[] = ['list', 'fresh', 'fresh-no-etag', 'stale'];
function sourced(source: Source): Pick<TaskFacts, 'source' | 'version' | 'readAtMs'> {
  switch (source) {
    case 'list':
      return { source: 'list' };
    case 'fresh':
      return { source: 'fetch', version: VERSION, readAtMs: NOW - 1 * SEC };
    case 'fresh-no-etag':
      return { source: 'fetch', readAtMs: NOW };
    case 'stale':
      return { source: 'fetch', version: VERSION, readAtMs: NOW - 31 * SEC };
  }
}

/** createdAt relative to the call's end (or to now, when the end is unknown): unknown, during the call, at the post-call bound, just after it. */
const CREATED: readonly (number | null)[] = [null, -5 * MIN, POST_CALL, POST_CALL + 1];

interface Ctx {
  name: string;
  ctx: Pick<TaskDecisionInput, 'watchedCallSid' | 'ownedByCallWatch'>;
}
const CONTEXTS: readonly Ctx[] = [
  { name: 'sweep', ctx: {} },
  { name: 'sweep, owned by a callWatch', ctx: { ownedByCallWatch: true } },
  { name: 'callWatch of the call', ctx: { watchedCallSid: CALL_SID } },
  { name: 'callWatch of another call', ctx: { watchedCallSid: OTHER_CALL_SID } },
];
/** The cross product takes the two writers whose rules interact with the call (the others are simple guards, covered by the properties). */
const CROSS_CONTEXTS = [CONTEXTS[0]!, CONTEXTS[2]!];

describe('policy: decideTask invariants', () => {
  it('cross product: call × end × state × attributes × source × version × channel × createdAt × protection × wrap limit × sweep/callWatch', () => {
    const calls = callVariants();
    const allSettings: PolicySettings[] = [];
    for (const protectTasks of [undefined, PROTECT]) {
      for (const wrapLimitMs of [undefined, 2 * MIN]) allSettings.push(settings({ postCallTaskAfterMs: POST_CALL, ...(protectTasks ? { protectTasks } : {}), ...(wrapLimitMs ? { wrapLimitMs } : {}) }));
    }
    const channels = ['voice', 'chat', undefined];
    // Closed states are all answered alike (`none`), an unknown one always `read:task`: one closed state is enough
    // here; the properties and the table draw every state.
    const states: readonly TaskState[] = ['pending', 'reserved', 'assigned', 'wrapping', 'completed'];
    const variants: readonly AttrVariant[] = ATTR_VARIANTS.filter((v) => !['array', 'hintVoice', 'protectedQueue'].includes(v));
    let rows = 0;
    const answers = new Map<string, number>();
    const t0 = performance.now();
    for (const call of calls) {
      const base = call?.endedAtMs ?? NOW;
      for (const state of states) {
        for (const variant of variants) {
          const attributes = attrs(variant);
          for (const source of SOURCES) {
            const src = sourced(source);
            for (const channel of channels) {
              for (const created of CREATED) {
                const task: TaskFacts = Object.freeze({
                  sid: TASK_SID,
                  state,
                  ...(channel === undefined ? {} : { channel }),
                  attributes,
                  ...(created === null ? {} : { createdAtMs: base + created }),
                  ...src,
                });
                for (const s of allSettings) {
                  for (const { ctx } of CROSS_CONTEXTS) {
                    const input: TaskDecisionInput = { nowMs: NOW, task, ...(call ? { call } : {}), settings: s, ...ctx };
                    const a = decideTask(input);
                    try {
                      checkTaskAnswer(input, a);
                    } catch (err) {
                      explain(input, a, () => {
                        throw err;
                      });
                    }
                    const key = a.kind === 'skip' ? a.reason : a.kind === 'read' ? a.what : a.kind;
                    answers.set(key, (answers.get(key) ?? 0) + 1);
                    rows++;
                  }
                }
              }
            }
          }
        }
      }
    }
    const ms = performance.now() - t0;
    assert.ok(rows > 250_000, `${rows} rows`);
    // Every kind of answer occurs: the table exercises each rule.
    for (const key of ['none', 'task', 'call', 'cancel-task', 'complete-task', 'call-live', 'call-unknown', 'grace-period', 'post-call-task', 'protected', 'custom-orchestration',
      'attributes-unparsable', 'not-voice', 'unknown-channel', 'no-call-sid', 'call-sid-mismatch', 'wrapping-left-to-agent', 'task-version-unknown']) {
      assert.ok(answers.has(key), `no row answered ${key}`);
    }
    console.log(`      decideTask: ${rows} rows in ${Math.round(ms)} ms; ${answers.get('cancel-task')! + answers.get('complete-task')!} writes`);
  });

  /**
   * The seed cleaner's rule, restated from Twilio's published script: parse attributes (skip on error), skip unless
   * the channel is exactly `voice` and `call_sid` is truthy, fetch the call (a failed fetch — 404, a malformed SID —
   * updates nothing), close when the call's status is in its terminal list (which omits `canceled`). It lists open
   * Tasks only (pending, reserved, assigned).
   */
  const SEED_TERMINAL = ['completed', 'failed', 'busy', 'no-answer'];
  function seedCleaner(state: TaskState, raw: string, channel: string | undefined, call: CallFacts | undefined): 'complete-task' | 'cancel-task' | undefined {
    if (!['pending', 'reserved', 'assigned'].includes(state)) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return undefined;
    }
    const callSid = (value as { call_sid?: unknown } | null)?.call_sid;
    if (channel !== 'voice' || !callSid) return undefined;
    if (!call || call.status === 'gone' || call.status === 'unknown') return undefined;
    if (SEED_TERMINAL.includes(call.status)) return state === 'assigned' ? 'complete-task' : 'cancel-task';
    return undefined;
  }

  it('parity with the seed cleaner: we close only what it closes (plus canceled calls and wrapping past the limit); every other difference is a skip for a stated reason', () => {
    const divergences = new Map<string, number>();
    let rows = 0;
    const statuses: CallState[] = ['completed', 'canceled', 'failed', 'busy', 'no-answer', 'in-progress', 'ringing', 'queued', 'gone', 'unknown'];
    for (const state of ['pending', 'reserved', 'assigned', 'wrapping', 'completed'] as TaskState[]) {
      for (const [variant, raw] of Object.entries(RAW_ATTRS)) {
        const attributes = readTaskAttributes(raw, 'fetch');
        const named = attributes.kind === 'parsed' ? attributes.callSid : undefined;
        for (const channel of ['voice', 'chat', 'sms', 'default', undefined, 'fax', 'Voice']) {
          for (const status of statuses) {
            for (const endedAgo of TERMINAL_STATES.includes(status) ? [30 * SEC, 10 * MIN, null] : [null]) {
              // The call the Task names, as a fetch returns it (the seed fetches it too).
              const call: CallFacts | undefined = named ? { status, sid: named, ...(endedAgo === null ? {} : { endedAtMs: NOW - endedAgo }) } : undefined;
              for (const createdAfterEnd of [-5 * MIN, 1 * HOUR]) {
                const task: TaskFacts = { sid: TASK_SID, state, ...(channel ? { channel } : {}), attributes, createdAtMs: (call?.endedAtMs ?? NOW) + createdAfterEnd, source: 'fetch', version: VERSION, readAtMs: NOW };
                for (const s of [settings(), settings({ graceMs: 0, wrapLimitMs: 2 * MIN, protectTasks: PROTECT })]) {
                  for (const ctx of [{}, { watchedCallSid: CALL_SID }]) {
                    const input: TaskDecisionInput = { nowMs: NOW, task, ...(call ? { call } : {}), settings: s, ...ctx };
                    const a = decideTask(input);
                    explain({ input, variant }, a, () => {
                      checkTaskAnswer(input, a);
                      const ours = isWriteAction(a) ? a.kind : undefined;
                      const seed = seedCleaner(state, raw, channel, call);
                      if (ours === seed) return;
                      const why = ours ? (state === 'wrapping' ? 'close a wrapping Task past the wrap limit' : `close on a ${call?.status} call`) : `skip:${a.kind === 'skip' ? a.reason : a.kind}`;
                      if (ours) assert.ok(state === 'wrapping' || call?.status === 'canceled', 'we close only what the seed would, plus canceled calls and wrapping past the limit');
                      else {
                        assert.equal(a.kind, 'skip', why);
                        assert.ok(['custom-orchestration', 'protected', 'not-voice', 'grace-period', 'post-call-task', 'call-sid-mismatch'].includes(a.reason), why);
                      }
                      divergences.set(why, (divergences.get(why) ?? 0) + 1);
                    });
                    rows++;
                  }
                }
              }
            }
          }
        }
      }
    }
    assert.ok(rows > 50_000, `${rows} rows`);
    // Every documented divergence actually occurs in the table.
    assert.deepEqual([...divergences.keys()].sort(), [
      'close a wrapping Task past the wrap limit',
      'close on a canceled call',
      'skip:call-sid-mismatch',
      'skip:custom-orchestration',
      'skip:grace-period',
      'skip:not-voice',
      'skip:post-call-task',
      'skip:protected',
    ]);
  });

  // --- random facts ---

  const CALL_SIDS = [CALL_SID, OTHER_CALL_SID];
  /** Mostly `good` (3 in 4), else one of the others: random facts that still reach a write often enough. */
  const mostly = <T>(good: T, ...others: T[]): fc.Arbitrary<T> => fc.oneof({ weight: 3, arbitrary: fc.constant(good) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
  /** Nine in ten `good`. */
  const rarelyNot = <T>(good: T, ...others: T[]): fc.Arbitrary<T> => fc.oneof({ weight: 9, arbitrary: fc.constant(good) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
  const ABSENT = Symbol('absent');
  const attrValue = fc
    .record({
      call_sid: rarelyNot<unknown>(CALL_SID, OTHER_CALL_SID, 'CAb920ad5f119ab57be3fxxxxxxxx', 42, null, '', ABSENT),
      custom_orchestration: rarelyNot<unknown>(ABSENT, true, false, 'false', 'yes', 0, 1),
      orchestration: rarelyNot<unknown>(ABSENT, 'flex', 'custom', '', null),
      vip: rarelyNot<unknown>(ABSENT, true, false, null),
      queue: rarelyNot<unknown>(ABSENT, 'escalations', 'sales', 7),
      channelType: rarelyNot<unknown>(ABSENT, 'voice', 'Voice', 'web', 'sms', ''),
    })
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== ABSENT)));
  const rawAttributes = fc.oneof(
    { weight: 15, arbitrary: attrValue.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('{"call_sid": ', '[]', 'null', '"CA"', '42', '') },
  );
  /** An instant relative to another: mostly `usual`, else near the boundaries that matter, else anywhere within 2 h. */
  const near = (usual: number) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(usual) },
      { weight: 2, arbitrary: fc.constantFrom(0, -1, 1, -30 * SEC, -31 * SEC, -MIN, MIN, 10 * MIN, 10 * MIN + 1, -10 * SEC) },
      { weight: 1, arbitrary: fc.integer({ min: -2 * HOUR, max: 2 * HOUR }) },
    );
  const taskArb: fc.Arbitrary<TaskFacts> = fc
    .record({
      state: fc.constantFrom(...TASK_STATES, 'pending', 'reserved', 'assigned', 'assigned', 'pending', 'reserved', 'assigned', 'wrapping'),
      channel: rarelyNot<string | undefined>('voice', 'chat', 'sms', 'fax', 'Voice', '', undefined),
      raw: rarelyNot<string | undefined>('raw', undefined).chain((r) => (r === undefined ? fc.constant(undefined) : rawAttributes)),
      source: rarelyNot<'fetch' | 'list'>('fetch', 'list'),
      version: rarelyNot<string | undefined>(VERSION, 'W/"x"', undefined),
      readAgo: fc.oneof(fc.integer({ min: -5 * SEC, max: 40 * SEC }), fc.constantFrom(30 * SEC, 30 * SEC + 1, undefined)),
      createdOffset: fc.oneof({ weight: 9, arbitrary: near(-5 * MIN) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    })
    .map((r) => ({
      sid: TASK_SID,
      state: r.state,
      ...(r.channel === undefined ? {} : { channel: r.channel }),
      attributes: readTaskAttributes(r.raw, r.source),
      /** Relative to the call's end: placed when the input is assembled. */
      ...(r.createdOffset === undefined ? {} : { createdAtMs: r.createdOffset }),
      source: r.source,
      ...(r.version === undefined ? {} : { version: r.version }),
      ...(r.readAgo === undefined ? {} : { readAtMs: NOW - r.readAgo }),
    }));
  const callArb: fc.Arbitrary<CallFacts | undefined> = fc.option(
    fc
      .record({
        status: mostly<CallState>('completed', 'queued', 'ringing', 'in-progress', 'canceled', 'failed', 'busy', 'no-answer', 'unknown', 'gone'),
        sid: rarelyNot<string | undefined>(CALL_SID, OTHER_CALL_SID, undefined),
        endedAtMs: fc.oneof({ weight: 9, arbitrary: near(-20 * MIN).map((o) => NOW + o) }, { weight: 1, arbitrary: fc.constant(undefined) }),
      })
      .map((r) => ({ status: r.status, startedAtMs: NOW - 3 * HOUR, ...(r.sid ? { sid: r.sid } : {}), ...(r.endedAtMs === undefined ? {} : { endedAtMs: r.endedAtMs }) })),
    { nil: undefined, freq: 8 },
  );
  const settingsArb: fc.Arbitrary<PolicySettings> = fc
    .record({
      graceMs: fc.constantFrom(0, 1, 30 * SEC, 1 * MIN, 10 * MIN),
      postCallTaskAfterMs: fc.constantFrom(0, 1 * MIN, 10 * MIN, 1 * HOUR),
      wrapLimitMs: fc.constantFrom(undefined, 0, 1 * MIN, 30 * MIN),
      protectTasks: fc.constantFrom(undefined, PROTECT),
      maxReadAgeMs: fc.constantFrom(undefined, undefined, 0, 5 * SEC, 30 * SEC),
    })
    .map((r) => settings(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))));
  const ctxArb = fc.constantFrom(...CONTEXTS.map((c) => c.ctx), {}, {}, {}, {}, CONTEXTS[2]!.ctx);
  const inputArb: fc.Arbitrary<TaskDecisionInput> = fc
    .record({ task: taskArb, call: callArb, settings: settingsArb, ctx: ctxArb, skew: near(0) })
    .map(({ task, call, settings: s, ctx, skew }) => {
      const created = task.createdAtMs === undefined ? {} : { createdAtMs: (call?.endedAtMs ?? NOW - 20 * MIN) + task.createdAtMs };
      return { nowMs: NOW + skew, task: { ...task, ...created }, ...(call ? { call } : {}), settings: s, ...ctx };
    });

  it('property: random Task, call, settings and writer → every invariant holds (10,000 runs)', () => {
    let writes = 0;
    fc.assert(
      fc.property(inputArb, (input) => {
        const a = decideTask(input);
        if (checkTaskAnswer(input, a)) writes++;
        assert.deepEqual(decideTask(input), a, 'deterministic');
      }),
      { numRuns: runs(10_000) },
    );
    assert.ok(writes > 100, `${writes} writes`);
    console.log(`      random facts: ${writes} answers were writes`);
  });

  /** What Twilio holds: the Task as a fetch would now return it, and every call. */
  interface World {
    task: TaskFacts;
    calls: Record<string, CallFacts>;
  }
  const worldArb: fc.Arbitrary<{ world: World; input: TaskDecisionInput }> = fc
    .record({
      input: inputArb,
      fetched: taskArb.filter((t) => t.state !== 'unknown'),
      calls: fc.tuple(callArb, callArb),
    })
    .map(({ input, fetched, calls }) => {
      const fresh: TaskFacts = { ...fetched, sid: TASK_SID, source: 'fetch', attributes: fetched.attributes.kind === 'unknown' ? readTaskAttributes(null, 'fetch') : fetched.attributes, readAtMs: input.nowMs };
      const world: World = { task: fresh, calls: {} };
      CALL_SIDS.forEach((sid, i) => (world.calls[sid] = { ...(calls[i] ?? { status: 'completed', endedAtMs: NOW - HOUR }), sid }));
      return { world, input };
    });

  it('property: a read names what is missing; supplying it fresh changes the answer, and the answer settles within 3 reads (5,000 runs)', () => {
    const sameRead = (a: TaskAction, b: TaskAction) => a.kind === 'read' && b.kind === 'read' && a.what === b.what && a.sid === b.sid;
    let reads = 0;
    fc.assert(
      fc.property(worldArb, ({ world, input }) => {
        let cur = input;
        let a = decideTask(cur);
        const asked: TaskAction[] = [];
        for (let i = 0; a.kind === 'read'; i++) {
          assert.ok(i < 3, `still reading after ${i} reads: ${JSON.stringify(asked)}`);
          reads++;
          const fact = a.what === 'task' ? { task: world.task } : { call: world.calls[a.sid] ?? { sid: a.sid, status: 'gone' as const } };
          cur = { ...cur, ...fact };
          const next = decideTask(cur);
          checkTaskAnswer(cur, next);
          assert.ok(!sameRead(a, next), `supplying ${a.what} ${a.sid} fresh did not change the answer`);
          asked.push(a);
          a = next;
        }
      }),
      { numRuns: runs(5000) },
    );
    assert.ok(reads > 1000, `${reads} reads`);
  });

  it('property: a write stays a write later, on facts read as freshly (the guarded write may act a moment after deciding)', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 0, max: 2 * HOUR }), (input, later) => {
        const a = decideTask(input);
        if (!isWriteAction(a)) return;
        const after = decideTask({ ...input, nowMs: input.nowMs + later, task: { ...input.task, readAtMs: input.task.readAtMs! + later } });
        assert.deepEqual(after, a);
      }),
      { numRuns: runs(3000) },
    );
  });
});
