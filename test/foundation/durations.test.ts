// Durations shown by `schedule describe` and `schedule apply` read back as the same milliseconds config parses.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDurationMs, parseDurationMs } from '../../src/configValues';

describe('config: durations', () => {
  const cases: [number, string][] = [[4 * 3_600_000, '4h'], [120_000, '2m'], [90_000, '90s'], [1500, '1500ms'], [1001, '1001ms'], [0, '0h']];
  for (const [ms, text] of cases) it(`${ms} ms is shown as ${text}`, () => assert.equal(formatDurationMs(ms), text));
  it('whatever whole number of milliseconds is shown, it parses back to itself', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 30 * 24 * 3_600_000 }), (ms) => parseDurationMs(formatDurationMs(ms)) === ms), { numRuns: 2000 });
    for (let ms = 0; ms < 5000; ms++) assert.equal(parseDurationMs(formatDurationMs(ms)), ms, formatDurationMs(ms));
  });
});
