/** The sweep benchmark's report as markdown (bench/results/sweep-latest.md), as a summary on stdout, and as files. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CATEGORIES, type RunFigures, type SweepBenchReport } from './sweepReport';

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const targetValue = (t: SweepBenchReport['targets'][number]) => (t.unit === 'requests' ? t.value.toFixed(2) : t.target < 1 ? pct(t.value) : `${t.value.toFixed(1)}×`);

function row(name: string, f: RunFigures): string {
  const perReq = (ms: number) => (f.requests.total ? (ms / f.requests.total).toFixed(2) : '–');
  return `| ${name} | ${s(f.wallMs)} | ${f.requests.total} (${f.requests.reads} / ${f.requests.writes}) | ${f.requests.tooManyRequests} | ` +
    `${f.requests.maxInFlightSeen} | ${s(f.safeLimitMs)} | ${pct(f.safeLimitFraction)} | ${s(f.boundMs)} | ${pct(f.boundFraction)} | ${perReq(f.cpuMs.client)} / ${perReq(f.cpuMs.emulator)} |`;
}

export function renderMarkdown(r: SweepBenchReport): string {
  const p = r.params;
  const lines = [
    `# Sweep benchmark — ${r.finishedAt}`,
    '',
    `${p.tasks} open Tasks (${CATEGORIES.map((c) => `${r.seeded[c]} ${c}`).join(', ')}), ${p.latencyMs} ms latency per request, ` +
      `cap ${p.cap} requests in flight per account, seed ${p.seed}; unstick concurrency ${p.concurrency}, page size ${p.pageSize}` +
      `${p.httpClient === 'node' ? ', **EXPERIMENT: unstick with a node:http httpClient instead of the SDK\'s axios**' : ''}. ` +
      `Host: ${r.host.cpus} × ${r.host.cpuModel}, Node ${r.host.node}, load average ${r.host.loadavgAtStart.map((x) => x.toFixed(1)).join(' ')} at start, ` +
      `${r.host.loadavgAtEnd.map((x) => x.toFixed(1)).join(' ')} at the end. Emulator in its own process.`,
    '',
    '| | wall time | Twilio requests (reads / writes) | 429s | max in flight | safe limit ((2 × closed + list pages) × latency ÷ cap) | safe limit ÷ wall | bound (req × latency ÷ cap) | bound ÷ wall | CPU ms per request: client / emulator |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('seed cleaner (baseline)', r.baseline),
    row('unstick sweep', r.unstick),
    '',
    `Task list items ${p.listAttributes === 'null' ? '**without** attributes (Twilio\'s spec for lists: unstick fetches every voice Task)' : 'with attributes'} in the unstick runs. ` +
      `Twilio requests per closed Task: baseline ${r.requestsPerClosedTask.baseline.toFixed(2)}, unstick ${r.requestsPerClosedTask.unstick.toFixed(2)} ` +
      '(unstick reads each Task fresh before its If-Match write; the safe limit counts that read and the write, and the Task list pages).',
    '',
    `Speed-up (baseline ÷ unstick): **${r.speedup.toFixed(1)}×**.` +
      (r.unstickRuns.length > 1
        ? ` unstick figures are the median of ${r.params.repeats} run(s) on identical state` +
          `${r.params.warmups ? ` after ${r.params.warmups} warm-up run(s) in the same worker process (not counted)` : ''}: ` +
          r.unstickRuns.map((u) => `${u.warmup ? 'warm-up ' : ''}${s(u.wallMs)} (${pct(u.safeLimitFraction)} of the safe limit, ${pct(u.boundFraction)} of the bound, CPU ${s(u.cpuMs.client)} client / ${s(u.cpuMs.emulator)} emulator)`).join(', ') + '.'
        : ''),
    '',
    `Closed: baseline ${r.check.baselineClosed}, unstick ${r.check.unstickClosed}; same Tasks closed with the same status: ` +
      `**${r.check.sameTasksClosed ? 'yes' : 'NO'}**; live-call Tasks closed: baseline ${r.check.liveCallTasksClosed.baseline}, unstick ${r.check.liveCallTasksClosed.unstick}` +
      `${r.check.identicalSeeds ? ' (both seedings produced identical SIDs)' : ' (SIDs mapped by category and position)'}.`,
    '',
    '| target | value | result |',
    '| --- | ---: | --- |',
    ...r.targets.map((t) => `| ${t.name} | ${targetValue(t)} | ${t.pass ? 'PASS' : 'FAIL'} |`),
    `| same Tasks closed, no live-call Task closed | ${r.check.pass ? 'yes' : 'no'} | ${r.check.pass ? 'PASS' : 'FAIL'} |`,
    '',
    `Temporal share of the unstick run: ${s(r.unstick.temporal.inActivitiesMs)} inside ${r.unstick.temporal.activities} activities (the Twilio work), ` +
      `${s(r.unstick.temporal.outsideActivitiesMs)} outside them (workflow start and result, workflow tasks, activity scheduling; ` +
      `schedule-to-start ${s(r.unstick.temporal.scheduleToStartMs)} in total).`,
    '',
    `unstick sweep: ${r.unstick.sweep.summary}`,
    '',
  ];
  return lines.join('\n');
}

export function renderSummary(r: SweepBenchReport): string {
  return [
    `baseline ${s(r.baseline.wallMs)} (${r.baseline.requests.total} requests), unstick ${s(r.unstick.wallMs)} (${r.unstick.requests.total} requests, ${r.unstick.requests.tooManyRequests} × 429)`,
    `speed-up ${r.speedup.toFixed(1)}×; safe limit ${s(r.unstick.safeLimitMs)}, reached ${pct(r.unstick.safeLimitFraction)}; bound ${s(r.unstick.boundMs)}, reached ${pct(r.unstick.boundFraction)}`,
    `list attributes ${r.params.listAttributes}; requests per closed Task: baseline ${r.requestsPerClosedTask.baseline.toFixed(2)}, unstick ${r.requestsPerClosedTask.unstick.toFixed(2)}`,
    `CPU during the unstick run: client+worker ${s(r.unstick.cpuMs.client)}, emulator ${s(r.unstick.cpuMs.emulator)} (load average at start ${r.host.loadavgAtStart[0]?.toFixed(1)})`,
    `unstick time inside ${r.unstick.temporal.activities} activities ${s(r.unstick.temporal.inActivitiesMs)}, outside them ${s(r.unstick.temporal.outsideActivitiesMs)} (schedule-to-start ${s(r.unstick.temporal.scheduleToStartMs)})`,
    ...r.targets.map((t) => `${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${targetValue(t)}`),
    `${r.check.pass ? 'PASS' : 'FAIL'}  same Tasks closed (${r.check.baselineClosed} vs ${r.check.unstickClosed}), live-call Tasks closed: ${r.check.liveCallTasksClosed.baseline} / ${r.check.liveCallTasksClosed.unstick}`,
  ].join('\n');
}

export function writeResults(r: SweepBenchReport, dir: string): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = r.finishedAt.replace(/[:.]/g, '-');
  const mode = r.params.listAttributes === 'null' ? '-null-list-attributes' : '';
  const json = path.join(dir, `sweep${mode}-${stamp}.json`);
  const md = path.join(dir, `sweep${mode}-latest.md`);
  // The per-Task maps of closed SIDs are kept in memory for the check; the file gets their sizes.
  const slim = (k: string, v: unknown) => (k === 'closed' && v && typeof v === 'object' && !('cancel-task' in v) ? Object.keys(v).length : v);
  writeFileSync(json, `${JSON.stringify(r, slim, 2)}\n`);
  writeFileSync(md, renderMarkdown(r));
  return { json, md };
}
