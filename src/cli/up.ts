/**
 * `unstick up` (= `npm start`): the whole sandbox in one process. Temporal dev server on a SQLite file with the Web
 * UI, the parts other modules plug in with registerUpHook (emulator, webhook, schedule…), and the worker.
 * Ctrl-C stops the worker first, then the hooks in reverse order, then the dev server.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { connectTemporal } from '../client';
import type { Config } from '../config';
import { createLogger, type Logger } from '../log';
import { startDevServer, type DevServer } from '../temporal/devServer';
import { resolveTemporalCli } from '../temporal/resolveCli';
import { flushRuntimeLogs, installRuntime } from '../temporal/runtime';
import { getFreePort, isPortFree } from '../util/freePort';
import { runWorker } from '../worker';
import { getConfig } from './context';
import { registeredUpHooks, type UpContext, type UpHookStop } from './upHooks';

export { registerUpHook, type UpContext, type UpHook, type UpHookStop } from './upHooks';

export const DEFAULT_DEV_PORT = 7233;
export const DEFAULT_UI_PORT = 8233;
export const DB_FILE_NAME = 'temporal.sqlite';

/** An explicitly configured port must be free; a default one falls back to a free port. */
async function pickPort(explicit: number | undefined, fallback: number, variable: string, log: Logger): Promise<number> {
  if (explicit !== undefined) {
    if (!(await isPortFree(explicit))) throw new Error(`${variable}=${explicit}: that port is already in use on 127.0.0.1; pick another or unset it`);
    return explicit;
  }
  if (await isPortFree(fallback)) return fallback;
  const port = await getFreePort();
  log.warn(`port ${fallback} is busy; using ${port} instead (set ${variable} to choose)`);
  return port;
}

export function register(program: Command): void {
  program
    .command('up')
    .description('Run the sandbox: Temporal dev server + Web UI (data in UNSTICK_DATA_DIR), plug-ins, and the worker')
    .action(async () => {
      await up(getConfig());
    });
}

export async function up(baseConfig: Config): Promise<void> {
  const log = createLogger('up');
  // We order the shutdown ourselves (worker, hooks, server), so the Runtime must not react to signals on its own.
  installRuntime(log, { shutdownSignals: [], metricsAddress: baseConfig.metricsAddress });

  const stopRequested = new AbortController();
  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!firstSignalAt) {
      firstSignalAt = Date.now();
      log.info(`${sig}: stopping (press Ctrl-C again to force)`);
      stopRequested.abort();
    } else if (Date.now() - firstSignalAt < 1500) {
      // Under `npm start` the same Ctrl-C arrives twice: from the terminal and relayed by tsx.
      return;
    } else {
      log.warn(`${sig} again: exiting now`);
      process.exit(130); // the dev server is terminated by its exit hook
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const cli = await resolveTemporalCli({ cliPath: baseConfig.temporalCliPath, log: (line) => log.info(line) });
  const dbFile = path.join(baseConfig.devServer.dataDir, DB_FILE_NAME);
  const port = await pickPort(baseConfig.devServer.port, DEFAULT_DEV_PORT, 'TEMPORAL_DEV_PORT', log);
  const uiPort = await pickPort(baseConfig.devServer.uiPort, DEFAULT_UI_PORT, 'TEMPORAL_UI_PORT', log);
  log.info({ cli: cli.path, version: cli.version, dbFile }, 'starting the Temporal dev server');
  const devServer: DevServer = await startDevServer({ cliPath: cli.path, dbFile, port, uiPort, namespace: baseConfig.temporal.namespace });

  const stops: Array<{ name: string; stop: UpHookStop }> = [];
  let connection: UpContext['connection'] | undefined;
  try {
    // The sandbox always talks to its own local server, whatever TEMPORAL_ADDRESS/TLS say.
    const temporal = { ...baseConfig.temporal, address: devServer.address, tls: false, apiKey: undefined, tlsCertPath: undefined, tlsKeyPath: undefined, tlsCaPath: undefined };
    const connected = await connectTemporal(temporal);
    connection = connected.connection;
    const banner: Array<[string, string]> = [];
    const ctx: UpContext = {
      config: { ...baseConfig, temporal },
      devServer,
      client: connected.client,
      connection,
      log,
      announce: (label, value) => banner.push([label, value]),
    };
    for (const hook of registeredUpHooks()) {
      if (stopRequested.signal.aborted) break;
      log.debug(`starting ${hook.name}`);
      const stop = await hook.start(ctx);
      if (stop) stops.push({ name: hook.name, stop });
    }

    if (!stopRequested.signal.aborted) {
      let ready!: () => void;
      const workerReady = new Promise<void>((r) => (ready = r));
      const workerDone = runWorker(ctx.config, { log: createLogger('worker'), signal: stopRequested.signal, onReady: () => ready() });
      await Promise.race([workerReady, workerDone]);
      // The banner comes last: after the workers' start-up lines, which the Runtime may still hold.
      flushRuntimeLogs();
      printBanner(devServer, ctx.config, banner);
      await workerDone;
    }
  } finally {
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.error({ err }, `stopping ${name} failed`);
      }
    }
    await connection?.close().catch(() => undefined);
    log.info('stopping the Temporal dev server');
    await devServer.stop();
    log.info('stopped');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function printBanner(devServer: DevServer, config: Config, extra: Array<[string, string]>): void {
  const rows: Array<[string, string]> = [
    ['Temporal Web UI', `${devServer.uiUrl}/namespaces/${encodeURIComponent(devServer.namespace)}/workflows`],
    ['Temporal server', `${devServer.address} (namespace ${devServer.namespace}, task queue ${config.temporal.taskQueue})`],
    ['Data', devServer.dbFile],
    ...extra,
  ];
  const width = Math.max(...rows.map(([l]) => l.length));
  const lines = ['', 'unstick is up', ...rows.map(([l, v]) => `  ${`${l}:`.padEnd(width + 2)}${v}`), 'Press Ctrl-C to stop.', ''];
  process.stdout.write(`${lines.join('\n')}\n`);
}
