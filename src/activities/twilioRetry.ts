/**
 * Retrying one Twilio request inside an activity: 429 (the account's concurrency cap; never processed, always
 * safe to retry) and, for reads, transient 5xx/network failures are retried with backoff that honours Retry-After, so
 * one throttled request does not fail a whole page of work.
 */
import { recordRetryAfterWait } from './metrics';
import { twilioStatus } from './twilioErrors';

export interface RetryOptions {
  /** Attempts for 429s. */
  maxThrottledAttempts?: number;
  /**
   * Attempts for 5xx / network errors. Pass 1 for a write: its answer may be lost after Twilio applied it, and the
   * guarded writer reads again instead of resending (src/activities/guardedWrite.ts).
   */
  maxTransientAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Called for each 429 seen. */
  onThrottled?: () => void;
  /** Stop retrying (e.g. the activity is being cancelled). */
  aborted?: () => boolean;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

function isThrottled(err: unknown): boolean {
  return twilioStatus(err) === 429;
}

export function isTransient(err: unknown): boolean {
  const status = twilioStatus(err);
  if (status !== undefined) return status >= 500 || status === 408;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

function retryAfterMs(err: unknown): number | undefined {
  const v = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof v === 'number' && v > 0 ? v : undefined;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withTwilioRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const maxThrottled = opts.maxThrottledAttempts ?? 12;
  const maxTransient = opts.maxTransientAttempts ?? 3;
  const base = opts.baseDelayMs ?? 50;
  const cap = opts.maxDelayMs ?? 5_000;
  const sleep = opts.sleep ?? defaultSleep;
  let throttled = 0;
  let transient = 0;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      let attempt: number;
      if (isThrottled(err)) {
        opts.onThrottled?.();
        attempt = ++throttled;
        if (attempt >= maxThrottled) throw err;
      } else if (isTransient(err)) {
        attempt = ++transient;
        if (attempt >= maxTransient) throw err;
      } else {
        throw err;
      }
      if (opts.aborted?.()) throw err;
      const asked = retryAfterMs(err);
      if (asked !== undefined) recordRetryAfterWait(asked);
      // Full jitter keeps many concurrent retries from arriving together again.
      await sleep(asked ?? Math.random() * Math.min(cap, base * 2 ** attempt));
    }
  }
}
