/**
 * Bench-only child process: runs the emulator and answers the parent's IPC calls (bench/emulatorProcess.ts) with
 * the emulator's in-process admin helpers. `reseed` starts a fresh emulator on the same port with the same seed, so
 * two seedings produce the same SIDs, statuses and order.
 */
import { startEmulator, type Emulator, type SeedTaskCategory } from '../src/emulator';

const seedArg = Number(process.argv[2] ?? '1');
let emu: Emulator | undefined;
let port = 0;
let faults = { latencyMs: 0, cap: 0 };

// Closed Tasks stay readable for the whole benchmark, so the final state can be read back.
const DAY_MS = 24 * 3600 * 1000;

async function fresh(seed: number, taskListAttributes: 'full' | 'null' = 'full'): Promise<Emulator> {
  if (emu) await emu.close();
  emu = await startEmulator({
    port,
    seed,
    closedTaskTtlMs: DAY_MS,
    settings: { taskListAttributes },
    faults: { rules: faults.latencyMs > 0 ? [{ endpoint: '*', latencyMs: faults.latencyMs }] : [], maxInFlight: faults.cap },
  });
  port = Number(new URL(emu.url).port);
  return emu;
}

function current(): Emulator {
  if (!emu) throw new Error('emulator not started');
  return emu;
}

const methods: Record<string, (...args: never[]) => unknown> = {
  async reseed(o: { seed: number; tasks: number; mix: Record<SeedTaskCategory, number>; listAttributes?: 'full' | 'null' }) {
    const e = await fresh(o.seed, o.listAttributes);
    const r = e.admin.seedTasks({ count: o.tasks, mix: o.mix });
    e.admin.resetCounters();
    return {
      workspaceSid: e.seeded.workspaceSid,
      byCategory: Object.fromEntries(Object.entries(r.byCategory).map(([k, v]) => [k, v.taskSids])),
    };
  },
  setFaults(o: { latencyMs: number; cap: number }) {
    faults = o;
    current().admin.setFaults({ rules: o.latencyMs > 0 ? [{ endpoint: '*', latencyMs: o.latencyMs }] : [], maxInFlight: o.cap });
  },
  resetCounters() {
    current().admin.resetCounters();
  },
  counters() {
    const c = current().admin.counters();
    return { total: c.total, reads: c.reads, writes: c.writes, tooManyRequests: c.tooManyRequests, maxInFlightSeen: c.maxInFlightSeen, byEndpoint: c.byEndpoint };
  },
  cpuMs() {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  },
  taskStatuses(sids: string[]) {
    const tasks = current().core.store.tasks;
    return Object.fromEntries(sids.map((s) => [s, tasks.get(s)?.status ?? null]));
  },
};

process.on('message', (m: { id: number; method: string; args: unknown[] }) => {
  const fn = methods[m.method];
  Promise.resolve()
    .then(() => {
      if (!fn) throw new Error(`unknown method ${m.method}`);
      return (fn as (...a: unknown[]) => unknown)(...(m.args ?? []));
    })
    .then(
      (result) => process.send?.({ id: m.id, result: result ?? null }),
      (err: unknown) => process.send?.({ id: m.id, error: err instanceof Error ? err.message : String(err) }),
    );
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  void (emu?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});

fresh(seedArg).then(
  (e) => process.send?.({ ready: { url: e.url, accountSid: e.accountSid, authToken: e.authToken } }),
  (err: unknown) => {
    process.stderr.write(`emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
