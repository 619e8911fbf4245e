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

  it('a bad UNSTICK_PROTECT_TASKS is one problem line naming the variable, the value and the parse error with its position', () => {
    for (const [raw, detail] of [
      ['taskType IN ["callback" "voicemail"]', /unexpected string "voicemail" at position 24: expected "," or "\]"/],
      ['taskType ==', /unexpected end of expression at position 11/],
      ['vip', /expected a comparison after attribute "vip"/],
      ['priority > "5"', /ordering compares numbers/],
      ['conversations.external_contact != null )', /unexpected "\)" at position 39/],
    ] as const) {
      assert.throws(() => loadConfig({ UNSTICK_PROTECT_TASKS: raw }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 1, err.message);
        const line = err.problems[0]!;
        assert.ok(line.startsWith(`UNSTICK_PROTECT_TASKS=${JSON.stringify(raw)} is not a valid TaskRouter expression: `), line);
        assert.match(line, detail);
        assert.equal(err.message.split('\n').length, 2, 'one line');
        return true;
      });
    }
  });

  it('good UNSTICK_PROTECT_TASKS values parse and are kept as (trimmed) source; unset or blank means none', () => {
    for (const raw of [
      'taskType IN ["callback","voicemail"] OR conversations.external_contact != null',
      "  taskType == 'callback'  ",
      'NOT (priority >= 5) and tags HAS "vip"',
      'true',
    ]) {
      assert.equal(loadConfig({ UNSTICK_PROTECT_TASKS: raw }).policy.protectTasks, raw.trim());
    }
    assert.equal(loadConfig({}).policy.protectTasks, undefined);
    assert.equal(loadConfig({ UNSTICK_PROTECT_TASKS: '' }).policy.protectTasks, undefined);
    assert.equal(loadConfig({ UNSTICK_PROTECT_TASKS: '   ' }).policy.protectTasks, undefined);
  });

  it('UNSTICK_POST_CALL_TASK_AFTER: default 2m, 0 allowed, a non-duration reported by name', () => {
    assert.equal(loadConfig({}).policy.postCallTaskAfterMs, 120_000);
    assert.equal(loadConfig({ UNSTICK_POST_CALL_TASK_AFTER: '0' }).policy.postCallTaskAfterMs, 0);
    assert.equal(loadConfig({ UNSTICK_POST_CALL_TASK_AFTER: '90s' }).policy.postCallTaskAfterMs, 90_000);
    for (const raw of ['soon', '-5m']) {
      assert.throws(
        () => loadConfig({ UNSTICK_POST_CALL_TASK_AFTER: raw }),
        (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0]!.startsWith(`UNSTICK_POST_CALL_TASK_AFTER=${JSON.stringify(raw)} is not a duration`),
      );
    }
  });

  it('the CLI exits with code 2 and names the variables on stderr', () => {
    const r = unstick(['temporal-path', '--no-build'], BAD);
    assert.equal(r.status, 2, `stderr: ${r.stderr}`);
    assert.match(r.stderr, /TEMPORAL_ADDRESS="http:\/\/localhost"/);
    assert.match(r.stderr, /UNSTICK_GRACE_PERIOD="a while"/);
    assert.equal(r.stdout, '', 'nothing ran');
  });

  it('the CLI exits with code 2 on a bad UNSTICK_PROTECT_TASKS and prints the parse error', () => {
    const r = unstick(['temporal-path', '--no-build'], { UNSTICK_PROTECT_TASKS: 'taskType IN [1 2]' });
    assert.equal(r.status, 2, `stderr: ${r.stderr}`);
    assert.match(r.stderr, /UNSTICK_PROTECT_TASKS="taskType IN \[1 2\]" is not a valid TaskRouter expression: unexpected "2" at position 15/);
    assert.equal(r.stdout, '', 'nothing ran');
  });

  it('`up` stops with code 2 before starting anything', () => {
    const r = unstick(['up'], { UNSTICK_GRACE_PERIOD: 'later', UNSTICK_DATA_DIR: path.join(repo, '.unstick-should-not-exist') });
    assert.equal(r.status, 2, `stderr: ${r.stderr}`);
    assert.match(r.stderr, /UNSTICK_GRACE_PERIOD/);
    assert.doesNotMatch(r.stderr, /starting the Temporal dev server/);
  });
});
