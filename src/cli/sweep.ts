/**
 * `unstick sweep [--dry-run] [--max-actions N] [--wait]`: starts one sweep now. With --wait it follows the sweep
 * through its `progress` query (a progress bar on a terminal, plain lines otherwise), prints the report as a table,
 * and exits 1 when the sweep failed or reported errors.
 */
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { Config } from '../config';
import { connectTemporal } from '../client';
import { SWEEP_WORKFLOW_TYPE, sweepWorkflowId } from '../shared/names';
import { sweepInputFromConfig } from '../shared/sweepSettings';
import { progressQuery, type SweepInput, type SweepProgress, type SweepReport } from '../shared/sweepTypes';
import { EXIT_FAILURE, getConfig } from './context';

export interface SweepCommandOptions {
  dryRun?: boolean;
  maxActions?: number;
  concurrency?: number;
  pageSize?: number;
  workspace?: string[];
  flow?: string[];
  wait?: boolean;
  json?: boolean;
}

export interface SweepCommandIo {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  /** How often the progress query is asked while waiting. Default 500 ms. */
  pollMs?: number;
}

/** A unique sweep workflow id: `sweep:<ISO time to the millisecond>`. */
const newSweepWorkflowId = (now = new Date()): string => sweepWorkflowId(now.toISOString());

function sweepInputFromOptions(config: Config, opts: SweepCommandOptions): SweepInput {
  const input = sweepInputFromConfig(config, 'cli');
  if (opts.dryRun) input.dryRun = true;
  if (opts.maxActions !== undefined) input.maxActions = opts.maxActions;
  if (opts.concurrency !== undefined) input.concurrency = opts.concurrency;
  if (opts.pageSize !== undefined) input.pageSize = opts.pageSize;
  if (opts.workspace?.length) input.workspaceSids = opts.workspace;
  if (opts.flow?.length) input.flowSids = opts.flow;
  return input;
}

function renderSweepReport(r: SweepReport): string {
  const c = r.counts;
  const t = new Table({ head: ['', r.dryRun ? 'would do' : 'done'], colAligns: ['left', 'right'], style: { head: [], border: [] } });
  const closedOf = r.dryRun ? c.wouldClose : c.closed;
  t.push(
    ['Tasks examined', c.tasksSeen],
    ['Executions examined', c.executionsSeen],
    ['Tasks canceled', closedOf['cancel-task']],
    ['Tasks completed', closedOf['complete-task']],
    ['Executions ended', closedOf['end-execution']],
    ['Already closed', c.alreadyClosed],
    ['Changed under us', c.changed],
    ['Not written (maxActions)', c.capped],
    ['Errors', c.errors],
  );
  for (const [reason, n] of Object.entries(c.skipped).sort((a, b) => b[1] - a[1])) t.push([`Skipped: ${reason}`, n]);
  t.push(['Twilio requests (reads/writes/429)', `${c.requests.reads}/${c.requests.writes}/${c.requests.throttled}`]);
  t.push(['Pages / workflow runs', `${r.pages} / ${r.runs}`]);
  t.push(['Duration', `${((r.finishedAtMs - r.startedAtMs) / 1000).toFixed(1)} s`]);
  const lines = [`Sweep ${r.sweepId}${r.dryRun ? ' (dry run: nothing written)' : ''}`, t.toString(), r.summary];
  if (r.capReached) lines.push(`Stopped at maxActions=${r.maxActions}: the rest is left for the next sweep.`);
  if (r.actions.length) {
    const a = new Table({ head: ['action', 'sid', 'call', 'from', 'result'], style: { head: [], border: [] } });
    for (const x of r.actions.slice(0, 50)) a.push([x.kind, x.sid, x.callSid ?? '', x.fromStatus, x.result]);
    lines.push(a.toString());
    const more = r.actions.length - 50 + r.actionsOmitted;
    if (more > 0) lines.push(`…and ${more} more actions (see the workflow result in the Web UI).`);
  }
  for (const e of r.errors.slice(0, 20)) lines.push(`error: ${e.sid ? `${e.sid}: ` : ''}${e.message}`);
  return lines.join('\n');
}

const progressLine = (p: SweepProgress): string =>
  `[${p.sweepId}] ${p.phase}${p.target ? ` ${p.target} (${p.targetIndex + 1}/${p.targetCount})` : ''}: page ${p.pages}, examined ${p.seen}, ${p.dryRun ? 'would close' : 'closed'} ${p.acted}, skipped ${p.skipped}, errors ${p.errors}${p.capReached ? ', maxActions reached' : ''}`;

/** Follows a running sweep until it ends; renders progress on `io.out`. */
async function follow(client: Client, workflowId: string, io: SweepCommandIo): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  const pollMs = io.pollMs ?? 500;
  const tty = !!io.out.isTTY;
  const bar = tty ? new SingleBar({ stream: io.out, format: '{phase} |{bar}| {value}/{total} examined | {acted} | {skipped} skipped | {errors} errors', hideCursor: true }, Presets.shades_classic) : undefined;
  let done = false;
  const result = handle.result().finally(() => (done = true));
  let lastLine = '';
  let started = false;
  try {
    while (!done) {
      try {
        const p = await handle.query(progressQuery);
        // The total is unknown up front (Twilio lists have no count): one more page is assumed while pages follow.
        const total = Math.max(1, p.seen + (p.morePages || p.phase === 'targets' ? 1000 : 0));
        const payload = { phase: p.phase, acted: `${p.dryRun ? 'would close' : 'closed'} ${p.acted}`, skipped: p.skipped, errors: p.errors };
        if (bar) {
          if (!started) bar.start(total, p.seen, payload);
          else {
            bar.setTotal(total);
            bar.update(p.seen, payload);
          }
          started = true;
        } else {
          const line = progressLine(p);
          if (line !== lastLine) io.out.write(`${line}\n`);
          lastLine = line;
        }
      } catch {
        // Not queryable yet (no worker picked it up) or already closed: keep waiting for the result.
      }
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
    }
  } finally {
    bar?.stop();
  }
}

/** Starts a sweep; with `wait`, follows it and prints the report. Returns the exit code. */
export async function runSweepCommand(client: Client, config: Config, opts: SweepCommandOptions, io: SweepCommandIo): Promise<number> {
  const input = sweepInputFromOptions(config, opts);
  const workflowId = newSweepWorkflowId();
  const handle = await client.workflow.start(SWEEP_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    args: [input],
    staticSummary: `unstick sweep (by hand${input.dryRun ? ', dry run' : ''}, maxActions ${input.maxActions})`,
  });
  if (!opts.wait) {
    io.out.write(opts.json ? `${JSON.stringify({ workflowId, runId: handle.firstExecutionRunId })}\n` : `started ${workflowId}${input.dryRun ? ' (dry run)' : ''}; follow it in the Web UI or with --wait\n`);
    return 0;
  }
  if (!opts.json) io.out.write(`started ${workflowId}${input.dryRun ? ' (dry run)' : ''}\n`);
  if (!opts.json) await follow(client, workflowId, io);
  try {
    const report = (await handle.result()) as SweepReport;
    io.out.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderSweepReport(report)}\n`);
    return report.counts.errors > 0 ? EXIT_FAILURE : 0;
  } catch (err) {
    const cause = err instanceof WorkflowFailedError && err.cause ? `: ${err.cause.message}` : '';
    io.out.write(`sweep ${workflowId} failed${cause}\n`);
    return EXIT_FAILURE;
  }
}

const intArg = (name: string, min: number) => (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  program
    .command('sweep')
    .description('run one sweep now: close stuck Tasks and Executions (same rules as the scheduled sweep)')
    .option('--dry-run', 'decide and report, write nothing')
    .option('--max-actions <n>', 'cap on writes for this sweep (0 = no cap; default UNSTICK_SWEEP_MAX_ACTIONS)', intArg('--max-actions', 0))
    .option('--concurrency <n>', 'Twilio requests in flight (default UNSTICK_SWEEP_CONCURRENCY)', intArg('--concurrency', 1))
    .option('--page-size <n>', 'resources per list page, up to 1000', intArg('--page-size', 1))
    .option('--workspace <WS…>', 'only this Workspace (repeatable; default TWILIO_WORKSPACE_SIDS or all)', collect)
    .option('--flow <FW…>', 'only this Flow (repeatable; default TWILIO_FLOW_SIDS or all)', collect)
    .option('--wait', 'follow the sweep and print its report; exit 1 if it failed or had errors')
    .option('--json', 'machine-readable output')
    .action(async (opts: SweepCommandOptions) => {
      const config = getConfig();
      const { connection, client } = await connectTemporal(config.temporal);
      try {
        process.exitCode = await runSweepCommand(client, config, opts, { out: process.stdout });
      } finally {
        await connection.close();
      }
    });
}
