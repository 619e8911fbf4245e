/**
 * `npm run bench -- traffic [--rate 5] [--minutes 2] [--latency 50] [--grace 3s] [--linker on|off]`: sustained calls
 * against the emulator (the usual stuck mix), through the webhook, a real dev server and the worker, as the tests'
 * stack wires them. Reports p95 from call end to close per minute, Twilio requests per clean and per stuck call
 * (each call's own requests plus its share of the list pages), and list (discovery) requests per minute.
 * `--linker off` is the per-call discovery path (UNSTICK_LINKER=false; watches poll as before the linker).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ScenarioName } from '../src/emulator';
import { linkerStateQuery, linkerWorkflowId } from '../src/shared/messages';
import { callWorkflowId, CALL_WATCH_WORKFLOW_TYPE } from '../src/shared/names';
import { startLinker } from '../src/worker';
import type { CallWatchResult } from '../src/workflows/callWatch';
import { startStack, type RecordedRequest } from '../test/helpers/stack';

const MIX: Partial<Record<ScenarioName, number>> = {
  normal: 0.7,
  'hangup-before-twiml': 0.08,
  'sip-cancel-487': 0.05,
  'lost-final-webhook': 0.05,
  'desync-pending': 0.04,
  'desync-reserved': 0.04,
  'desync-assigned': 0.04,
};

const arg = (argv: string[], name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const pct = (xs: number[], p: number): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const isList = (r: RecordedRequest) => r.method === 'GET' && /\/(Executions|Tasks|Calls\.json|Flows|Workspaces)$/.test(r.uri);

export async function main(argv: string[]): Promise<number> {
  const rate = Number(arg(argv, 'rate', '5'));
  const minutes = Number(arg(argv, 'minutes', '2'));
  const latencyMs = Number(arg(argv, 'latency', '50'));
  const grace = arg(argv, 'grace', '3s');
  const linker = arg(argv, 'linker', 'on') === 'on';
  const stack = await startStack({
    env: {
      UNSTICK_GRACE_PERIOD: grace,
      UNSTICK_POLL_INITIAL: '1s',
      UNSTICK_POLL_MAX: '4s',
      UNSTICK_MAX_AGE: '1h',
      UNSTICK_DISCOVERY_RPS: '2.5',
      UNSTICK_LOG_LEVEL: 'error',
      UNSTICK_LINKER: linker ? 'true' : 'false',
      UNSTICK_LINKER_LIVE_CHECK: '20s',
      // Without the linker: the polling of before (back-off to UNSTICK_POLL_MAX whatever the callbacks).
      ...(linker ? {} : { UNSTICK_POLL_WITH_CALLBACKS: '4s' }),
    },
  });
  try {
    for (const endpoint of ['api:*', 'studio:*', 'taskrouter:*']) stack.emu.admin.addFault({ endpoint, latencyMs });
    await stack.startWorkers();
    if (linker) await startLinker(stack.temporal.client, stack.config);
    const t0 = Date.now();
    const before = stack.requests.length;
    const durationMs = minutes * 60_000;
    stack.emu.admin.startTraffic({ rate, durationMs, mix: MIX });
    await new Promise((r) => setTimeout(r, durationMs + 1_000));
    const runs = stack.emu.admin.snapshot({ runs: 1_000_000 }).runs.filter((r) => r.run.callSid);
    process.stderr.write(`traffic: ${runs.length} calls started; waiting for their watches to close\n`);
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      let open = 0;
      for await (const _w of stack.temporal.client.workflow.list({ query: `WorkflowType = '${CALL_WATCH_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'` })) open++;
      if (open === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const requests = stack.requests.slice(before);
    const calls: { scenario: string; stuck: boolean; startedAt: number; closeMs?: number; own: number }[] = [];
    const tally: Record<string, number> = {};
    const count = (k: string) => (tally[k] = (tally[k] ?? 0) + 1);
    const bySid = new Map<string, number>();
    for (const r of runs) {
      const i = calls.length;
      const handle = stack.temporal.client.workflow.getHandle(callWorkflowId(r.run.callSid!));
      let closeMs: number | undefined;
      let stuck = false;
      try {
        const d = await handle.describe();
        const res = (await handle.result()) as CallWatchResult;
        stuck = res.actions.length > 0;
        count(`outcome ${res.outcome}`);
        count(`execution linked by ${res.linkedBy?.execution ?? 'none'}`);
        count(`task linked by ${res.linkedBy?.task ?? 'none'}`);
        if (!res.callEndedAtMs) count(`no end time (${res.callStatus})`);
        if (d.closeTime && res.callEndedAtMs) closeMs = d.closeTime.getTime() - res.callEndedAtMs;
      } catch (err) {
        count(`not closed: ${err instanceof Error ? err.name : String(err)}`);
      }
      calls.push({ scenario: r.run.scenario, stuck, startedAt: Date.parse(r.run.startedAt), closeMs, own: 0 });
      for (const sid of [r.run.callSid, r.run.executionSid, r.run.taskSid]) if (sid) bySid.set(sid, i);
    }
    let shared = 0;
    for (const q of requests) {
      const m = /(CA|FN|WT)[0-9a-f]{32}/.exec(q.uri);
      const i = m ? bySid.get(m[0]) : undefined;
      if (i === undefined) shared++;
      else calls[i]!.own++;
    }
    const n = calls.length;
    const clean = calls.filter((c) => !c.stuck);
    const stuck = calls.filter((c) => c.stuck);
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const perMinute = Array.from({ length: Math.ceil(minutes) }, (_, m) => {
      const inMin = calls.filter((c) => c.startedAt >= t0 + m * 60_000 && c.startedAt < t0 + (m + 1) * 60_000 && c.closeMs !== undefined);
      const lists = requests.filter((q) => isList(q) && q.at >= t0 + m * 60_000 && q.at < t0 + (m + 1) * 60_000).length;
      return { minute: m + 1, calls: inMin.length, p50: pct(inMin.map((c) => c.closeMs!), 50), p95: pct(inMin.map((c) => c.closeMs!), 95), listRequests: lists };
    });
    const report = {
      params: { rate, minutes, latencyMs, grace, linker, mix: MIX },
      calls: n,
      notClosed: calls.filter((c) => c.closeMs === undefined).length,
      closeMs: { p50: pct(calls.filter((c) => c.closeMs !== undefined).map((c) => c.closeMs!), 50), p95: pct(calls.filter((c) => c.closeMs !== undefined).map((c) => c.closeMs!), 95) },
      requests: requests.length,
      sharedRequests: shared,
      requestsPerCleanCall: avg(clean.map((c) => c.own)) + shared / Math.max(1, n),
      requestsPerStuckCall: avg(stuck.map((c) => c.own)) + shared / Math.max(1, n),
      clean: clean.length,
      stuck: stuck.length,
      perMinute,
      tally,
      linker: linker ? await stack.temporal.client.workflow.getHandle(linkerWorkflowId(stack.config.twilio.accountSid)).query(linkerStateQuery) : undefined,
    };
    const dir = path.resolve(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `traffic-${linker ? 'linker' : 'no-linker'}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\nwritten ${file}\n`);
    return report.notClosed === 0 ? 0 : 1;
  } finally {
    await stack.teardown();
  }
}
