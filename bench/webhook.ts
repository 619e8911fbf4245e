/**
 * `npm run bench -- webhook [options]`: the webhook's ingest rate of signed callbacks against the dev server's raw
 * `signalWithStart` rate, on the same server, for each SQLite mode (the CLI's default journal, WAL +
 * synchronous=NORMAL, in memory). On a shared machine the rates drift by 2× within minutes, so raw and callbacks are
 * measured back to back in rounds, and each round's ratio is against its own raw rate.
 */
import { mkdirSync, mkdtempSync, promises as fs, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DEFAULT_SQLITE_PRAGMAS, IN_MEMORY, startDevServer } from '../src/temporal/devServer';
import { WEBHOOK_DEFAULTS } from '../src/webhook';
import { ingestCallbacks, rawSignalWithStart, type LoadResult } from './webhookLoad';

const MODES = {
  default: { label: 'SQLite file, CLI default (rollback journal, synchronous=FULL)', pragmas: {} as Record<string, string>, memory: false },
  wal: { label: 'SQLite file, journal_mode=WAL, synchronous=NORMAL', pragmas: { ...DEFAULT_SQLITE_PRAGMAS }, memory: false },
  memory: { label: 'in memory (no --db-filename)', pragmas: {}, memory: true },
} as const;
type Mode = keyof typeof MODES;

interface Options {
  modes: Mode[];
  callbacks: number;
  rounds: number;
  inFlight: number[];
  rawInFlight: number[];
  env: Record<string, string>;
  write: boolean;
  resultsDir: string;
}

interface Round {
  /** Raw signalWithStart at each concurrency, then the callbacks at each level, back to back. */
  raw: LoadResult[];
  ingest: LoadResult[];
  /** The best raw rate of this round: the baseline of its ratios. */
  rawPerSecond: number;
}

interface LevelSummary {
  inFlight: number;
  /** Medians over the rounds. */
  ingestPerSecond: number;
  rawPerSecond: number;
  /** Median of each round's ingest ÷ that round's best raw. */
  ratio: number;
  ratios: number[];
  refused: number;
  overBudget: number;
  queueFull: number;
  unavailable: number;
  maxQueued: number;
  p95Ms: number;
  maxMs: number;
  cpuMsPerCallback: number;
  cpuMsPerRawCall: number;
  pass: { refused: boolean; ratio: boolean };
}

interface ModeResult {
  mode: Mode;
  label: string;
  rounds: Round[];
  levels: LevelSummary[];
}

const HELP = `npm run bench -- webhook [options]
  --modes M,...       SQLite modes: default, wal, memory (default: all three)
  --callbacks N       callbacks (and raw signalWithStart calls) per phase (default 500)
  --rounds N          rounds of raw then callbacks, back to back; medians are reported (default 3)
  --in-flight N,...   callbacks in flight at once (default 50,200)
  --raw-in-flight N,... raw signalWithStart calls in flight; the best is the baseline (default: the webhook's
                      WEBHOOK_MAX_IN_FLIGHT and 50)
  --max-in-flight N   WEBHOOK_MAX_IN_FLIGHT for the webhook (default ${WEBHOOK_DEFAULTS.maxInFlight})
  --budget D          WEBHOOK_REQUEST_BUDGET (default 10s); --max-in-flight 10000 --budget 5s is the old webhook
  --no-write          do not write bench/results/
  --results-dir D     where to write results (default bench/results)
`;

function parseArgs(argv: string[]): Options | 'help' {
  const o: Options = { modes: ['default', 'wal', 'memory'], callbacks: 500, rounds: 3, inFlight: [50, 200], rawInFlight: [], env: {}, write: true, resultsDir: path.join(__dirname, 'results') };
  const nums = (flag: string, v: string | undefined): number[] => {
    const list = (v ?? '').split(',').map(Number);
    if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${flag} needs whole numbers ≥ 1`);
    return list;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--modes': {
        const modes = (value() ?? '').split(',');
        const bad = modes.filter((m) => !(m in MODES));
        if (bad.length) throw new Error(`unknown mode(s) ${bad.join(', ')}; use ${Object.keys(MODES).join(', ')}`);
        o.modes = modes as Mode[];
        break;
      }
      case '--callbacks': o.callbacks = nums(flag, value())[0]!; break;
      case '--rounds': o.rounds = nums(flag, value())[0]!; break;
      case '--in-flight': o.inFlight = nums(flag, value()); break;
      case '--raw-in-flight': o.rawInFlight = nums(flag, value()); break;
      case '--max-in-flight': o.env.WEBHOOK_MAX_IN_FLIGHT = String(nums(flag, value())[0]); break;
      case '--budget': o.env.WEBHOOK_REQUEST_BUDGET = value() ?? ''; break;
      case '--no-write': o.write = false; break;
      case '--results-dir': o.resultsDir = path.resolve(value() ?? ''); break;
      case '--help': case '-h': return 'help';
      default: throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  return o;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const fmt = (n: number, d = 1): string => n.toFixed(d);

async function runMode(mode: Mode, o: Options): Promise<ModeResult> {
  const spec = MODES[mode];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-bench-webhook-'));
  const server = await startDevServer({ dbFile: spec.memory ? IN_MEMORY : path.join(dir, 'temporal.sqlite'), sqlitePragmas: spec.pragmas, headless: true, logLevel: 'error' });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const taskQueue = `bench-webhook-${mode}`;
  try {
    const rawLevels = o.rawInFlight.length ? o.rawInFlight : [...new Set([Number(o.env.WEBHOOK_MAX_IN_FLIGHT ?? WEBHOOK_DEFAULTS.maxInFlight), 50])];
    log(`[${mode}] ${spec.label} on ${server.address}: warm-up`);
    await rawSignalWithStart(client, server.address, taskQueue, 100, 50);
    const rounds: Round[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const raw: LoadResult[] = [];
      for (const n of rawLevels) {
        raw.push(await rawSignalWithStart(client, server.address, taskQueue, o.callbacks, n));
        log(`[${mode} ${round}] raw signalWithStart, ${n} in flight: ${fmt(raw.at(-1)!.perSecond)}/s (p95 ${raw.at(-1)!.latency.p95Ms} ms, ${fmt(raw.at(-1)!.cpuMsPerRequest, 2)} ms CPU each)`);
      }
      const ingest: LoadResult[] = [];
      for (const inFlight of o.inFlight) {
        const r = await ingestCallbacks(client, server.address, taskQueue, { total: o.callbacks, inFlight, env: o.env });
        log(`[${mode} ${round}] ${inFlight} callbacks in flight: ${fmt(r.perSecond)}/s, ${r.refused} refused (p95 ${r.latency.p95Ms} ms, max ${r.latency.maxMs} ms, ${fmt(r.cpuMsPerRequest, 2)} ms CPU each)`);
        ingest.push(r);
      }
      rounds.push({ raw, ingest, rawPerSecond: Math.max(...raw.map((r) => r.perSecond)) });
    }
    const levels = o.inFlight.map((inFlight, i): LevelSummary => {
      const runs = rounds.map((r) => r.ingest[i]!);
      const ratios = rounds.map((r) => r.ingest[i]!.perSecond / r.rawPerSecond);
      const sum = (f: (w: NonNullable<LoadResult['webhook']>) => number): number => runs.reduce((n, r) => n + (r.webhook ? f(r.webhook) : 0), 0);
      const refused = runs.reduce((n, r) => n + r.refused, 0);
      const ratio = median(ratios);
      return {
        inFlight, ingestPerSecond: median(runs.map((r) => r.perSecond)), rawPerSecond: median(rounds.map((r) => r.rawPerSecond)), ratio, ratios, refused,
        overBudget: sum((w) => w.overBudget), queueFull: sum((w) => w.queueFull), unavailable: sum((w) => w.unavailable),
        maxQueued: Math.max(...runs.map((r) => r.webhook?.maxQueuedSeen ?? 0)),
        p95Ms: Math.round(median(runs.map((r) => r.latency.p95Ms))), maxMs: Math.max(...runs.map((r) => r.latency.maxMs)),
        cpuMsPerCallback: median(runs.map((r) => r.cpuMsPerRequest)), cpuMsPerRawCall: median(rounds.flatMap((r) => r.raw.map((x) => x.cpuMsPerRequest))),
        pass: { refused: refused === 0, ratio: ratio >= 0.8 },
      };
    });
    return { mode, label: spec.label, rounds, levels };
  } finally {
    await connection.close().catch(() => undefined);
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function render(results: ModeResult[], meta: Record<string, unknown>): string {
  const lines = [
    '# Webhook ingest vs raw signalWithStart', '',
    `${String(meta.date)} · ${String(meta.cpus)} · Node ${String(meta.node)} · load average at start ${String(meta.loadAverage)}`, '',
    `${String(meta.rounds)} rounds per mode, each: raw signalWithStart (${String(meta.callbacks)} calls at each concurrency; the best is that round's baseline), then ${String(meta.callbacks)} signed callbacks at each level. Medians over the rounds; refusals summed. Webhook WEBHOOK_MAX_IN_FLIGHT=${String(meta.maxInFlight)}, WEBHOOK_REQUEST_BUDGET=${String(meta.budget)}.`, '',
    '| mode | raw signalWithStart/s | callbacks in flight | ingest/s | ingest ÷ raw (each round) | refused (503): over budget / queue full / unavailable | sender p95 / max ms | max queued | CPU ms per callback (raw call) | targets |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const m of results) {
    for (const l of m.levels) {
      const pass = `${l.pass.refused ? 'PASS' : 'FAIL'} 0 refused, ${l.pass.ratio ? 'PASS' : 'FAIL'} ≥ 0.8×`;
      lines.push(`| ${m.mode} | ${fmt(l.rawPerSecond)} | ${l.inFlight} | ${fmt(l.ingestPerSecond)} | ${fmt(l.ratio, 2)} (${l.ratios.map((r) => fmt(r, 2)).join(', ')}) | ${l.refused}: ${l.overBudget} / ${l.queueFull} / ${l.unavailable} | ${l.p95Ms} / ${l.maxMs} | ${l.maxQueued} | ${fmt(l.cpuMsPerCallback, 2)} (${fmt(l.cpuMsPerRawCall, 2)}) | ${pass} |`);
    }
  }
  lines.push('', 'Modes:', ...results.map((m) => `- **${m.mode}**: ${m.label}`));
  return `${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  if (o === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const meta = {
    date: new Date().toISOString(), node: process.versions.node, cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '), callbacks: o.callbacks, rounds: o.rounds,
    maxInFlight: o.env.WEBHOOK_MAX_IN_FLIGHT ?? WEBHOOK_DEFAULTS.maxInFlight, budget: o.env.WEBHOOK_REQUEST_BUDGET ?? `${WEBHOOK_DEFAULTS.requestBudgetMs} ms`,
  };
  const results: ModeResult[] = [];
  for (const mode of o.modes) results.push(await runMode(mode, o));
  const md = render(results, meta);
  process.stdout.write(md);
  if (o.write) {
    mkdirSync(o.resultsDir, { recursive: true });
    const json = path.join(o.resultsDir, `webhook-${meta.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(json, `${JSON.stringify({ meta, options: o, results }, null, 2)}\n`);
    writeFileSync(path.join(o.resultsDir, 'webhook-latest.md'), `${md}\nSource: \`${path.relative(path.join(__dirname, '..'), json)}\`\n`);
    process.stdout.write(`results: ${json}\n`);
  }
  return results.every((m) => m.levels.every((l) => l.pass.refused && l.pass.ratio)) ? 0 : 1;
}
