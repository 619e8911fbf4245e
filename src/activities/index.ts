/**
 * All activities the worker registers, built from their dependencies. Add a line per activity module.
 */
import { ApplicationFailure } from '@temporalio/common';
import pLimit from 'p-limit';
import type { Config } from '../config';
import { callWatchSettingsFromConfig } from '../shared/callWatchSettings';
import { TWILIO_NOT_CONFIGURED } from '../shared/errorTypes';
import { createTwilioClient, type TwilioClient } from '../twilio/client';
import { createCallActivities, type Limit } from './callActivities';
import { createLinkActivities } from './linkActivities';
import { twilioMetricsTap } from './metrics';
import { createSweepActivities } from './sweepActivities';

export interface ActivityDeps {
  config: Config;
  /** Default: createTwilioClient(config.twilio) when credentials are configured, its requests counted (unstick_twilio_requests). */
  twilio?: TwilioClient;
  /**
   * Cap on Twilio calls at once. Default: none when the client is created here (createTwilioClient caps requests in
   * flight at config.twilio.maxInFlight itself, per HTTP exchange); pLimit(config.twilio.maxInFlight) around an injected client.
   */
  limit?: Limit;
}

/** A stand-in that fails loudly (non-retryable) on first use when no Twilio credentials are configured. */
function unconfiguredTwilio(): TwilioClient {
  return new Proxy({} as TwilioClient, {
    get() {
      throw ApplicationFailure.nonRetryable('Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_BASE_URL for the emulator)', TWILIO_NOT_CONFIGURED);
    },
  });
}

export function createActivities(deps: ActivityDeps) {
  const twilio = deps.twilio ?? (deps.config.twilio.accountSid ? createTwilioClient(deps.config.twilio, twilioMetricsTap) : unconfiguredTwilio());
  const limit: Limit = deps.limit ?? (deps.twilio ? pLimit(deps.config.twilio.maxInFlight) : (fn) => fn());
  return {
    ...createSweepActivities({ twilio, limit }),
    ...createCallActivities({ twilio, limit }),
    ...createLinkActivities({
      twilio,
      limit,
      flowSids: deps.config.twilio.flowSids,
      workspaceSids: deps.config.twilio.workspaceSids,
      watch: { taskQueue: deps.config.temporal.taskQueue, settings: callWatchSettingsFromConfig(deps.config) },
    }),
  };
}
