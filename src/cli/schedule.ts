/**
 * `unstick schedule apply|pause|unpause|trigger|describe`: the Temporal Schedule `unstick-sweep`.
 * Also registers an `up` hook so the sandbox applies the Schedule once the dev server is ready.
 */
import type { Command } from 'commander';
import type { Client, ScheduleDescription } from '@temporalio/client';
import { connectTemporal } from '../client';
import type { Config } from '../config';
import { applySchedule, describeSchedule, pauseSchedule, renderScheduleChanges, ScheduleDiffersError, triggerSchedule, unpauseSchedule } from '../schedule';
import { formatDurationMs } from '../configValues';
import { SCHEDULE_ID } from '../shared/names';
import { EXIT_CONFIG, getConfig } from './context';
import { registeredUpHooks, registerUpHook } from './upHooks';

const fmtMs = (ms: number | undefined): string => (ms === undefined ? '-' : formatDurationMs(ms));

function renderScheduleDescription(d: ScheduleDescription): string {
  const cadence = [
    ...(d.spec.intervals ?? []).map((i) => `every ${fmtMs(Number(i.every))}`),
    ...(d.spec.calendars ?? []).map((c) => `calendar ${c.comment ?? JSON.stringify(c)}`),
  ].join(', ');
  const recent = d.info.recentActions.slice(-5).map((a) => `  ${a.scheduledAt.toISOString()} → ${a.action.workflow.workflowId}`);
  const next = d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()).join(', ');
  return [
    `Schedule ${d.scheduleId}${d.state.paused ? ' (PAUSED)' : ''}`,
    `  cadence: ${cadence || '-'}`,
    `  overlap: ${d.policies.overlap}, catch-up window: ${fmtMs(Number(d.policies.catchupWindow))}`,
    `  workflow: ${d.action.workflowType} on ${d.action.taskQueue}`,
    `  runs so far: ${d.info.numActionsTaken}, skipped for overlap: ${d.info.numActionsSkippedOverlap}, running: ${d.info.runningActions.length}`,
    `  next: ${next || '-'}`,
    ...(d.state.note ? [`  note: ${d.state.note}`] : []),
    ...(recent.length ? ['  recent:', ...recent] : []),
  ].join('\n');
}

async function withClient(fn: (client: Client, config: Config) => Promise<void>): Promise<void> {
  const config = getConfig();
  const { connection, client } = await connectTemporal(config.temporal);
  try {
    await fn(client, config);
  } finally {
    await connection.close();
  }
}

export function register(program: Command): void {
  const cmd = program.command('schedule').description(`manage the Temporal Schedule ${SCHEDULE_ID} that runs the sweep`);
  cmd
    .command('apply')
    .description('create the Schedule; an existing one is changed only with --replace (else the differences are listed, exit 2)')
    .option('--paused', 'create/leave it paused')
    .option('--replace', "replace the existing Schedule's settings where they differ from this configuration")
    .action((opts: { paused?: boolean; replace?: boolean }) =>
      withClient(async (client, config) => {
        try {
          const { outcome, changes } = await applySchedule(client, config, { paused: opts.paused, replace: opts.replace });
          const changed = changes.length ? `${renderScheduleChanges(changes)}\n` : '';
          process.stdout.write(`${outcome} ${SCHEDULE_ID}\n${changed}${renderScheduleDescription(await describeSchedule(client))}\n`);
        } catch (err) {
          if (!(err instanceof ScheduleDiffersError)) throw err;
          process.stderr.write(
            `${SCHEDULE_ID} exists with settings this configuration would change; nothing was changed:\n${renderScheduleChanges(err.changes)}\n` +
              "Set those variables to the Schedule's values (the sandbox's: --dotenv .unstick/sandbox.env), or re-run with --replace to apply this configuration.\n",
          );
          process.exitCode = EXIT_CONFIG;
        }
      }),
    );
  cmd
    .command('pause')
    .description('stop starting sweeps until unpaused')
    .option('--note <text>', 'why (shown in the Web UI)')
    .action((opts: { note?: string }) => withClient(async (client) => {
      await pauseSchedule(client, opts.note);
      process.stdout.write(`paused ${SCHEDULE_ID}\n`);
    }));
  cmd
    .command('unpause')
    .description('resume the Schedule')
    .option('--note <text>', 'why (shown in the Web UI)')
    .action((opts: { note?: string }) => withClient(async (client) => {
      await unpauseSchedule(client, opts.note);
      process.stdout.write(`unpaused ${SCHEDULE_ID}\n`);
    }));
  cmd
    .command('trigger')
    .description('start a sweep now (skipped if one is running)')
    .action(() => withClient(async (client) => {
      await triggerSchedule(client);
      process.stdout.write(`triggered ${SCHEDULE_ID}\n`);
    }));
  cmd
    .command('describe')
    .description('show cadence, policies, recent and next runs')
    .option('--json', 'raw description as JSON')
    .action((opts: { json?: boolean }) => withClient(async (client) => {
      const d = await describeSchedule(client);
      process.stdout.write(opts.json ? `${JSON.stringify({ ...d, raw: undefined }, null, 2)}\n` : `${renderScheduleDescription(d)}\n`);
    }));

  // `npm start` (unstick up): apply the Schedule once the dev server is up (the sandbox's configuration is the one that
  // counts there, so it replaces what differs), then start a first sweep now rather than an interval from now.
  if (!registeredUpHooks().some((h) => h.name === 'schedule')) {
    registerUpHook(
      'schedule',
      async (ctx) => {
        const { outcome, changes } = await applySchedule(ctx.client, ctx.config, { replace: true });
        if (changes.length) ctx.log.info(`${SCHEDULE_ID} updated to this configuration:\n${renderScheduleChanges(changes)}`);
        const cadence = ctx.config.sweep.cron ? `cron ${ctx.config.sweep.cron}` : `every ${fmtMs(ctx.config.sweep.intervalMs)}`;
        // A pause an operator set is kept, and then no sweep is started either.
        const paused = (await describeSchedule(ctx.client)).state.paused;
        if (!paused) await triggerSchedule(ctx.client);
        ctx.announce('Sweep schedule', `${SCHEDULE_ID} (${outcome}; ${cadence}; ${paused ? 'PAUSED: no sweep started' : 'first sweep started now'})`);
      },
      { order: 50 },
    );
  }
}
