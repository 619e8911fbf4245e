/**
 * `unstick emulator [--port N] [--host H] [--seed S] [--json] [--traffic <rate>] [--mix name=ratio,…]`:
 * runs the Twilio emulator in the foreground. Also plugs the emulator into `unstick up` when no Twilio
 * credentials are configured (the sandbox).
 */
import type { Command } from 'commander';
import type { Config } from '../config';
import { SCENARIO_NAMES, startEmulator } from '../emulator';
import type { Emulator, ScenarioName } from '../emulator';
import { createLogger } from '../log';
import { EXIT_CONFIG } from './context';
import { registerUpHook } from './upHooks';

let sandbox: Emulator | undefined;

/** The emulator `unstick up` started (undefined with real Twilio credentials), for later up-hooks to wire themselves to. */
export function sandboxEmulator(): Emulator | undefined {
  return sandbox;
}

/** The scenario mix the sandbox plays: mostly clean calls, some of every stuck story. */
const SANDBOX_MIX: Partial<Record<ScenarioName, number>> = {
  normal: 0.6,
  'hangup-before-twiml': 0.08,
  'sip-cancel-487': 0.04,
  'lost-final-webhook': 0.08,
  'desync-pending': 0.05,
  'desync-reserved': 0.04,
  'desync-assigned': 0.05,
  'task-custom-orchestration': 0.02,
  'task-unparsable': 0.02,
  'chat-task': 0.02,
};

function parseMix(raw: string | undefined): Partial<Record<ScenarioName, number>> | undefined {
  if (!raw) return undefined;
  const mix: Partial<Record<ScenarioName, number>> = {};
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, ratio = '1'] = part.split('=');
    if (!name || !(SCENARIO_NAMES as string[]).includes(name)) throw new Error(`unknown scenario ${JSON.stringify(name)}; use one of ${SCENARIO_NAMES.join(', ')}`);
    const n = Number(ratio);
    if (!Number.isFinite(n) || n < 0) throw new Error(`bad ratio ${JSON.stringify(ratio)} for ${name}`);
    mix[name as ScenarioName] = n;
  }
  return mix;
}

interface EmulatorCliOptions {
  port?: string;
  host?: string;
  seed?: string;
  json?: boolean;
  traffic?: string;
  mix?: string;
}

function describe(emu: Emulator): string {
  const s = emu.seeded;
  return [
    `Twilio emulator listening on ${emu.url}`,
    `  TWILIO_API_BASE_URL=${emu.url}`,
    `  TWILIO_ACCOUNT_SID=${emu.accountSid}`,
    `  TWILIO_AUTH_TOKEN=${emu.authToken}`,
    `  API key: ${emu.apiKey.sid} / ${emu.apiKey.secret}`,
    `  TWILIO_WORKSPACE_SIDS=${s.workspaceSid}`,
    `  TWILIO_FLOW_SIDS=${s.flexFlowSid},${s.messagingFlowSid},${s.webchatFlowSid},${s.legacyFlowSid}`,
    `  Main number ${s.phoneNumber} (${s.phoneNumberSid}); admin API at ${emu.url}/_emulator`,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('emulator')
    .description('Run the local Twilio emulator (REST APIs, call simulator, signed webhooks) until Ctrl-C')
    .option('--port <n>', 'TCP port (default: a free port)')
    .option('--host <h>', 'interface to listen on', '127.0.0.1')
    .option('--seed <s>', 'seed for SIDs and credentials (same seed, same SIDs)', 'unstick')
    .option('--json', 'print one JSON line with url, accountSid, authToken')
    .option('--traffic <rate>', 'simulate inbound calls at this rate (calls per second)')
    .option('--mix <list>', 'scenario ratios for --traffic, e.g. normal=0.8,lost-final-webhook=0.2 (default: the sandbox mix)')
    .action(async (opts: EmulatorCliOptions) => {
      const port = opts.port === undefined ? 0 : Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(`--port ${opts.port} is not a TCP port\n`);
        process.exitCode = EXIT_CONFIG;
        return;
      }
      const rate = opts.traffic === undefined ? undefined : Number(opts.traffic);
      if (rate !== undefined && !(rate > 0)) {
        process.stderr.write(`--traffic ${opts.traffic} must be a positive number of calls per second\n`);
        process.exitCode = EXIT_CONFIG;
        return;
      }
      let mix: Partial<Record<ScenarioName, number>> | undefined;
      try {
        mix = parseMix(opts.mix);
      } catch (err) {
        process.stderr.write(`--mix: ${(err as Error).message}\n`);
        process.exitCode = EXIT_CONFIG;
        return;
      }
      const emu = await startEmulator({ port, host: opts.host, seed: opts.seed });
      if (rate !== undefined) emu.admin.startTraffic({ rate, mix: mix ?? SANDBOX_MIX });
      if (opts.json) process.stdout.write(`${JSON.stringify({ url: emu.url, accountSid: emu.accountSid, authToken: emu.authToken })}\n`);
      else process.stdout.write(`${describe(emu)}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await emu.close();
    });

  // The sandbox: without Twilio credentials, `unstick up` runs against the emulator with simulated traffic.
  registerUpHook(
    'emulator',
    async (ctx) => {
      if (ctx.config.twilio.accountSid) return;
      const log = createLogger('emulator');
      const emu = await startEmulator({ seed: 'unstick' });
      sandbox = emu;
      ctx.config = withEmulator(ctx.config, emu);
      // Some stuck items from "before" the sandbox started, then a trickle of live traffic.
      emu.admin.seedExecutions({ count: 3, kind: 'sms', ageMs: 6 * 3_600_000 });
      emu.admin.seedExecutions({ count: 2, kind: 'voice-ended-call', ageMs: 5 * 3_600_000 });
      emu.admin.seedTasks({ count: 20, mix: { voiceEnded: 0.7, voiceLive: 0.2, chat: 0.05, unparsable: 0.05 }, ageMs: 2 * 3_600_000 });
      emu.admin.createCall({ scenario: 'live-long' });
      const traffic = emu.admin.startTraffic({ rate: 0.2, mix: SANDBOX_MIX, params: { talkMs: 20_000, ringMs: 2_000, wrapMs: 5_000, stepMs: 200 } });
      log.info({ url: emu.url, accountSid: emu.accountSid }, 'Twilio emulator started (no Twilio credentials configured)');
      ctx.announce('Twilio emulator', `${emu.url} (account ${emu.accountSid}, admin ${emu.url}/_emulator, traffic ${traffic.options.rate} calls/s)`);
      return async () => {
        sandbox = undefined;
        await emu.close();
      };
    },
    { order: 10 },
  );
}

/** The config with its Twilio part aimed at the emulator. */
function withEmulator(config: Config, emu: Emulator): Config {
  const cfg = emu.twilioConfig({ maxInFlight: config.twilio.maxInFlight, requestTimeoutMs: config.twilio.requestTimeoutMs });
  return { ...config, twilio: { ...config.twilio, ...cfg } };
}
