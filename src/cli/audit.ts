/** `unstick audit [--fix] [--json] [--strict]`: exit 0 when clean, 1 when findings remain (or on failure), 2 on a configuration error. */
import type { Command } from 'commander';
import { createTwilioClient } from '../twilio/client';
import { renderAuditText, runAudit } from '../audit';
import { EXIT_CONFIG, getConfig } from './context';

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
        process.stderr.write('audit needs Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET), or TWILIO_API_BASE_URL for the emulator\n');
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
