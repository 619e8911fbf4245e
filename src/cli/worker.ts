import type { Command } from 'commander';
import { connectTemporal } from '../client';
import type { Config } from '../config';
import { buildIdProblems } from '../temporal/workerVersion';
import { checkSearchAttributes, searchAttributeProblems } from '../temporal/namespaceSetup';
import { createLogger } from '../log';
import { installRuntime } from '../temporal/runtime';
import { runWorker } from '../worker';
import { EXIT_CONFIG, getConfig } from './context';

/** What would make every workflow task fail: search attributes the workflows upsert but the namespace lacks. */
async function namespaceProblems(config: Config): Promise<string[]> {
  const { connection } = await connectTemporal(config.temporal);
  try {
    return searchAttributeProblems(await checkSearchAttributes(connection, config.temporal.namespace), config.temporal.namespace);
  } finally {
    await connection.close();
  }
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('Run the unstick worker (workflows + activities) against TEMPORAL_ADDRESS until SIGINT/SIGTERM')
    .action(async () => {
      const config = getConfig();
      const log = createLogger('worker');
      const problems = [...buildIdProblems(config.temporal.deployment), ...(await namespaceProblems(config))];
      if (problems.length) {
        for (const line of problems) process.stderr.write(`${line}\n`);
        process.exitCode = EXIT_CONFIG;
        return;
      }
      // The Runtime's default shutdown signals (SIGINT, SIGTERM, …) drain the worker; run() then resolves.
      installRuntime(log, { metricsAddress: config.metricsAddress });
      await runWorker(config, { log });
    });
}
