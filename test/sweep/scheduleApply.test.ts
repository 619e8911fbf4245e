/**
 * `schedule apply` on an existing Schedule (e.g. the sandbox's, from another shell): it leaves settings it did not
 * bring alone unless told to replace them, names each field that would change with the variable that sets it, and
 * says what it changed. Against a real dev server; as a library call and as the CLI in a child process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { applySchedule, describeSchedule, pauseSchedule, ScheduleDiffersError } from '../../src/schedule';
import { SCHEDULE_ID } from '../../src/shared/names';
import type { SweepInput } from '../../src/shared/sweepTypes';
import { startTestTemporal, uniqueId, type TestTemporal } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '../..');
const WS = `WS${'a'.repeat(32)}`;
const FW = `FW${'b'.repeat(32)}`;

/** What the sandbox applies: its emulator's Workspace and Flow, a short grace. */
const sandboxEnv = (t: TestTemporal): Record<string, string> => ({
  TEMPORAL_ADDRESS: t.address,
  TWILIO_WORKSPACE_SIDS: WS,
  TWILIO_FLOW_SIDS: FW,
  UNSTICK_GRACE_PERIOD: '10s',
});
/** Another shell: the same server, none of the sandbox's settings. */
const otherShellEnv = (t: TestTemporal): Record<string, string> => ({ TEMPORAL_ADDRESS: t.address });
const config = (env: Record<string, string>): Config => loadConfig(env);
const inputOf = async (t: TestTemporal, scheduleId: string) => (await describeSchedule(t.client, scheduleId)).action.args?.[0] as SweepInput;

describe('schedule apply on an existing Schedule', function () {
  let t: TestTemporal;

  before(async () => {
    t = await startTestTemporal();
  });
  after(async () => {
    await t?.teardown();
  });

  it('refuses to replace settings it did not bring, naming each field and its variable, and changes nothing', async () => {
    const scheduleId = uniqueId('apply-refuse');
    assert.equal((await applySchedule(t.client, config(sandboxEnv(t)), { scheduleId })).outcome, 'created');
    const before = await inputOf(t, scheduleId);

    const err = await applySchedule(t.client, config(otherShellEnv(t)), { scheduleId }).then(
      () => assert.fail('apply should refuse'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ScheduleDiffersError, String(err));
    const byField = new Map(err.changes.map((c) => [c.field, c]));
    assert.deepEqual(byField.get('input.graceMs'), { field: 'input.graceMs', before: 10_000, after: 120_000, variable: 'UNSTICK_GRACE_PERIOD' });
    assert.deepEqual(byField.get('input.workspaceSids'), { field: 'input.workspaceSids', before: [WS], after: [], variable: 'TWILIO_WORKSPACE_SIDS' });
    assert.deepEqual(byField.get('input.flowSids'), { field: 'input.flowSids', before: [FW], after: [], variable: 'TWILIO_FLOW_SIDS' });
    // The callWatch settings the sweep hands to live calls differ the same way.
    assert.equal(byField.get('input.watchLiveCalls.settings.graceMs')?.variable, 'UNSTICK_GRACE_PERIOD');
    assert.ok(!byField.has('cadence') && !byField.has('catchupWindow') && !byField.has('taskQueue'), [...byField.keys()].join(', '));

    assert.deepEqual(await inputOf(t, scheduleId), before, 'nothing changed');
  });

  it('with replace, applies the configuration and reports what changed; the same configuration again is unchanged; a pause is kept', async () => {
    const scheduleId = uniqueId('apply-replace');
    await applySchedule(t.client, config(sandboxEnv(t)), { scheduleId });
    await pauseSchedule(t.client, 'operator', scheduleId);

    const other = config({ ...otherShellEnv(t), UNSTICK_SWEEP_INTERVAL: '5m' });
    const { outcome, changes } = await applySchedule(t.client, other, { scheduleId, replace: true });
    assert.equal(outcome, 'updated');
    const fields = changes.map((c) => c.field);
    for (const f of ['cadence', 'input.graceMs', 'input.workspaceSids', 'input.flowSids']) assert.ok(fields.includes(f), `${f} in ${fields.join(', ')}`);
    assert.deepEqual(changes.find((c) => c.field === 'cadence'), { field: 'cadence', before: 'every 15m', after: 'every 5m', variable: 'UNSTICK_SWEEP_INTERVAL or UNSTICK_SWEEP_CRON' });

    const d = await describeSchedule(t.client, scheduleId);
    assert.equal(Number(d.spec.intervals?.[0]?.every), 5 * 60_000);
    assert.equal((d.action.args?.[0] as SweepInput).graceMs, 120_000);
    assert.equal(d.state.paused, true, 'the pause an operator set is kept');

    assert.deepEqual(await applySchedule(t.client, other, { scheduleId }), { outcome: 'unchanged', changes: [] });
  });

  it('compares a cron cadence as configured, although the server keeps it as calendars', async () => {
    const scheduleId = uniqueId('apply-cron');
    const cron = (c: string) => config({ ...sandboxEnv(t), UNSTICK_SWEEP_CRON: c });
    await applySchedule(t.client, cron('*/5 * * * *'), { scheduleId });
    assert.ok((await describeSchedule(t.client, scheduleId)).spec.calendars?.length, 'the server compiled the cron string');
    assert.equal((await applySchedule(t.client, cron('*/5 * * * *'), { scheduleId })).outcome, 'unchanged');
    await assert.rejects(applySchedule(t.client, cron('0 3 * * *'), { scheduleId }), (e: unknown) => {
      assert.ok(e instanceof ScheduleDiffersError);
      assert.deepEqual(e.changes.map((c) => [c.field, c.before, c.after]), [['cadence', 'cron */5 * * * *', 'cron 0 3 * * *']]);
      return true;
    });
  });

  it('as `unstick schedule apply` in another shell: exit 2 listing the differences; with --replace, exit 0 printing them', async function () {
    this.timeout(60_000);
    await applySchedule(t.client, config(sandboxEnv(t)));
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'unstick-apply-cli-'));
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, UNSTICK_LOG_LEVEL: 'silent', ...otherShellEnv(t) };
        const child = spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), 'schedule', 'apply', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    try {
      const refused = await run([]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /^unstick-sweep exists with settings this configuration would change; nothing was changed:$/m);
      assert.match(refused.stderr, /^ {2}input\.graceMs: 10s → 2m {2}\(UNSTICK_GRACE_PERIOD\)$/m);
      assert.match(refused.stderr, new RegExp(`^  input\\.workspaceSids: \\[${WS}\\] → \\[\\] \\(all\\)  \\(TWILIO_WORKSPACE_SIDS\\)$`, 'm'));
      assert.match(refused.stderr, /re-run with --replace/);
      assert.equal((await inputOf(t, SCHEDULE_ID)).graceMs, 10_000, 'nothing changed');

      const replaced = await run(['--replace']);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.match(replaced.stdout, /^updated unstick-sweep$/m);
      assert.match(replaced.stdout, /^ {2}input\.graceMs: 10s → 2m {2}\(UNSTICK_GRACE_PERIOD\)$/m);
      assert.equal((await inputOf(t, SCHEDULE_ID)).graceMs, 120_000);

      const again = await run([]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^unchanged unstick-sweep$/m);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
      await t.client.schedule.getHandle(SCHEDULE_ID).delete();
    }
  });
});
