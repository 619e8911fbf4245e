/**
 * unstick's own metrics recorded in activities (names: src/shared/metricNames.ts), through the running activity's
 * metric meter so they come out on the worker's Prometheus endpoint (UNSTICK_METRICS_ADDRESS) next to the SDK's,
 * with the SDK's tags (namespace, task queue, activity type). Outside an activity (the property tests) they are not
 * recorded.
 */
import { Context } from '@temporalio/activity';
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';
import { METRICS, type MetricDef } from '../shared/metricNames';
import type { SweepActionKind } from '../shared/sweepCounts';
import type { CreateTwilioClientOptions } from '../twilio/client';

function meter(): MetricMeter {
  try {
    return Context.current().metricMeter;
  } catch {
    return noopMetricMeter;
  }
}

const count = (def: MetricDef, tags: Record<string, string> = {}): void => meter().createCounter(def.name, def.unit, def.description).add(1, tags);

/** One guarded write's outcome: `unstick_writes{kind,result}`, `unstick_dry_run{kind}` for a dry run, and `unstick_skipped{reason}` for a skip. */
export function recordGuardedWrite(kind: string, result: string, skipReason?: string): void {
  if (result === 'none') return;
  if (result === 'skipped' && skipReason) return count(METRICS.skipped, { reason: skipReason });
  count(METRICS.writes, { kind, result });
  if (result === 'dry-run') count(METRICS.dryRun, { kind });
}

/** A resource a sweep page found stuck (not one that changed under it or was already closed when written). */
export function recordSweepBacklog(kind: SweepActionKind): void {
  count(METRICS.sweepBacklog, { kind: kind === 'end-execution' ? 'execution' : 'task' });
}

/** A Retry-After wait honoured, in ms. */
export function recordRetryAfterWait(ms: number): void {
  meter().createHistogram(METRICS.retryAfter.name, 'float', METRICS.retryAfter.unit, METRICS.retryAfter.description).record(ms / 1000);
}

/** The paths unstick calls (and the emulator serves), SIDs as placeholders: the `endpoint` label's only values, with `other`. */
export const TWILIO_PATH_TEMPLATES = [
  '/2010-04-01/Accounts/{AccountSid}/Calls.json',
  '/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json',
  '/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json',
  '/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{IncomingPhoneNumberSid}.json',
  '/v2/Flows',
  '/v2/Flows/{FlowSid}',
  '/v2/Flows/{FlowSid}/Executions',
  '/v2/Flows/{FlowSid}/Executions/{ExecutionSid}',
  '/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Context',
  '/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps',
  '/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{StepSid}',
  '/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{StepSid}/Context',
  '/v1/Workspaces',
  '/v1/Workspaces/{WorkspaceSid}',
  '/v1/Workspaces/{WorkspaceSid}/TaskChannels',
  '/v1/Workspaces/{WorkspaceSid}/Tasks',
  '/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}',
  '/v1/Workspaces/{WorkspaceSid}/Events',
  '/v1/Workspaces/{WorkspaceSid}/Events/{EventSid}',
] as const;

export const OTHER_ENDPOINT = 'other';

// A template matches on Twilio's own host and behind the emulator's product prefix (`<base>/taskrouter/v1/…`).
const TEMPLATE_RES = TWILIO_PATH_TEMPLATES.map((t) => ({
  template: t,
  re: new RegExp(`^(?:.*/(?:api|studio|taskrouter))?${t.replace(/[.]/g, '\\.').replace(/\{[A-Za-z]+\}/g, '[A-Z]{2}[0-9a-fA-F]{32}')}$`),
}));

/** `METHOD /templated/path` of a request URL (query and host dropped), or `other` for a path unstick does not call. */
export function twilioEndpoint(method: string, uri: string): string {
  const path = uri.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/[?#].*$/, '');
  const hit = TEMPLATE_RES.find((t) => t.re.test(path));
  const m = method.toUpperCase();
  return hit && /^[A-Z]{3,7}$/.test(m) ? `${m} ${hit.template}` : OTHER_ENDPOINT;
}

/** `2xx`…`5xx`, or `error` for a request that got no answer. */
export function statusClass(statusCode: number | undefined): string {
  return statusCode !== undefined && statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : 'error';
}

function recordTwilioRequest(method: string, uri: string, statusCode: number | undefined): void {
  const endpoint = twilioEndpoint(method, uri);
  count(METRICS.twilioRequests, { endpoint, status_class: statusClass(statusCode) });
  if (statusCode === 429) count(METRICS.twilioThrottled, { endpoint });
}

/** The worker's Twilio client taps: every answer and every request that got none. */
export const twilioMetricsTap: CreateTwilioClientOptions = {
  onResponse: (r) => recordTwilioRequest(r.method, r.uri, r.statusCode),
  onError: (r) => recordTwilioRequest(r.method, r.uri, undefined),
};
