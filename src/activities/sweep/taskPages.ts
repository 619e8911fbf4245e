/**
 * The sweep's Task pages: open Tasks of a Workspace, list page after list page through one concurrency window.
 * A list item only nominates a candidate; each is judged by the policy and, when it may be closed, read fresh and
 * written with If-Match by the guarded writer.
 */
import type { Twilio } from 'twilio';
import { classifyChannel } from '../../policy/channels';
import { decideTask, taskCallSid as callSidOf } from '../../policy/task';
import type { SkipReason, TaskFacts } from '../../policy/types';
import { VOICE_CHANNEL } from '../../shared/names';
import { SWEEP_DEFAULTS, type PageResult, type TaskPageInput, type SweepActionKind } from '../../shared/sweepTypes';
import { guardedTaskWrite } from '../guardedWrite';
import { taskPort } from '../twilioPorts';
import { taskFacts } from '../twilioFacts';
import { toActivityFailure } from '../twilioErrors';
import { callCache } from './callCache';
import { ownedByCallWatch, ownershipBatcher, watchLiveCall, type OwnershipEnv } from './ownership';
import { isAuthFailure, MAX_ERRORS_PER_PAGE, withPageRun, type PageEnv, type PageRun } from './pageState';
import { policySettings, tally } from './records';

/**
 * A list item without attributes (Twilio's spec) whose TaskChannel the policy classifies as not voice (or unknown) is
 * not nominated, so it costs no fetch: `decideTask` closes voice Tasks only, so no attributes could make it
 * closable. It is counted with the policy's reason for such a Task. A list item with attributes goes to the policy.
 * (Not nominating is always safe: nothing is written on it.)
 */
function notCandidateReason(facts: TaskFacts): SkipReason | undefined {
  if (facts.attributes.kind !== 'unknown' || facts.state === 'unknown') return undefined;
  const c = classifyChannel(facts.channel);
  return c === 'voice' ? undefined : c === 'not-voice' ? 'not-voice' : 'unknown-channel';
}

/** Each Task may be written up to this many more times after a refused write (412 / transition refused). */
export const MAX_REDECIDES = 3;

export interface SweepEnv extends PageEnv, OwnershipEnv {
  twilio: Twilio;
  /** A multi-page Task activity lists no new page after running this long (it stays well inside its timeout). */
  maxListingMs: number;
}

/**
 * Open Tasks of a Workspace, from `input.pageUrl` on, up to `input.maxPages` list pages (default 1): voice
 * Tasks whose call is over are canceled/completed (seed rule). The pages go through one concurrency window:
 * the next page is listed while the tail of the current one is still being examined, so a page boundary does
 * not drain the requests in flight. A page is listed only when it is certain to be needed (within maxPages,
 * and the maxActions budget left exceeds what the pages already listed could spend), so no read is wasted.
 */
export function sweepTaskPages(env: SweepEnv, input: TaskPageInput): Promise<PageResult> {
  return withPageRun(env, input, (run) => taskPages(env, input, run));
}

async function taskPages(env: SweepEnv, input: TaskPageInput, run: PageRun): Promise<PageResult> {
  const { twilio, now, maxListingMs } = env;
  const { st, beat, request, throwIfCancelled } = run;
  const tasksApi = twilio.taskrouter.v1.workspaces(input.workspaceSid).tasks;
  const maxPages = Math.max(1, input.maxPages ?? 1);
  st.errorCap = Math.min(MAX_ERRORS_PER_PAGE * maxPages, SWEEP_DEFAULTS.maxReportedErrors);
  beat(true);
  if (st.cursor.finished) return st.result(st.capReached ? undefined : st.cursor.nextPageUrl, 0, st.cursor.pagesDone);
  // List the next page once no more than this many of the last page's Tasks are left to start: the lead must
  // cover the list request and its ownership query (~100 ms for 1,000 Tasks) at full speed, or workers run dry.
  const prefetchAhead = Math.max(4 * Math.max(1, input.concurrency), Math.ceil(input.pageSize / 2));

  const settings = policySettings(input);
  // Wrapping Tasks are the agent's until a wrap limit is configured (see README "Wrap-up"): only then are they listed.
  const listedStatuses = settings.wrapLimitMs === undefined ? ['pending', 'reserved', 'assigned'] : ['pending', 'reserved', 'assigned', 'wrapping'];
  // Without list attributes a Task's call is learnt only from its fresh read; the calls the Calls lists name (live
  // ones, ended ones in the Tasks' windows) have their ownership asked in bulk as soon as they are listed, so a
  // fetched Task rarely waits for a visibility query of its own.
  const getCall = callCache(twilio, request, { onListed: (sids) => (attributesMissing ? prefetchOwnership(sids) : heldCalls?.push(...sids)) });
  let attributesMissing = false;
  /** Calls listed before the first Task page said whether its items carry attributes. */
  let heldCalls: string[] | undefined = [];
  const ownershipAsked = new Map<string, Promise<boolean>>();
  const prefetchOwnership = (sids: string[]): void => {
    const fresh = sids.filter((c) => !ownershipKnown.has(c) && !ownershipAsked.has(c));
    if (fresh.length === 0) return;
    const q = ownedByCallWatch(env, fresh);
    q.catch(() => undefined);
    for (const c of fresh) ownershipAsked.set(c, q.then((set) => set.has(c)));
  };
  const ports = { twilio, request, now };
  /** CallSids whose ownership was asked (listed, or learnt on a fresh read). */
  const ownershipKnown = new Set<string>();
  const owned = new Set<string>();
  const startedAt = now();

  interface Item {
    facts: TaskFacts;
    callSid?: string;
    page: ListedPage;
    /** Not nominated: a Task the policy could never close whatever its attributes, or one a running callWatch has linked (see `notCandidateReason`). */
    notCandidate?: SkipReason;
  }
  interface ListedPage {
    url?: string;
    nextPageUrl?: string;
    items: Item[];
    /** Index of the next item to start. */
    next: number;
    /** Items not finished yet (unstarted or in flight). */
    open: number;
  }
  /** Listed pages not yet fully examined, oldest first. */
  const pages: ListedPage[] = [];
  let pagesListed = 0;
  let lastListed: ListedPage | undefined;
  let unfinished = 0;
  let listing: Promise<void> | undefined;
  let fatal: Error | undefined;
  let waiters: (() => void)[] = [];
  const wakeAll = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const stop = () => st.capReached || run.cancelled() || fatal !== undefined;

  const listPage = async (url: string | undefined): Promise<void> => {
    let page;
    try {
      page = await request('read', () =>
        url ? tasksApi.getPage(url) : tasksApi.page({ assignmentStatus: listedStatuses, pageSize: input.pageSize }),
      );
    } catch (err) {
      throw toActivityFailure(err, `list open Tasks of ${input.workspaceSid}`);
    }
    pagesListed++;
    const p: ListedPage = { url, nextPageUrl: page.nextPageUrl, items: [], next: 0, open: 0 };
    const callSids: string[] = [];
    const window = { fromMs: Infinity, toMs: -Infinity, voiceTasks: 0, attributesKnown: true };
    for (const t of page.instances) {
      if (st.handled.has(t.sid)) continue;
      const facts = taskFacts(t, { source: 'list' });
      const callSid = facts.channel === VOICE_CHANNEL ? callSidOf(facts) : undefined;
      if (callSid) {
        callSids.push(callSid);
        ownershipKnown.add(callSid);
      }
      const item: Item = { facts, callSid, page: p };
      const notCandidate = notCandidateReason(facts);
      if (notCandidate) item.notCandidate = notCandidate;
      else if (facts.channel === VOICE_CHANNEL && facts.createdAtMs !== undefined) {
        window.fromMs = Math.min(window.fromMs, facts.createdAtMs);
        window.toMs = Math.max(window.toMs, facts.createdAtMs);
        window.voiceTasks++;
        if (facts.attributes.kind === 'unknown') {
          window.attributesKnown = false;
          attributesMissing = true;
        }
      }
      p.items.push(item);
    }
    // Their calls, proven over in bulk while the ownership query runs (see callCache).
    if (window.voiceTasks > 0) {
      const wanted = window.attributesKnown ? new Set(callSids.filter((c) => !getCall.isLive(c))) : undefined;
      getCall.coverWindow({ fromMs: window.fromMs, toMs: window.toMs, voiceTasks: window.voiceTasks, ...(wanted ? { wanted } : {}) });
    }
    // Without list attributes a Task's call is unknown, but a running callWatch that linked the Task owns it: left
    // to the watch without a fetch (the reason the policy gives a Task whose call has a running callWatch).
    const unknownAttrs = p.items.filter((it) => !it.notCandidate && it.facts.attributes.kind === 'unknown').map((it) => it.facts.sid);
    const [ownedCalls, ownedTasks] = await Promise.all([ownedByCallWatch(env, callSids), ownedByCallWatch(env, unknownAttrs, 'task')]);
    for (const sid of ownedCalls) owned.add(sid);
    for (const it of p.items) if (ownedTasks.has(it.facts.sid)) it.notCandidate = 'owned-by-callwatch';
    p.open = p.items.length;
    unfinished += p.open;
    pages.push(p);
    lastListed = p;
    if (p.open === 0) pageFinished();
  };

  /** Drops fully examined pages from the front and moves the checkpoint's cursor past them. */
  const pageFinished = () => {
    while (pages.length > 0 && pages[0]!.open === 0) {
      const done = pages.shift()!;
      for (const it of done.items) st.handled.delete(it.facts.sid);
      st.cursor.pagesDone++;
      st.cursor.pageUrl = pages[0]?.url ?? done.nextPageUrl;
      st.cursor.nextPageUrl = done.nextPageUrl;
    }
  };

  /** Starts listing the next page when it is sure to be needed and the current one is nearly all started. */
  const maybeListNext = () => {
    if (listing || stop() || !lastListed?.nextPageUrl || pagesListed >= maxPages) return;
    if (lastListed.items.length - lastListed.next > prefetchAhead) return;
    // Each Task may spend up to MAX_REDECIDES + 1 writes: list only if the cap cannot stop the pages listed.
    if (input.budget !== null && input.budget - st.budgetUsed <= unfinished * (MAX_REDECIDES + 1)) return;
    if (now() - startedAt > maxListingMs) return;
    listing = listPage(lastListed.nextPageUrl).then(
      () => {
        listing = undefined;
        wakeAll();
        maybeListNext();
      },
      (err: unknown) => {
        listing = undefined;
        fatal ??= err instanceof Error ? err : new Error(String(err));
        wakeAll();
      },
    );
  };
  const morePossible = () =>
    !stop() && !!lastListed?.nextPageUrl && pagesListed < maxPages && now() - startedAt <= maxListingMs;

  const nextItem = (): Item | undefined => {
    for (const p of pages) if (p.next < p.items.length) return p.items[p.next++];
    return undefined;
  };

  const port = taskPort(ports, input.workspaceSid, getCall);
  /** The fresh read also learns whether the call it names (if not listed) has a running callWatch. */
  const fetchTask = async (sid: string): Promise<TaskFacts> => {
    const facts = await port.fetchTask(sid);
    const callSid = callSidOf(facts);
    if (callSid && !ownershipKnown.has(callSid)) {
      ownershipKnown.add(callSid);
      const asked = ownershipAsked.get(callSid);
      if (await (asked ? asked.catch(() => askOwnership(callSid)) : askOwnership(callSid))) owned.add(callSid);
    }
    return facts;
  };
  const guardedPort = { ...port, fetchTask };
  const askOwnership = ownershipBatcher(env);

  const examine = async (item: Item): Promise<void> => {
    const sid = item.facts.sid;
    st.counts.tasksSeen++;
    try {
      if (item.notCandidate) {
        st.skip(item.notCandidate);
        return;
      }
      const g = await guardedTaskWrite(guardedPort, {
        task: item.facts,
        dryRun: input.dryRun,
        maxConflicts: MAX_REDECIDES,
        reserve: () => st.reserve(),
        decide: (task, call) => {
          const callSid = callSidOf(task);
          return decideTask({ nowMs: now(), task, call, settings, ownedByCallWatch: callSid !== undefined && owned.has(callSid) });
        },
      });
      const callSid = callSidOf(g.facts);
      const a = g.action;
      if (a.kind === 'cancel-task' || a.kind === 'complete-task') {
        const base = { kind: a.kind as SweepActionKind, sid, parentSid: input.workspaceSid, callSid, fromStatus: a.expectStatus, reason: a.reason };
        tally(st, g.result, a.kind, base, now());
        return;
      }
      if (g.result === 'already-closed') st.counts.alreadyClosed++;
      else if (g.result === 'changed') st.counts.changed++;
      else if (a.kind === 'skip') {
        st.skip(a.reason);
        if (a.reason === 'call-live' && callSid && input.watchLiveCalls) {
          if (await watchLiveCall(env, input.watchLiveCalls, callSid, g.call, { workspaceSid: input.workspaceSid, facts: g.facts })) {
            st.counts.watchesStarted = (st.counts.watchesStarted ?? 0) + 1;
          }
        }
      } else st.counts.noAction++;
    } catch (err) {
      if (isAuthFailure(err)) throw (fatal ??= toActivityFailure(err, `Task ${sid}`));
      st.error(sid, err);
    } finally {
      st.handled.add(sid);
      unfinished--;
      if (--item.page.open === 0) pageFinished();
      beat();
    }
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (stop()) return;
      const item = nextItem();
      if (item) {
        maybeListNext();
        await examine(item);
        maybeListNext();
        if (waiters.length > 0) wakeAll();
        continue;
      }
      // Nothing to start: wait for a page being listed, or for items in flight that may allow listing one.
      maybeListNext();
      if (!listing && !(unfinished > 0 && morePossible())) return;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };

  // Voice Tasks need their calls: list the live ones while the first page is listed.
  if (input.channels.includes(VOICE_CHANNEL)) getCall.prime();
  await listPage(st.cursor.pageUrl);
  if (attributesMissing && heldCalls) prefetchOwnership(heldCalls);
  heldCalls = undefined;
  await Promise.all(Array.from({ length: Math.max(1, input.concurrency) }, worker));
  await listing;
  throwIfCancelled();
  if (fatal) {
    beat(true);
    throw fatal;
  }
  let notExamined = 0;
  for (const p of pages) notExamined += p.items.length - p.next;
  if (pages.length === 0) st.cursor.finished = true;
  beat(true);
  return st.result(st.capReached ? undefined : pages.length === 0 ? st.cursor.nextPageUrl : lastListed?.nextPageUrl, notExamined, st.cursor.pagesDone + pages.length);
}
