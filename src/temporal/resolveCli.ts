/**
 * Finds the `temporal` CLI binary (which carries the dev server and the Web UI), in this order:
 *   1. TEMPORAL_CLI_PATH                                  (source 'env')
 *   2. `temporal` on PATH                                 (source 'path')
 *   3. the per-user cache, outside the repo, by version:
 *      ${XDG_CACHE_HOME:-$HOME/.cache}/unstick/temporal-cli/v1.5.1/temporal   (source 'cache')
 *   4. `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` into that cache  (source 'built')
 *   5. otherwise a TemporalCliNotFoundError that names what was tried and how to install it.
 * The environment, PATH and cache directory are injectable so tests can sandbox every step.
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
/** Go version required by the CLI's go.mod at v1.5.1 (`go 1.25.0`). */
const MIN_GO_VERSION = [1, 25] as const;

export type TemporalCliSource = 'env' | 'path' | 'cache' | 'built';

export interface ResolvedTemporalCli {
  path: string;
  source: TemporalCliSource;
  /** What `temporal --version` reported, e.g. `1.5.1`. */
  version: string;
}

type Env = Record<string, string | undefined>;

export interface ResolveTemporalCliOptions {
  /** Environment to read TEMPORAL_CLI_PATH, PATH, XDG_CACHE_HOME and HOME from (default process.env). Also passed to `go`. */
  env?: Env;
  /** Progress and warnings, one line each (default: stderr). */
  log?: (line: string) => void;
  /** Explicit binary path, e.g. config.temporalCliPath; takes precedence like TEMPORAL_CLI_PATH. */
  cliPath?: string;
  /** Root of the per-version cache (default `${XDG_CACHE_HOME:-$HOME/.cache}/unstick/temporal-cli`). */
  cacheDir?: string;
  /** Set false to never run `go install` (e.g. a status command). Default true. */
  allowBuild?: boolean;
  /** How often the build prints a "still building" line (default 15 s). */
  progressIntervalMs?: number;
}

export class TemporalCliNotFoundError extends Error {
  constructor(
    message: string,
    public readonly tried: string[],
  ) {
    super(message);
    this.name = 'TemporalCliNotFoundError';
  }
}

export function defaultCacheDir(env: Env = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'unstick', 'temporal-cli');
}

/** Where the cached binary for `version` lives under `cacheDir`. */
export function cachedCliPath(cacheDir: string, version = TEMPORAL_CLI_VERSION): string {
  return path.join(cacheDir, `v${version}`, process.platform === 'win32' ? 'temporal.exe' : 'temporal');
}

function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) return false;
    await fs.access(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Like `which`: the first executable `name` on the given PATH. */
async function findOnPath(name: string, pathVar: string | undefined): Promise<string | undefined> {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

function run(file: string, args: string[], env: Env, timeoutMs = 60_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: env as NodeJS.ProcessEnv, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/** Runs `<bin> --version` and returns the version (`temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)` → `1.5.1`). */
async function temporalCliVersion(bin: string, env: Env = process.env): Promise<string> {
  const { stdout, stderr } = await run(bin, ['--version'], env);
  const m = /version\s+v?(\S+)/.exec(stdout + stderr);
  if (!m) throw new Error(`\`${bin} --version\` printed no version: ${JSON.stringify((stdout + stderr).trim().slice(0, 200))}`);
  return m[1]!;
}

async function goVersion(goBin: string, env: Env): Promise<string> {
  const { stdout } = await run(goBin, ['env', 'GOVERSION'], env);
  return stdout.trim();
}

function goIsRecentEnough(goVer: string): boolean {
  const m = /go(\d+)\.(\d+)/.exec(goVer);
  if (!m) return true; // devel builds and unknown formats: let `go install` decide
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > MIN_GO_VERSION[0] || (maj === MIN_GO_VERSION[0] && min >= MIN_GO_VERSION[1]);
}

function installHelp(version: string): string {
  return [
    `Install the Temporal CLI v${version} one of these ways, then run the command again:`,
    `  - a package manager: \`brew install temporal\` (macOS, Linux) puts \`temporal\` on your PATH`,
    `  - a release archive from https://github.com/temporalio/cli/releases/tag/v${version}: unpack it and put \`temporal\` on your PATH,`,
    `    or set TEMPORAL_CLI_PATH=/path/to/temporal`,
    `  - Go >= ${MIN_GO_VERSION.join('.')} on your PATH (https://go.dev/dl/): unstick then builds v${version} into its cache once (4-10 min)`,
    `  - online: an archive from Temporal's CDN, https://temporal.download/cli/archive/latest?platform=<linux|darwin|windows>&arch=<amd64|arm64>`,
    `    (the latest release, not pinned), or let the Temporal SDK's test environment download one (TestWorkflowEnvironment.createLocal())`,
  ].join('\n');
}

/** Resolves (and if needed builds) the Temporal CLI. Throws TemporalCliNotFoundError when nothing works. */
export async function resolveTemporalCli(opts: ResolveTemporalCliOptions = {}): Promise<ResolvedTemporalCli> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const version = TEMPORAL_CLI_VERSION;
  const tried: string[] = [];

  // 1. Explicit path: the user asked for this binary, so a broken one is an error, not a reason to look elsewhere.
  const explicit = opts.cliPath ?? env.TEMPORAL_CLI_PATH;
  if (explicit) {
    const p = path.resolve(explicit);
    if (!(await isExecutableFile(p))) {
      throw new TemporalCliNotFoundError(`TEMPORAL_CLI_PATH=${JSON.stringify(explicit)} is not an executable file. Fix the path or unset it.`, [
        `TEMPORAL_CLI_PATH=${explicit}: not an executable file`,
      ]);
    }
    return { path: p, source: 'env', version: await checkUserBinary(p, env, version, log) };
  }
  tried.push('TEMPORAL_CLI_PATH: not set');

  // 2. PATH.
  const onPath = await findOnPath('temporal', env.PATH);
  if (onPath) return { path: onPath, source: 'path', version: await checkUserBinary(onPath, env, version, log) };
  tried.push(`PATH: no \`temporal\` in ${env.PATH ? JSON.stringify(env.PATH) : '(PATH is empty)'}`);

  // 3. Cache.
  const cacheDir = opts.cacheDir ?? defaultCacheDir(env);
  const cached = cachedCliPath(cacheDir, version);
  if (await isExecutableFile(cached)) {
    try {
      const v = await temporalCliVersion(cached, env);
      if (v === version) return { path: cached, source: 'cache', version: v };
      log(`warning: cached ${cached} reports version ${v}, expected ${version}; rebuilding it`);
    } catch (err) {
      log(`warning: cached ${cached} does not run (${(err as Error).message.split('\n')[0]}); rebuilding it`);
    }
    tried.push(`cache: ${cached} is broken or the wrong version`);
  } else {
    tried.push(`cache: ${cached} does not exist`);
  }

  // 4. Build with Go.
  if (opts.allowBuild === false) {
    tried.push('go install: not attempted (building disabled)');
    throw notFound(version, tried);
  }
  const goBin = await findOnPath('go', env.PATH);
  if (!goBin) {
    tried.push(`go install: no \`go\` on PATH (Go >= ${MIN_GO_VERSION.join('.')} builds it)`);
    throw notFound(version, tried);
  }
  let goVer: string;
  try {
    goVer = await goVersion(goBin, env);
  } catch (err) {
    tried.push(`go install: \`${goBin} env GOVERSION\` failed: ${(err as Error).message.split('\n')[0]}`);
    throw notFound(version, tried);
  }
  if (!goIsRecentEnough(goVer)) {
    tried.push(`go install: ${goBin} is ${goVer}; the CLI needs Go >= ${MIN_GO_VERSION.join('.')}`);
    throw notFound(version, tried);
  }
  const built = await buildIntoCache({ goBin, goVer, cacheDir, version, env, log, progressIntervalMs: opts.progressIntervalMs ?? 15_000 });
  const v = await temporalCliVersion(built.path, env);
  if (v !== version) throw new Error(`built ${built.path} but it reports version ${v}, expected ${version}`);
  return { path: built.path, source: built.builtHere ? 'built' : 'cache', version: v };
}

function notFound(version: string, tried: string[]): TemporalCliNotFoundError {
  const msg = [`Could not find or build the Temporal CLI (temporal v${version}). Tried:`, ...tried.map((t) => `  - ${t}`), installHelp(version)].join('\n');
  return new TemporalCliNotFoundError(msg, tried);
}

async function checkUserBinary(p: string, env: Env, want: string, log: (l: string) => void): Promise<string> {
  let v: string;
  try {
    v = await temporalCliVersion(p, env);
  } catch (err) {
    throw new Error(`${p} is not a working Temporal CLI: \`--version\` failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (v !== want) log(`warning: using ${p} (temporal ${v}); unstick is tested with ${want}. A dev-server DB file may not work across versions.`);
  return v;
}

interface BuildArgs {
  goBin: string;
  goVer: string;
  cacheDir: string;
  version: string;
  env: Env;
  log: (line: string) => void;
  progressIntervalMs: number;
}

/**
 * Builds into a temp dir inside the cache dir and renames the binary into place, so the cache never holds a
 * half-written file. A lock file keeps two processes from building at once; the loser waits for the winner's binary.
 */
async function buildIntoCache(a: BuildArgs): Promise<{ path: string; builtHere: boolean }> {
  const target = cachedCliPath(a.cacheDir, a.version);
  await fs.mkdir(a.cacheDir, { recursive: true });
  const lockPath = path.join(a.cacheDir, `v${a.version}.lock`);
  const release = await acquireBuildLock(lockPath, target, a.log);
  if (!release) return { path: target, builtHere: false };
  let tmpDir: string | undefined;
  try {
    if (await isExecutableFile(target)) {
      try {
        if ((await temporalCliVersion(target, a.env)) === a.version) return { path: target, builtHere: false };
      } catch {
        // broken: rebuild below
      }
    }
    tmpDir = await fs.mkdtemp(path.join(a.cacheDir, `.build-v${a.version}-`));
    const started = Date.now();
    a.log(`Building the Temporal CLI v${a.version} with ${a.goVer} (${a.goBin}); this takes 4 to 10 minutes on 2 cores, once…`);
    await goInstall(a, tmpDir, started);
    const produced = path.join(tmpDir, path.basename(target));
    if (!(await isExecutableFile(produced))) throw new Error(`go install succeeded but ${produced} is missing`);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(produced, target);
    a.log(`Built the Temporal CLI v${a.version} in ${formatElapsed(Date.now() - started)}: ${target}`);
    return { path: target, builtHere: true };
  } finally {
    if (tmpDir) await fs.rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
    await release();
  }
}

function goInstall(a: BuildArgs, gobin: string, started: number): Promise<void> {
  const args = ['install', '-ldflags', `-X github.com/temporalio/cli/temporalcli.Version=${a.version}`, `${TEMPORAL_CLI_MODULE}@v${a.version}`];
  const env = { ...a.env, GOBIN: gobin, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' };
  return new Promise((resolve, reject) => {
    const child = spawn(a.goBin, args, { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let downloads = 0;
    const onData = (buf: Buffer) => {
      for (const line of buf.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        // `go: downloading mod vX` lines are many on a cold module cache: show every 25th, and all other lines.
        if (line.startsWith('go: downloading')) {
          downloads++;
          if (downloads % 25 === 1) a.log(`  ${line} (${downloads} modules so far, ${formatElapsed(Date.now() - started)})`);
        } else {
          a.log(`  ${line}`);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const ticker = setInterval(() => a.log(`  still building temporal v${a.version}… ${formatElapsed(Date.now() - started)} elapsed`), a.progressIntervalMs);
    child.on('error', (err) => {
      clearInterval(ticker);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearInterval(ticker);
      if (code === 0) return resolve();
      reject(
        new Error(
          [
            `\`go ${args.join(' ')}\` failed (${signal ?? `exit code ${code}`}) after ${formatElapsed(Date.now() - started)}. Last output:`,
            ...tail.map((l) => `  ${l}`),
            'If module downloads or checksum checks failed (proxy or GOSUMDB blocked), see "Temporal CLI" in README.md,',
            'or install the binary another way and set TEMPORAL_CLI_PATH.',
          ].join('\n'),
        ),
      );
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const STALE_LOCK_MS = 30 * 60_000;

/**
 * Takes `lockPath` (O_EXCL create). Returns a release function, or undefined when another process finished building
 * `target` while we waited. A lock whose pid is dead, or that is older than 30 minutes, is taken over.
 */
async function acquireBuildLock(lockPath: string, target: string, log: (l: string) => void): Promise<(() => Promise<void>) | undefined> {
  let lastNotice = 0;
  for (;;) {
    try {
      const fh = await fs.open(lockPath, 'wx');
      await fh.writeFile(`${process.pid} ${os.hostname()} ${new Date().toISOString()}\n`);
      await fh.close();
      return async () => {
        await fs.rm(lockPath, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: string;
    let stale: boolean;
    try {
      holder = (await fs.readFile(lockPath, 'utf8')).trim();
      const st = await fs.stat(lockPath);
      const [pidText, host] = holder.split(' ');
      const pid = Number(pidText);
      stale = Date.now() - st.mtimeMs > STALE_LOCK_MS || (host === os.hostname() && Number.isInteger(pid) && pid > 0 && !pidAlive(pid));
    } catch {
      continue; // lock vanished between open and read: try again
    }
    if (stale) {
      log(`Removing a stale build lock ${lockPath} (${holder})`);
      await fs.rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() - lastNotice > 15_000) {
      log(`Another process is building the Temporal CLI (lock ${lockPath}: ${holder}); waiting for it…`);
      lastNotice = Date.now();
    }
    await new Promise((r) => setTimeout(r, 1000));
    try {
      await fs.access(lockPath);
    } catch {
      // The other builder released the lock: use its binary if it produced one, else build ourselves.
      if (await isExecutableFile(target)) return undefined;
    }
  }
}
