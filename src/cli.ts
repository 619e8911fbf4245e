/**
 * `npx unstick <command>`. Each command lives in its own module under src/cli/ and exports `register(program)`.
 * To add a command: create src/cli/<name>.ts, then add one import line and one entry in COMMANDS below.
 */
import { Command } from 'commander';
import { ConfigError } from './config';
import { EXIT_CONFIG, EXIT_FAILURE, getConfig } from './cli/context';
import * as audit from './cli/audit';
import * as emulator from './cli/emulator';
import * as envFile from './cli/envFile';
import * as report from './cli/report';
import * as schedule from './cli/schedule';
import * as setup from './cli/setup';
import * as sweep from './cli/sweep';
import * as temporal from './cli/temporal';
import * as temporalPath from './cli/temporalPath';
import * as up from './cli/up';
import * as watch from './cli/watch';
import * as webhook from './cli/webhook';
import * as worker from './cli/worker';
import { TemporalCliNotFoundError } from './temporal/resolveCli';

const COMMANDS: Array<{ register(program: Command): void }> = [
  temporalPath,
  worker,
  up,
  audit,
  webhook,
  emulator,
  sweep,
  report,
  schedule,
  watch,
  temporal,
  setup,
  envFile,
];

export function buildProgram(): Command {
  const program = new Command('unstick')
    .description('Durable reconciler for Twilio contact centers: ends stuck Studio Executions and TaskRouter Tasks')
    .showHelpAfterError()
    // Every command validates the whole configuration first (after --dotenv), so a bad variable stops it before
    // anything starts.
    .hook('preAction', (cmd) => {
      envFile.loadEnvFile(cmd.opts<{ dotenv?: string }>().dotenv);
      getConfig();
    });
  for (const mod of COMMANDS) mod.register(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = EXIT_CONFIG;
    } else if (err instanceof TemporalCliNotFoundError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = EXIT_FAILURE;
    } else {
      process.stderr.write(`unstick: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = EXIT_FAILURE;
    }
    // A failed start-up may leave handles behind (the Temporal runtime, a half-open connection): exit, don't hang.
    if (runAsCli()) process.exit(process.exitCode);
  }
}

/** Executed (tsx src/cli.ts, bin/unstick.js), not imported by a test. */
function runAsCli(): boolean {
  return require.main === module || /[\\/]bin[\\/]unstick(\.js)?$/.test(require.main?.filename ?? '');
}

if (runAsCli()) void main();
