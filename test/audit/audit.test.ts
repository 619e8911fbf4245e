// `unstick audit` against the emulator through the real twilio SDK: finds the seeded misconfigurations, nothing on
// the correctly wired number and flows, repairs the status callback with --fix, and runs once as a CLI child process.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkFlow, runAudit, type AuditReport } from '../../src/audit';
import { studioFlowWebhookUrl } from '../../src/shared/names';
import type { Config } from '../../src/config';
import { startEmulator, type Emulator } from '../../src/emulator';
import { createTwilioClient, type TwilioClient } from '../../src/twilio/client';

const REPO = path.resolve(__dirname, '../..');

function auditConfig(emu: Emulator, webhook: Partial<Config['webhook']> = {}): Pick<Config, 'twilio' | 'webhook'> {
  return {
    twilio: emu.twilioConfig(),
    webhook: { host: '127.0.0.1', port: 0, maxBodyBytes: 65536, flowRedirects: {}, ...webhook },
  };
}

const findingsOn = (r: AuditReport, sid: string) => r.findings.filter((f) => f.resourceSid === sid);

describe('audit (emulator, real twilio SDK)', function () {
  let emu: Emulator;
  let twilio: TwilioClient;

  before(async () => {
    emu = await startEmulator({ seed: 'audit-test' });
    twilio = createTwilioClient(emu.twilioConfig());
  });
  after(async () => {
    await emu?.close();
  });
  beforeEach(() => emu.admin.reset());

  it('finds each seeded misconfiguration and nothing on the correctly wired number and flows', async () => {
    const s = emu.seeded;
    const report = await runAudit({ twilio, config: auditConfig(emu), fix: false });

    assert.equal(report.scanned.numbers, 3);
    assert.equal(report.scanned.numbersOnFlows, 3);
    assert.equal(report.scanned.flows, 4);

    // (a) the number whose status callback points elsewhere; --fix would point it at its flow's webhook URL.
    const [cb, ...cbRest] = findingsOn(report, s.misconfiguredNumberSid);
    assert.equal(cbRest.length, 0);
    assert.equal(cb?.check, 'status-callback');
    assert.equal(cb?.severity, 'error');
    assert.equal(cb?.flowSid, s.flexFlowSid);
    assert.match(cb!.message, /callbacks\.example\.com/);
    assert.equal(cb?.proposedStatusCallback, studioFlowWebhookUrl(s.accountSid, s.flexFlowSid));

    // (b) the legacy flow without concurrent calls, with the number that routes to it.
    const [cc, ...ccRest] = findingsOn(report, s.legacyFlowSid);
    assert.equal(ccRest.length, 0);
    assert.equal(cc?.check, 'concurrent-calls');
    assert.equal(cc?.severity, 'error');
    assert.deepEqual(cc?.numbers, [s.legacyNumber]);
    assert.equal(cc?.proposedStatusCallback, undefined);

    // (c) the webchat flow's Send & Wait for Reply without a timeout.
    const [sw, ...swRest] = findingsOn(report, s.webchatFlowSid);
    assert.equal(swRest.length, 0);
    assert.equal(sw?.check, 'send-and-wait-timeout');
    assert.equal(sw?.severity, 'error');
    assert.equal(sw?.widget, 'send_and_wait');

    // Correctly wired: the main number, the legacy number's callback, the Flex and SMS flows (timeout "3600").
    for (const sid of [s.phoneNumberSid, s.legacyNumberSid, s.flexFlowSid, s.messagingFlowSid]) {
      assert.deepEqual(findingsOn(report, sid), [], `no finding expected on ${sid}`);
    }
    assert.equal(report.findings.length, 3);
    assert.deepEqual(report.remaining, { errors: 3, warnings: 0 });
    assert.equal(report.clean, false);
    assert.deepEqual(report.changes, []);
  });

  it('--fix points the status callback at the flow, and a re-run is clean for that finding', async () => {
    const s = emu.seeded;
    const flowUrl = studioFlowWebhookUrl(s.accountSid, s.flexFlowSid);
    const fixed = await runAudit({ twilio, config: auditConfig(emu), fix: true });

    assert.deepEqual(fixed.changes, [
      { numberSid: s.misconfiguredNumberSid, phoneNumber: s.misconfiguredNumber, field: 'status_callback', before: s.misconfiguredStatusCallback, after: flowUrl },
    ]);
    assert.deepEqual(findingsOn(fixed, s.misconfiguredNumberSid)[0]?.fixed, { field: 'status_callback', before: s.misconfiguredStatusCallback, after: flowUrl });
    // Only the unfixable findings count afterwards.
    assert.deepEqual(fixed.remaining, { errors: 2, warnings: 0 });

    const number = await twilio.incomingPhoneNumbers(s.misconfiguredNumberSid).fetch();
    assert.equal(number.statusCallback, flowUrl);
    assert.equal(number.statusCallbackMethod, 'POST');

    const again = await runAudit({ twilio, config: auditConfig(emu), fix: false });
    assert.deepEqual(findingsOn(again, s.misconfiguredNumberSid), []);
    assert.deepEqual(again.findings.map((f) => f.check).sort(), ['concurrent-calls', 'send-and-wait-timeout']);
  });

  it('--fix leaves a number alone that was re-wired after the audit read it', async () => {
    const s = emu.seeded;
    const other = 'https://other-app.example.com/status';
    // Right after the audit's list of numbers is answered, another app takes the number's status callback.
    const hook = emu.admin.afterResponse({ method: 'GET', endpoint: 'api:IncomingPhoneNumbers', times: 1 }, () =>
      emu.admin.setNumber(s.misconfiguredNumberSid, { statusCallback: other }),
    );
    const report = await runAudit({ twilio, config: auditConfig(emu), fix: true });

    assert.equal(emu.admin.hookFires(hook), 1);
    assert.deepEqual(report.changes, []);
    assert.match(findingsOn(report, s.misconfiguredNumberSid)[0]?.fixError ?? '', /changed since the audit read it/);
    assert.equal((await twilio.incomingPhoneNumbers(s.misconfiguredNumberSid).fetch()).statusCallback, other);
  });

  it("with WEBHOOK_PUBLIC_URL, --fix uses unstick's webhook only for numbers the webhook redirects to their flow", async () => {
    const s = emu.seeded;
    const publicUrl = 'https://unstick.example.com';
    const unstickUrl = `${publicUrl}/twilio/voice/status`;

    // Without a WEBHOOK_FLOW_REDIRECTS entry unstick's webhook would swallow Studio's callback: use the flow URL.
    const noRedirect = await runAudit({ twilio, config: auditConfig(emu, { publicUrl }), fix: false });
    assert.equal(findingsOn(noRedirect, s.misconfiguredNumberSid)[0]?.proposedStatusCallback, studioFlowWebhookUrl(s.accountSid, s.flexFlowSid));

    const config = auditConfig(emu, { publicUrl, flowRedirects: { [s.misconfiguredNumber]: s.flexFlowSid } });
    const fixed = await runAudit({ twilio, config, fix: true });
    assert.equal(fixed.changes[0]?.after, unstickUrl);
    assert.equal((await twilio.incomingPhoneNumbers(s.misconfiguredNumberSid).fetch()).statusCallback, unstickUrl);
    assert.deepEqual(findingsOn(await runAudit({ twilio, config, fix: false }), s.misconfiguredNumberSid), []);

    // The same number with the redirect entry gone: Studio would never get the final status.
    const lost = await runAudit({ twilio, config: auditConfig(emu, { publicUrl }), fix: true });
    const [redirect] = findingsOn(lost, s.misconfiguredNumberSid);
    assert.equal(redirect?.check, 'status-callback-redirect');
    assert.equal(redirect?.fixed, undefined, 'a missing redirect is a configuration fix, not a Twilio change');
    assert.ok(redirect!.hint!.startsWith(`add ${s.misconfiguredNumber}=${s.flexFlowSid} to WEBHOOK_FLOW_REDIRECTS`), redirect!.hint);
    assert.deepEqual(lost.changes, []);
  });

  it('reports a missing status callback as fixable', async () => {
    const s = emu.seeded;
    emu.admin.setNumber(s.phoneNumberSid, { statusCallback: null });
    const report = await runAudit({ twilio, config: auditConfig(emu), fix: false });
    const [f] = findingsOn(report, s.phoneNumberSid);
    assert.equal(f?.check, 'status-callback');
    assert.match(f!.message, /no status callback/);
    assert.equal(f?.proposedStatusCallback, studioFlowWebhookUrl(s.accountSid, s.flexFlowSid));
  });

  it('runs as `unstick audit --json` in a child process: JSON report on stdout, exit code 1', async function () {
    this.timeout(60_000);
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'unstick-audit-cli-'));
    try {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TWILIO_API_BASE_URL: emu.url,
        TWILIO_ACCOUNT_SID: emu.accountSid,
        TWILIO_AUTH_TOKEN: emu.authToken,
        UNSTICK_LOG_LEVEL: 'silent',
      };
      const child = spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), 'audit', '--json'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 1, `exit code (stderr: ${stderr})`);
      const report = JSON.parse(stdout) as AuditReport;
      assert.equal(report.accountSid, emu.accountSid);
      assert.deepEqual(report.findings.map((f) => `${f.check}:${f.resourceSid}`).sort(), [
        `concurrent-calls:${emu.seeded.legacyFlowSid}`,
        `send-and-wait-timeout:${emu.seeded.webchatFlowSid}`,
        `status-callback:${emu.seeded.misconfiguredNumberSid}`,
      ].sort());
      assert.equal(report.clean, false);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('audit flow checks (definitions)', () => {
  const flow = (states: unknown[], flags: unknown = { allow_concurrent_calls: true }) => ({
    sid: 'FW' + 'a'.repeat(32), friendlyName: 'f', webhookUrl: null, definition: { states, flags, initial_state: 'Trigger' },
  });
  const swr = (timeout?: unknown) => ({ name: 'wait', type: 'send-and-wait-for-reply', properties: timeout === undefined ? {} : { timeout } });

  it('warns above 4 h, errors without a usable timeout, accepts up to 4 h', () => {
    assert.deepEqual(checkFlow(flow([swr('14400')]), []), []);
    assert.deepEqual(checkFlow(flow([swr(3600)]), []), []);
    const [long] = checkFlow(flow([swr('86400')]), []);
    assert.equal(long?.severity, 'warning');
    assert.match(long!.message, /86400 s \(24\.0 h\)/);
    assert.equal(checkFlow(flow([swr()]), [])[0]?.severity, 'error');
    assert.equal(checkFlow(flow([swr('')]), [])[0]?.severity, 'error');
    assert.match(checkFlow(flow([swr('soon')]), [])[0]!.message, /not a number of seconds/);
  });

  it('flags a missing allow_concurrent_calls; a flow no number routes to is only a warning', () => {
    const [missing] = checkFlow(flow([], {}), ['+15550000000']);
    assert.equal(missing?.check, 'concurrent-calls');
    assert.equal(missing?.severity, 'error');
    assert.match(missing!.message, /is missing/);
    assert.equal(checkFlow(flow([], { allow_concurrent_calls: false }), [])[0]?.severity, 'warning');
  });
});
