/**
 * Checks a cron string the way a Temporal Schedule reads it (`ScheduleSpec.cronExpressions`), so that a typo in
 * UNSTICK_SWEEP_CRON stops start-up with the other configuration errors instead of failing at `schedule.create`.
 *
 * Temporal's layout is its own: 5 fields (minute hour day-of-month month day-of-week), 6 (the five + year) or 7
 * (second + the five + year); `@every <Go duration>[/<phase>]`, `@hourly`/`@daily`/…; a `CRON_TZ=<zone> ` (or
 * `TZ=`) prefix; a `# comment` suffix. The layout is handled here; the fields themselves are checked by croner,
 * whose 7-field form (second … year) is Temporal's, and an expression that never fires is refused too. The server
 * remains the final judge (croner also accepts `L`, `W` and `#`, which Temporal may not).
 */
import { Cron } from 'croner';

const PREDEFINED: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const GO_UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`90s`, `1h30m`, `1.5h`) in ms; undefined when it is not one (Go requires a unit on every part). */
export function parseGoDurationMs(raw: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(raw)) return undefined;
  let total = 0;
  for (const m of raw.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * GO_UNIT_MS[m[2]!]!;
  return total;
}

function checkEvery(rest: string): string | undefined {
  const arg = rest.trim();
  if (!arg) return 'has no interval after @every (e.g. "@every 15m")';
  const [every = '', phase, extra] = arg.split('/');
  if (extra !== undefined || /\s/.test(arg)) return `@every takes one duration and an optional /phase, e.g. "@every 1h/5m"`;
  const everyMs = parseGoDurationMs(every);
  if (everyMs === undefined) return `@every ${JSON.stringify(every)} is not a duration with units, e.g. "15m", "1h30m"`;
  if (everyMs < 1000) return '@every must be at least 1s';
  if (phase === undefined) return undefined;
  const phaseMs = parseGoDurationMs(phase);
  if (phaseMs === undefined) return `the phase ${JSON.stringify(phase)} is not a duration with units`;
  if (phaseMs >= everyMs) return 'the phase must be shorter than the interval';
  return undefined;
}

/** Why `expression` is not a cron string a Temporal Schedule accepts, or undefined when it is one. */
export function temporalCronProblem(expression: string): string | undefined {
  let c = expression.trim();
  let timezone: string | undefined;
  const tz = /^(?:CRON_TZ|TZ)=(\S*)(.*)$/.exec(c);
  if (tz) {
    timezone = tz[1]!;
    c = tz[2]!.trim();
    if (!timezone) return 'has an empty time zone after CRON_TZ=';
    if (!c) return 'has a time zone but no schedule after it';
  }
  c = (c.split('#')[0] ?? '').trim();
  if (c === '@every' || c.startsWith('@every ')) return checkEvery(c.slice('@every'.length));
  c = PREDEFINED[c] ?? c;
  const fields = c.split(/\s+/).filter(Boolean);
  let pattern: string;
  if (fields.length === 5) pattern = fields.join(' ');
  else if (fields.length === 6) pattern = ['0', ...fields].join(' '); // Temporal's 6th field is the year
  else if (fields.length === 7) pattern = fields.join(' ');
  else return `has ${fields.length} field(s); Temporal takes 5 (minute hour day-of-month month day-of-week), 6 (… year) or 7 (second … year), or @every/@hourly/@daily`;
  const year = fields.length > 5 ? fields[fields.length - 1]! : '*';
  // Only the values, not a step after "/" ("2026-2030/2"), are years.
  const badYear = year.split(',').flatMap((part) => (part.split('/')[0] ?? '').split('-')).find((y) => /^\d+$/.test(y) && (Number(y) < 2000 || Number(y) > 2100));
  if (badYear) return `has the year ${badYear}; Temporal takes years from 2000 to 2100 (the last of 6 or 7 fields is the year)`;
  try {
    const cron = new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) });
    if (!cron.nextRun()) return 'never fires (a year outside 2000-2100, or a date that does not exist?)';
  } catch (err) {
    const msg = (err as Error).message.replace(/^CronPattern: /, '').replace(/^CronDate: /, '');
    if (timezone && /timezone/i.test(msg)) return `has an unknown time zone ${JSON.stringify(timezone)} (use an IANA name, e.g. Europe/Paris)`;
    return msg.split('. ')[0]!;
  }
  return undefined;
}
