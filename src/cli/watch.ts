/**
 * `npx unstick watch <CallSid>`: start (or find) the callWatch of one call by hand — for a call whose webhooks never
 * arrived, or to re-check one. The watch polls the Call itself, so no callback is needed.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { connectTemporal } from '../client';
import type { Config } from '../config';
import { isCallSid } from '../policy/attributes';
import { callWatchSettingsFromConfig } from '../shared/callWatchSettings';
import { CALL_WATCH_WORKFLOW_TYPE, stateQuery, type CallWatchInput } from '../shared/messages';
import { callWorkflowId } from '../shared/constants';
import { CallSidKey } from '../shared/searchAttributes';
import type { CallWatchResult } from '../workflows/callWatch';
import { EXIT_FAILURE, getConfig } from './context';

export async function startWatch(
  client: Client,
  config: Config,
  callSid: string,
  opts: { dryRun?: boolean } = {},
): Promise<{ workflowId: string; started: boolean }> {
  const settings = callWatchSettingsFromConfig(config);
  if (opts.dryRun) settings.dryRun = true;
  const workflowId = callWorkflowId(callSid);
  try {
    await client.workflow.start(CALL_WATCH_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [{ callSid, startedBy: 'manual', settings } satisfies CallWatchInput],
      typedSearchAttributes: [{ key: CallSidKey, value: callSid }],
      staticSummary: `call ${callSid} (started by hand)`,
    });
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
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
        const { workflowId, started } = await startWatch(client, config, callSid, opts);
        const handle = client.workflow.getHandle(workflowId);
        process.stdout.write(started ? `started ${workflowId}\n` : `${workflowId} already exists (running or finished within retention)\n`);
        if (!opts.wait) {
          if (!started) {
            const d = await handle.describe();
            if (d.status.name === 'RUNNING') process.stdout.write(`${JSON.stringify(await handle.query(stateQuery))}\n`);
          }
          return;
        }
        const result = (await handle.result()) as CallWatchResult;
        process.stdout.write(`${result.summary}\noutcome: ${result.outcome}\n`);
      } finally {
        await connection.close();
      }
    });
}
