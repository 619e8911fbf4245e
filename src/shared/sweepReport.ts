/** The sweep's audit report (its result) and its Markdown rendering for the Web UI's current details. Workflow-safe. */
import { CAUSE_FIXES } from '../policy/stuckCause';
import type { SweepActionRecord, SweepCounts, SweepError } from './sweepCounts';

export interface SweepReport {
  sweepId: string;
  startedBy: string;
  dryRun: boolean;
  maxActions: number;
  startedAtMs: number;
  finishedAtMs: number;
  workspaceSids: string[];
  flowSids: string[];
  channels: string[];
  counts: SweepCounts;
  actions: SweepActionRecord[];
  actionsOmitted: number;
  errors: SweepError[];
  errorsOmitted: number;
  /** True when maxActions stopped the sweep: the rest is left for the next run. */
  capReached: boolean;
  notExamined: number;
  pages: number;
  resumedPages: number;
  /** Workflow runs (1 + continueAsNew count). */
  runs: number;
  /** One line for humans. */
  summary: string;
}

/** Markdown summary of a report or a running sweep, for the Web UI's current details. */
export function sweepMarkdown(r: Pick<SweepReport, 'sweepId' | 'dryRun' | 'counts' | 'capReached' | 'maxActions' | 'pages' | 'runs' | 'actions' | 'actionsOmitted' | 'errors'> & { phase?: string }): string {
  const c = r.counts;
  const lines = [
    `## Sweep ${r.sweepId}${r.dryRun ? ' (dry run)' : ''}${r.phase ? ` — ${r.phase}` : ''}`,
    '',
    '| | count |',
    '| --- | ---: |',
    `| Tasks examined | ${c.tasksSeen} |`,
    `| Executions examined | ${c.executionsSeen} |`,
    `| Tasks canceled | ${r.dryRun ? c.wouldClose['cancel-task'] : c.closed['cancel-task']} |`,
    `| Tasks completed | ${r.dryRun ? c.wouldClose['complete-task'] : c.closed['complete-task']} |`,
    `| Executions ended | ${r.dryRun ? c.wouldClose['end-execution'] : c.closed['end-execution']} |`,
    `| Already closed | ${c.alreadyClosed} |`,
    `| Changed under us | ${c.changed} |`,
    `| Not written (maxActions) | ${c.capped} |`,
    `| Errors | ${c.errors} |`,
    `| Pages / runs | ${r.pages} / ${r.runs} |`,
    `| Twilio requests (reads / writes / 429s) | ${c.requests.reads} / ${c.requests.writes} / ${c.requests.throttled} |`,
  ];
  if (r.dryRun) lines.push('', '_Dry run: the counts of canceled/completed/ended are what it would do; nothing was written._');
  if (r.capReached) lines.push('', `**Stopped at maxActions = ${r.maxActions}**; the rest is left for the next sweep.`);
  const skipped = Object.entries(c.skipped).sort((a, b) => b[1] - a[1]);
  if (skipped.length) {
    lines.push('', '### Skipped', '', '| reason | count |', '| --- | ---: |');
    for (const [reason, n] of skipped) lines.push(`| ${reason} | ${n} |`);
  }
  lines.push(...stuckCausesMarkdown(r.actions));
  if (r.actions.length) {
    lines.push('', '### Actions', '', '| action | sid | call | result | from |', '| --- | --- | --- | --- | --- |');
    for (const a of r.actions.slice(0, 25)) lines.push(`| ${a.kind} | ${a.sid} | ${a.callSid ?? ''} | ${a.result} | ${a.fromStatus} |`);
    const more = r.actions.length - 25 + r.actionsOmitted;
    if (more > 0) lines.push('', `…and ${more} more (full list, up to the cap, in the workflow result).`);
  }
  if (r.errors.length) {
    lines.push('', '### Errors', '');
    for (const e of r.errors.slice(0, 10)) lines.push(`- ${e.sid ? `${e.sid}: ` : ''}${e.message}`);
  }
  return lines.join('\n');
}

/** The top causes of the Executions in these actions (README "Where Executions get stuck"), each with its fix. */
export function stuckCausesMarkdown(actions: readonly SweepActionRecord[], top = 5): string[] {
  const counts = new Map<string, number>();
  for (const a of actions) if (a.stuck) counts.set(a.stuck.cause, (counts.get(a.stuck.cause) ?? 0) + 1);
  if (counts.size === 0) return [];
  const lines = ['', '### Where Executions got stuck (top causes)', '', '| cause | count | audit check | fix |', '| --- | ---: | --- | --- |'];
  for (const [cause, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const f = CAUSE_FIXES[cause as keyof typeof CAUSE_FIXES] ?? CAUSE_FIXES.unknown;
    lines.push(`| ${f.label} | ${n} | ${f.auditCheck ?? ''} | ${f.fix.replaceAll('|', '\\|')} |`);
  }
  return lines;
}
