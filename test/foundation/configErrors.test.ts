import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

const repo = path.resolve(__dirname, '../..');
const BAD = { TEMPORAL_ADDRESS: 'http://localhost', UNSTICK_GRACE_PERIOD: 'a while' };

/** Runs `node bin/unstick.js …` with the given extra environment. */
function unstick(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [path.join(repo, 'bin', 'unstick.js'), ...args], {
    cwd: repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('foundation: configuration errors stop start-up', () => {
  it('loadConfig reports a malformed TEMPORAL_ADDRESS by name', () => {
    assert.throws(
      () => loadConfig({ TEMPORAL_ADDRESS: 'localhost' }),
      (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0]!.startsWith('TEMPORAL_ADDRESS='),
    );
  });

  it('loadConfig reports a non-duration UNSTICK_GRACE_PERIOD by name', () => {
    assert.throws(
      () => loadConfig({ UNSTICK_GRACE_PERIOD: 'soon' }),
      (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0]!.startsWith('UNSTICK_GRACE_PERIOD='),
    );
  });

  it('loadConfig lists every bad variable, one per line', () => {
    try {
      loadConfig(BAD);
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const lines = err.message.split('\n').slice(1);
      assert.equal(lines.length, 2);
      assert.ok(lines.some((l) => l.includes('TEMPORAL_ADDRESS')));
      assert.ok(lines.some((l) => l.includes('UNSTICK_GRACE_PERIOD')));
    }
  });

  it('the CLI exits with code 2 and names the variables on stderr', () => {
    const r = unstick(['temporal-path', '--no-build'], BAD);
    assert.equal(r.status, 2, `stderr: ${r.stderr}`);
    assert.match(r.stderr, /TEMPORAL_ADDRESS="http:\/\/localhost"/);
    assert.match(r.stderr, /UNSTICK_GRACE_PERIOD="a while"/);
    assert.equal(r.stdout, '', 'nothing ran');
  });

  it('`up` stops with code 2 before starting anything', () => {
    const r = unstick(['up'], { UNSTICK_GRACE_PERIOD: 'later', UNSTICK_DATA_DIR: path.join(repo, '.unstick-should-not-exist') });
    assert.equal(r.status, 2, `stderr: ${r.stderr}`);
    assert.match(r.stderr, /UNSTICK_GRACE_PERIOD/);
    assert.doesNotMatch(r.stderr, /starting the Temporal dev server/);
  });
});
