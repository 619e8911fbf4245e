/** `unstick audit [--fix] [--json] [--strict]`: exit 0 when clean, 1 when findings remain (or on failure), 2 on a configuration error. */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { createTwilioClient } from '../twilio/client';
import { renderAuditText, runAudit } from '../audit';
import { EXIT_CONFIG, getConfig } from './context';
import { displayPath, SANDBOX_ENV_FILE } from './envFile';

export function register(program: Command): void {
  program
    .command('audit')
    .description("check phone numbers and Studio Flows against Twilio's guidance on stuck Executions")
    .option('--fix', "repair what the REST API can repair (a number's status callback) and print each change")
    .option('--json', 'print the report as JSON')
    .option('--strict', 'warnings (e.g. a Send & Wait timeout above 4 h) also make the exit code 1')
    .action(async (opts: { fix?: boolean; json?: boolean; strict?: boolean }) => {
      const config = getConfig();
      if (!config.twilio.accountSid) {
        const sandboxEnv = path.join(config.devServer.dataDir, SANDBOX_ENV_FILE);
        process.stderr.write(
          'audit needs Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET), ' +
            'and TWILIO_API_BASE_URL too for an emulator.\n' +
            (existsSync(sandboxEnv)
              ? `The sandbox is running: npx unstick --dotenv ${displayPath(sandboxEnv)} audit\n`
              : `For the sandbox: start it (npm start), then npx unstick --dotenv ${displayPath(sandboxEnv)} audit\n`),
        );
        process.exitCode = EXIT_CONFIG;
        return;
      }
      const twilio = createTwilioClient(config.twilio);
      const report = await runAudit({ twilio, config, fix: !!opts.fix });
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${renderAuditText(report, { colour: !!process.stdout.isTTY })}\n`);
      const failing = report.remaining.errors + (opts.strict ? report.remaining.warnings : 0);
      process.exitCode = failing > 0 ? 1 : 0;
    });
}
