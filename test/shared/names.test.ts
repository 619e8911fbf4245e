// Workflow ids built from names.ts parse back to what they were built from, and nothing else parses.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { callSidOfWorkflowId, callWorkflowId, sweepWorkflowId } from '../../src/shared/names';

describe('shared: names', () => {
  it('callSidOfWorkflowId inverts callWorkflowId for any non-empty SID', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), (sid) => callSidOfWorkflowId(callWorkflowId(sid)) === sid));
  });
  const notCallIds: string[] = ['', 'call:', 'CA123', 'Call:CA123', sweepWorkflowId('2026-12-03T00:00:00Z'), ' call:CA1'];
  for (const id of notCallIds) it(`${JSON.stringify(id)} is no callWatch id`, () => assert.equal(callSidOfWorkflowId(id), undefined));
});
