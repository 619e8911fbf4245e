import type { Command } from 'commander';
import { createLogger } from '../log';
import { installRuntime } from '../temporal/runtime';
import { runWorker } from '../worker';
import { getConfig } from './context';

export function register(program: Command): void {
  program
    .command('worker')
    .description('Run the unstick worker (workflows + activities) against TEMPORAL_ADDRESS until SIGINT/SIGTERM')
    .action(async () => {
      const config = getConfig();
      const log = createLogger('worker');
      // The Runtime's default shutdown signals (SIGINT, SIGTERM, …) drain the worker; run() then resolves.
      installRuntime(log);
      await runWorker(config, { log });
    });
}
