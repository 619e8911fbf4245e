/**
 * The Temporal server itself (not the dev server) and its SQL schema tool, for the production-topology test: built
 * once from their Go module (the v1.29.1 that the pinned CLI embeds) into the per-user cache next to the CLI, like
 * the CLI. `UNSTICK_TEMPORAL_SERVER_DIR` names a folder holding both binaries instead. Also finds the module's SQL
 * schemas and Debian's PostgreSQL binaries.
 *
 * As a script (`.ci/run` runs it before the tests, so the build is not counted in the suite's time):
 *   tsx scripts/temporalServer.ts   → builds what is missing, prints the paths
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { defaultCacheDir } from '../src/temporal/resolveCli';

export const TEMPORAL_SERVER_VERSION = '1.29.1';
const MODULE = 'go.temporal.io/server';

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12 of the module: `temporal/versioned` and `visibility/versioned`. */
  postgresSchemaDir: string;
  source: 'env' | 'cache' | 'built';
  buildMs?: number;
}

function go(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync('go', args, { encoding: 'utf8', env: { ...env, GOTOOLCHAIN: 'local' }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

function moduleDir(): string {
  const info = JSON.parse(go(['mod', 'download', '-json', `${MODULE}@v${TEMPORAL_SERVER_VERSION}`])) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${MODULE}@v${TEMPORAL_SERVER_VERSION}: ${info.Error ?? 'no Dir'}`);
  return info.Dir;
}

export function resolveTemporalServer(log: (line: string) => void = () => undefined): TemporalServerBinaries {
  const fromEnv = process.env['UNSTICK_TEMPORAL_SERVER_DIR'];
  const dir = fromEnv ?? path.join(defaultCacheDir(), '..', 'temporal-server', `v${TEMPORAL_SERVER_VERSION}`);
  const server = path.join(dir, 'server');
  const sqlTool = path.join(dir, 'sql');
  let source: TemporalServerBinaries['source'] = fromEnv ? 'env' : 'cache';
  let buildMs: number | undefined;
  if (!existsSync(server) || !existsSync(sqlTool)) {
    if (fromEnv) throw new Error(`UNSTICK_TEMPORAL_SERVER_DIR=${fromEnv} holds no server and sql binaries`);
    mkdirSync(dir, { recursive: true });
    const tmp = mkdtempSync(path.join(dir, '.build-'));
    const started = Date.now();
    log(`building the Temporal server v${TEMPORAL_SERVER_VERSION} and its SQL tool with Go (several minutes, once)…`);
    try {
      const r = spawnSync('go', ['install', `${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`, `${MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`], {
        env: { ...process.env, GOBIN: tmp, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      if (r.status !== 0) throw new Error(`go install of the Temporal server failed (exit ${r.status}):\n${(r.stderr ?? '').split('\n').slice(-20).join('\n')}`);
      renameSync(path.join(tmp, 'server'), server);
      renameSync(path.join(tmp, 'sql'), sqlTool);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    buildMs = Date.now() - started;
    source = 'built';
    log(`built in ${Math.round(buildMs / 1000)} s: ${dir}`);
  }
  return { server, sqlTool, postgresSchemaDir: path.join(moduleDir(), 'schema', 'postgresql', 'v12'), source, buildMs };
}

/** Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres): PATH first, else /usr/lib/postgresql/<newest>/bin. */
export function postgresBinDir(): string {
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return path.dirname(onPath);
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error('no PostgreSQL server (initdb) on PATH or under /usr/lib/postgresql: apt-get install postgresql');
  return path.join(root, versions[0]!, 'bin');
}

if (require.main === module) {
  const b = resolveTemporalServer((l) => process.stdout.write(`${l}\n`));
  process.stdout.write(`temporal server: ${b.server} (${b.source})\nsql tool: ${b.sqlTool}\nschemas: ${b.postgresSchemaDir}\npostgres: ${postgresBinDir()}\n`);
}
