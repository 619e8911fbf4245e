/**
 * `unstick report [--since 7d] [--html out.html] [--json]`: where Executions got stuck, from the results of the
 * callWatch and sweep workflows closed in the window (Temporal visibility; no Twilio request). See README
 * "Where Executions get stuck".
 */
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { Client } from '@temporalio/client';
import { connectTemporal } from '../client';
import { parseDurationMs } from '../configValues';
import { aggregate, type StuckReport } from '../report/aggregate';
import { collectStuck } from '../report/collect';
import { renderReportHtml, renderReportTable } from '../report/render';
import { getConfig } from './context';

export interface ReportCommandOptions {
  since: string;
  html?: string;
  json?: boolean;
  maxWorkflows?: number;
}

export function sinceMsOf(raw: string, nowMs: number): number {
  const d = parseDurationMs(raw);
  if (!Number.isFinite(d) || d <= 0) throw new Error(`--since must be a duration like 7d, 24h or 30m, got ${JSON.stringify(raw)}`);
  return nowMs - d;
}

export async function runReportCommand(client: Client, opts: ReportCommandOptions, out: NodeJS.WritableStream, nowMs = Date.now()): Promise<StuckReport> {
  const sinceMs = sinceMsOf(opts.since, nowMs);
  const c = await collectStuck(client, { sinceMs, ...(opts.maxWorkflows ? { maxWorkflows: opts.maxWorkflows } : {}) });
  const report = aggregate(c.items, { sinceMs, untilMs: nowMs }, c.workflowsRead);
  if (opts.html) writeFileSync(opts.html, renderReportHtml(report));
  out.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReportTable(report)}\n`);
  if (c.skipped > 0 && !opts.json) out.write(`(${c.skipped} workflows not read: over --max-workflows or result unreadable)\n`);
  if (opts.html && !opts.json) out.write(`wrote ${opts.html}\n`);
  return report;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('where Executions got stuck: by Flow and widget, number, cause and over time, from the workflows\' results')
    .option('--since <duration>', 'window ending now: 7d, 24h, 30m', (v: string) => {
      try {
        sinceMsOf(v, Date.now());
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
      return v;
    }, '7d')
    .option('--html <file>', 'also write an HTML page with charts (opens offline)')
    .option('--json', 'print the aggregated report as JSON')
    .option('--max-workflows <n>', 'read at most this many workflow results (default 5000)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--max-workflows must be a whole number ≥ 1, got ${JSON.stringify(v)}`);
      return n;
    })
    .action(async (opts: ReportCommandOptions) => {
      const config = getConfig();
      const { connection, client } = await connectTemporal(config.temporal);
      try {
        await runReportCommand(client, opts, process.stdout);
      } finally {
        await connection.close();
      }
    });
}
