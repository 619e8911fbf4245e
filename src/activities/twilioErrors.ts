/**
 * Maps what Twilio (or the network) answered to what a Temporal activity should do:
 * 404 = the resource is gone (a result, not an error); 429/5xx/timeouts = retry with backoff,
 * honouring Retry-After when the transport surfaced it; 401/403 = stop, loudly.
 */
import { ApplicationFailure } from '@temporalio/common';

import { TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST, TWILIO_RETRYABLE } from '../shared/errorTypes';
import { recordRetryAfterWait } from './metrics';

interface MaybeTwilioError {
  status?: number;
  code?: number;
  message?: string;
  retryAfterMs?: number;
  errno?: string;
}

export function twilioStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'status' in err && typeof (err as MaybeTwilioError).status === 'number') {
    return (err as MaybeTwilioError).status;
  }
  return undefined;
}

export const isNotFound = (err: unknown): boolean => twilioStatus(err) === 404;
export const isPreconditionFailed = (err: unknown): boolean => twilioStatus(err) === 412;

/** Twilio refused a state change (e.g. "Cannot cancel task … because it is not pending or reserved"). */
export const isInvalidTransition = (err: unknown): boolean => {
  const s = twilioStatus(err);
  return s === 400 && /cannot|not (currently )?(pending|reserved|assigned)/i.test((err as MaybeTwilioError).message ?? '');
};

/** Turns any failure of a Twilio call into the ApplicationFailure the activity should throw. */
export function toActivityFailure(err: unknown, what: string): ApplicationFailure {
  const e = (err ?? {}) as MaybeTwilioError;
  const status = twilioStatus(err);
  const detail = `${what}: ${status ? `HTTP ${status}` : 'no HTTP answer'}${e.code ? ` code ${e.code}` : ''} ${e.message ?? String(err)}`.trim();
  if (status === 401 || status === 403) {
    return ApplicationFailure.create({
      message: `${detail} — Twilio refused the credentials; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY/TWILIO_API_SECRET)`,
      type: TWILIO_AUTH_ERROR,
      nonRetryable: true,
    });
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 404 && status !== 408 && status !== 409 && status !== 412 && status !== 429) {
    return ApplicationFailure.create({ message: detail, type: TWILIO_BAD_REQUEST, nonRetryable: true });
  }
  // 429, 5xx, 408/409/412 races, timeouts, resets: Twilio did not (fully) process it; retrying is safe.
  const nextRetryDelay = e.retryAfterMs && e.retryAfterMs > 0 ? e.retryAfterMs : undefined;
  // Counted here, where the Retry-After becomes the activity's next retry delay.
  if (nextRetryDelay !== undefined) recordRetryAfterWait(nextRetryDelay);
  return ApplicationFailure.create({ message: detail, type: TWILIO_RETRYABLE, nextRetryDelay });
}
