/**
 * `unstick up` (the sandbox) as a newcomer meets it, in a child process with stdout and stderr in one file (as a
 * terminal or `npm start > log 2>&1` shows them): the first sweep runs at start, the banner is the last thing printed
 * and says how to reach the sandbox from another shell, the sandbox's `sandbox.env` makes `audit` and
 * `temporal -- …` work there, audit takes the sandbox's own wiring as correct, the emulator's Event Streams reach the
 * webhook, the report line it prints works, and Ctrl-C removes the file.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import * as dotenv from 'dotenv';
import type { AuditReport } from '../../src/audit';
import type { StuckReport } from '../../src/report/aggregate';
import { renderEnvFile } from '../../src/cli/envFile';
import { EmulatorAdminClient, type EmulatorInfo } from '../../src/emulator/adminClient';
import { totalClosed, type SweepReport } from '../../src/shared/sweepTypes';
import { createTwilioClient } from '../../src/twilio/client';
import { getFreePort } from '../../src/util/freePort';
import { waitUntil } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '../..');
const BANNER_END = 'Press Ctrl-C to stop.';

/** What a fresh shell has: no Twilio or Temporal variables, only what finds the Temporal CLI. */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  for (const k of ['XDG_CACHE_HOME', 'TEMPORAL_CLI_PATH']) if (process.env[k]) env[k] = process.env[k];
  return env;
}

function unstick(cwd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = shellEnv({ UNSTICK_LOG_LEVEL: 'silent', ...extraEnv });
    const child = spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const findingKeys = (r: AuditReport) => r.findings.map((f) => `${f.check}:${f.resourceSid}`).sort();

describe('the sandbox (`unstick up`) for a newcomer', function () {
  this.timeout(180_000);
  let dir: string;
  let outFile: string;
  let envFile: string;
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let vars: Record<string, string>;
  let emu: EmulatorInfo;
  let connection: Connection;
  let client: Client;

  const output = () => readFileSync(outFile, 'utf8');
  const afterBanner = () => output().slice(output().lastIndexOf(BANNER_END) + BANNER_END.length);

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-sandbox-'));
    outFile = path.join(dir, 'output.log');
    envFile = path.join(dir, 'data', 'sandbox.env');
    const fd = openSync(outFile, 'a');
    const env = shellEnv({
      UNSTICK_DATA_DIR: path.join(dir, 'data'),
      TEMPORAL_DEV_PORT: String(await getFreePort()),
      TEMPORAL_UI_PORT: String(await getFreePort()),
      WEBHOOK_PORT: '0',
      // A setting of its own, which other shells do not have.
      UNSTICK_GRACE_PERIOD: '10s',
    });
    child = spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), 'up'], { cwd: dir, env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    await waitUntil('the sandbox banner', () => output().includes(BANNER_END) || child.exitCode !== null, { timeoutMs: 120_000 });
    assert.equal(child.exitCode, null, `the sandbox exited early:\n${output()}`);
    vars = dotenv.parse(readFileSync(envFile));
    emu = await new EmulatorAdminClient(vars.TWILIO_API_BASE_URL!).info();
    connection = await Connection.connect({ address: vars.TEMPORAL_ADDRESS! });
    client = new Client({ connection, namespace: vars.TEMPORAL_NAMESPACE });
  });

  after(async () => {
    await connection?.close();
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sweeps the seeded backlog at start instead of an interval later, and the banner says so', async () => {
    assert.match(output(), /^ {2}Sweep schedule: +unstick-sweep \(created; every 15m; first sweep started now\)$/m);
    const report = await waitUntil('the first scheduled sweep to complete', async () => {
      for await (const wf of client.workflow.list({ query: "WorkflowType = 'sweep' AND ExecutionStatus = 'Completed'" })) {
        if (wf.workflowId.startsWith('sweep:scheduled-')) return (await client.workflow.getHandle(wf.workflowId).result()) as SweepReport;
      }
      return undefined;
    }, { timeoutMs: 90_000, intervalMs: 500 });
    assert.equal(report.startedBy, 'schedule');
    assert.ok(totalClosed(report.counts) > 0, report.summary);
  });

  it('keeps the banner last: callbacks are logged at debug, and the discovery queue is explained instead of warned about', async () => {
    // Callbacks have come in since the banner (the sandbox plays a call every 5 s on average).
    await waitUntil('webhook callbacks after the banner', async () => (await new EmulatorAdminClient(vars.TWILIO_API_BASE_URL!).webhooks({ kind: 'status-callback' })).filter((d) => d.hops[0]?.url.startsWith(vars.WEBHOOK_PUBLIC_URL!) && d.hops[0].status === 302).length >= 3, { timeoutMs: 60_000, intervalMs: 250 });
    const lines = afterBanner().split('\n').filter(Boolean);
    const notWarnings = lines.filter((l) => !/"level":(40|50|60)\b/.test(l));
    assert.deepEqual(notWarnings, [], 'nothing below warn after the banner');
    assert.ok(!output().includes('"decision":"signalled"'), 'no per-callback lines at info');

    const before = output().slice(0, output().lastIndexOf(BANNER_END));
    assert.ok(!before.includes('No workflows registered'), 'the SDK warning of the activity-only worker is kept for debug');
    assert.match(before, /task queue unstick-discovery: activities only/);
    const shown = path.join('data', 'sandbox.env');
    assert.match(before, new RegExp(`^ {2}Audit: +npx unstick --dotenv ${shown.replace(/\./g, '\\.')} audit `, 'm'));
  });

  it('`audit` without credentials says how to reach the running sandbox', async () => {
    const r = await unstick(dir, ['audit'], { UNSTICK_DATA_DIR: path.join(dir, 'data') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN .*and TWILIO_API_BASE_URL too/);
    assert.match(r.stderr, new RegExp(`^The sandbox is running: npx unstick --dotenv ${path.join('data', 'sandbox.env').replace(/\./g, '\\.')} audit$`, 'm'));
  });

  it('`--dotenv <sandbox.env> audit` takes the sandbox\'s own wiring as correct and reports only the emulator\'s deliberate misconfigurations', async () => {
    for (const k of ['TWILIO_API_BASE_URL', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'WEBHOOK_PUBLIC_URL', 'WEBHOOK_FLOW_REDIRECTS', 'TEMPORAL_ADDRESS']) {
      assert.ok(vars[k], `${k} in sandbox.env`);
    }
    const r = await unstick(dir, ['--dotenv', envFile, 'audit', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as AuditReport;
    const s = emu.seeded;
    assert.deepEqual(report.findings.filter((f) => f.resourceSid === s.phoneNumberSid), [], 'the sandbox number, wired to the webhook, is fine');
    assert.deepEqual(findingKeys(report), [
      `concurrent-calls:${s.legacyFlowSid}`,
      `send-and-wait-timeout:${s.webchatFlowSid}`,
      `status-callback:${s.misconfiguredNumberSid}`,
    ].sort());
  });

  it('`audit --fix` repairs only the misconfigured number, leaves the sandbox\'s webhook wiring alone, and a second --fix changes nothing', async () => {
    const s = emu.seeded;
    const first = JSON.parse((await unstick(dir, ['--dotenv', envFile, 'audit', '--fix', '--json'])).stdout) as AuditReport;
    assert.deepEqual(first.changes.map((c) => c.numberSid), [s.misconfiguredNumberSid]);
    const second = await unstick(dir, ['--dotenv', envFile, 'audit', '--fix', '--json']);
    assert.deepEqual((JSON.parse(second.stdout) as AuditReport).changes, []);

    const twilio = createTwilioClient({ accountSid: vars.TWILIO_ACCOUNT_SID!, authToken: vars.TWILIO_AUTH_TOKEN!, baseUrl: vars.TWILIO_API_BASE_URL!, maxInFlight: 4, requestTimeoutMs: 5000, workspaceSids: [], flowSids: [] });
    const number = await twilio.incomingPhoneNumbers(s.phoneNumberSid).fetch();
    assert.equal(number.statusCallback, `${vars.WEBHOOK_PUBLIC_URL}/twilio/voice/status`);
  });

  it('`--dotenv <sandbox.env> temporal -- …` runs the Temporal CLI against the sandbox\'s server', async () => {
    const r = await unstick(dir, ['--dotenv', envFile, 'temporal', '--', 'workflow', 'count', '--query', "WorkflowType = 'sweep'"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Total: [1-9]\d*$/m);
  });

  it('`schedule apply` from another shell leaves the sandbox\'s Schedule alone; with its sandbox.env it finds it unchanged', async () => {
    assert.equal(vars.UNSTICK_GRACE_PERIOD, '10000', 'the sandbox.env carries the settings that are not the defaults');
    const bare = await unstick(dir, ['schedule', 'apply'], { TEMPORAL_ADDRESS: vars.TEMPORAL_ADDRESS! });
    assert.equal(bare.code, 2, bare.stderr);
    assert.match(bare.stderr, /^ {2}input\.graceMs: 10s → 2m {2}\(UNSTICK_GRACE_PERIOD\)$/m);
    assert.match(bare.stderr, /^ {2}input\.workspaceSids: \[WS[0-9a-f]{32}\] → \[\] \(all\) {2}\(TWILIO_WORKSPACE_SIDS\)$/m);
    const withFile = await unstick(dir, ['--dotenv', envFile, 'schedule', 'apply']);
    assert.equal(withFile.code, 0, withFile.stderr);
    assert.match(withFile.stdout, /^unchanged unstick-sweep$/m);
  });

  it('names its Event Streams sink in the banner, and the emulator\'s batches to it are answered 200 by the webhook', async () => {
    const m = /^ {2}Event Streams sink: +(\S+)$/m.exec(output());
    assert.ok(m, 'an Event Streams sink line in the banner');
    assert.equal(m[1], `${vars.WEBHOOK_PUBLIC_URL}/twilio/event-streams`);
    const admin = new EmulatorAdminClient(vars.TWILIO_API_BASE_URL!);
    const { sink, counters } = await waitUntil('Event Streams batches answered 200', async () => {
      const es = await admin.eventStreams();
      return (es.counters.answers['200'] ?? 0) >= 3 ? es : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    assert.equal(sink?.destination, m[1]);
    assert.deepEqual(Object.keys(counters.answers), ['200'], `every answer is 200: ${JSON.stringify(counters.answers)}`);
  });

  it('prints how to see the report, and that command (with --json) reads the sandbox\'s workflows', async () => {
    const m = /^ {2}Report: +npx unstick (.+?) {3}\(/m.exec(output());
    assert.ok(m, 'a Report line in the banner');
    const args = m[1]!.split(' ');
    assert.deepEqual(args, ['--dotenv', path.join('data', 'sandbox.env'), 'report', '--since', '1d', '--html', 'report.html']);
    const report = await waitUntil('a report with a workflow read', async () => {
      const r = await unstick(dir, [...args, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const parsed = JSON.parse(r.stdout) as StuckReport;
      return parsed.workflowsRead >= 1 ? parsed : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1000 });
    assert.equal(report.byCause.reduce((n, c) => n + c.count, 0), report.total);
    assert.match(readFileSync(path.join(dir, 'report.html'), 'utf8'), /<html/i);
  });

  it('Ctrl-C stops it and removes sandbox.env', async () => {
    child.kill('SIGINT');
    assert.equal(await exited, 0, output().slice(-2000));
    assert.equal(existsSync(envFile), false);
    const r = await unstick(dir, ['--dotenv', envFile, 'audit']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--dotenv ".*sandbox\.env": no such file \(`npm start` writes it while the sandbox runs/);
  });
});

describe('sandbox.env format', () => {
  it('dotenv and a POSIX shell read the same values; a value neither quoting carries is left out with a comment', () => {
    const vars = {
      URL: 'http://127.0.0.1:4000',
      REDIRECTS: '+15551230000=FW0123456789abcdef0123456789abcdef',
      REASON: 'unstick: closed stuck voice Task after the call ended',
      PROTECT: "taskType == 'callback' OR vip HAS 1",
      BOTH: `a 'b' "c"`,
    };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-envfile-'));
    try {
      const file = path.join(dir, 'sandbox.env');
      writeFileSync(file, renderEnvFile(vars, ['header']));
      const viaDotenv = dotenv.parse(readFileSync(file));
      const viaShell = JSON.parse(execFileSync('sh', ['-c', `. "${file}"; node -e 'console.log(JSON.stringify({URL:process.env.URL,REDIRECTS:process.env.REDIRECTS,REASON:process.env.REASON,PROTECT:process.env.PROTECT}))'`], { encoding: 'utf8', env: { PATH: process.env.PATH } })) as Record<string, string>;
      const { BOTH: _left, ...written } = vars;
      assert.deepEqual(viaDotenv, written);
      assert.deepEqual(viaShell, written);
      assert.match(readFileSync(file, 'utf8'), /^# BOTH is not written/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
