/**
 * `unstick audit`: Twilio's preventive guidance against stuck Executions, checked against the account through the
 * twilio SDK, with an optional repair of what the REST API can repair (a number's status callback).
 */
import pLimit from 'p-limit';
import type { Twilio } from 'twilio';
import type { Config } from '../config';
import { VOICE_STATUS_PATH, webhookUrl } from '../shared/names';
import {
  checkFlow,
  checkNumber,
  flowOfNumber,
  indexFlowsByUrl,
  type AuditFinding,
  type CheckContext,
  type FlowFacts,
  type NumberFacts,
} from './checks';

export * from './checks';
export { renderAuditTable, renderAuditText } from './render';

/** Audit paths hit the v2010 IncomingPhoneNumbers and Studio Flows APIs; a few flows are fetched at once. */
const FLOW_FETCH_CONCURRENCY = 4;

export interface AuditReport {
  accountSid: string;
  checkedAt: string;
  fix: boolean;
  scanned: { numbers: number; numbersOnFlows: number; flows: number };
  /** Every finding, repaired ones included (they carry `fixed`). */
  findings: AuditFinding[];
  /** The repairs applied by `--fix`, before → after. */
  changes: Array<{ numberSid: string; phoneNumber: string; field: 'status_callback'; before: string | null; after: string }>;
  /** Findings not repaired, by severity. */
  remaining: { errors: number; warnings: number };
  /** No unrepaired error-level finding (warnings do not make an account unclean unless the caller says so). */
  clean: boolean;
}

export interface RunAuditOptions {
  twilio: Twilio;
  config: Pick<Config, 'twilio' | 'webhook'>;
  fix: boolean;
}

function toNumberFacts(n: {
  sid: string; phoneNumber: string; voiceUrl?: string | null; statusCallback?: string | null;
  voiceApplicationSid?: string | null; trunkSid?: string | null;
}): NumberFacts {
  return {
    sid: n.sid,
    phoneNumber: n.phoneNumber,
    voiceUrl: n.voiceUrl || null,
    statusCallback: n.statusCallback || null,
    voiceApplicationSid: n.voiceApplicationSid || null,
    trunkSid: n.trunkSid || null,
  };
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { status?: number; code?: number; message?: string };
    return [e.status, e.code, e.message].filter((x) => x !== undefined && x !== '').join(' ');
  }
  return String(err);
}

export async function runAudit({ twilio, config, fix }: RunAuditOptions): Promise<AuditReport> {
  const accountSid = config.twilio.accountSid;
  const ctx: CheckContext = {
    accountSid,
    unstickStatusUrl: config.webhook.publicUrl ? webhookUrl(config.webhook.publicUrl, VOICE_STATUS_PATH) : undefined,
    flowRedirects: config.webhook.flowRedirects ?? {},
  };

  const [numberList, flowList] = await Promise.all([
    twilio.incomingPhoneNumbers.list({ pageSize: 1000 }),
    twilio.studio.v2.flows.list({ pageSize: 1000 }),
  ]);
  const limit = pLimit(FLOW_FETCH_CONCURRENCY);
  // List items may omit the definition; fetch each flow for it.
  const flows: FlowFacts[] = await Promise.all(
    flowList.map((f) => limit(async () => {
      const full = f.definition ? f : await twilio.studio.v2.flows(f.sid).fetch();
      return { sid: full.sid, friendlyName: full.friendlyName, webhookUrl: full.webhookUrl || null, definition: full.definition as unknown };
    })),
  );
  const flowsBySid = new Map(flows.map((f) => [f.sid, f]));
  const flowsByUrl = indexFlowsByUrl(accountSid, flows);

  const numbers = numberList.map(toNumberFacts);
  const findings: AuditFinding[] = [];
  const routed = new Map<string, string[]>();
  let numbersOnFlows = 0;
  for (const n of numbers) {
    const flowSid = flowOfNumber(n, flowsByUrl);
    if (!flowSid) continue;
    numbersOnFlows++;
    routed.set(flowSid, [...(routed.get(flowSid) ?? []), n.phoneNumber]);
    findings.push(...checkNumber(ctx, n, flowSid, flowsBySid.get(flowSid)));
  }
  for (const flow of flows) findings.push(...checkFlow(flow, routed.get(flow.sid) ?? []));

  const changes: AuditReport['changes'] = [];
  if (fix) {
    // One at a time: a handful of numbers, and each change is printed in order.
    for (const f of findings) {
      if (!f.proposedStatusCallback) continue;
      const before = f.statusCallback ?? null;
      try {
        // Read it again right before the write: a number someone re-wired since the audit's list is left alone.
        const now = await twilio.incomingPhoneNumbers(f.resourceSid).fetch();
        if ((now.statusCallback ?? null) !== before) {
          f.fixError = `status_callback changed since the audit read it (now ${JSON.stringify(now.statusCallback ?? null)}): not changed; run audit again`;
          continue;
        }
        const updated = await twilio.incomingPhoneNumbers(f.resourceSid).update({ statusCallback: f.proposedStatusCallback, statusCallbackMethod: 'POST' });
        f.fixed = { field: 'status_callback', before, after: updated.statusCallback };
        changes.push({ numberSid: f.resourceSid, phoneNumber: f.label, field: 'status_callback', before, after: updated.statusCallback });
      } catch (err) {
        f.fixError = errorText(err);
      }
    }
  }

  const open = findings.filter((f) => !f.fixed);
  const remaining = {
    errors: open.filter((f) => f.severity === 'error').length,
    warnings: open.filter((f) => f.severity === 'warning').length,
  };
  return {
    accountSid,
    checkedAt: new Date().toISOString(),
    fix,
    scanned: { numbers: numbers.length, numbersOnFlows, flows: flows.length },
    findings,
    changes,
    remaining,
    clean: remaining.errors === 0,
  };
}
