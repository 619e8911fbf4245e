/**
 * The sweep's activities: one activity per list page of open Tasks or active Executions. Inside a page, the
 * resources are examined with bounded concurrency (Twilio caps requests in flight per account), the call checks
 * are batched (one Call fetch per distinct CallSid, one Temporal visibility query per chunk of CallSids), and
 * the checkpoint — which resources of this page are done, and the counts so far — is heartbeated, so a retry
 * after a crash re-lists the same page (closed resources no longer appear in it) and skips what was handled.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { Twilio } from 'twilio';
import { decideSweepExecution, decideSweepTask, taskNeedsCall } from '../policy';
import type { CallFacts, ExecutionFacts, ExecutionTrigger, PolicySettings, TaskFacts } from '../policy/types';
import { callWorkflowId } from '../shared/constants';
import { CALL_WATCH_WORKFLOW_TYPE, taskLinkSignal, type CallWatchInput } from '../shared/messages';
import { CallSidKey } from '../shared/searchAttributes';
import {
  emptyCounts,
  type ExecutionPageInput,
  type LiveCallWatch,
  type PageResult,
  type SweepActionKind,
  type SweepActionRecord,
  type SweepCounts,
  type SweepError,
  type TaskPageInput,
  SWEEP_DEFAULTS,
} from '../shared/sweepTypes';
import type { Limit } from './callActivities';
import { etagOf } from '../twilio/client';
import { callFacts, executionFacts, taskFacts } from './twilioFacts';
import { isInvalidTransition, isNotFound, isPreconditionFailed, toActivityFailure, twilioStatus } from './twilioErrors';
import { withTwilioRetry } from './twilioRetry';

export interface SweepActivityDeps {
  twilio: Twilio;
  /** Process-wide cap on Twilio requests in flight (shared with other activities); default: none. */
  limit?: Limit;
  /** Temporal client for the callWatch ownership check; default: the worker's client (activity context). */
  temporal?: Client;
  now?: () => number;
  /** Heartbeat at most this often (the SDK throttles further). Default 1 s. */
  checkpointEveryMs?: number;
  /** CallSids per visibility query (at most 1,000, the list's page size limit). Default 1,000: one query per Task page, since each query costs the server far more than its length does. */
  ownershipChunk?: number;
  /** A multi-page Task activity lists no new page after running this long (it stays well inside its timeout). Default 2 min. */
  maxListingMs?: number;
}

/** What a page activity heartbeats; read back from `activityInfo().heartbeatDetails` on a retry. */
export interface PageCheckpoint {
  /** The page to (re-)list on a retry: the oldest page of this activity not yet fully examined. */
  pageUrl?: string;
  /** The activity's own input pageUrl (tells whose checkpoint this is); absent in single-page checkpoints. */
  startUrl?: string | null;
  /** Pages of this activity fully examined before `pageUrl`. */
  pagesDone?: number;
  /** Every listed page was examined: a retry returns the result without listing again. */
  finished?: boolean;
  /** Where the listing goes on after the last examined page (kept for a `finished` checkpoint). */
  nextPageUrl?: string;
  /** Multi-Flow Execution activities: index (into the input's Flows) of the Flow `pageUrl` belongs to. */
  flowIndex?: number;
  /** SIDs of this page's resources (and of pages listed ahead of it) already examined (acted on, skipped, or failed). */
  handled: string[];
  counts: SweepCounts;
  actions: SweepActionRecord[];
  actionsOmitted: number;
  errors: SweepError[];
  budgetUsed: number;
  capReached: boolean;
}

const MESSAGING_CHANNELS = ['sms', 'webchat', 'chat', 'whatsapp'];
const MAX_REDECIDES = 3;
/** Ownership queries of at most this many CallSids are not split further when they fail. */
const MIN_OWNERSHIP_SPLIT = 100;
const MAX_ERRORS_PER_PAGE = 20;

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Twilio refused the credentials: stop the whole page (and, non-retryable, the sweep) at once. */
const isAuthFailure = (err: unknown): boolean => twilioStatus(err) === 401 || twilioStatus(err) === 403;

function errorMessage(err: unknown): string {
  const status = twilioStatus(err);
  const msg = err instanceof Error ? err.message : String(err);
  return status ? `HTTP ${status}: ${msg}` : msg;
}

/** Runs `fn` over `items` with at most `concurrency` at once; stops taking new items once `stop()` is true. */
async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>, stop: () => boolean): Promise<number> {
  let next = 0;
  let started = 0;
  const worker = async () => {
    while (next < items.length && !stop()) {
      const item = items[next++]!;
      started++;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return items.length - started;
}

/** Per-page bookkeeping: counts, action records, budget, checkpoint. */
class PageState {
  handled: Set<string>;
  counts: SweepCounts;
  actions: SweepActionRecord[];
  actionsOmitted: number;
  errors: SweepError[];
  budgetUsed: number;
  capReached: boolean;
  readonly resumed: boolean;
  errorCap = MAX_ERRORS_PER_PAGE;
  /** Multi-page activities: the resume cursor (see PageCheckpoint). */
  cursor: { pageUrl?: string; pagesDone: number; finished: boolean; nextPageUrl?: string; flowIndex: number };

  constructor(
    private readonly input: { pageUrl?: string; budget: number | null; maxReportedActions: number },
    from: PageCheckpoint | undefined,
  ) {
    this.resumed = !!from;
    this.handled = new Set(from?.handled ?? []);
    this.counts = from?.counts ?? emptyCounts();
    this.actions = from?.actions ?? [];
    this.actionsOmitted = from?.actionsOmitted ?? 0;
    this.errors = from?.errors ?? [];
    this.budgetUsed = from?.budgetUsed ?? 0;
    this.capReached = from?.capReached ?? false;
    this.cursor = {
      pageUrl: from ? from.pageUrl : input.pageUrl,
      pagesDone: from?.pagesDone ?? 0,
      finished: from?.finished ?? false,
      nextPageUrl: from?.nextPageUrl,
      flowIndex: from?.flowIndex ?? 0,
    };
  }

  /** Takes one write from the maxActions budget; false once it is spent. */
  reserve(): boolean {
    if (this.input.budget !== null && this.budgetUsed >= this.input.budget) {
      this.capReached = true;
      return false;
    }
    this.budgetUsed++;
    if (this.input.budget !== null && this.budgetUsed >= this.input.budget) this.capReached = true;
    return true;
  }

  /** Keeps the action record while there is room in the report; past it only counts (no record is built). */
  record(base: Omit<SweepActionRecord, 'result' | 'atMs' | 'detail'>, result: SweepActionRecord['result'], atMs: number, detail?: string): void {
    if (this.actions.length >= this.input.maxReportedActions) {
      this.actionsOmitted++;
      return;
    }
    this.actions.push(detail === undefined ? { ...base, result, atMs } : { ...base, result, detail, atMs });
  }

  skip(reason: string): void {
    this.counts.skipped[reason] = (this.counts.skipped[reason] ?? 0) + 1;
  }

  error(sid: string | undefined, err: unknown): void {
    this.counts.errors++;
    if (this.errors.length < this.errorCap) this.errors.push({ sid, message: errorMessage(err) });
  }

  checkpoint(): PageCheckpoint {
    return {
      pageUrl: this.cursor.pageUrl,
      startUrl: this.input.pageUrl ?? null,
      pagesDone: this.cursor.pagesDone,
      finished: this.cursor.finished,
      nextPageUrl: this.cursor.nextPageUrl,
      ...(this.cursor.flowIndex ? { flowIndex: this.cursor.flowIndex } : {}),
      handled: [...this.handled],
      counts: this.counts,
      actions: this.actions,
      actionsOmitted: this.actionsOmitted,
      errors: this.errors,
      budgetUsed: this.budgetUsed,
      capReached: this.capReached,
    };
  }

  result(nextPageUrl: string | undefined, notExamined: number, pages?: number, flowsDone?: number): PageResult {
    return {
      ...(pages === undefined ? {} : { pages }),
      ...(flowsDone === undefined ? {} : { flowsDone }),
      counts: this.counts,
      actions: this.actions,
      actionsOmitted: this.actionsOmitted,
      errors: this.errors,
      nextPageUrl,
      budgetUsed: this.budgetUsed,
      capReached: this.capReached,
      notExamined,
      resumed: this.resumed,
    };
  }
}

/** Listing order for the live-call snapshot: the order a call moves through them. */
const LIVE_SNAPSHOT_ORDER = ['queued', 'ringing', 'in-progress'] as const;
/** A partial snapshot is still safe (membership only ever means "skip"); this bounds its cost. */
const LIVE_SNAPSHOT_MAX_PAGES = 10;

export function createSweepActivities(deps: SweepActivityDeps) {
  const { twilio } = deps;
  const limit: Limit = deps.limit ?? ((fn) => fn());
  const now = deps.now ?? Date.now;
  const checkpointEveryMs = deps.checkpointEveryMs ?? 1_000;
  const ownershipChunk = Math.min(1000, deps.ownershipChunk ?? 1000);
  const maxListingMs = deps.maxListingMs ?? 120_000;

  /** One page activity's plumbing: checkpoint, cancellation, counted and retried Twilio requests. */
  function pageRun(input: { pageUrl?: string; budget: number | null; maxReportedActions: number }) {
    const ctx = currentContext();
    const previous = ctx?.info.heartbeatDetails as PageCheckpoint | undefined;
    // A checkpoint belongs to the activity (first page) it was taken on; anything else is ignored.
    const mine = previous && (previous.startUrl === undefined ? previous.pageUrl === input.pageUrl : (previous.startUrl ?? undefined) === input.pageUrl);
    const st = new PageState(input, mine ? previous : undefined);
    let lastBeat = 0;
    const beat = (force = false) => {
      if (!ctx) return;
      const t = now();
      if (!force && t - lastBeat < checkpointEveryMs) return;
      lastBeat = t;
      ctx.heartbeat(st.checkpoint());
    };
    const cancelled = () => ctx?.cancellationSignal.aborted ?? false;

    async function request<T>(kind: 'read' | 'write', fn: () => Promise<T>): Promise<T> {
      return withTwilioRetry(
        () => {
          st.counts.requests[kind === 'read' ? 'reads' : 'writes']++;
          return limit(fn);
        },
        { onThrottled: () => st.counts.requests.throttled++, aborted: cancelled },
      );
    }

    /** Throws the cancellation (after a final checkpoint) if the activity was cancelled, e.g. on worker shutdown. */
    function throwIfCancelled(): void {
      if (!cancelled()) return;
      beat(true);
      const reason: unknown = ctx?.cancellationSignal.reason;
      throw reason instanceof CancelledFailure ? reason : new CancelledFailure(String(reason ?? 'cancelled'));
    }

    return { st, beat, request, cancelled, throwIfCancelled };
  }

  /** CallSids (of `sids`) that have a running callWatch: those calls are left to it. */
  async function ownedByCallWatch(sids: readonly string[]): Promise<Set<string>> {
    const owned = new Set<string>();
    const unique = [...new Set(sids)];
    if (unique.length === 0) return owned;
    const client = deps.temporal ?? currentContext()?.client;
    if (!client) throw new Error('no Temporal client for the callWatch ownership check (run inside an activity or pass deps.temporal)');
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += ownershipChunk) chunks.push(unique.slice(i, i + ownershipChunk));
    const query = async (chunk: string[]): Promise<void> => {
      const q = `WorkflowType = '${CALL_WATCH_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND CallSid IN (${chunk.map((s) => `'${s}'`).join(', ')})`;
      try {
        for await (const wf of client.workflow.list({ query: q, pageSize: chunk.length })) {
          const sid = wf.typedSearchAttributes.get(CallSidKey) ?? (wf.workflowId.startsWith('call:') ? wf.workflowId.slice(5) : undefined);
          if (sid) owned.add(sid);
        }
      } catch (err) {
        // A visibility store that refuses a long IN list gets halves of it; small lists fail as they are.
        if (chunk.length <= MIN_OWNERSHIP_SPLIT) throw err;
        const half = Math.ceil(chunk.length / 2);
        await Promise.all([query(chunk.slice(0, half)), query(chunk.slice(half))]);
      }
    };
    await Promise.all(chunks.map(query));
    return owned;
  }

  /**
   * Hands a live call to a callWatch of its own (one owner per call from then on), linked to the Task the sweep saw.
   * REJECT_DUPLICATE: a call whose watch already finished is not watched twice. Returns true when one was started.
   */
  async function watchLiveCall(
    watch: LiveCallWatch,
    callSid: string,
    call: CallFacts | undefined,
    task: { workspaceSid: string; facts: TaskFacts },
  ): Promise<boolean> {
    const client = deps.temporal ?? currentContext()?.client;
    if (!client) return false;
    try {
      const handle = await client.workflow.signalWithStart(CALL_WATCH_WORKFLOW_TYPE, {
        workflowId: callWorkflowId(callSid),
        taskQueue: watch.taskQueue,
        args: [{ callSid, startedBy: 'sweep', settings: watch.settings, startedAtMs: call?.startedAtMs } satisfies CallWatchInput],
        signal: taskLinkSignal,
        signalArgs: [
          {
            callSid,
            workspaceSid: task.workspaceSid,
            taskSid: task.facts.sid,
            eventType: 'sweep.live-call',
            assignmentStatus: task.facts.state,
            channel: task.facts.channel,
          },
        ],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [{ key: CallSidKey, value: callSid }],
        staticSummary: `call ${callSid} (handed over by a sweep)`,
      });
      return handle.signaledRunId !== undefined;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  function policySettings(input: TaskPageInput | ExecutionPageInput): PolicySettings {
    return {
      graceMs: input.graceMs,
      maxAgeMs: input.maxAgeMs,
      wrapLimitMs: input.wrapLimitMs,
      messagingIdleMs: input.messagingIdleMs,
      taskReason: input.taskReason,
    };
  }

  /**
   * Call facts for one activity run. Live calls are few (about one per busy agent), so the run first lists them
   * (`Status` = queued, then ringing, then in-progress: calls only move forward, so a call live at the end of the
   * listing is in one of the three lists) and answers "live" for those without a fetch each. Anything not in that
   * snapshot is fetched (once per CallSid per run): only a fetch proves a call is over, so the snapshot can only
   * make the sweep more careful. `prime()` starts the snapshot early, alongside the first page's listing; calls
   * asked for before it is complete are fetched.
   */
  function callCache(request: <T>(kind: 'read' | 'write', fn: () => Promise<T>) => Promise<T>) {
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
        p = request('read', () => twilio.calls(callSid).fetch()).then(callFacts, (err: unknown) => {
          if (isNotFound(err)) return { sid: callSid, status: 'gone' } satisfies CallFacts;
          throw err;
        });
        calls.set(callSid, p);
      }
      return p;
    };
    return Object.assign(get, { prime: start });
  }

  return {
    /** Resolves "all Workspaces / all Flows" into SIDs (one list request each, only when asked). */
    async sweepTargets(input: { workspaceSids: string[]; flowSids: string[]; tasks: boolean; executions: boolean }): Promise<{ workspaceSids: string[]; flowSids: string[] }> {
      try {
        const workspaceSids =
          !input.tasks ? [] : input.workspaceSids.length ? input.workspaceSids : (await withTwilioRetry(() => limit(() => twilio.taskrouter.v1.workspaces.list({ pageSize: 1000 })))).map((w) => w.sid);
        const flowSids =
          !input.executions ? [] : input.flowSids.length ? input.flowSids : (await withTwilioRetry(() => limit(() => twilio.studio.v2.flows.list({ pageSize: 1000 })))).map((f) => f.sid);
        return { workspaceSids, flowSids };
      } catch (err) {
        throw toActivityFailure(err, 'list Workspaces/Flows to sweep');
      }
    },

    /**
     * Open Tasks of a Workspace, from `input.pageUrl` on, up to `input.maxPages` list pages (default 1): voice
     * Tasks whose call is over are canceled/completed (seed rule). The pages go through one concurrency window:
     * the next page is listed while the tail of the current one is still being examined, so a page boundary does
     * not drain the requests in flight. A page is listed only when it is certain to be needed (within maxPages,
     * and the maxActions budget left exceeds what the pages already listed could spend), so no read is wasted.
     */
    async sweepTaskPage(input: TaskPageInput): Promise<PageResult> {
      const run = pageRun(input);
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
      const getCall = callCache(request);
      const owned = new Set<string>();
      const startedAt = now();

      interface Item {
        facts: TaskFacts;
        etag?: string;
        callSid?: string;
        page: ListedPage;
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
            url ? tasksApi.getPage(url) : tasksApi.page({ assignmentStatus: ['pending', 'reserved', 'assigned'], pageSize: input.pageSize }),
          );
        } catch (err) {
          throw toActivityFailure(err, `list open Tasks of ${input.workspaceSid}`);
        }
        pagesListed++;
        const p: ListedPage = { url, nextPageUrl: page.nextPageUrl, items: [], next: 0, open: 0 };
        const callSids: string[] = [];
        for (const t of page.instances) {
          if (st.handled.has(t.sid)) continue;
          const facts = taskFacts(t);
          const callSid = taskNeedsCall(facts);
          if (callSid) callSids.push(callSid);
          p.items.push({ facts, etag: undefined, callSid, page: p });
        }
        for (const sid of await ownedByCallWatch(callSids)) owned.add(sid);
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

      const readTask = async (taskSid: string): Promise<{ facts: TaskFacts; etag?: string }> => {
        try {
          const res = await request('read', () => tasksApi(taskSid).fetchWithHttpInfo());
          return { facts: taskFacts(res.body), etag: etagOf(res.headers) };
        } catch (err) {
          if (isNotFound(err)) return { facts: { sid: taskSid, state: 'gone' } };
          throw err;
        }
      };

      const examine = async (item: Item): Promise<void> => {
        const sid = item.facts.sid;
        st.counts.tasksSeen++;
        try {
          let { facts, etag, callSid } = item;
          // Twilio may omit attributes in lists; then the Task is fetched (which also gives its ETag).
          if (facts.attributes === undefined && facts.channel === 'voice') {
            ({ facts, etag } = await readTask(sid));
            callSid = taskNeedsCall(facts);
            if (callSid && !owned.has(callSid) && (await ownedByCallWatch([callSid])).size) owned.add(callSid);
          }
          if (callSid && owned.has(callSid)) {
            st.skip('owned-by-callwatch');
            return;
          }
          const call = callSid ? await getCall(callSid) : undefined;
          for (let round = 0; ; round++) {
            if (facts.state === 'gone' || facts.state === 'canceled' || facts.state === 'completed') {
              if (round === 0) st.counts.noAction++;
              else st.counts.alreadyClosed++;
              return;
            }
            const action = decideSweepTask({ nowMs: now(), task: facts, call, settings });
            if (action.kind === 'skip') {
              if (round === 0) st.skip(action.reason);
              else st.counts.changed++;
              if (round === 0 && action.reason === 'call-live' && callSid && input.watchLiveCalls) {
                if (await watchLiveCall(input.watchLiveCalls, callSid, call, { workspaceSid: input.workspaceSid, facts })) {
                  st.counts.watchesStarted = (st.counts.watchesStarted ?? 0) + 1;
                }
              }
              return;
            }
            if (action.kind === 'none') {
              if (round === 0) st.counts.noAction++;
              else st.counts.changed++;
              return;
            }
            const base = { kind: action.kind as SweepActionKind, sid, parentSid: input.workspaceSid, callSid, fromStatus: facts.state, reason: action.reason };
            if (!st.reserve()) {
              st.counts.capped++;
              st.record(base, 'capped', now());
              return;
            }
            if (input.dryRun) {
              st.counts.wouldClose[action.kind]++;
              st.record(base, 'dry-run', now());
              return;
            }
            const target = action.kind === 'cancel-task' ? 'canceled' : 'completed';
            try {
              await request('write', () => tasksApi(sid).update({ assignmentStatus: target, reason: input.taskReason, ...(etag ? { ifMatch: etag } : {}) }));
              st.counts.closed[action.kind]++;
              st.record(base, 'done', now());
              return;
            } catch (err) {
              if (isNotFound(err)) {
                st.counts.alreadyClosed++;
                st.record(base, 'already-closed', now(), 'gone (404)');
                return;
              }
              if (!(isPreconditionFailed(err) || isInvalidTransition(err)) || round >= MAX_REDECIDES) throw err;
              // Changed since it was listed: read it again (with its ETag) and decide again.
              ({ facts, etag } = await readTask(sid));
              if (facts.state === 'gone' || facts.state === 'canceled' || facts.state === 'completed') {
                st.counts.alreadyClosed++;
                st.record(base, 'already-closed', now(), `now ${facts.state}`);
                return;
              }
            }
          }
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
      if (input.channels.includes('voice')) getCall.prime();
      await listPage(st.cursor.pageUrl);
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
    },
    /**
     * Active Executions created before the cutoff, a page at a time: of `input.flowSid` from `input.pageUrl` on, then
     * of each of `input.moreFlowSids` in turn, up to `input.maxPages` pages (default 1), so that Flows with little
     * or nothing to do cost one activity together rather than one each. Voice Executions whose call is over, and
     * messaging ones (SMS, webchat) without a Step for longer than the idle threshold, are ended. The result's
     * `flowsDone` counts the Flows finished; `nextPageUrl` is where the Flow after those goes on, if it was begun.
     */
    async sweepExecutionPage(input: ExecutionPageInput): Promise<PageResult> {
      const run = pageRun(input);
      const { st, beat, request, throwIfCancelled } = run;
      const flows = [input.flowSid, ...(input.moreFlowSids ?? [])];
      const maxPages = Math.max(1, input.maxPages ?? 1);
      st.errorCap = Math.min(MAX_ERRORS_PER_PAGE * maxPages, SWEEP_DEFAULTS.maxReportedErrors);
      beat(true);
      const settings = policySettings(input);
      const getCall = callCache(request);
      const voice = input.channels.includes('voice');
      const messaging = input.channels.some((c) => MESSAGING_CHANNELS.includes(c));
      const startedAt = now();
      let fatal: Error | undefined;
      let notExamined = 0;
      // A retry whose checkpoint is past every page it was given returns at once.
      while (st.cursor.flowIndex < flows.length && st.cursor.pagesDone < maxPages && now() - startedAt <= maxListingMs) {
        const flowSid = flows[st.cursor.flowIndex]!;
        notExamined = await examinePage(flowSid, st.cursor.pageUrl);
        throwIfCancelled();
        if (fatal) throw fatal;
        if (st.capReached) break;
        // The page is done: the checkpoint moves past it.
        st.handled.clear();
        st.cursor.pagesDone++;
        if (st.cursor.nextPageUrl) st.cursor.pageUrl = st.cursor.nextPageUrl;
        else {
          st.cursor.flowIndex++;
          st.cursor.pageUrl = undefined;
        }
        st.cursor.nextPageUrl = undefined;
        beat(true);
      }
      return st.result(st.capReached ? undefined : st.cursor.pageUrl, notExamined, st.cursor.pagesDone + (st.capReached ? 1 : 0), st.cursor.flowIndex);

      /** Lists one page of `flowSid`'s Executions and examines it; returns how many it left unexamined (cap). */
      async function examinePage(flowSid: string, pageUrl: string | undefined): Promise<number> {
        const flow = twilio.studio.v2.flows(flowSid);
        let page;
        try {
          page = await request('read', () =>
            pageUrl
              ? flow.executions.getPage(pageUrl)
              : flow.executions.page({ status: 'active', dateCreatedTo: new Date(input.createdBeforeMs), pageSize: input.pageSize }),
          );
        } catch (err) {
          throw toActivityFailure(err, `list active Executions of ${flowSid}`);
        }
        st.cursor.nextPageUrl = page.nextPageUrl;
        const todo = page.instances.filter((e) => !st.handled.has(e.sid) && e.status === 'active');
        const owned = await ownedByCallWatch(todo.filter((e) => e.initiatedBy?.startsWith('CA')).map((e) => e.initiatedBy!));

        /** Older records have no initiated_by: the trigger is in the Execution's context. */
        const triggerFromContext = async (executionSid: string): Promise<{ trigger: ExecutionTrigger; callSid?: string }> => {
          const ctx = await request('read', () => flow.executions(executionSid).executionContext().fetch());
          const trig = (ctx.context as { trigger?: Record<string, { CallSid?: unknown } | undefined> } | undefined)?.trigger ?? {};
          if (trig['call']) return { trigger: 'call', callSid: typeof trig['call'].CallSid === 'string' ? trig['call'].CallSid : undefined };
          if (trig['message']) return { trigger: 'message' };
          if (trig['conversation']) return { trigger: 'conversation' };
          if (trig['request']) return { trigger: 'request' };
          return { trigger: 'unknown' };
        };

        /** date_updated of the newest Step (an Execution ends after 1,000 Steps, so one page holds them all). */
        const newestStepMs = async (executionSid: string): Promise<number | undefined> => {
          const steps = await request('read', () => flow.executions(executionSid).steps.page({ pageSize: 1000 }));
          let newest: number | undefined;
          for (const s of steps.instances) {
            const t = Math.max(s.dateCreated?.getTime() ?? 0, s.dateUpdated?.getTime() ?? 0);
            if (t > 0 && (newest === undefined || t > newest)) newest = t;
          }
          return newest;
        };

        const examine = async (ex: (typeof todo)[number]): Promise<void> => {
          const sid = ex.sid;
          st.counts.executionsSeen++;
          try {
            const facts: ExecutionFacts = executionFacts(ex);
            let callSid = facts.trigger === 'call' ? (ex.initiatedBy ?? undefined) : undefined;
            if (!ex.initiatedBy) {
              const t = await triggerFromContext(sid);
              facts.trigger = t.trigger;
              callSid = t.callSid;
              if (callSid && (await ownedByCallWatch([callSid])).size) owned.add(callSid);
            }
            if (facts.trigger === 'call' ? !voice : (facts.trigger === 'message' || facts.trigger === 'conversation') && !messaging) {
              st.skip('channel-not-swept');
              return;
            }
            let call: CallFacts | undefined;
            if (facts.trigger === 'call' && callSid) {
              if (owned.has(callSid)) {
                st.skip('owned-by-callwatch');
                return;
              }
              call = await getCall(callSid);
            }
            if ((facts.trigger === 'message' || facts.trigger === 'conversation') && facts.lastStepAtMs !== undefined && now() - facts.lastStepAtMs >= input.messagingIdleMs) {
              // date_updated says idle: confirm with the Steps before ending a conversation.
              const newest = await newestStepMs(sid);
              if (newest !== undefined && newest > facts.lastStepAtMs) facts.lastStepAtMs = newest;
            }
            const action = decideSweepExecution({ nowMs: now(), execution: facts, call, settings });
            if (action.kind === 'skip') {
              st.skip(action.reason);
              return;
            }
            if (action.kind === 'none') {
              st.counts.noAction++;
              return;
            }
            const base = { kind: 'end-execution' as const, sid, parentSid: flowSid, callSid, fromStatus: 'active', reason: action.reason };
            if (!st.reserve()) {
              st.counts.capped++;
              st.record(base, 'capped', now());
              return;
            }
            if (input.dryRun) {
              st.counts.wouldClose['end-execution']++;
              st.record(base, 'dry-run', now());
              return;
            }
            try {
              await request('write', () => flow.executions(sid).update({ status: 'ended' }));
              st.counts.closed['end-execution']++;
              st.record(base, 'done', now());
            } catch (err) {
              if (!isNotFound(err)) throw err;
              st.counts.alreadyClosed++;
              st.record(base, 'already-closed', now(), 'gone (404)');
            }
          } catch (err) {
            if (isAuthFailure(err)) throw (fatal ??= toActivityFailure(err, `Execution ${sid}`));
            st.error(sid, err);
          } finally {
            st.handled.add(sid);
            beat();
          }
        };

        return pool(todo, input.concurrency, examine, () => st.capReached || run.cancelled() || fatal !== undefined);
      }
    },
  };
}

export type SweepActivities = ReturnType<typeof createSweepActivities>;
