// The sweep benchmark at a tiny size: real emulator process, real dev server, real sweep workflow. Asserts the
// report's shape and that both runs closed exactly the same Tasks and no live-call Task (not the timing targets).
import { strict as assert } from 'node:assert';
import { runSweepBench } from '../../bench/sweep';
import { renderMarkdown } from '../../bench/sweepRender';
import type { SweepBenchReport } from '../../bench/sweepReport';

describe('sweep benchmark (smoke size)', function () {
  this.timeout(180_000);
  let report: SweepBenchReport;

  before(async () => {
    report = await runSweepBench({
      tasks: 120, latencyMs: 2, cap: 20, seed: 7, pageSize: 50, repeats: 2, warmups: 1, write: false, resultsDir: '', log: () => undefined,
    });
  });

  it('seeds the mix and closes exactly the same Tasks in both runs, none with a live call', () => {
    assert.deepEqual(report.seeded, { voiceEnded: 72, voiceLive: 36, chat: 6, unparsable: 6 });
    assert.equal(report.check.identicalSeeds, true);
    assert.equal(report.check.sameTasksClosed, true, JSON.stringify(report.check));
    assert.equal(report.check.baselineClosed, 72);
    assert.equal(report.check.unstickClosed, 72);
    assert.deepEqual(report.check.closedByCategory.baseline, { voiceEnded: 72, voiceLive: 0, chat: 0, unparsable: 0 });
    assert.deepEqual(report.check.closedByCategory.unstick, { voiceEnded: 72, voiceLive: 0, chat: 0, unparsable: 0 });
    assert.deepEqual(report.check.liveCallTasksClosed, { baseline: 0, unstick: 0 });
    assert.equal(report.check.runsChecked, 3, 'the warm-up run is checked too');
    assert.equal(report.check.pass, true);
  });

  it('reports wall times, requests from the emulator counters, the bound and the ratio', () => {
    // The seeded counts give each run's requests independently of the report: one write per stuck Task (72), the
    // reads below; the bound is those requests at 2 ms under a cap of 20.
    for (const run of [report.baseline, report.unstick]) {
      assert.ok(run.wallMs > 0);
      assert.equal(run.requests.writes, 72);
      assert.equal(run.requests.total, run.requests.reads + run.requests.writes);
      // At least a list page (3 for the sweep's page size of 50), and per closed Task a fresh read (unstick) or a Call
      // fetch (the seed cleaner, which also fetches every live call), and a write.
      const reads = run === report.baseline ? 1 + 108 : 3 + 72;
      assert.ok(run.boundMs >= ((reads + 72) * 2) / 20 - 1e-9, `bound ${run.boundMs} below what the seeded Tasks need`);
      assert.ok(run.boundFraction > 0 && run.boundFraction <= 1.5, `bound fraction ${run.boundFraction}`);
    }
    // The seed cleaner: one list page (PageSize 1000) and one Call fetch per voice Task with a parsable call_sid.
    assert.equal(report.baseline.requests.reads, 1 + 108);
    // The sweep: 3 list pages (page size 50), a live-call snapshot (3 Calls lists) per page activity, one list of
    // the completed calls that started in each page's span (its calls are proven over without a fetch each), a fetch
    // for a live call only when its Task is examined before the snapshot is in; then a fresh fetch of each of the 72
    // Tasks right before its write (the list only nominates).
    const r = report.unstick.requests.reads;
    assert.ok(r >= 3 + 3 + 72 && r <= 3 + 3 + 3 + 36 + 72, `unstick reads ${r}`);
    // The safe limit: a fresh read and a write per closed Task, and the 3 list pages, at 2 ms under a cap of 20.
    for (const run of [report.baseline, report.unstick]) {
      assert.equal(run.safeLimitMs, ((2 * 72 + 3) * 2) / 20);
      assert.ok(Math.abs(run.safeLimitFraction - run.safeLimitMs / run.wallMs) < 1e-9);
    }
    assert.equal(report.baseline.requests.maxInFlightSeen, 1, 'the baseline works one request at a time');
    assert.ok(report.unstick.requests.maxInFlightSeen <= 20, 'unstick stays under the cap');
    assert.equal(report.baseline.cleaner.updated, 72);
    assert.equal(report.baseline.cleaner.skipped, 12);
    assert.equal(report.unstick.sweep.counts.tasksSeen, 120);
    assert.equal(report.unstick.sweep.counts.closed['cancel-task'] + report.unstick.sweep.counts.closed['complete-task'], 72);
    assert.deepEqual(report.unstickRuns.map((u) => u.warmup === true), [true, false, false]);
    assert.ok(report.unstickRuns.slice(1).some((u) => u.wallMs === report.unstick.wallMs), 'the median is of the counted runs');
    // targets, the Task pages (one multi-page activity), the Execution pages of every Flow (one activity), all
    // inside the measured wall time.
    assert.equal(report.unstick.temporal.activities, 3, `activities ${report.unstick.temporal.activities}`);
    assert.equal(report.unstick.temporal.activityMs.length, report.unstick.temporal.activities);
    assert.ok(report.unstick.temporal.inActivitiesMs > 0 && report.unstick.temporal.inActivitiesMs < report.unstick.wallMs);
    assert.ok(report.unstickRuns.some((u) => u.wallMs === report.unstick.wallMs), 'the reported unstick figures are one of the runs');
    assert.ok(report.requestsPerClosedTask.unstick >= (72 + 72) / 72, 'a fresh Task read and a write per closed Task');
    assert.ok(report.requestsPerClosedTask.unstick <= 2.3, `requests per closed Task ${report.requestsPerClosedTask.unstick}: no Call fetch per ended call`);
    assert.ok(report.requestsPerClosedTask.baseline >= (108 + 72) / 72);
    assert.deepEqual(report.targets.map((t) => t.target), [50, 0.7, 2.1]);
    for (const t of report.targets) assert.equal(t.pass, t.unit === 'requests' ? t.value <= t.target : t.value >= t.target);
    const md = renderMarkdown(report);
    assert.match(md, /\| seed cleaner \(baseline\) \|/);
    assert.match(md, /same Tasks closed with the same status: \*\*yes\*\*/);
  });
});
