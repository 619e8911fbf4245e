/**
 * Application logging (pino). JSON lines on stderr, or one readable line per entry when stderr is a TTY.
 * Level: UNSTICK_LOG_LEVEL (trace|debug|info|warn|error|fatal|silent), default info. stdout stays free for command output.
 */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };

function levelFromEnv(): string {
  const raw = (process.env.UNSTICK_LOG_LEVEL ?? '').trim().toLowerCase();
  // An invalid value is reported by loadConfig(); the logger just falls back.
  return (LEVELS as readonly string[]).includes(raw) ? raw : 'info';
}

/** Formats pino's JSON line as `12:00:01.234 INFO  name: message key=value …`. */
function prettyLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, time, name, msg, pid: _pid, hostname: _host, err, ...rest } = entry;
  const lvl = typeof level === 'number' ? level : 30;
  const ts = new Date(typeof time === 'number' ? time : Date.now()).toISOString().slice(11, 23);
  const label = (LEVEL_NAMES[lvl] ?? String(level)).padEnd(5);
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const errText = err && typeof err === 'object' && 'stack' in err ? `\n${String((err as { stack: unknown }).stack)}` : '';
  const head = colour ? `\x1b[${COLOURS[lvl] ?? '0'}m${label}\x1b[0m` : label;
  return `${ts} ${head} ${name ? `${String(name)}: ` : ''}${String(msg ?? '')}${extras ? ` ${extras}` : ''}${errText}\n`;
}

let root: Logger | undefined;

function rootLogger(): Logger {
  if (root) return root;
  const level = levelFromEnv();
  if (process.stderr.isTTY) {
    const colour = !process.env.NO_COLOR;
    root = pino({ level }, { write: (line: string) => void process.stderr.write(prettyLine(line, colour)) });
  } else {
    root = pino({ level }, pino.destination({ fd: 2, sync: true }));
  }
  return root;
}

/** A named child of the process-wide logger, e.g. `createLogger('worker')`. */
export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ name, ...bindings });
}
