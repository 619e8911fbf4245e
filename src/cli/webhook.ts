/**
 * `unstick webhook [--port N] [--host ADDR]`: the webhook starter until SIGINT/SIGTERM (exit 2 without Twilio
 * credentials). Also plugs the webhook into `unstick up` when the stack has an account SID and auth token.
 */
import type { Command } from 'commander';
import { connectTemporal } from '../client';
import type { Config } from '../config';
import { createLogger, type Logger } from '../log';
import { EVENT_STREAMS_PATH, TASKROUTER_EVENTS_PATH, VOICE_STATUS_PATH, webhookUrl } from '../shared/names';
import { startWebhook, type RunningWebhook } from '../webhook';
import { EXIT_CONFIG, getConfig } from './context';
import { sandboxEmulator } from './emulator';
import { registerUpHook } from './upHooks';

function parsePort(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port ${JSON.stringify(raw)} is not a TCP port (0-65535)`);
  return n;
}

const missingCredentials = (config: Config): boolean => !config.twilio.accountSid || !config.twilio.authToken;

function logListening(log: Logger, config: Config, running: RunningWebhook): void {
  log.info(
    {
      listen: running.url,
      voiceStatusCallback: webhookUrl(running.publicUrl, VOICE_STATUS_PATH),
      taskRouterEventCallback: webhookUrl(running.publicUrl, TASKROUTER_EVENTS_PATH),
      eventStreamsSink: webhookUrl(running.publicUrl, EVENT_STREAMS_PATH),
      flowRedirects: Object.keys(config.webhook.flowRedirects).length,
      taskQueue: config.temporal.taskQueue,
      ...(running.metricsUrl ? { metrics: running.metricsUrl } : {}),
    },
    'webhook listening',
  );
  if (!config.webhook.publicUrl) {
    log.warn('WEBHOOK_PUBLIC_URL is unset: signatures are checked against the URL rebuilt from each request, which is wrong behind a proxy');
  }
}

/** The Sink destination carrying WEBHOOK_EVENT_STREAMS_BASIC_AUTH as user info, which Event Streams sends as Basic auth. */
function withBasicAuth(url: string, basicAuth: string | undefined): string {
  if (!basicAuth) return url;
  const u = new URL(url);
  const i = basicAuth.indexOf(':'); // the config requires user:password
  u.username = encodeURIComponent(basicAuth.slice(0, i));
  u.password = encodeURIComponent(basicAuth.slice(i + 1));
  return u.toString();
}

function isAddressInUse(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 'EADDRINUSE';
}

export function register(program: Command): void {
  program
    .command('webhook')
    .description('Receive Twilio voice status callbacks and TaskRouter events; start or signal each call\'s watch workflow')
    .option('--port <n>', 'port to listen on (default WEBHOOK_PORT, 8080; 0 = any free port)', parsePort)
    .option('--host <addr>', 'interface to listen on (default WEBHOOK_HOST, 0.0.0.0)')
    .action(async (opts: { port?: number; host?: string }) => {
      const base = getConfig();
      const config: Config = { ...base, webhook: { ...base.webhook, port: opts.port ?? base.webhook.port, host: opts.host ?? base.webhook.host } };
      if (missingCredentials(config)) {
        process.stderr.write('unstick webhook needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: Twilio signs every webhook with the auth token\n');
        process.exitCode = EXIT_CONFIG;
        return;
      }
      const log = createLogger('webhook');
      const { connection, client } = await connectTemporal(config.temporal);
      let running: RunningWebhook;
      try {
        running = await startWebhook(config, client, { log });
      } catch (err) {
        await connection.close();
        throw err;
      }
      logListening(log, config, running);

      let stopping = false;
      const stop = async (signal: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'webhook stopping');
        await running.close();
        await connection.close();
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });

  // In the sandbox, after the emulator (order 10), which may set the Twilio credentials.
  registerUpHook(
    'webhook',
    async (ctx) => {
      const log = createLogger('webhook');
      if (missingCredentials(ctx.config)) {
        log.info('webhook not started: no TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN to check signatures with');
        return;
      }
      // In the sandbox, wire the emulator's number and workspace to the webhook as an operator would a
      // real account: status callbacks come here and are 302'd on to the number's Studio Flow.
      const emu = sandboxEmulator();
      if (emu) {
        const flowRedirects = { ...ctx.config.webhook.flowRedirects, [emu.seeded.phoneNumber]: emu.seeded.flexFlowSid };
        ctx.config = { ...ctx.config, webhook: { ...ctx.config.webhook, flowRedirects } };
      }
      let running: RunningWebhook;
      try {
        running = await startWebhook(ctx.config, ctx.client, { log });
      } catch (err) {
        if (!isAddressInUse(err)) throw err;
        log.warn(`port ${ctx.config.webhook.port} is busy; the webhook uses a free port instead (set WEBHOOK_PORT to choose)`);
        const config = { ...ctx.config, webhook: { ...ctx.config.webhook, port: 0 } };
        running = await startWebhook(config, ctx.client, { log });
      }
      // Later hooks and the worker see where the webhook really is (the port may have been 0 or busy).
      const port = Number(new URL(running.url).port);
      ctx.config = { ...ctx.config, webhook: { ...ctx.config.webhook, port, publicUrl: running.publicUrl } };
      ctx.announce('Webhook', `${webhookUrl(running.publicUrl, VOICE_STATUS_PATH)} and ${webhookUrl(running.publicUrl, TASKROUTER_EVENTS_PATH)}`);
      if (emu) {
        emu.admin.setNumber(emu.seeded.phoneNumber, { statusCallback: webhookUrl(running.url, VOICE_STATUS_PATH) });
        emu.admin.setWorkspace(emu.seeded.workspaceSid, { eventCallbackUrl: webhookUrl(running.url, TASKROUTER_EVENTS_PATH) });
        const sink = webhookUrl(running.url, EVENT_STREAMS_PATH);
        emu.admin.setEventStreamsSink({ destination: withBasicAuth(sink, ctx.config.webhook.eventStreamsBasicAuth) });
        ctx.announce('Event Streams sink', sink);
        log.info({ number: emu.seeded.phoneNumber, eventStreamsSink: sink }, 'sandbox: emulator number, workspace and Event Streams Sink now call the webhook');
      }
      return () => running.close();
    },
    { order: 50 },
  );
}
