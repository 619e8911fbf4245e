/**
 * Reading a Studio Flow definition for the policy: which widgets there are, their types, and the `timeout` of
 * Send & Wait For Reply widgets (seconds, stored as a string; Studio's default is "3600").
 */
import type { FlowFacts, WidgetFacts } from './types';

export const SEND_AND_WAIT = 'send-and-wait-for-reply';

/** FlowFacts from a Flow's `definition` (as the Flow fetch returns it); anything not shaped like one is unreadable. */
export function flowFactsFromDefinition(sid: string, revision: unknown, definition: unknown): FlowFacts {
  if (typeof revision !== 'number' || !Number.isInteger(revision)) return { kind: 'unreadable', sid, detail: 'the Flow has no revision' };
  if (definition === null || typeof definition !== 'object') return { kind: 'unreadable', sid, detail: 'the Flow has no definition' };
  const states = (definition as { states?: unknown }).states;
  if (!Array.isArray(states)) return { kind: 'unreadable', sid, detail: 'the definition has no states' };
  const widgets: Record<string, WidgetFacts> = {};
  for (const st of states) {
    if (st === null || typeof st !== 'object') return { kind: 'unreadable', sid, detail: 'a state of the definition is not an object' };
    const { name, type, properties } = st as { name?: unknown; type?: unknown; properties?: unknown };
    if (typeof name !== 'string' || typeof type !== 'string') return { kind: 'unreadable', sid, detail: 'a state has no name or type' };
    const timeout = properties !== null && typeof properties === 'object' ? (properties as { timeout?: unknown }).timeout : undefined;
    widgets[name] = timeout === undefined ? { type } : { type, timeout };
  }
  return { kind: 'read', sid, revision, widgets };
}

/**
 * A widget's timeout in ms: a positive whole number of seconds (string or number). Undefined when absent; NaN when
 * present but not a valid number of seconds (the caller treats that like absent: it cannot rely on it).
 */
export function widgetTimeoutMs(widget: WidgetFacts | undefined): number | undefined {
  if (!widget || widget.timeout === undefined || widget.timeout === null || widget.timeout === '') return undefined;
  const raw = typeof widget.timeout === 'string' ? widget.timeout.trim() : widget.timeout;
  const sec = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw)) ? Number(raw) : Number.NaN;
  return Number.isInteger(sec) && sec > 0 ? sec * 1000 : Number.NaN;
}
