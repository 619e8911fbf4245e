/**
 * A production-shaped Temporal for tests: Debian's PostgreSQL in a temp folder (persistence and SQL visibility), the
 * Temporal server built from its Go module (scripts/temporalServer.ts) with its schemas applied by its SQL tool, the
 * `default` namespace registered — and nothing of unstick's: its search attributes are left to `unstick setup`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { postgresBinDir, resolveTemporalServer } from '../../scripts/temporalServer';
import { getFreePort } from '../../src/util/freePort';
import { waitUntil } from './temporal';

export interface PostgresTemporal {
  address: string;
  namespace: string;
  connection: Connection;
  client: Client;
  /** `ClusterName`/stores as the server describes itself. */
  persistenceStore: string;
  visibilityStore: string;
  teardown(): Promise<void>;
}

function runAsPostgres(file: string, args: string[]): { status: number | null; out: string } {
  // initdb and postgres refuse to run as root.
  const [cmd, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function must(r: { status: number | null; out: string }, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.out}`);
}

function serverConfig(o: { pgPort: number; ports: number[]; dynamicConfig: string }): string {
  const [frontend, frontendM, frontendHttp, history, historyM, matching, matchingM, worker, workerM] = o.ports;
  const store = (db: string, conns: number) => `      sql:
        pluginName: postgres12
        databaseName: ${db}
        connectAddr: "127.0.0.1:${o.pgPort}"
        connectProtocol: tcp
        user: postgres
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: 1h`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
${store('temporal', 20)}
    visibility:
${store('temporal_visibility', 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:
  frontend:
    rpc: { grpcPort: ${frontend}, membershipPort: ${frontendM}, httpPort: ${frontendHttp}, bindOnLocalHost: true }
  history:
    rpc: { grpcPort: ${history}, membershipPort: ${historyM}, bindOnLocalHost: true }
  matching:
    rpc: { grpcPort: ${matching}, membershipPort: ${matchingM}, bindOnLocalHost: true }
  worker:
    rpc: { grpcPort: ${worker}, membershipPort: ${workerM}, bindOnLocalHost: true }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${frontend}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${o.dynamicConfig}
  pollInterval: 10s
`;
}

/** The membership ports go into a smallint column of the cluster_membership table: below 32768. */
async function freePortBelow32768(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

async function connectWhenUp(address: string, exitCode: () => number | null, log: () => string): Promise<Connection> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exitCode() !== null) throw new Error(`the Temporal server exited (${exitCode()}):\n${log()}`);
    try {
      const c = await Connection.connect({ address, connectTimeout: 2000 });
      await c.workflowService.getSystemInfo({});
      return c;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the Temporal server did not answer on ${address}: ${(err as Error).message}\n${log()}`, { cause: err });
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function startPostgresTemporal(opts: { log?: (line: string) => void } = {}): Promise<PostgresTemporal> {
  const bins = resolveTemporalServer(opts.log);
  const pgBin = postgresBinDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-pg-temporal-'));
  if (process.getuid?.() === 0) chownSync(dir, Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()), 0);
  const pgData = path.join(dir, 'pgdata');
  const pgPort = await getFreePort();
  let server: ChildProcess | undefined;
  let pgStarted = false;
  let serverLog = '';
  const cleanup = async () => {
    if (server && server.exitCode === null) {
      const gone = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    if (pgStarted) runAsPostgres(path.join(pgBin, 'pg_ctl'), ['-D', pgData, '-m', 'fast', '-w', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    must(runAsPostgres(path.join(pgBin, 'initdb'), ['-D', pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']), 'initdb');
    must(
      runAsPostgres(path.join(pgBin, 'pg_ctl'), ['-D', pgData, '-l', path.join(dir, 'postgres.log'), '-w', '-o', `-p ${pgPort} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start']),
      'pg_ctl start',
    );
    pgStarted = true;

    const sql = (db: string, ...args: string[]) => {
      const r = spawnSync(bins.sqlTool, ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(pgPort), '-u', 'postgres', '--db', db, ...args], { encoding: 'utf8' });
      must({ status: r.status, out: `${r.stdout}\n${r.stderr}` }, `temporal sql tool ${args[0]} on ${db}`);
    };
    for (const [db, schema] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
      sql(db, 'create-database');
      sql(db, 'setup-schema', '-v', '0.0');
      sql(db, 'update-schema', '-d', path.join(bins.postgresSchemaDir, schema, 'versioned'));
    }

    const ports: number[] = [];
    while (ports.length < 9) {
      const p = await freePortBelow32768();
      if (!ports.includes(p) && p !== pgPort) ports.push(p);
    }
    const configDir = path.join(dir, 'config');
    const dynamicConfig = path.join(dir, 'dynamicconfig.yaml');
    // As the dev server sets it: a search attribute added now is usable at once.
    writeFileSync(dynamicConfig, 'system.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n');
    spawnSync('mkdir', ['-p', configDir]);
    writeFileSync(path.join(configDir, 'production.yaml'), serverConfig({ pgPort, ports, dynamicConfig }));
    server = spawn(bins.server, ['--root', dir, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (b: Buffer) => (serverLog = (serverLog + b.toString()).slice(-20_000)));
    server.stderr!.on('data', (b: Buffer) => (serverLog = (serverLog + b.toString()).slice(-20_000)));

    const address = `127.0.0.1:${ports[0]}`;
    const connection = await connectWhenUp(address, () => server!.exitCode, () => serverLog);
    await waitUntil(
      'the default namespace',
      async () => {
        try {
          await connection.workflowService.registerNamespace({ namespace: 'default', workflowExecutionRetentionPeriod: msToTs('1 day') });
        } catch (err) {
          if ((err as { code?: number }).code !== 6) throw err; // ALREADY_EXISTS
        }
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const cluster = await connection.workflowService.getClusterInfo({});
    return {
      address,
      namespace: 'default',
      connection,
      client: new Client({ connection, namespace: 'default' }),
      persistenceStore: cluster.persistenceStore ?? '',
      visibilityStore: cluster.visibilityStore ?? '',
      async teardown() {
        await connection.close().catch(() => undefined);
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
