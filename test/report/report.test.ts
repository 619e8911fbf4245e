/**
 * `unstick report` end to end: stuck Executions of two causes (a voice call hung up before any TwiML widget, an SMS
 * Send & Wait without timeout) closed by a real sweep on the real Temporal dev server against the emulator; the
 * report reads them back from visibility and the workflows' results; its HTML page is rendered by headless Chromium
 * (Debian's `chromium`), with the network off, and the charts are checked in the DOM it dumps.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { runReportCommand } from '../../src/cli/report';
import type { StuckReport } from '../../src/report/aggregate';
import { startTestTemporal, waitUntil, type TestTemporal } from '../helpers/temporal';
import { runSweep, startRig, testInput, type SweepRig } from '../sweep/harness';

const run = promisify(execFile);
const HOUR = 3_600_000;

async function chromiumDumpDom(file: string): Promise<string> {
  const profile = mkdtempSync(path.join(tmpdir(), 'unstick-chromium-'));
  try {
    const { stdout } = await run(
      'chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        // No network at all: anything the page tried to fetch would fail, so the charts prove the library is inlined.
        '--proxy-server=127.0.0.1:9', '--proxy-bypass-list=<-loopback>',
        `--user-data-dir=${profile}`, '--virtual-time-budget=5000', '--dump-dom', `file://${file}`],
      { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

describe('unstick report', function () {
  let t: TestTemporal;
  let rig: SweepRig | undefined;
  let dir: string;

  before(async () => {
    t = await startTestTemporal();
    dir = mkdtempSync(path.join(tmpdir(), 'unstick-report-'));
  });
  after(async () => {
    await rig?.close();
    await t?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows stuck Executions of two causes closed by a sweep, as a table and as an HTML page with charts', async () => {
    rig = await startRig(t);
    const s = rig.emu.admin;
    s.seedExecutions({ count: 2, kind: 'voice-ended-call', callEndedAgoMs: 10 * 60_000 });
    s.setSendAndWaitTimeout(rig.emu.seeded.messagingFlowSid, undefined);
    s.seedExecutions({ count: 1, kind: 'sms', ageMs: 3 * HOUR, lastStepAgeMs: 2 * HOUR });
    const sweep = await runSweep(t, rig, testInput(rig, { executionThresholdMs: 5_000, channels: ['voice', 'sms'] }));
    assert.equal(sweep.counts.closed['end-execution'], 3);
    const voiceCause = sweep.actions.find((a) => a.stuck && a.stuck.calledNumber)!.stuck!.cause;

    const html = path.join(dir, 'report.html');
    let text = '';
    const report = await waitUntil('the report sees the sweep', async () => {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      const r: StuckReport = await runReportCommand(t.client, { since: '1h', html }, out);
      text = Buffer.concat(chunks).toString();
      return r.total === 3 ? r : undefined;
    });
    assert.deepEqual(new Map(report.byCause.map((c) => [c.cause, c.count])), new Map([[voiceCause, 2], ['send-and-wait-without-timeout', 1]]));
    assert.match(text, /Send & Wait without timeout/);
    assert.match(text, /send-and-wait-timeout/, 'the cause links to its audit check');
    assert.match(text, /status-callback/);
    assert.match(text, new RegExp(rig.emu.seeded.messagingFlowSid));

    const dom = await chromiumDumpDom(html);
    const marker = /<div id="charts-rendered" data-charts="(\d+)" data-bars="(\d+)"><\/div>/.exec(dom);
    assert.ok(marker, 'the page script ran after Chart.js drew the charts');
    assert.equal(marker[1], '4', 'four charts with a drawn canvas');
    // Two causes, two Flow/widget rows at least, and the numbers called (two calls' numbers and "not a call").
    assert.ok(Number(marker[2]) >= 2 + 2 + 2, `bars drawn: ${marker[2]}`);
    assert.equal((dom.match(/<canvas /g) ?? []).length, 4);
    assert.match(dom, /href="#audit-send-and-wait-timeout"/);
    assert.match(dom, /<strong id="total">3<\/strong>/);
  });
});
