/**
 * `unstick setup`: registers unstick's search attributes on the configured namespace (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE) through the operator API; idempotent. Where that API refuses (Temporal Cloud), prints what to
 * add with Cloud's own tools. Exit 0 when the namespace is ready, 1 when it is not.
 */
import type { Command } from 'commander';
import { connectTemporal } from '../client';
import { registerSearchAttributes } from '../temporal/namespaceSetup';
import { EXIT_FAILURE, getConfig } from './context';

export function register(program: Command): void {
  program
    .command('setup')
    .description('register the search attributes unstick needs (CallSid, ExecutionSid, TaskSid, UnstickOutcome) on TEMPORAL_NAMESPACE')
    .action(async () => {
      const config = getConfig();
      const { namespace } = config.temporal;
      const { connection } = await connectTemporal(config.temporal);
      try {
        const outcome = await registerSearchAttributes(connection, namespace);
        if (outcome.kind === 'ready') {
          if (outcome.added.length) process.stdout.write(`added to namespace ${namespace}: ${outcome.added.join(', ')}\n`);
          if (outcome.present.length) process.stdout.write(`already on namespace ${namespace}: ${outcome.present.join(', ')}\n`);
          process.stdout.write(`namespace ${namespace} is ready for unstick\n`);
          return;
        }
        if (outcome.kind === 'conflict') {
          for (const line of outcome.problems) process.stderr.write(`${line}\n`);
        } else {
          process.stderr.write(
            `the server refused to add search attributes (${outcome.message}). On Temporal Cloud, add them to the namespace in the Cloud UI, ` +
              `with \`tcld namespace search-attributes add\` or the Cloud Ops API: ${outcome.missing.join(', ')}\n`,
          );
        }
        process.exitCode = EXIT_FAILURE;
      } finally {
        await connection.close();
      }
    });
}
