import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    killSignal: 'SIGKILL', // a hung `up` may not answer SIGTERM
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

  it('one pass: bad values and the checks across variables are all reported together', () => {
    try {
      loadConfig({
        ...BAD,
        TWILIO_API_KEY: 'SK' + '0'.repeat(32),
        UNSTICK_POLL_INITIAL: '10s',
        UNSTICK_POLL_MAX: '5s',
        UNSTICK_SWEEP_CHANNELS: 'voice,fax',
        UNSTICK_SWEEP_CRON: 'banana',
      });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const names = ['TEMPORAL_ADDRESS=', 'UNSTICK_GRACE_PERIOD=', 'TWILIO_API_KEY is set but TWILIO_API_SECRET', 'UNSTICK_POLL_MAX (5000 ms)', 'UNSTICK_SWEEP_CHANNELS has unknown channel(s) fax', 'UNSTICK_SWEEP_CRON="banana"'];
      assert.equal(err.problems.length, names.length, err.message);
      for (const n of names) assert.ok(err.problems.some((p) => p.startsWith(n)), `${n} missing from:\n${err.message}`);
    }
  });

  it('UNSTICK_SWEEP_CRON: Temporal\'s cron layouts are accepted, anything else is one line naming the value', () => {
    for (const ok of ['*/15 * * * *', '0 3 * * 1-5', '@hourly', '@every 15m', '@every 1h/5m', 'CRON_TZ=Europe/Paris 0 3 * * *', '0 3 * * * 2027', '0 0 3 * * * 2027', '*/15 * * * * # every quarter hour']) {
      assert.equal(loadConfig({ UNSTICK_SWEEP_CRON: ok }).sweep.cron, ok.trim(), ok);
    }
    for (const [bad, why] of [
      ['banana', /1 field/],
      ['61 * * * *', /./],
      ['* * *', /3 field/],
      ['@every', /no interval/],
      ['@every 15', /not a duration with units/],
      ['@every 1h/2h', /phase must be shorter/],
      ['CRON_TZ=Mars/Olympus 0 3 * * *', /unknown time zone "Mars\/Olympus"/],
      ['0 3 * * * 1999', /year 1999/],
      ['0 0 30 2 *', /never fires/],
    ] as const) {
      assert.throws(() => loadConfig({ UNSTICK_SWEEP_CRON: bad }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 1, err.message);
        assert.ok(err.problems[0]!.startsWith(`UNSTICK_SWEEP_CRON=${JSON.stringify(bad)} is not a cron string a Temporal Schedule accepts: it `), err.problems[0]);
        assert.match(err.problems[0]!, why);
        return true;
      }, bad);
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

  it('`UNSTICK_SWEEP_CRON=banana unstick up` exits with code 2 at once, naming the value (no stack trace, no hang)', () => {
    const r = unstick(['up'], { UNSTICK_SWEEP_CRON: 'banana', UNSTICK_DATA_DIR: path.join(repo, '.unstick-should-not-exist') });
    assert.equal(r.signal, null, 'killed by the timeout: it hung');
    assert.equal(r.status, 2, `stderr: ${r.stderr}`);
    assert.match(r.stderr, /^ {2}- UNSTICK_SWEEP_CRON="banana" is not a cron string/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace');
    assert.doesNotMatch(r.stderr, /starting the Temporal dev server/);
  });

  it('`up` exits (code 1) when start-up fails after the configuration was good, instead of hanging', function () {
    this.timeout(120_000);
    // The data directory is a regular file: the dev server cannot create its database there.
    const dir = mkdtempSync(path.join(tmpdir(), 'unstick-up-'));
    const notADir = path.join(dir, 'file');
    writeFileSync(notADir, 'not a directory');
    try {
      const r = unstick(['up'], { UNSTICK_DATA_DIR: path.join(notADir, 'data'), TEMPORAL_DEV_PORT: '', TEMPORAL_UI_PORT: '' });
      assert.equal(r.signal, null, `killed by the timeout: it hung. stderr: ${r.stderr}`);
      assert.equal(r.status, 1, `stderr: ${r.stderr}`);
      assert.match(r.stderr, /unstick: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`up` stops with code 2 before starting anything', () => {
    const r = unstick(['up'], { UNSTICK_GRACE_PERIOD: 'later', UNSTICK_DATA_DIR: path.join(repo, '.unstick-should-not-exist') });
    assert.equal(r.status, 2, `stderr: ${r.stderr}`);
    assert.match(r.stderr, /UNSTICK_GRACE_PERIOD/);
    assert.doesNotMatch(r.stderr, /starting the Temporal dev server/);
  });
});
