/**
 * Call facts for one sweep activity run: a snapshot of the live calls, and one fetch per other CallSid.
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
 * Call facts for one activity run. Live calls are few (about one per busy agent), so the run first lists them
 * (`Status` = queued, then ringing, then in-progress: calls only move forward, so a call live at the end of the
 * listing is in one of the three lists) and answers "live" for those without a fetch each. Anything not in that
 * snapshot is fetched (once per CallSid per run): only a fetch proves a call is over, so the snapshot can only
 * make the sweep more careful. `prime()` starts the snapshot early, alongside the first page's listing; calls
 * asked for before it is complete are fetched.
 */
export function callCache(twilio: Twilio, request: TwilioRequest) {
  const calls = new Map<string, Promise<CallFacts>>();
  const snapshot = async (): Promise<Map<string, CallFacts>> => {
    const found = new Map<string, CallFacts>();
    for (const status of LIVE_SNAPSHOT_ORDER) {
      type CallsPage = { instances: Parameters<typeof callFacts>[0][]; nextPageUrl?: string; nextPage(): Promise<CallsPage | undefined> | undefined };
      let page: CallsPage | undefined = await request('read', () => twilio.calls.page({ status, pageSize: 1000 }) as Promise<CallsPage>);
      for (let n = 1; page; n++) {
        for (const c of page.instances) found.set(c.sid, callFacts(c));
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
  const get = async (callSid: string): Promise<CallFacts> => {
    start();
    // Not waited for: a Task examined while the snapshot loads costs a fetch, not the snapshot's whole latency.
    const known = ready?.get(callSid);
    if (known) return known;
    let p = calls.get(callSid);
    if (!p) {
      p = fetchCallFacts({ twilio, request, now: Date.now }, callSid);
      calls.set(callSid, p);
    }
    return p;
  };
  return Object.assign(get, { prime: start });
}
