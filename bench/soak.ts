/**
 * `npm run soak -- [--calls N] [--rate R] [--grace MS] [--kill-rounds K] [--sweep-interval MS] [--settle MS]
 * [--no-faults] [--drop-callbacks P] [--latency MS] [--keep]`: unstick's own chaos soak (see bench/soakRun.ts).
 * Writes bench/results/soak-<timestamp>.json and soak-latest.md. Exit 0 only when nothing is stuck, nothing
 * protected was touched, no workflow failed and no write was applied twice; the close-time target is reported.
 */
import { runSoak, SOAK_DEFAULTS, type SoakOptions } from './soakRun';
import { soakChecks, writeSoakResults } from './soakReport';

const USAGE = `usage: npm run soak -- [--calls ${SOAK_DEFAULTS.calls}] [--rate ${SOAK_DEFAULTS.rate}] [--grace ${SOAK_DEFAULTS.graceMs}] [--kill-rounds ${SOAK_DEFAULTS.killRounds}]
       [--sweep-interval ${SOAK_DEFAULTS.sweepIntervalMs}] [--poll-with-callbacks MS] [--settle ${SOAK_DEFAULTS.settleTimeoutMs}] [--drop-callbacks ${SOAK_DEFAULTS.dropCallbacks}] [--latency ${SOAK_DEFAULTS.latencyMs}] [--no-faults] [--keep]`;

export function parseSoakArgs(argv: string[]): Partial<SoakOptions> | 'help' {
  const o: Partial<SoakOptions> = {};
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
      case '--calls': o.calls = Math.floor(num(flag, value(), 1)); break;
      case '--rate': o.rate = num(flag, value(), 0.01); break;
      case '--grace': o.graceMs = num(flag, value(), 0); break;
      case '--kill-rounds': o.killRounds = Math.floor(num(flag, value(), 0)); break;
      case '--poll-with-callbacks': o.pollWithCallbacksMs = num(flag, value(), 0); break;
      case '--sweep-interval': o.sweepIntervalMs = num(flag, value(), 1000); break;
      case '--settle': o.settleTimeoutMs = num(flag, value(), 0); break;
      case '--drop-callbacks': o.dropCallbacks = Math.min(1, num(flag, value(), 0)); break;
      case '--latency': o.latencyMs = num(flag, value(), 0); break;
      case '--no-faults': o.faults = false; break;
      case '--keep': o.keepDir = true; break;
      case '--help': case '-h': return 'help';
      default: throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  return o;
}

async function main(): Promise<number> {
  const parsed = parseSoakArgs(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const result = await runSoak(parsed);
  const files = writeSoakResults(result);
  const { durability, target } = soakChecks(result);
  for (const c of [...durability, target]) process.stdout.write(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value}\n`);
  const v = result.verdict;
  process.stdout.write(
    `close median/p95/max ${[v.closeTime.medianMs, v.closeTime.p95Ms, v.closeTime.maxMs].map((x) => (x === null ? '–' : `${(x / 1000).toFixed(1)} s`)).join(' / ')}, ` +
      `${v.requests.perCall} Twilio requests per call, sweep finished ${v.sweep.closed}\n${files.json}\n${files.md}\n`,
  );
  return durability.every((c) => c.pass) ? 0 : 1;
}

if (require.main === module) {
  main().then(
    // Temporal's native runtime keeps handles open; exit explicitly once done.
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
