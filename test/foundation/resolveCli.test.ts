import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  cachedCliPath,
  defaultCacheDir,
  resolveTemporalCli,
  TEMPORAL_CLI_VERSION,
  TemporalCliNotFoundError,
} from '../../src/temporal/resolveCli';

// Small fake executables in a sandboxed PATH; no real Temporal binary and no real Go build is used here.
describe('foundation: Temporal CLI resolver', () => {
  let root: string;
  let n = 0;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'unstick-resolve-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  function dir(name: string): string {
    const d = path.join(root, `${name}-${n++}`);
    mkdirSync(d, { recursive: true });
    return d;
  }
  function script(file: string, body: string): string {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  }
  const fakeTemporal = (file: string, version = TEMPORAL_CLI_VERSION) =>
    script(file, `echo "temporal version ${version} (Server 1.29.1, UI 2.42.1)"`);
  /** A fake `go`: answers `go env GOVERSION`, and for `go install` writes a fake temporal into $GOBIN. */
  const fakeGo = (binDir: string, opts: { version?: string; fail?: boolean; delaySeconds?: number; counter?: string } = {}) =>
    script(
      path.join(binDir, 'go'),
      [
        'if [ "$1" = env ]; then echo "' + (opts.version ?? 'go1.26.0') + '"; exit 0; fi',
        opts.counter ? `echo built >> "${opts.counter}"` : '',
        `[ "$CGO_ENABLED" = 0 ] && [ "$GOTOOLCHAIN" = local ] || { echo "bad env" >&2; exit 3; }`,
        'echo "go: downloading go.temporal.io/server v1.29.1" >&2',
        opts.delaySeconds ? `/bin/sleep ${opts.delaySeconds}` : '',
        opts.fail ? 'echo "verifying module: checksum mismatch" >&2; exit 1' : '',
        'case "$*" in *"temporalcli.Version=1.5.1"*"cmd/temporal@v1.5.1"*) ;; *) echo "unexpected args: $*" >&2; exit 2;; esac',
        `printf '#!/bin/sh\\necho "temporal version ${TEMPORAL_CLI_VERSION} (Server 1.29.1, UI 2.42.1)"\\n' > "$GOBIN/temporal"`,
        '/bin/chmod 755 "$GOBIN/temporal"',
      ].join('\n'),
    );

  function capture(): { log: (l: string) => void; lines: string[] } {
    const lines: string[] = [];
    return { log: (l) => lines.push(l), lines };
  }

  it('prefers TEMPORAL_CLI_PATH over PATH', async () => {
    const envBin = fakeTemporal(path.join(dir('env'), 'my-temporal'));
    const pathDir = dir('path');
    fakeTemporal(path.join(pathDir, 'temporal'));
    const r = await resolveTemporalCli({ env: { TEMPORAL_CLI_PATH: envBin, PATH: pathDir }, cacheDir: dir('cache'), log: capture().log });
    assert.deepEqual(r, { path: envBin, source: 'env', version: TEMPORAL_CLI_VERSION });
  });

  it('prefers PATH over the cache', async () => {
    const pathDir = dir('path');
    const onPath = fakeTemporal(path.join(pathDir, 'temporal'));
    const cacheDir = dir('cache');
    fakeTemporal(cachedCliPath(cacheDir));
    const r = await resolveTemporalCli({ env: { PATH: `${dir('empty')}${path.delimiter}${pathDir}` }, cacheDir, log: capture().log });
    assert.deepEqual(r, { path: onPath, source: 'path', version: TEMPORAL_CLI_VERSION });
  });

  it('uses the cached build when nothing else is there', async () => {
    const cacheDir = dir('cache');
    const cached = fakeTemporal(cachedCliPath(cacheDir));
    const r = await resolveTemporalCli({ env: { PATH: dir('empty') }, cacheDir, log: capture().log });
    assert.deepEqual(r, { path: cached, source: 'cache', version: TEMPORAL_CLI_VERSION });
  });

  it('keys the default cache by XDG_CACHE_HOME or HOME, outside the repo', () => {
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }), path.join('/x/cache', 'unstick', 'temporal-cli'));
    assert.equal(defaultCacheDir({ HOME: '/home/u' }), path.join('/home/u', '.cache', 'unstick', 'temporal-cli'));
    assert.equal(cachedCliPath('/c'), path.join('/c', `v${TEMPORAL_CLI_VERSION}`, 'temporal'));
  });

  it('warns, but does not fail, for a user binary of another version', async () => {
    const pathDir = dir('path');
    fakeTemporal(path.join(pathDir, 'temporal'), '1.3.0');
    const out = capture();
    const r = await resolveTemporalCli({ env: { PATH: pathDir }, cacheDir: dir('cache'), log: out.log });
    assert.equal(r.source, 'path');
    assert.equal(r.version, '1.3.0');
    assert.ok(out.lines.some((l) => l.startsWith('warning:') && l.includes('1.3.0') && l.includes(TEMPORAL_CLI_VERSION)), out.lines.join('\n'));
  });

  it('fails loudly for a TEMPORAL_CLI_PATH that is not executable instead of looking elsewhere', async () => {
    const pathDir = dir('path');
    fakeTemporal(path.join(pathDir, 'temporal'));
    await assert.rejects(
      resolveTemporalCli({ env: { TEMPORAL_CLI_PATH: path.join(root, 'nope'), PATH: pathDir }, cacheDir: dir('cache'), log: capture().log }),
      (err: Error) => err instanceof TemporalCliNotFoundError && err.message.includes('TEMPORAL_CLI_PATH'),
    );
  });

  it('without Go and without a binary, says what it tried and how to install', async () => {
    const cacheDir = dir('cache');
    const emptyPath = dir('empty');
    const err = await resolveTemporalCli({ env: { PATH: emptyPath }, cacheDir, log: capture().log }).then(
      () => assert.fail('should not resolve'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TemporalCliNotFoundError);
    const msg = err.message;
    for (const expected of [
      'TEMPORAL_CLI_PATH: not set',
      emptyPath,
      cachedCliPath(cacheDir),
      'no `go` on PATH',
      'brew install temporal',
      `https://github.com/temporalio/cli/releases/tag/v${TEMPORAL_CLI_VERSION}`,
      'TEMPORAL_CLI_PATH=/path/to/temporal',
    ]) {
      assert.ok(msg.includes(expected), `message mentions ${JSON.stringify(expected)}:\n${msg}`);
    }
    assert.equal(err.tried.length, 4);
  });

  it('refuses a Go older than 1.25 with a clear reason', async () => {
    const binDir = dir('bin');
    fakeGo(binDir, { version: 'go1.22.5' });
    await assert.rejects(
      resolveTemporalCli({ env: { PATH: binDir }, cacheDir: dir('cache'), log: capture().log }),
      (err: Error) => err instanceof TemporalCliNotFoundError && /go1\.22\.5.*Go >= 1\.25/.test(err.message),
    );
  });

  it('builds with go install into a temp dir and renames it into the cache, with progress and elapsed time', async () => {
    const binDir = dir('bin');
    fakeGo(binDir);
    const cacheDir = dir('cache');
    const out = capture();
    const r = await resolveTemporalCli({ env: { PATH: binDir }, cacheDir, log: out.log });
    assert.deepEqual(r, { path: cachedCliPath(cacheDir), source: 'built', version: TEMPORAL_CLI_VERSION });
    assert.ok(out.lines.some((l) => l.includes('go: downloading go.temporal.io/server')), out.lines.join('\n'));
    assert.ok(out.lines.some((l) => /^Built the Temporal CLI v1\.5\.1 in \d+s/.test(l)), out.lines.join('\n'));
    assert.deepEqual(readdirSync(cacheDir).sort(), [`v${TEMPORAL_CLI_VERSION}`], 'no temp dir or lock file is left behind');

    // The next run finds it in the cache.
    const again = await resolveTemporalCli({ env: { PATH: binDir }, cacheDir, log: capture().log });
    assert.equal(again.source, 'cache');
  });

  it('leaves no half-written binary when the build fails, and shows go output', async () => {
    const binDir = dir('bin');
    fakeGo(binDir, { fail: true });
    const cacheDir = dir('cache');
    await assert.rejects(resolveTemporalCli({ env: { PATH: binDir }, cacheDir, log: capture().log }), (err: Error) =>
      err.message.includes('checksum mismatch') && err.message.includes('README'),
    );
    assert.equal(existsSync(cachedCliPath(cacheDir)), false);
    assert.deepEqual(readdirSync(cacheDir), [], 'temp dir and lock removed');
  });

  it('builds once when two processes resolve at the same time (lock file)', async () => {
    const binDir = dir('bin');
    const counter = path.join(root, 'go-runs');
    fakeGo(binDir, { delaySeconds: 1, counter });
    const cacheDir = dir('cache');
    const [a, b] = await Promise.all([
      resolveTemporalCli({ env: { PATH: binDir }, cacheDir, log: capture().log, progressIntervalMs: 200 }),
      resolveTemporalCli({ env: { PATH: binDir }, cacheDir, log: capture().log, progressIntervalMs: 200 }),
    ]);
    assert.equal(readFileSync(counter, 'utf8').trim().split('\n').length, 1, 'go install ran once');
    assert.deepEqual([a.source, b.source].sort(), ['built', 'cache']);
    assert.equal(a.path, b.path);
  });
});
