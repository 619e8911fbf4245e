/** The soak's report: bench/results/soak-<timestamp>.json and soak-latest.md, and the pass/fail lines. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Quantiles } from './soakJudge';
import { SOAK_DEFAULTS, type SoakResult } from './soakRun';

/** The command line that repeats this run (options that differ from the defaults). */
function commandLine(o: SoakResult['options']): string {
  const flags: [string, unknown, unknown][] = [
    ['--calls', o.calls, SOAK_DEFAULTS.calls],
    ['--rate', o.rate, SOAK_DEFAULTS.rate],
    ['--grace', o.graceMs, SOAK_DEFAULTS.graceMs],
    ['--kill-rounds', o.killRounds, SOAK_DEFAULTS.killRounds],
    ['--poll-with-callbacks', o.pollWithCallbacksMs, undefined],
    ['--sweep-interval', o.sweepIntervalMs, SOAK_DEFAULTS.sweepIntervalMs],
    ['--settle', o.settleTimeoutMs, SOAK_DEFAULTS.settleTimeoutMs],
    ['--drop-callbacks', o.dropCallbacks, SOAK_DEFAULTS.dropCallbacks],
    ['--latency', o.latencyMs, SOAK_DEFAULTS.latencyMs],
  ];
  const parts = flags.filter(([, v, d]) => v !== undefined && v !== d).map(([f, v]) => `${f} ${String(v)}`);
  if (!o.faults) parts.push('--no-faults');
  return `npm run soak --${parts.length ? ` ${parts.join(' ')}` : ''}`;
}

export interface SoakCheck {
  name: string;
  pass: boolean;
  value: string;
}

const s = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
const q = (x: Quantiles) => `${s(x.medianMs)} / ${s(x.p95Ms)} / ${s(x.maxMs)} (n=${x.n})`;

/** The durability checks (asserted by the short soak) and the close-time target (reported only). */
export function soakChecks(r: SoakResult): { durability: SoakCheck[]; target: SoakCheck } {
  const v = r.verdict;
  const limitMs = r.options.graceMs + 30_000;
  return {
    durability: [
      { name: 'stuck left', pass: v.stuckLeft.length === 0, value: String(v.stuckLeft.length) },
      { name: 'live/protected touched', pass: v.touched.length === 0, value: String(v.touched.length) },
      { name: 'failed workflows', pass: v.failedWorkflows.count === 0, value: String(v.failedWorkflows.count) },
      { name: 'duplicate writes', pass: v.duplicateWrites.count === 0, value: String(v.duplicateWrites.count) },
    ],
    target: { name: `close p95 ≤ grace + 30 s (${s(limitMs)})`, pass: v.closeTime.p95Ms !== null && v.closeTime.p95Ms <= limitMs, value: s(v.closeTime.p95Ms) },
  };
}

export function renderSoakMarkdown(r: SoakResult, jsonFile: string): string {
  const v = r.verdict;
  const o = r.options;
  const { durability, target } = soakChecks(r);
  // Down time: from the SIGKILL to the restarted process being ready (the worker bundles its workflows first).
  const kills = r.processEvents.flatMap((e, i) => {
    if (e.what !== 'killed') return [];
    const back = r.processEvents.slice(i + 1).find((x) => x.proc === e.proc && (x.what === 'ready' || (e.proc === 'temporal' && x.what === 'started')));
    return [`${e.proc}${back ? ` (down ${((back.atMs - e.atMs) / 1000).toFixed(1)} s)` : ''}`];
  });
  const lines = [
    `# Soak ${r.startedAt}`,
    '',
    `\`${commandLine(o)}\` · ${o.calls} calls at ${o.rate}/s · grace ${s(o.graceMs)}, polling ${s(o.pollInitialMs)} → ${s(o.pollMaxMs)}, ` +
      `${o.pollWithCallbacksMs === undefined ? 'UNSTICK_POLL_WITH_CALLBACKS default' : `poll with callbacks ${s(o.pollWithCallbacksMs)}`}, sweep every ${s(o.sweepIntervalMs)} (plus one triggered after the last call) · faults ${o.faults ? 'on' : 'off'} · ` +
      `${r.host.cpus} vCPUs, load ${r.host.loadAvgAtStart.map((x) => x.toFixed(1)).join('/')} at start, Node ${r.host.node} · source \`${jsonFile}\``,
    '',
    `Killed (SIGKILL) and restarted: ${kills.join(', ') || 'none'}; children that exited on their own and were restarted: worker ${r.selfRestarts.worker}, webhook ${r.selfRestarts.webhook}.`,
    `Calls took ${r.phases.callsSeconds.toFixed(0)} s to start; ${r.phases.settled ? 'nothing was stuck' : 'still stuck'} ${r.phases.settleSeconds.toFixed(0)} s after the last one started.`,
    '',
    '| check | value | |',
    '| --- | ---: | --- |',
    ...durability.map((c) => `| ${c.name} | ${c.value} | ${c.pass ? 'PASS' : 'FAIL'} |`),
    `| ${target.name} | ${target.value} | ${target.pass ? 'PASS' : 'FAIL'} |`,
    '',
    `- **Close time** (call end or hang-up → the last of its resources closed by unstick; median / p95 / max): ${q(v.closeTime)}.`,
    ...Object.entries(v.closeTime.byStory).map(([k, x]) => `  - ${k}: ${q(x!)}`),
    `- **Twilio requests**: ${v.requests.total} (${v.requests.perCall} per call; ${v.requests.reads} reads, ${v.requests.writes} writes); faults answered: ${v.requests.tooManyRequests} × 429, ${v.requests.serverErrors} × 5xx, ${v.requests.dropped} dropped connections, ${v.requests.answersLost} answers lost after the write was applied.`,
    `- **Idempotence**: ${v.duplicateWrites.count} duplicate applied writes (${v.duplicateWrites.sweepExecutionRetries} of them the sweep re-sending an Execution end after a lost answer); ${v.refusedRetries} retried writes refused by Twilio (412/400/404) after the first was applied.`,
    `- **Callbacks and TaskRouter events**: ${v.callbacks.sent} sent, ${v.callbacks.dropped} dropped by the emulator, ${v.callbacks.failed} failed (webhook down).`,
    `- **Workflows**: ${v.workflows.callWatch} callWatch, ${v.workflows.sweep} sweep, ${v.workflows.running} still running (live calls' watches), ${v.failedWorkflows.count} failed/timed out/terminated.`,
    `- **Closed by callWatch**: ${v.closedByCallWatch} resources; **the sweep had to finish** ${v.sweep.closed} (${
      Object.entries(v.sweep.closedByStory).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'
    }) in ${v.sweep.runs} sweeps (${v.sweep.errors} errors).`,
    `- **Stories**: ${Object.entries(r.stories).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
  ];
  if (v.stuckLeft.length) lines.push('- Stuck left:', ...v.stuckLeft.slice(0, 20).map((x) => `  - ${x.story} ${x.sid} (${x.status}), call ${x.callSid ?? '–'} ${x.callStatus ?? ''}: watch ${x.watch ?? '–'}`));
  if (v.touched.length) lines.push(`- Touched: ${v.touched.slice(0, 20).map((x) => `${x.story} ${x.sid} (${x.status}, ${x.writes} writes)`).join(', ')}`);
  if (v.failedWorkflows.ids.length) lines.push(`- Failed workflows: ${v.failedWorkflows.ids.join(', ')}`);
  if (v.duplicateWrites.sids.length) lines.push(`- Duplicate writes: ${v.duplicateWrites.sids.map((d) => `${d.sid} (${d.statuses.join(',')}${d.bySweep ? ', sweep' : ''})`).join(', ')}`);
  return lines.join('\n') + '\n';
}

/** Writes soak-<timestamp>.json and soak-latest.md under `dir`; returns their paths. */
export function writeSoakResults(r: SoakResult, dir = path.resolve(__dirname, 'results')): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[:.]/g, '-');
  const json = path.join(dir, `soak-${stamp}.json`);
  const md = path.join(dir, 'soak-latest.md');
  writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(md, renderSoakMarkdown(r, path.relative(path.resolve(__dirname, '..'), json)));
  return { json, md };
}
