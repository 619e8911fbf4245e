/**
 * Benchmark entry point: `npm run bench -- <name> [options]`: sweep, webhook, traffic, watches.
 */
import { main as sweepMain } from './sweepCli';

const BENCHMARKS: Record<string, (argv: string[]) => Promise<number>> = {
  sweep: sweepMain,
  webhook: (argv) => import('./webhook').then((m) => m.main(argv)),
  traffic: (argv) => import('./traffic').then((m) => m.main(argv)),
  watches: (argv) => import('./watches').then((m) => m.main(argv)),
};

async function run(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const bench = name ? BENCHMARKS[name] : undefined;
  if (!bench) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [options]  (--help for options)\n`);
    process.exitCode = 2;
    return;
  }
  process.exitCode = await bench(rest);
}

run().then(
  // Temporal's native runtime keeps handles open; exit explicitly once done.
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
