/**
 * The shared pieces of the guarded-write property tests (guardedTaskWrite.property.test.ts,
 * guardedExecutionWrite.property.test.ts): the cast of SIDs, the weighted generators of changes and options, and
 * the base model of Twilio they start from.
 */
import fc from 'fast-check';
import type { CallStatus } from '../../src/shared/constants';
import { CALL_SID, EXEC_SID, FLOW_SID, HOUR, MIN, NOW, OTHER_CALL_SID, runs, SEC, TASK_SID } from './fixtures';
import { type Cast, type Change, type ModelState } from './twilioModel';


export const ENDED_CALL_SID = 'CA' + 'c'.repeat(32);
export const CAST: Cast = { taskSid: TASK_SID, executionSid: EXEC_SID, flowSid: FLOW_SID, calls: [CALL_SID, OTHER_CALL_SID], liveCallSid: OTHER_CALL_SID, endedCallSid: ENDED_CALL_SID };
export const TASK_RUNS = runs(2000);
export const EXECUTION_RUNS = runs(2000);
/** The loop's own bounds (guardedWrite.ts MAX_STEPS = 12: one port call per step, plus a re-read after each refused write). */
export const MAX_TASK_PORT_CALLS = 24;
export const MAX_EXECUTION_PORT_CALLS = 12;

export const pick = <T>(weighted: [number, T][]): fc.Arbitrary<T> => fc.oneof(...weighted.map(([weight, v]) => ({ weight, arbitrary: fc.constant(v) })));
export const tick = pick<number>([[3, 0], [3, 1 * SEC], [3, 5 * SEC], [2, 20 * SEC], [1, 31 * SEC], [1, 2 * MIN], [1, 10 * MIN]]).map((ms): Change => ({ t: 'tick', ms }));
export const gapsOf = (change: fc.Arbitrary<Change>) =>
  fc.array(fc.oneof({ weight: 2, arbitrary: fc.constant<Change[]>([]) }, { weight: 3, arbitrary: fc.array(change, { minLength: 1, maxLength: 3 }) }), { maxLength: 14 });
export const findLast = <T>(xs: readonly T[], f: (x: T) => boolean): T | undefined => [...xs].reverse().find(f);

export interface Options {
  dryRun: boolean;
  /** undefined: no budget; false: the budget is spent. */
  reserve?: boolean;
  maxConflicts?: number;
}
export const optionsArb: fc.Arbitrary<Options> = fc.record({
  dryRun: pick([[9, false], [1, true]]),
  reserve: pick<boolean | undefined>([[6, undefined], [3, true], [1, false]]),
  maxConflicts: pick<number | undefined>([[6, undefined], [1, 0], [1, 1]]),
});
export const optionsFor = (o: Options) => ({ dryRun: o.dryRun, ...(o.reserve === undefined ? {} : { reserve: () => o.reserve! }), ...(o.maxConflicts === undefined ? {} : { maxConflicts: o.maxConflicts }) });

export type Writer = { kind: 'sweep'; owned: boolean } | { kind: 'watch'; watched: string };
export const callStatus = pick<{ status: CallStatus; endedAgo?: number }>([
  [6, { status: 'completed', endedAgo: 10 * MIN }],
  [1, { status: 'completed', endedAgo: 30 * SEC }],
  [1, { status: 'completed', endedAgo: 2 * MIN }],
  [1, { status: 'canceled', endedAgo: 1 * HOUR }],
  [1, { status: 'busy', endedAgo: 1 * MIN }],
  [1, { status: 'in-progress' }],
  [1, { status: 'ringing' }],
]);
export const baseModel = (): ModelState => ({
  now: NOW,
  calls: {
    [OTHER_CALL_SID]: { sid: OTHER_CALL_SID, status: 'in-progress', startedAtMs: NOW - 5 * MIN },
    [ENDED_CALL_SID]: { sid: ENDED_CALL_SID, status: 'completed', startedAtMs: NOW - 4 * HOUR, endedAtMs: NOW - 3 * HOUR },
  },
  tasks: {},
  executions: {},
  flows: {},
  etags: true,
  ifMatch: true,
  flowReads: 'current',
});

// ---------------------------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------------------------
