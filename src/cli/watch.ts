/**
 * `npx unstick watch <CallSid>`: start the callWatch of one call by hand — for a call whose webhooks never arrived.
 * The watch polls the Call itself, so no callback is needed. A watch already running is reported with its state; a
 * finished one (within retention) is reported and not started again.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { connectTemporal } from '../client';
import type { Config } from '../config';
import { isCallSid } from '../policy/attributes';
import { callWatchSettingsFromConfig } from '../shared/callWatchSettings';
import { stateQuery } from '../shared/messages';
import { startCallWatch, type StartCallWatchOutcome } from '../temporal/startCallWatch';
import type { CallWatchResult } from '../workflows/callWatch';
import { EXIT_FAILURE, getConfig } from './context';

export async function startWatch(
  client: Client,
  config: Config,
  callSid: string,
  opts: { dryRun?: boolean } = {},
): Promise<{ workflowId: string; started: boolean; outcome: StartCallWatchOutcome }> {
  const settings = callWatchSettingsFromConfig(config);
  if (opts.dryRun) settings.dryRun = true;
  const outcome = await startCallWatch(client, callSid, {
    taskQueue: config.temporal.taskQueue,
    input: { startedBy: 'manual', settings },
    summary: `call ${callSid} (started by hand)`,
  });
  return { workflowId: outcome.workflowId, started: outcome.kind === 'started', outcome };
}

/** The line `unstick watch` prints for what the start found. */
export function describeWatchStart(o: StartCallWatchOutcome): string {
  switch (o.kind) {
    case 'started':
      return `started ${o.workflowId}`;
    case 'signalled':
      return `signalled ${o.workflowId}`;
    case 'running':
      return `${o.workflowId} already running (run ${o.runId}): nothing started`;
    case 'closed':
      return `${o.workflowId} already finished${o.status ? ` (${o.status})` : ''}: nothing started`;
  }
}

export function register(program: Command): void {
  program
    .command('watch <callSid>')
    .description('start the callWatch workflow of one call by hand (it polls the call; no webhook needed)')
    .option('--dry-run', 'decide and record, write nothing')
    .option('--wait', 'wait for the watch to finish and print its result')
    .action(async (callSid: string, opts: { dryRun?: boolean; wait?: boolean }) => {
      if (!isCallSid(callSid)) {
        process.stderr.write(`"${callSid}" is not a Call SID: CA followed by 32 hex digits\n`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      const config = getConfig();
      const { connection, client } = await connectTemporal(config.temporal);
      try {
        const { workflowId, outcome } = await startWatch(client, config, callSid, opts);
        const handle = client.workflow.getHandle(workflowId);
        process.stdout.write(`${describeWatchStart(outcome)}\n`);
        if (!opts.wait) {
          if (outcome.kind === 'running') process.stdout.write(`${JSON.stringify(await handle.query(stateQuery))}\n`);
          return;
        }
        const result = (await handle.result()) as CallWatchResult;
        process.stdout.write(`${result.summary}\noutcome: ${result.outcome}\n`);
      } finally {
        await connection.close();
      }
    });
}
