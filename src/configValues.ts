/**
 * The value parsers behind src/config.ts: each turns one environment variable's text into its value, or into the
 * sentence that becomes that variable's one problem line.
 */
import { z } from 'zod';
import { msToNumber } from '@temporalio/common/lib/time';
import { ExpressionError, compileProtection } from './policy/expression';
import { temporalCronProblem } from './schedule/cron';

export const hostPort = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Milliseconds from `1500` or an `ms`-style string (`30s`, `4h`); NaN when it is neither. */
export function parseDurationMs(raw: string): number {
  const v = raw.trim();
  try {
    return /^\d+$/.test(v) ? Number(v) : msToNumber(v as never);
  } catch {
    return Number.NaN;
  }
}

/** The inverse of parseDurationMs for display: in the largest whole unit (`4h`, `2m`, `90s`, `1500ms`). */
export function formatDurationMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** `fallback`: the value when unset, as a duration string or in milliseconds. */
export function duration(name: string, fallback: string | number, opts: { allowZero?: boolean } = {}) {
  return z
    .string()
    .default(String(fallback))
    .transform((raw, ctx) => {
      const ms = parseDurationMs(raw);
      if (!Number.isFinite(ms) || ms < 0 || (!opts.allowZero && ms === 0)) {
        ctx.addIssue({
          code: 'custom',
          message: `${name}=${JSON.stringify(raw)} is not a duration; use a number of milliseconds or a value like "30s", "5m", "4h"`,
        });
        return z.NEVER;
      }
      return ms;
    });
}

/** Why a variable's value is bad: the sentence after `NAME="value"` in its problem line. */
export class Bad {
  constructor(readonly message: string) {}
}

/**
 * A variable that may be unset: unset or blank gives `fallback`; otherwise `parse` gives the value, or a Bad that
 * becomes the variable's one problem line (loadConfig puts `NAME="value"` in front unless the message starts with it).
 */
export function optional<T, F>(fallback: F, parse: (raw: string) => T | Bad) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const v = parse(raw);
      if (v instanceof Bad) {
        ctx.addIssue({ code: 'custom', message: v.message });
        return z.NEVER;
      }
      return v;
    });
}

export function optionalDuration() {
  return optional(undefined, (raw) => {
    const ms = parseDurationMs(raw);
    return Number.isFinite(ms) && ms > 0 ? ms : new Bad('is not a duration; use e.g. "30m" or leave it unset');
  });
}

export function bool(fallback: boolean) {
  return optional(fallback, (raw) => {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    return new Bad('is not a boolean; use true or false');
  });
}

export function int(fallback: number, min: number, max: number) {
  return optional(fallback, (raw) => {
    const n = Number(raw.trim());
    return Number.isInteger(n) && n >= min && n <= max ? n : new Bad(`must be a whole number from ${min} to ${max}`);
  });
}

export function optionalPort() {
  return optional(undefined, (raw) => {
    const n = Number(raw.trim());
    return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : new Bad('is not a TCP port (1-65535)');
  });
}

export function sidList(name: string, prefix: string) {
  return optional([] as string[], (raw) => {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = items.filter((s) => !new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(s));
    if (bad.length === 0) return items;
    return new Bad(`${name} has ${bad.map((b) => JSON.stringify(b)).join(', ')}: each entry must be a ${prefix}… SID (${prefix} + 32 hex digits), comma-separated`);
  });
}

export function optionalUrl() {
  return optional(undefined, (raw) => {
    try {
      const u = new URL(raw.trim());
      if (u.protocol === 'http:' || u.protocol === 'https:') return raw.trim().replace(/\/+$/, '');
    } catch {
      // not a URL at all
    }
    return new Bad('is not an http(s) URL, e.g. https://unstick.example.com');
  });
}

/** A TaskRouter-style expression that may be unset; the value is the (trimmed) source, parsed here so a typo stops start-up. */
export function optionalExpression(example: string) {
  return optional(undefined, (raw) => {
    try {
      compileProtection(raw); // positions in the message count from the value as given
      return raw.trim();
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      return new Bad(`is not a valid TaskRouter expression: ${err.message} (e.g. ${example})`);
    }
  });
}

/** A Temporal Schedule cron string (see src/schedule/cron.ts), checked here so a typo stops start-up. */
export function optionalCron() {
  return optional(undefined, (raw) => {
    const problem = temporalCronProblem(raw);
    return problem ? new Bad(`is not a cron string a Temporal Schedule accepts: it ${problem}`) : raw.trim();
  });
}
