/** `npm run bench -- sweep [options]`: the command line of the sweep benchmark. */
import * as path from 'node:path';
import { runSweepBench } from './sweep';
import { renderSummary, writeResults } from './sweepRender';
import type { SweepBenchOptions } from './sweepReport';

function parseArgs(argv: string[]): SweepBenchOptions | 'help' {
  const o: SweepBenchOptions = {
    tasks: 10_000, latencyMs: 10, cap: 50, seed: 42, pageSize: 1000, repeats: 5, warmups: 1, write: true,
    resultsDir: path.join(__dirname, 'results'),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) throw new Error(`${flag} needs a number ≥ ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--tasks': o.tasks = Math.floor(num(flag, value(), 1)); break;
      case '--latency': o.latencyMs = num(flag, value(), 0); break;
      case '--cap': o.cap = Math.floor(num(flag, value(), 1)); break;
      case '--seed': o.seed = Math.floor(num(flag, value(), 0)); break;
      case '--concurrency': o.concurrency = Math.floor(num(flag, value(), 1)); break;
      case '--page-size': o.pageSize = Math.min(1000, Math.floor(num(flag, value(), 1))); break;
      case '--http-client': {
        const v = value();
        if (v !== 'sdk' && v !== 'node') throw new Error('--http-client is sdk or node');
        o.httpClient = v;
        break;
      }
      case '--list-attributes': {
        const v = value();
        if (v !== 'full' && v !== 'null') throw new Error('--list-attributes is full or null');
        o.listAttributes = v;
        break;
      }
      case '--repeat': o.repeats = Math.floor(num(flag, value(), 1)); break;
      case '--warmup': o.warmups = Math.floor(num(flag, value(), 0)); break;
      case '--no-write': o.write = false; break;
      case '--results-dir': o.resultsDir = path.resolve(value() ?? ''); break;
      case '--help': case '-h': return 'help';
      default: throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  return o;
}

const HELP = `npm run bench -- sweep [options]
  --tasks N         open Tasks to seed (default 10000)
  --latency MS      emulator latency per request (default 10)
  --cap N           requests in flight per account before 429 (default 50)
  --concurrency N   unstick's requests in flight (default = cap)
  --seed N          emulator seed (default 42)
  --repeat N        unstick runs on identical state; the median is reported (default 5)
  --warmup N        unstick runs before those, same worker process, not counted (default 1: JIT warm-up)
  --page-size N     the sweep's list page size (default 1000; the baseline keeps the seed's 1000)
  --http-client C   unstick's Twilio HTTP layer: sdk (default, what unstick ships) or node (EXPERIMENT: node:http
                    instead of axios under the same SDK, to measure the HTTP layer's share)
  --list-attributes M  Task list items with attributes (full, default) or without (null: Twilio's spec for lists;
                    unstick then fetches every voice Task); the seed-cleaner baseline always gets them
  --no-write        do not write bench/results/
  --results-dir D   where to write results (default bench/results)
`;

export async function main(argv: string[]): Promise<number> {
  process.env.UNSTICK_LOG_LEVEL ??= 'warn';
  const o = parseArgs(argv);
  if (o === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const report = await runSweepBench(o);
  process.stdout.write(`${renderSummary(report)}\n`);
  if (o.write) {
    const files = writeResults(report, o.resultsDir);
    process.stdout.write(`results: ${files.json}\n         ${files.md}\n`);
  }
  return report.targets.every((t) => t.pass) && report.check.pass ? 0 : 1;
}
