import type { Command } from 'commander';
import { resolveTemporalCli } from '../temporal/resolveCli';
import { getConfig } from './context';

export function register(program: Command): void {
  program
    .command('temporal-path')
    .description('Find (or build once with Go) the Temporal CLI binary and print its path, source and version')
    .option('--json', 'print {"path","source","version"} as JSON')
    .option('--no-build', 'do not run `go install` when no binary is found')
    .action(async (opts: { json?: boolean; build: boolean }) => {
      const config = getConfig();
      const cli = await resolveTemporalCli({ cliPath: config.temporalCliPath, allowBuild: opts.build });
      if (opts.json) process.stdout.write(`${JSON.stringify(cli)}\n`);
      else process.stdout.write(`path:    ${cli.path}\nsource:  ${cli.source}\nversion: ${cli.version}\n`);
    });
}
