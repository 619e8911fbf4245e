/**
 * The sandbox's environment file, and the global `--dotenv <path>` option that reads it (not `--env-file`: Node 20 takes that one for itself wherever it appears).
 *
 * While `unstick up` runs on the emulator it writes `<UNSTICK_DATA_DIR>/sandbox.env` (and removes it on stop): the
 * variables another shell needs to reach that sandbox — its Temporal server, the emulator's URL and credentials, its
 * Workspace and Flows, and its webhook wiring (so `audit` knows the number's status callback is unstick's own).
 * `npx unstick --dotenv .unstick/sandbox.env <command>` loads it; so does `. .unstick/sandbox.env` (each line
 * is `export NAME='value'`). Its values win over the environment and `.env`, the same as sourcing it would.
 */
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import * as dotenv from 'dotenv';
import { ConfigError, loadConfig, type Config } from '../config';
import { sandboxEmulator } from './emulator';
import { registerUpHook } from './upHooks';

export const SANDBOX_ENV_FILE = 'sandbox.env';

/**
 * The settings that go into what other shells start (callWatch settings, the sweep's input, the Schedule), as the
 * variables that set them, in milliseconds for durations.
 */
function settingVariables(c: Config): Record<string, string | undefined> {
  const ms = (v: number | undefined) => (v === undefined ? undefined : String(v));
  return {
    UNSTICK_DRY_RUN: String(c.callWatch.dryRun),
    UNSTICK_GRACE_PERIOD: ms(c.callWatch.graceMs),
    UNSTICK_MAX_AGE: ms(c.callWatch.maxAgeMs),
    UNSTICK_POLL_INITIAL: ms(c.callWatch.pollInitialMs),
    UNSTICK_POLL_MAX: ms(c.callWatch.pollMaxMs),
    UNSTICK_WRAP_LIMIT: ms(c.callWatch.wrapLimitMs),
    UNSTICK_TASK_REASON: c.callWatch.taskReason,
    UNSTICK_DISCOVERY_RPS: String(c.callWatch.discoveryRps),
    UNSTICK_PROTECT_TASKS: c.policy.protectTasks,
    UNSTICK_POST_CALL_TASK_AFTER: ms(c.policy.postCallTaskAfterMs),
    UNSTICK_SWEEP_INTERVAL: ms(c.sweep.intervalMs),
    UNSTICK_SWEEP_CRON: c.sweep.cron,
    UNSTICK_SWEEP_CATCHUP: ms(c.sweep.catchupMs),
    UNSTICK_SWEEP_MAX_ACTIONS: String(c.sweep.maxActions),
    UNSTICK_SWEEP_CONCURRENCY: String(c.sweep.concurrency),
    UNSTICK_EXECUTION_THRESHOLD: ms(c.sweep.executionThresholdMs),
    UNSTICK_SWEEP_CHANNELS: c.sweep.channels.join(','),
    UNSTICK_SWEEP_WATCH_LIVE_CALLS: String(c.sweep.watchLiveCalls),
  };
}

/**
 * The variables of a running sandbox, from the stack's final config: where everything is, and each setting that is
 * not the default (so `schedule apply`, `sweep` or `watch` from another shell start what the sandbox would).
 */
export function sandboxVariables(config: Config): Record<string, string> {
  const { temporal, twilio, webhook } = config;
  const defaults = settingVariables(loadConfig({}));
  const settings = Object.entries(settingVariables(config)).filter(([k, v]) => v !== defaults[k]);
  const vars: Record<string, string | undefined> = {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    TEMPORAL_TASK_QUEUE: temporal.taskQueue,
    TWILIO_API_BASE_URL: twilio.baseUrl,
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_WORKSPACE_SIDS: twilio.workspaceSids.join(','),
    TWILIO_FLOW_SIDS: twilio.flowSids.join(','),
    WEBHOOK_PUBLIC_URL: webhook.publicUrl,
    WEBHOOK_FLOW_REDIRECTS: Object.entries(webhook.flowRedirects).map(([number, flow]) => `${number}=${flow}`).join(','),
    ...Object.fromEntries(settings),
  };
  return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => !!e[1]));
}

/**
 * `export NAME='value'` lines, which dotenv and a POSIX shell read alike. A value with a `'` is double-quoted; one
 * that neither quoting carries the same to both (a `'` with `"`, `$`, a backslash or a backquote) is left out, with a comment.
 */
export function renderEnvFile(vars: Record<string, string>, header: string[]): string {
  const line = ([k, v]: [string, string]): string => {
    if (!v.includes("'")) return `export ${k}='${v}'`;
    if (!/["$`\\\n]/.test(v)) return `export ${k}="${v}"`;
    return `# ${k} is not written (both quote kinds): set it yourself in the other shell`;
  };
  return [...header.map((l) => `# ${l}`), ...Object.entries(vars).map(line), ''].join('\n');
}

/** The path as typed from the working directory when it is below it, else absolute. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/**
 * Loads `file` into process.env before the configuration is read (its values win). A missing or unreadable file is
 * a configuration error naming the path.
 */
export function loadEnvFile(file: string | undefined): void {
  if (file === undefined) return;
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) {
    const hint = path.basename(resolved) === SANDBOX_ENV_FILE ? ' (`npm start` writes it while the sandbox runs and removes it when it stops)' : '';
    throw new ConfigError([`--dotenv ${JSON.stringify(file)}: no such file${hint}`]);
  }
  let parsed: Record<string, string>;
  try {
    parsed = dotenv.parse(readFileSync(resolved));
  } catch (err) {
    throw new ConfigError([`--dotenv ${JSON.stringify(file)}: cannot read it (${(err as Error).message})`]);
  }
  for (const [k, v] of Object.entries(parsed)) process.env[k] = v;
}

export function register(program: Command): void {
  program.option('--dotenv <path>', `load variables from this file first, e.g. the sandbox's .unstick/${SANDBOX_ENV_FILE} (its values win)`);

  // After the emulator (10), the webhook and the schedule (50): the config is final.
  registerUpHook(
    'sandbox-env',
    async (ctx) => {
      const file = path.join(ctx.config.devServer.dataDir, SANDBOX_ENV_FILE);
      // With real Twilio credentials there is no sandbox to reach; a file left from an emulator run would mislead.
      if (!sandboxEmulator()) {
        await fs.rm(file, { force: true });
        return;
      }
      const shown = displayPath(file);
      const header = [
        `Written by \`unstick up\` (the sandbox) at ${new Date().toISOString()}; removed when it stops.`,
        `Use: npx unstick --dotenv ${shown} <command>   or: . ${shown}`,
      ];
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, renderEnvFile(sandboxVariables(ctx.config), header), { mode: 0o600 });
      ctx.announce('Other shells', `npx unstick --dotenv ${shown} <command>   (or: . ${shown})`);
      ctx.announce('Report', `npx unstick --dotenv ${shown} report --since 1d --html report.html   (where Executions got stuck, from the workflows' results)`);
      ctx.announce('Audit', `npx unstick --dotenv ${shown} audit   (reports the emulator's deliberate misconfigurations, not the sandbox's wiring)`);
      return async () => {
        await fs.rm(file, { force: true });
      };
    },
    { order: 90 },
  );
}
