/**
 * `npx unstick temporal -- <args…>`: runs the Temporal CLI that unstick resolved (src/temporal/resolveCli.ts, so no
 * `temporal` on PATH is needed) with the given arguments, and exits with its exit code.
 *
 * The configuration's server (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the TLS / API key settings, e.g. from
 * `--dotenv .unstick/sandbox.env`) reaches the CLI as the environment variables of the same names, which the
 * Temporal CLI reads for every command that talks to a server; a flag given after `--` (`--address`, `-n`) wins.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Command } from 'commander';
import type { TemporalConfig } from '../config';
import { resolveTemporalCli } from '../temporal/resolveCli';
import { EXIT_FAILURE, getConfig } from './context';

/** The Temporal CLI's environment variables for the configured server. */
export function temporalCliEnv(temporal: TemporalConfig): Record<string, string> {
  const vars: Record<string, string | undefined> = {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    TEMPORAL_TLS: temporal.tls ? 'true' : undefined,
    // The CLI's names for --tls-cert-path, --tls-key-path and --tls-ca-path.
    TEMPORAL_TLS_CERT: temporal.tlsCertPath,
    TEMPORAL_TLS_KEY: temporal.tlsKeyPath,
    TEMPORAL_TLS_CA: temporal.tlsCaPath,
    TEMPORAL_TLS_SERVER_NAME: temporal.tlsServerName,
    TEMPORAL_API_KEY: temporal.apiKey,
  };
  return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Runs `bin args…` with the terminal attached; resolves with its exit code (128 + n when killed by signal n). */
export function runPassThrough(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: 'inherit' });
    // Ctrl-C reaches the child through the terminal; we wait for its exit code instead of dying first.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    const done = () => process.off('SIGINT', ignore);
    child.on('error', (err) => {
      done();
      reject(err);
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
}

export function register(program: Command): void {
  program
    .command('temporal')
    .description("run the Temporal CLI unstick uses, on the configured server: `unstick temporal -- workflow list`")
    .argument('[args...]', 'arguments for the Temporal CLI (put them after --)')
    .helpOption(false)
    .allowUnknownOption()
    .action(async (args: string[]) => {
      const config = getConfig();
      const cli = await resolveTemporalCli({ cliPath: config.temporalCliPath, log: (line) => process.stderr.write(`${line}\n`) });
      try {
        process.exitCode = await runPassThrough(cli.path, args, { ...process.env, ...temporalCliEnv(config.temporal) });
      } catch (err) {
        process.stderr.write(`unstick temporal: could not run ${cli.path}: ${(err as Error).message}\n`);
        process.exitCode = EXIT_FAILURE;
      }
    });
}
