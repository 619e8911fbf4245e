/**
 * The preventive checks from Twilio's guidance on stuck Executions, as pure functions over what the
 * REST API returns (numbers and flows). No I/O here: `runAudit` fetches, these decide.
 */
import { studioFlowWebhookUrl } from '../shared/names';

/** Twilio recommends Send & Wait for Reply timeouts of at most 4 hours. */
const MAX_RECOMMENDED_WAIT_SECONDS = 4 * 60 * 60;

export type AuditCheck =
  /** The number's "call status changes" URL is neither its flow's webhook nor unstick's webhook. */
  | 'status-callback'
  /** The status callback points at unstick, but unstick has no 302 redirect to the number's flow. */
  | 'status-callback-redirect'
  /** The flow does not allow concurrent calls: one stuck Execution blocks that caller's later calls. */
  | 'concurrent-calls'
  /** A Send & Wait for Reply widget without a timeout, or with one above 4 h. */
  | 'send-and-wait-timeout';

export type AuditSeverity = 'error' | 'warning';

export interface NumberFacts {
  sid: string;
  phoneNumber: string;
  voiceUrl: string | null;
  statusCallback: string | null;
  voiceApplicationSid: string | null;
  trunkSid: string | null;
}

export interface FlowFacts {
  sid: string;
  friendlyName: string;
  webhookUrl: string | null;
  /** The flow definition JSON (fetched per flow: list items may carry `definition: null`). */
  definition: unknown;
}

export interface AuditFinding {
  check: AuditCheck;
  severity: AuditSeverity;
  /** PN… for number checks, FW… for flow checks. */
  resourceSid: string;
  /** The phone number or the flow's friendly name. */
  label: string;
  flowSid?: string;
  widget?: string;
  message: string;
  /** Numbers (E.164) whose voice URL routes to the flow (concurrent-calls). */
  numbers?: string[];
  /** The number's status callback as found (number checks). */
  statusCallback?: string | null;
  /** What `--fix` sets the status callback to (only for fixable findings). */
  proposedStatusCallback?: string;
  /** Manual remedy when `--fix` cannot repair it. */
  hint?: string;
  /** Set by `--fix` when the repair was applied. */
  fixed?: { field: 'status_callback'; before: string | null; after: string };
  /** Set by `--fix` when the repair was attempted and Twilio refused it. */
  fixError?: string;
}

export interface CheckContext {
  accountSid: string;
  /** unstick's voice status callback URL under WEBHOOK_PUBLIC_URL, when that is configured. */
  unstickStatusUrl?: string;
  /** WEBHOOK_FLOW_REDIRECTS: number (E.164) → FlowSid the webhook answers with a 302 to. */
  flowRedirects: Record<string, string>;
}

const FLOW_URL = /^https?:\/\/webhooks\.twilio\.com\/v1\/Accounts\/(AC[0-9a-f]{32})\/Flows\/(FW[0-9a-f]{32})\/?$/i;

/** Scheme, host case and a trailing slash do not make two webhook URLs different targets. */
function normaliseUrl(url: string | null | undefined): string {
  if (!url) return '';
  const trimmed = url.trim();
  try {
    const u = new URL(trimmed);
    return `${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '')}${u.search}`;
  } catch {
    return trimmed.replace(/\/+$/, '');
  }
}

/**
 * The flow a number's incoming calls go to, or undefined. A trunk overrides applications and URLs, and an
 * application overrides the voice URL (Twilio's precedence), so such numbers are not routed by `voice_url`.
 */
export function flowOfNumber(n: NumberFacts, flowsByUrl: Map<string, string>): string | undefined {
  if (n.trunkSid || n.voiceApplicationSid || !n.voiceUrl) return undefined;
  const known = flowsByUrl.get(normaliseUrl(n.voiceUrl));
  if (known) return known;
  return FLOW_URL.exec(n.voiceUrl.trim())?.[2];
}

export function indexFlowsByUrl(accountSid: string, flows: FlowFacts[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const f of flows) {
    map.set(normaliseUrl(studioFlowWebhookUrl(accountSid, f.sid)), f.sid);
    if (f.webhookUrl) map.set(normaliseUrl(f.webhookUrl), f.sid);
  }
  return map;
}

/**
 * Where `--fix` points a number's status callback. unstick's webhook only when it will hand the callback on to
 * Studio (WEBHOOK_PUBLIC_URL set and a WEBHOOK_FLOW_REDIRECTS entry for this number and flow: the webhook then
 * answers 302 to the flow, Twilio's rule for apps that own the status callback). Otherwise the flow's own webhook
 * URL, which is what Studio sets by itself; unstick still finds ended calls by polling and by the sweep.
 */
function statusCallbackTarget(ctx: CheckContext, n: NumberFacts, flowSid: string, flowUrl: string): string {
  if (ctx.unstickStatusUrl && ctx.flowRedirects[n.phoneNumber] === flowSid) return ctx.unstickStatusUrl;
  return flowUrl;
}

export function checkNumber(ctx: CheckContext, n: NumberFacts, flowSid: string, flow: FlowFacts | undefined): AuditFinding[] {
  const flowUrl = flow?.webhookUrl && FLOW_URL.test(flow.webhookUrl.trim())
    ? flow.webhookUrl.trim().replace(/^http:/i, 'https:')
    : studioFlowWebhookUrl(ctx.accountSid, flowSid);
  const current = normaliseUrl(n.statusCallback);
  const base = { resourceSid: n.sid, label: n.phoneNumber, flowSid, statusCallback: n.statusCallback };
  if (current !== '' && current === normaliseUrl(flowUrl)) return [];
  if (ctx.unstickStatusUrl && current !== '' && current === normaliseUrl(ctx.unstickStatusUrl)) {
    const redirect = ctx.flowRedirects[n.phoneNumber];
    if (redirect === flowSid) return [];
    return [{
      ...base,
      check: 'status-callback-redirect',
      severity: 'error',
      message: redirect
        ? `status callback is unstick's webhook, which redirects ${n.phoneNumber} to ${redirect}, not to ${flowSid} that the number's calls run in`
        : `status callback is unstick's webhook, which has no 302 redirect for ${n.phoneNumber}: Studio never gets the call's final status`,
      hint: `add ${n.phoneNumber}=${flowSid} to WEBHOOK_FLOW_REDIRECTS (or point the status callback at ${flowUrl})`,
    }];
  }
  const target = statusCallbackTarget(ctx, n, flowSid, flowUrl);
  return [{
    ...base,
    check: 'status-callback',
    severity: 'error',
    message: current === ''
      ? `no status callback: Studio (flow ${flowSid}) is never told that calls to this number ended`
      : `status callback ${n.statusCallback} is neither flow ${flowSid}'s webhook nor unstick's webhook: Studio is never told that calls ended`,
    proposedStatusCallback: target,
  }];
}

interface FlowState {
  name?: unknown;
  type?: unknown;
  properties?: { timeout?: unknown } | null;
}

function statesOf(definition: unknown): FlowState[] {
  if (!definition || typeof definition !== 'object') return [];
  const states = (definition as { states?: unknown }).states;
  return Array.isArray(states) ? (states.filter((s) => s && typeof s === 'object') as FlowState[]) : [];
}

export function checkFlow(flow: FlowFacts, routedNumbers: string[]): AuditFinding[] {
  const out: AuditFinding[] = [];
  const base = { resourceSid: flow.sid, label: flow.friendlyName, flowSid: flow.sid };
  const def = flow.definition;
  if (def && typeof def === 'object') {
    const flags = (def as { flags?: { allow_concurrent_calls?: unknown } | null }).flags;
    if (flags?.allow_concurrent_calls !== true) {
      const state = flags && 'allow_concurrent_calls' in flags ? 'false' : 'missing';
      out.push({
        ...base,
        check: 'concurrent-calls',
        // Without a number routing calls to it, the flag only matters if calls reach the flow another way.
        severity: routedNumbers.length > 0 ? 'error' : 'warning',
        numbers: routedNumbers,
        message: `flags.allow_concurrent_calls is ${state}: one stuck Execution blocks later calls from the same caller`
          + (routedNumbers.length ? ` (numbers: ${routedNumbers.join(', ')})` : ' (no number routes to it by voice URL)'),
        hint: 'enable "Allow concurrent calls" on the flow\'s Trigger widget (Studio Console) and publish',
      });
    }
  }
  for (const state of statesOf(def)) {
    if (state.type !== 'send-and-wait-for-reply') continue;
    const widget = typeof state.name === 'string' ? state.name : '(unnamed)';
    const raw = state.properties?.timeout;
    const hint = `set the widget's timeout to at most ${MAX_RECOMMENDED_WAIT_SECONDS} seconds (4 h) and connect its Timeout transition`;
    if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
      out.push({ ...base, widget, check: 'send-and-wait-timeout', severity: 'error', hint,
        message: `Send & Wait for Reply widget "${widget}" has no timeout: an abandoned conversation keeps the Execution active and blocks the contact` });
      continue;
    }
    const seconds = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
    if (!Number.isFinite(seconds) || seconds <= 0) {
      out.push({ ...base, widget, check: 'send-and-wait-timeout', severity: 'error', hint,
        message: `Send & Wait for Reply widget "${widget}" has timeout ${JSON.stringify(raw)}, which is not a number of seconds` });
    } else if (seconds > MAX_RECOMMENDED_WAIT_SECONDS) {
      out.push({ ...base, widget, check: 'send-and-wait-timeout', severity: 'warning', hint,
        message: `Send & Wait for Reply widget "${widget}" waits ${seconds} s (${(seconds / 3600).toFixed(1)} h), above the recommended 4 h` });
    }
  }
  return out;
}
