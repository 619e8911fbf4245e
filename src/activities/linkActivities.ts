/**
 * The linker's one activity (src/workflows/linker.ts): a pass lists the Executions created since its cursor once per
 * Flow and the Tasks created since its cursor once per Workspace — paged to the end, so a dense window loses
 * nothing — maps `initiated_by` (Execution → Call SID) and the Task's `call_sid` to the running watches, and signals
 * each watch its links. Its cost is one list page per Flow and per Workspace per pass however many calls there are
 * (plus one Task fetch per new Task when list attributes are null, as Twilio's spec says they may be).
 *
 * Links only: nothing here reads a resource for a decision or writes anything. A watch reconciles on fresh reads.
 */
import { Context, log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Twilio } from 'twilio';
import { isCallSid, parseTaskAttributes } from '../policy/attributes';
import { checkCallSignal, emptyLinkCounts, linksSignal, type CallWatchSettings, type LinkCounts, type LinksEvent } from '../shared/messages';
import { CALL_WATCH_WORKFLOW_TYPE, callSidOfWorkflowId, callWorkflowId } from '../shared/names';
import type { Limit } from './callActivities';
import { startCallWatch } from '../temporal/startCallWatch';
import { ownedByCallWatch } from './sweep/ownership';
import { msOf } from './twilioFacts';
import { toActivityFailure } from './twilioErrors';

/** Items re-listed before the cursor: Twilio filters dates at second precision, and a list may show an item late. */
export const LINK_OVERLAP_MS = 5_000;
/** A first pass (no cursor) looks this far back. */
export const LINK_LOOKBACK_MS = 10 * 60_000;
/** A link whose watch is not running yet (its first callback is still on the way) is tried again this long. */
export const LINK_RETRY_MS = 30_000;
/**
 * A link whose call has no watch this long after it was first seen gets one, started by the linker: the call's
 * callbacks were lost or the webhook was down. Long enough for a first callback on its way to start the watch itself.
 */
export const LINK_START_AFTER_MS = 10_000;
/** At most this many unplaced links are carried to the next pass (the newest); the rest are left to discovery. */
const MAX_PENDING = 500;
const EXECUTION_PAGE_SIZE = 1000;
const TASK_PAGE_SIZE = 200;
/** A watch told to read its Call is told again after this long if its call is still not live and it still runs. */
const NUDGE_AGAIN_MS = 10 * 60_000;
/** Signals in flight at once. */
const SIGNAL_CONCURRENCY = 16;

/** Where one list (a Flow's Executions, a Workspace's Tasks) stands: listed up to `sinceMs`, and the SIDs seen near it. */
export interface SourceCursor {
  /** The newest date_created listed (Twilio's clock), epoch ms. */
  sinceMs: number;
  /** SIDs created within the overlap before sinceMs, already handled. */
  seen: string[];
}

export interface PendingLink extends LinksEvent {
  firstTriedMs: number;
}

export interface LinkCursor {
  executions: Record<string, SourceCursor>;
  tasks: Record<string, SourceCursor>;
  pending: PendingLink[];
}

/** One pass: its counts (`nudged` is 0 when no live check ran) and the cursor to go on from. */
export interface LinkPassResult extends LinkCounts {
  cursor: LinkCursor;
  liveChecked: boolean;
}

export interface LinkActivityDeps {
  twilio: Twilio;
  limit: Limit;
  /** TWILIO_FLOW_SIDS / TWILIO_WORKSPACE_SIDS; empty = every Flow / Workspace of the account. */
  flowSids: string[];
  workspaceSids: string[];
  /** Default: the worker's client (activity context). */
  temporal?: () => Client;
  /** How the linker starts a watch for a call that has none (LINK_START_AFTER_MS); without it, such links wait for the sweep. */
  watch?: { taskQueue: string; settings: CallWatchSettings };
  now?: () => number;
}

interface PageLike<T> {
  instances: T[];
  nextPageUrl?: string;
  nextPage(): Promise<PageLike<T>> | undefined;
}

interface Listed {
  sid: string;
  createdMs: number;
}

/**
 * Keeps what is new since `prev`, and the next cursor: the newest date_created listed, and the SIDs listed within the
 * overlap before it (the next pass lists them again, and skips them).
 */
function advance(prev: SourceCursor | undefined, items: Listed[], fromMs: number): { fresh: Listed[]; next: SourceCursor } {
  const seen = new Set(prev?.seen ?? []);
  const fresh = items.filter((i) => !seen.has(i.sid));
  const sinceMs = Math.max(prev?.sinceMs ?? fromMs, ...items.map((i) => i.createdMs));
  const keepFrom = sinceMs - LINK_OVERLAP_MS - 1_000;
  return { fresh, next: { sinceMs, seen: items.filter((i) => i.createdMs >= keepFrom).map((i) => i.sid) } };
}

export function createLinkActivities(deps: LinkActivityDeps) {
  const { twilio, limit } = deps;
  const now = deps.now ?? Date.now;
  const client = deps.temporal ?? (() => Context.current().client);
  /** Calls already nudged by a live check (this process only: after a restart, one nudge more, which is harmless). */
  const nudged = new Map<string, number>();
  let flowsCache: { sids: string[]; atMs: number } | undefined;
  let workspacesCache: { sids: string[]; atMs: number } | undefined;

  async function flows(): Promise<string[]> {
    if (deps.flowSids.length) return deps.flowSids;
    if (!flowsCache || now() - flowsCache.atMs > 60_000) flowsCache = { sids: (await limit(() => twilio.studio.v2.flows.list({ pageSize: 50 }))).map((f) => f.sid), atMs: now() };
    return flowsCache.sids;
  }
  async function workspaces(): Promise<string[]> {
    if (deps.workspaceSids.length) return deps.workspaceSids;
    if (!workspacesCache || now() - workspacesCache.atMs > 60_000) {
      workspacesCache = { sids: (await limit(() => twilio.taskrouter.v1.workspaces.list({ pageSize: 50 }))).map((w) => w.sid), atMs: now() };
    }
    return workspacesCache.sids;
  }

  /** Lists page after page until `onPage` says stop or there is no next page; returns the pages read. */
  async function eachPage<T>(first: () => Promise<PageLike<T>>, onPage: (items: T[]) => boolean): Promise<number> {
    let page: PageLike<T> | undefined = await limit(first);
    let n = 0;
    while (page) {
      n++;
      const more = onPage(page.instances);
      beat();
      const current: PageLike<T> = page;
      page = more && current.nextPageUrl ? await limit(async () => current.nextPage()) : undefined;
    }
    return n;
  }

  const beat = () => {
    try {
      Context.current().heartbeat();
    } catch {
      // not in an activity (unit use)
    }
  };

  /** Every Execution of the Flow created since the cursor (minus the overlap), all pages. */
  async function listExecutions(flowSid: string, prev: SourceCursor | undefined, links: Map<string, LinksEvent>, counts: LinkPassResult) {
    const fromMs = prev ? prev.sinceMs - LINK_OVERLAP_MS : now() - LINK_LOOKBACK_MS;
    const items: Listed[] = [];
    const byCall = new Map<string, string>();
    counts.listRequests += await eachPage(
      () => twilio.studio.v2.flows(flowSid).executions.page({ dateCreatedFrom: new Date(fromMs), pageSize: EXECUTION_PAGE_SIZE }),
      (page) => {
        for (const ex of page) {
          items.push({ sid: ex.sid, createdMs: msOf(ex.dateCreated) ?? fromMs });
          if (isCallSid(ex.initiatedBy)) byCall.set(ex.sid, ex.initiatedBy);
        }
        return true;
      },
    );
    const { fresh, next } = advance(prev, items, fromMs);
    counts.executionsListed += fresh.length;
    for (const ex of fresh) {
      const callSid = byCall.get(ex.sid);
      if (!callSid) continue; // not started by a call (or an old record without initiated_by): discovery's job
      const l = links.get(callSid) ?? { callSid };
      l.execution = { flowSid, executionSid: ex.sid };
      links.set(callSid, l);
    }
    return next;
  }

  /** The Workspace's Tasks newest first, down to the cursor (minus the overlap); fetched when the list has no attributes. */
  async function listTasks(workspaceSid: string, prev: SourceCursor | undefined, links: Map<string, LinksEvent>, counts: LinkPassResult) {
    const fromMs = prev ? prev.sinceMs - LINK_OVERLAP_MS : now() - LINK_LOOKBACK_MS;
    const items: (Listed & { attributes?: string | null; status: string })[] = [];
    const ws = twilio.taskrouter.v1.workspaces(workspaceSid);
    counts.listRequests += await eachPage(
      () => ws.tasks.page({ ordering: 'DateCreated:desc', pageSize: TASK_PAGE_SIZE }),
      (page) => {
        for (const t of page) {
          const createdMs = msOf(t.dateCreated) ?? now();
          if (createdMs < fromMs) return false; // newest first: the rest is older than the cursor
          items.push({ sid: t.sid, createdMs, attributes: t.attributes, status: t.assignmentStatus });
        }
        return true;
      },
    );
    const { fresh, next } = advance(prev, items, fromMs);
    counts.tasksListed += fresh.length;
    const freshSids = new Set(fresh.map((f) => f.sid));
    for (const t of items.filter((i) => freshSids.has(i.sid))) {
      let raw = t.attributes;
      let status = t.status;
      if (raw === null || raw === undefined) {
        // Twilio's spec: list attributes may be null. One fetch of a new Task (not an EvaluateTaskAttributes request).
        try {
          const full = await limit(() => ws.tasks(t.sid).fetch());
          counts.taskFetches++;
          raw = full.attributes;
          status = full.assignmentStatus;
        } catch (err) {
          counts.taskFetches++;
          if ((err as { status?: number }).status === 404) continue;
          throw err;
        }
      }
      const attrs = parseTaskAttributes(raw);
      if (attrs.kind !== 'parsed' || !attrs.callSid) continue;
      const l = links.get(attrs.callSid) ?? { callSid: attrs.callSid };
      l.task = { workspaceSid, taskSid: t.sid, assignmentStatus: status };
      links.set(attrs.callSid, l);
    }
    return next;
  }

  /** Signals the running watches; returns the links whose watch is not running (yet). */
  async function place(links: LinksEvent[], counts: LinkPassResult): Promise<LinksEvent[]> {
    if (links.length === 0) return [];
    const temporal = client();
    const running = await ownedByCallWatch({ temporal, ownershipChunk: 500 }, links.map((l) => l.callSid));
    const unplaced = links.filter((l) => !running.has(l.callSid));
    const byCall = new Map(links.map((l) => [l.callSid, l]));
    counts.linked += await signalAll(
      links.filter((l) => running.has(l.callSid)).map((l) => l.callSid),
      async (callSid) => {
        const { execution, task } = byCall.get(callSid)!;
        await temporal.workflow.getHandle(callWorkflowId(callSid)).signal(linksSignal, { callSid, ...(execution ? { execution } : {}), ...(task ? { task } : {}) });
      },
    );
    return unplaced;
  }

  /** Signals `sids` with `fn`, SIGNAL_CONCURRENCY at a time; a watch that closed meanwhile is skipped. Returns the signalled. */
  async function signalAll(sids: string[], fn: (sid: string) => Promise<void>): Promise<number> {
    const todo = [...sids];
    let n = 0;
    const worker = async () => {
      for (let sid = todo.pop(); sid; sid = todo.pop()) {
        try {
          await fn(sid);
          n++;
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: SIGNAL_CONCURRENCY }, worker));
    return n;
  }

  /**
   * Starts the watch of each call that has none (or signals the one its webhook started meanwhile), with its links.
   * A call whose watch already finished is not watched again (startCallWatch's REJECT_DUPLICATE). Returns the calls
   * handled; a call whose start failed stays pending and is tried again next pass.
   */
  async function startWatches(links: LinksEvent[], counts: LinkPassResult): Promise<Set<string>> {
    const done = new Set<string>();
    const watch = deps.watch;
    if (!watch || links.length === 0) return done;
    const temporal = client();
    const byCall = new Map(links.map((l) => [l.callSid, l]));
    await signalAll([...byCall.keys()], async (callSid) => {
      const l = byCall.get(callSid)!;
      try {
        const outcome = await startCallWatch(temporal, callSid, {
          taskQueue: watch.taskQueue,
          input: { startedBy: 'linker', settings: watch.settings },
          summary: `call ${callSid} (its callbacks never came: started by the linker)`,
          signal: { signal: linksSignal, event: l },
        });
        if (outcome.kind !== 'closed') counts.started++;
        done.add(callSid);
      } catch (err) {
        log.warn('linker could not start a watch; tried again next pass', { callSid, error: String(err) });
      }
    });
    return done;
  }

  /**
   * The backstop for lost final callbacks, in bulk: the running watches (one visibility query), then the account's
   * live calls (a Calls list per live status, paged to the end). A watched call that is not live any more is told
   * to read its Call, once. Cost: list pages ∝ live calls ÷ 1,000 per check, not a poll per watch.
   */
  async function liveCheck(counts: LinkPassResult): Promise<void> {
    const temporal = client();
    const watched = new Set<string>();
    for await (const w of temporal.workflow.list({ query: `WorkflowType = '${CALL_WATCH_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`, pageSize: 1000 })) {
      const sid = callSidOfWorkflowId(w.workflowId);
      if (sid) watched.add(sid);
    }
    // A nudge is repeated after NUDGE_AGAIN_MS (a watch that read its call live in a race is asked again later).
    for (const [sid, at] of nudged) if (!watched.has(sid) || now() - at > NUDGE_AGAIN_MS) nudged.delete(sid);
    if (watched.size === 0) return;
    const live = new Set<string>();
    try {
      for (const status of ['queued', 'ringing', 'in-progress'] as const) {
        counts.listRequests += await eachPage(
          () => twilio.calls.page({ status, pageSize: 1000 }),
          (page) => {
            for (const c of page) live.add(c.sid);
            return true;
          },
        );
      }
    } catch (err) {
      throw toActivityFailure(err, 'linker live check');
    }
    const ended = [...watched].filter((sid) => !live.has(sid) && !nudged.has(sid));
    const t = now();
    counts.nudged += await signalAll(ended, async (sid) => {
      await temporal.workflow.getHandle(callWorkflowId(sid)).signal(checkCallSignal);
      nudged.set(sid, t);
    });
  }

  return {
    /** One pass of the linker. Idempotent: run twice, it signals the same links twice (a link changes nothing twice). */
    async linkPass(input: { cursor?: LinkCursor; liveCheck?: boolean }): Promise<LinkPassResult> {
      const prev = input.cursor ?? { executions: {}, tasks: {}, pending: [] };
      const counts: LinkPassResult = { cursor: prev, ...emptyLinkCounts(), liveChecked: false };
      const links = new Map<string, LinksEvent>();
      const cursor: LinkCursor = { executions: {}, tasks: {}, pending: [] };
      try {
        for (const f of await flows()) cursor.executions[f] = await listExecutions(f, prev.executions[f], links, counts);
        for (const w of await workspaces()) cursor.tasks[w] = await listTasks(w, prev.tasks[w], links, counts);
      } catch (err) {
        throw toActivityFailure(err, 'linker list');
      }
      const t = now();
      const firstTried = new Map<string, number>();
      for (const p of prev.pending) {
        const { firstTriedMs, ...link } = p;
        const l = links.get(p.callSid);
        // A pending link and a new one for the same call become one signal.
        links.set(p.callSid, { ...link, ...l, callSid: p.callSid, execution: l?.execution ?? link.execution, task: l?.task ?? link.task });
        firstTried.set(p.callSid, firstTriedMs);
      }
      const unplaced = await place([...links.values()], counts);
      const unwatched = deps.watch ? unplaced.filter((l) => t - (firstTried.get(l.callSid) ?? t) >= LINK_START_AFTER_MS) : [];
      const started = await startWatches(unwatched, counts);
      for (const l of unplaced) {
        if (started.has(l.callSid)) continue;
        const since = firstTried.get(l.callSid) ?? t;
        if (t - since < LINK_RETRY_MS) cursor.pending.push({ ...l, firstTriedMs: since });
        else counts.unplaced++;
      }
      if (cursor.pending.length > MAX_PENDING) {
        counts.unplaced += cursor.pending.length - MAX_PENDING;
        cursor.pending = cursor.pending.slice(-MAX_PENDING);
      }
      if (input.liveCheck) {
        await liveCheck(counts);
        counts.liveChecked = true;
      }
      counts.cursor = cursor;
      return counts;
    },
  };
}

export type LinkActivities = ReturnType<typeof createLinkActivities>;
