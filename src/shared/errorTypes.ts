/** ApplicationFailure type names the activities throw and the workflows' retry policies name. Workflow-safe. */
export const TWILIO_AUTH_ERROR = 'TwilioAuthError';
export const TWILIO_BAD_REQUEST = 'TwilioBadRequest';
export const TWILIO_RETRYABLE = 'TwilioRetryable';
/** No Twilio credentials configured: every Twilio activity fails with it, without retries. */
export const TWILIO_NOT_CONFIGURED = 'TwilioNotConfigured';
/** awaitCallEnd's benign failure while the call is live (its retry policy is the poll loop). */
export const CALL_STILL_LIVE = 'CallStillLive';
