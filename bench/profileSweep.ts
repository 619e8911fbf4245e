/**
 * Where does a sweep's time go? Measures, on the benchmark's emulator process and workload: the raw throughput of
 * the twilio SDK at the cap (no Temporal), one sweep page activity run directly (no workflow), and the visibility
 * ownership query. `npx tsx bench/profileSweep.ts [--tasks N] [--latency ms] [--cap N]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pLimit from 'p-limit';
import { createSweepActivities } from '../src/activities/sweepActivities';
import { emptyCounts } from '../src/shared/sweepTypes';
import { startDevServer } from '../src/temporal/devServer';
import { createTwilioClient } from '../src/twilio/client';
import { startEmulatorProcess } from './emulatorProcess';
import { DEFAULT_MIX } from './sweepReport';

async function main() {
  const args = process.argv.slice(2);
  const get = (f: string, d: number) => (args.includes(f) ? Number(args[args.indexOf(f) + 1]) : d);
  const tasks = get('--tasks', 2000);
  const latencyMs = get('--latency', 10);
  const cap = get('--cap', 50);
  const emu = await startEmulatorProcess({ seed: 42 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-prof-'));
  const server = await startDevServer({ dbFile: path.join(dir, 't.db'), headless: true, logLevel: 'error' });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  try {
    await emu.setFaults({ latencyMs, cap });
    const seeded = await emu.reseed({ seed: 42, tasks, mix: DEFAULT_MIX });
    const twilio = createTwilioClient({ accountSid: emu.accountSid, authToken: emu.authToken, baseUrl: emu.url, maxInFlight: cap, requestTimeoutMs: 30000, workspaceSids: [], flowSids: [] });
    const calls = [...seeded.byCategory.voiceEnded, ...seeded.byCategory.voiceLive];
    // (a) raw SDK: fetch N tasks at `cap` in flight.
    const ws = twilio.taskrouter.v1.workspaces(seeded.workspaceSid);
    const n = Math.min(calls.length, 3000);
    const lim = pLimit(cap);
    let t = performance.now();
    await Promise.all(calls.slice(0, n).map((sid) => lim(() => ws.tasks(sid).fetch())));
    let ms = performance.now() - t;
    console.log(`raw SDK fetch ×${n} at ${cap} in flight: ${ms.toFixed(0)} ms (${(n / (ms / 1000)).toFixed(0)} req/s; bound ${(n * latencyMs / cap).toFixed(0)} ms)`);
    // (a') list one page
    t = performance.now();
    const page = await ws.tasks.page({ assignmentStatus: ['pending', 'reserved', 'assigned'], pageSize: 1000 });
    console.log(`list page of ${page.instances.length}: ${(performance.now() - t).toFixed(0)} ms`);
    // (b) ownership query: one visibility list for up to 1,000 CallSids (a page's), as the page activity does
    t = performance.now();
    const chunk = calls.slice(0, 1000);
    for await (const _wf of client.workflow.list({ query: `WorkflowType = 'callWatch' AND ExecutionStatus = 'Running' AND CallSid IN (${chunk.map((s) => `'${s}'`).join(', ')})`, pageSize: chunk.length })) void _wf;
    console.log(`visibility query for ${chunk.length} CallSids: ${(performance.now() - t).toFixed(0)} ms`);
    const acts = createSweepActivities({ twilio, limit: pLimit(cap), temporal: client });
    // (c) one page activity directly
    await emu.resetCounters();
    const cpu0 = process.cpuUsage();
    t = performance.now();
    const r = await acts.sweepTaskPage({
      workspaceSid: seeded.workspaceSid, pageSize: 1000, concurrency: cap, dryRun: false, budget: null, channels: ['voice'],
      graceMs: 120000, maxAgeMs: 4 * 3600000, messagingIdleMs: 4 * 3600000, postCallTaskAfterMs: 120_000,
    taskReason: 'x', maxReportedActions: 10,
    });
    ms = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    console.log(`  client CPU during the page: ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`);
    const c = await emu.counters();
    console.log(`sweepTaskPage (no workflow): ${ms.toFixed(0)} ms, ${c.total} requests, bound ${(c.total * latencyMs / cap).toFixed(0)} ms, closed ${JSON.stringify(r.counts.closed)}`);
    void emptyCounts;
  } finally {
    await connection.close();
    await server.stop();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
