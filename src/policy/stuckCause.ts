/**
 * Why an Execution got stuck, from facts read when unstick ended it: a pure mapping, so the report, the sweep's UI
 * and tests agree. Each cause names the `unstick audit` check that finds (and, for the status callback, fixes) it.
 */
import type { StuckCause } from '../shared/stuckTypes';
import { SEND_AND_WAIT, widgetTimeoutMs } from './flow';

/** Studio widgets that answer the call with TwiML: once one ran, Studio has talked to the call. */
export const TWIML_WIDGET_TYPES: ReadonlySet<string> = new Set([
  'say-play', 'gather-input-on-call', 'send-to-flex', 'enqueue-call', 'connect-call-to', 'record-voicemail',
  'add-twiml-redirect', 'fork-stream', 'record-call', 'capture-payments', 'connect-virtual-agent',
]);

export interface StuckFacts {
  trigger: 'call' | 'message' | 'conversation' | 'other';
  /** Voice: the call was over when the Execution was ended (the policy ends voice Executions only then). */
  callEnded?: boolean;
  /** The widget it waited in (last Step's transitioned_to); undefined when the Steps were not read. */
  widget?: string;
  /** The types of the widgets it has been in, from its Steps and the definition (order irrelevant). */
  visitedTypes?: readonly string[];
  /** The waiting widget's type and `timeout` property in the definition, when the definition was read. */
  widgetType?: string;
  widgetTimeout?: unknown;
  /** The Flow's allow_concurrent_calls flag (undefined: definition not read). */
  allowConcurrentCalls?: boolean;
}

export interface CauseInfo {
  cause: StuckCause;
  detail: string;
}

export function classifyStuck(f: StuckFacts): CauseInfo {
  if (f.widgetType === SEND_AND_WAIT) {
    const ms = widgetTimeoutMs({ type: f.widgetType, timeout: f.widgetTimeout });
    if (ms === undefined || Number.isNaN(ms)) {
      return { cause: 'send-and-wait-without-timeout', detail: `Send & Wait widget ${f.widget ?? '?'} has ${ms === undefined ? 'no' : 'an invalid'} timeout` };
    }
  }
  if (f.trigger === 'call' && f.callEnded === true && f.visitedTypes !== undefined) {
    const reachedTwiml = f.visitedTypes.some((t) => TWIML_WIDGET_TYPES.has(t));
    if (!reachedTwiml) {
      return { cause: 'stop-after-hangup-before-twiml', detail: `caller hung up before any TwiML widget (stuck in ${f.widget ?? 'Trigger'}); Studio learns of it only from the status callback` };
    }
    return { cause: 'status-callback-misconfigured', detail: `call ended while in ${f.widget ?? '?'} and Studio was not told (status callback)` };
  }
  if (f.trigger === 'call' && f.allowConcurrentCalls === false) {
    return { cause: 'concurrent-calls-off', detail: 'the Flow does not allow concurrent calls' };
  }
  return { cause: 'unknown', detail: f.widget === undefined ? 'where it waited is unknown' : `stuck in ${f.widget}` };
}

export interface CauseFix {
  label: string;
  /** The `unstick audit` check that finds it (README "Audit"). */
  auditCheck?: string;
  fix: string;
}

export const CAUSE_FIXES: Record<StuckCause, CauseFix> = {
  'stop-after-hangup-before-twiml': {
    label: 'Stop Execution after hangup before TwiML (status callback misconfigured)',
    auditCheck: 'status-callback',
    fix: "point the number's status callback at the Flow webhook or unstick's webhook: `unstick audit --fix`",
  },
  'status-callback-misconfigured': {
    label: 'status callback misconfigured',
    auditCheck: 'status-callback',
    fix: "point the number's status callback at the Flow webhook or unstick's webhook: `unstick audit --fix` (and WEBHOOK_FLOW_REDIRECTS, check status-callback-redirect)",
  },
  'send-and-wait-without-timeout': {
    label: 'Send & Wait without timeout',
    auditCheck: 'send-and-wait-timeout',
    fix: 'set a timeout (seconds, at most 14400) on the Send & Wait for Reply widget and publish',
  },
  'concurrent-calls-off': {
    label: 'concurrent calls off',
    auditCheck: 'concurrent-calls',
    fix: 'enable allow concurrent calls on the Trigger widget and publish',
  },
  'outage-window': {
    label: 'outage window (many stuck around the same time)',
    fix: 'check Twilio status and your webhook/worker uptime for that window; nothing to change in the Flow',
  },
  unknown: { label: 'unknown', fix: 'look at the Execution in Studio logs' },
};

/**
 * Times at which many Executions got stuck together: windows of `windowMs` (aligned) holding at least `minCount`
 * records. Returns the window starts, ascending.
 */
export function outageWindows(timesMs: readonly number[], windowMs = 15 * 60_000, minCount = 10): number[] {
  const counts = new Map<number, number>();
  for (const t of timesMs) {
    const w = Math.floor(t / windowMs) * windowMs;
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n >= minCount).map(([w]) => w).sort((a, b) => a - b);
}
