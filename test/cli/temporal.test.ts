/**
 * `unstick temporal -- <args…>`: the resolved Temporal CLI (no `temporal` on PATH needed), its output and exit code
 * passed through, the configured server (here from a `.env`, which the Temporal CLI does not read itself) used
 * unless the arguments name another.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestTemporal, testTemporalCli, type TestTemporal } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '../..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('unstick temporal -- …', function () {
  this.timeout(60_000);
  let t: TestTemporal;
  let cwd: string;
  let cliPath: string;
  // A PATH without any `temporal`: the command must find the CLI by itself.
  const env = (): NodeJS.ProcessEnv => ({
    PATH: path.dirname(process.execPath),
    HOME: process.env.HOME,
    ...(process.env.XDG_CACHE_HOME ? { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME } : {}),
    TEMPORAL_CLI_PATH: cliPath,
    UNSTICK_LOG_LEVEL: 'silent',
  });
  const unstick = (args: string[]) => run(process.execPath, [path.join(REPO, 'bin/unstick.js'), 'temporal', '--', ...args], cwd, env());

  before(async () => {
    t = await startTestTemporal();
    cliPath = (await testTemporalCli()).path;
    cwd = mkdtempSync(path.join(os.tmpdir(), 'unstick-temporal-'));
    writeFileSync(path.join(cwd, '.env'), `TEMPORAL_ADDRESS=${t.address}\n`);
  });
  after(async () => {
    if (cwd) rmSync(cwd, { recursive: true, force: true });
    await t?.teardown();
  });

  it('`-- --version` prints the CLI version and exits 0', async () => {
    const r = await unstick(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^temporal version ${(await testTemporalCli()).version.replace(/\./g, '\\.')} `));
  });

  it('passes a bad subcommand\'s non-zero exit code and message through', async () => {
    const direct = await run(cliPath, ['no-such-command'], cwd, env());
    assert.notEqual(direct.code, 0);
    const r = await unstick(['no-such-command']);
    assert.equal(r.code, direct.code);
    assert.equal(r.stderr, direct.stderr);
    assert.match(r.stderr, /unknown command/);
    assert.equal(r.stdout, direct.stdout);
  });

  it('talks to the configured server, and a server-side failure exits non-zero', async () => {
    const count = await unstick(['workflow', 'count']);
    assert.equal(count.code, 0, count.stderr);
    assert.match(count.stdout, /^Total: 0$/m);
    const missing = await unstick(['workflow', 'describe', '--workflow-id', 'no-such-workflow']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found/i);
  });

  it('an --address after -- wins over the configuration', async () => {
    const r = await unstick(['workflow', 'count', '--address', '127.0.0.1:1', '--command-timeout', '5s']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /127\.0\.0\.1:1/);
  });
});
