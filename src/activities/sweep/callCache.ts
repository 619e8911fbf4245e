/**
 * Call facts for one sweep activity run: a snapshot of the live calls, the ended calls of the windows the listed
 * Tasks span (a Calls list by `Status=completed`), and one fetch per other CallSid.
 */
import type { Twilio } from 'twilio';
import type { CallFacts } from '../../policy/types';
import { fetchCallFacts, type TwilioRequest } from '../twilioPorts';
import { callFacts } from '../twilioFacts';

/** Listing order for the live-call snapshot: the order a call moves through them. */
const LIVE_SNAPSHOT_ORDER = ['queued', 'ringing', 'in-progress'] as const;
/** A partial snapshot is still safe (membership only ever means "skip"); this bounds its cost. */
const LIVE_SNAPSHOT_MAX_PAGES = 10;
/**
 * An ended-calls list page is worth its request only while it proves at least this many wanted calls over (each
 * saves a fetch); a window lists no more pages than its voice Tasks ÷ this, so the list never costs more than a
 * tenth of the fetches it could save.
 */
export const ENDED_LIST_MIN_HITS = 10;
/** A Task is created during its call: its call started at most this long before the Task (else it is fetched). */
export const CALL_START_LOOKBACK_MS = 10 * 60_000;
/** Clock slack between a call's start and its Task's creation. */
const WINDOW_SLACK_MS = 1_000;

type CallsPage = { instances: Parameters<typeof callFacts>[0][]; nextPageUrl?: string; nextPage(): Promise<CallsPage | undefined> | undefined };

export interface EndedWindow {
  /** Creation times (epoch ms) of the Tasks this window is for: their calls started at or before them. */
  fromMs: number;
  toMs: number;
  /** Voice Tasks in the window whose call may be needed (bounds the pages listed). */
  voiceTasks: number;
  /** Their CallSids when known (list attributes): pages that prove too few of them over stop the listing. */
  wanted?: ReadonlySet<string>;
}

/**
 * Call facts for one activity run. Live calls are few (about one per busy agent), so the run first lists them
 * (`Status` = queued, then ringing, then in-progress: calls only move forward, so a call live at the end of the
 * listing is in one of the three lists) and answers "live" for those without a fetch each. Ended calls are proven
 * over in bulk: for each listed Task page, the completed calls that started in the time span of its Tasks
 * (`Status=completed`, `StartTime>`/`StartTime<`; windows do not overlap) are listed, and a Task's call found there
 * needs no fetch — a completed call stays completed, so the list proves what a fetch would. Anything else is
 * fetched (once per CallSid per run). A call wanted while a window covering it is being listed waits for it.
 * `prime()` starts the live snapshot early, alongside the first page's listing; calls asked for before it is complete
 * are fetched (or found ended).
 */
export function callCache(twilio: Twilio, request: TwilioRequest, hooks: { onListed?: (callSids: string[]) => void } = {}) {
  const calls = new Map<string, Promise<CallFacts>>();
  const ended = new Map<string, CallFacts>();
  const snapshot = async (): Promise<Map<string, CallFacts>> => {
    const found = new Map<string, CallFacts>();
    for (const status of LIVE_SNAPSHOT_ORDER) {
      let page: CallsPage | undefined = await request('read', () => twilio.calls.page({ status, pageSize: 1000 }) as Promise<CallsPage>);
      for (let n = 1; page; n++) {
        for (const c of page.instances) found.set(c.sid, callFacts(c));
        hooks.onListed?.(page.instances.map((c) => c.sid));
        if (n >= LIVE_SNAPSHOT_MAX_PAGES || !page.nextPageUrl) break;
        const current: CallsPage = page;
        page = await request('read', async () => current.nextPage());
      }
    }
    return found;
  };
  /** The snapshot once it is complete; until then (or if it failed) every call is fetched. */
  let ready: Map<string, CallFacts> | undefined;
  let started = false;
  const start = (): void => {
    if (started) return;
    started = true;
    void snapshot().then(
      (m) => (ready = m),
      () => (ready = new Map()),
    );
  };

  /** Start times already covered by ended-call lists (one interval: Task pages come in creation order). */
  let covered: { fromMs: number; toMs: number } | undefined;
  /** Ended-call lists in flight. */
  const listing = new Set<{ done: Promise<void> }>();

  const listEnded = async (fromMs: number, toMs: number, w: EndedWindow): Promise<void> => {
    const maxPages = Math.max(1, Math.floor(w.voiceTasks / ENDED_LIST_MIN_HITS));
    let page: CallsPage | undefined = await request('read', () =>
      twilio.calls.page({ status: 'completed', startTimeAfter: new Date(fromMs), startTimeBefore: new Date(toMs), pageSize: 1000 }) as Promise<CallsPage>,
    );
    for (let n = 1; page; n++) {
      let hits = 0;
      hooks.onListed?.(page.instances.map((c) => c.sid));
      for (const c of page.instances) {
        const f = callFacts(c);
        // Only what the list proves over (and when) is kept; anything else about a call is fetched.
        if (f.status !== 'completed' || f.endedAtMs === undefined) continue;
        ended.set(c.sid, f);
        if (w.wanted?.has(c.sid)) hits++;
      }
      if (!page.nextPageUrl || n >= maxPages || (w.wanted && hits < ENDED_LIST_MIN_HITS)) break;
      const current: CallsPage = page;
      page = await request('read', async () => current.nextPage());
    }
  };

  /**
   * Lists the completed calls that started in the window of a Task page (less what earlier windows covered), in the
   * background. Never fails: a call the list could not prove over is fetched.
   */
  const coverWindow = (w: EndedWindow): void => {
    const want = w.wanted ? w.wanted.size : w.voiceTasks;
    if (want < 2) return;
    let fromMs = w.fromMs - CALL_START_LOOKBACK_MS;
    const toMs = w.toMs + WINDOW_SLACK_MS;
    if (covered && fromMs >= covered.fromMs && fromMs <= covered.toMs) {
      if (toMs <= covered.toMs) return;
      fromMs = covered.toMs;
      covered.toMs = toMs;
    } else covered = { fromMs, toMs };
    const entry = { done: Promise.resolve() };
    entry.done = listEnded(fromMs, toMs, w).then(
      () => void listing.delete(entry),
      () => void listing.delete(entry),
    );
    listing.add(entry);
  };

  const get = async (callSid: string): Promise<CallFacts> => {
    start();
    // Not waited for: a Task examined while the snapshot loads costs a fetch, not the snapshot's whole latency.
    const known = ready?.get(callSid) ?? ended.get(callSid);
    if (known) return known;
    // A list in flight may prove it over: wait for it (one or two list requests) rather than fetch.
    for (const l of [...listing]) await l.done;
    const listed = ended.get(callSid);
    if (listed) return listed;
    let p = calls.get(callSid);
    if (!p) {
      p = fetchCallFacts({ twilio, request, now: Date.now }, callSid);
      calls.set(callSid, p);
    }
    return p;
  };
  return Object.assign(get, { prime: start, coverWindow, isLive: (sid: string) => ready?.get(sid) !== undefined });
}

export type CallCache = ReturnType<typeof callCache>;
