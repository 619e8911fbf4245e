/**
 * Reading where an ended (or, in dry run, would-be-ended) Execution was stuck, for the stuck-cause record: its Steps
 * (one page of 1,000 holds them all), its Flow's definition (cached per Flow and revision) and, for voice, the Call's
 * `to`. Costs up to three reads per stuck Execution, made only for Executions actually ended or found in dry run.
 * Diagnostics only: a failed read gives a record with what is known (cause `unknown` if nothing), never a failure.
 */
import { classifyStuck, type StuckFacts } from '../policy/stuckCause';
import type { ExecutionTrigger } from '../policy/types';
import type { StuckRecord } from '../shared/stuckTypes';
import type { PortDeps } from './twilioPorts';
import { msOf } from './twilioFacts';
import { isTerminalCallStatus } from '../shared/constants';

interface FlowDef {
  revision?: number;
  types: Map<string, { type: string; timeout?: unknown }>;
  allowConcurrentCalls?: boolean;
}
const FLOW_TTL_MS = 5 * 60_000;
const flows = new Map<string, { def: FlowDef; atMs: number }>();

async function readFlowDef(deps: PortDeps, flowSid: string): Promise<FlowDef | undefined> {
  const hit = flows.get(flowSid);
  if (hit && deps.now() - hit.atMs < FLOW_TTL_MS) return hit.def;
  const f = await deps.request('read', () => deps.twilio.studio.v2.flows(flowSid).fetch());
  const def = f.definition as { states?: unknown; flags?: { allow_concurrent_calls?: unknown } | null } | null | undefined;
  if (!def || !Array.isArray(def.states)) return undefined;
  const types = new Map<string, { type: string; timeout?: unknown }>();
  for (const s of def.states as unknown[]) {
    const { name, type, properties } = (s ?? {}) as { name?: unknown; type?: unknown; properties?: { timeout?: unknown } | null };
    if (typeof name === 'string' && typeof type === 'string') types.set(name, { type, timeout: properties?.timeout });
  }
  const out: FlowDef = { types, allowConcurrentCalls: def.flags?.allow_concurrent_calls === true };
  if (typeof f.revision === 'number') out.revision = f.revision;
  if (flows.size > 256) flows.clear();
  flows.set(flowSid, { def: out, atMs: deps.now() });
  return out;
}

export interface StuckInput {
  flowSid: string;
  executionSid: string;
  trigger: ExecutionTrigger;
  flowRevision?: number;
  callSid?: string;
  /** Voice: the call was over (the policy ended the Execution because of it). */
  callEnded?: boolean;
}

export async function readStuckRecord(deps: PortDeps, input: StuckInput): Promise<StuckRecord> {
  const ex = deps.twilio.studio.v2.flows(input.flowSid).executions(input.executionSid);
  const [steps, def, call] = await Promise.all([
    deps.request('read', () => ex.steps.page({ pageSize: 1000 })).then((p) => p.instances, () => undefined),
    readFlowDef(deps, input.flowSid).catch(() => undefined),
    input.callSid ? deps.request('read', () => deps.twilio.calls(input.callSid!).fetch()).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  let last: { from: string; to: string; name: string; at: number } | undefined;
  for (const s of steps ?? []) {
    const at = msOf(s.dateCreated) ?? 0;
    if (!last || at >= last.at) last = { from: s.transitionedFrom, to: s.transitionedTo, name: s.name, at };
  }
  const widget = steps ? (last?.to ?? 'Trigger') : undefined;
  // Judge the widget on the definition only when it is the Execution's own revision (or the revision is unknown).
  const sameRevision = def !== undefined && (input.flowRevision === undefined || def.revision === input.flowRevision);
  const w = sameRevision && widget ? def.types.get(widget) : undefined;
  const facts: StuckFacts = {
    trigger: input.trigger === 'call' || input.trigger === 'message' || input.trigger === 'conversation' ? input.trigger : 'other',
    ...(input.callEnded !== undefined ? { callEnded: input.callEnded } : {}),
    ...(widget !== undefined ? { widget } : {}),
    ...(w ? { widgetType: w.type, widgetTimeout: w.timeout } : {}),
    ...(def ? { allowConcurrentCalls: def.allowConcurrentCalls === true } : {}),
  };
  if (steps && sameRevision) {
    facts.visitedTypes = steps.flatMap((s) => [s.transitionedFrom, s.transitionedTo]).map((n) => def.types.get(n)?.type).filter((t): t is string => t !== undefined);
  }
  const { cause, detail } = classifyStuck(facts);
  const rec: StuckRecord = { cause, detail, flowSid: input.flowSid, atMs: deps.now() };
  const revision = input.flowRevision ?? def?.revision;
  if (revision !== undefined) rec.flowRevision = revision;
  if (widget !== undefined) rec.widget = widget;
  if (w) rec.widgetType = w.type;
  if (last) {
    rec.transitionedFrom = last.from;
    rec.stepName = last.name;
  }
  if (call?.to) rec.calledNumber = call.to;
  if (def && def.allowConcurrentCalls !== true && input.trigger === 'call') rec.concurrentCallsOff = true;
  return rec;
}

/** The record's input from the guarded write's facts: the Execution as last read and its call (voice). */
export function stuckInput(
  flowSid: string,
  ex: { sid: string; trigger: ExecutionTrigger; flowRevision?: number; callSid?: string },
  call: { sid?: string; status: string } | undefined,
): StuckInput {
  const callSid = ex.callSid ?? call?.sid;
  return {
    flowSid,
    executionSid: ex.sid,
    trigger: ex.trigger,
    ...(ex.flowRevision !== undefined ? { flowRevision: ex.flowRevision } : {}),
    ...(callSid ? { callSid } : {}),
    ...(ex.trigger === 'call' && call ? { callEnded: isTerminalCallStatus(call.status) } : {}),
  };
}
