/**
 * The sweep's activities: one activity per list page of open Tasks or active Executions. Inside a page, the
 * resources are examined with bounded concurrency (Twilio caps requests in flight per account), the call checks
 * are batched (one Call fetch per distinct CallSid, one Temporal visibility query per chunk of CallSids), and
 * the checkpoint — which resources of this page are done, and the counts so far — is heartbeated, so a retry
 * after a crash re-lists the same page (closed resources no longer appear in it) and skips what was handled.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { Twilio } from 'twilio';
import { decideSweepExecution, decideSweepTask, taskNeedsCall } from '../policy';
import type { CallFacts, ExecutionFacts, ExecutionTrigger, PolicySettings, TaskFacts } from '../policy/types';
import { CALL_WATCH_WORKFLOW_TYPE } from '../shared/messages';
import { CallSidKey } from '../shared/searchAttributes';
import {
  emptyCounts,
  type ExecutionPageInput,
  type PageResult,
  type SweepActionKind,
  type SweepActionRecord,
  type SweepCounts,
  type SweepError,
  type TaskPageInput,
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
  /** CallSids per visibility query. Default 200. */
  ownershipChunk?: number;
}

/** What a page activity heartbeats; read back from `activityInfo().heartbeatDetails` on a retry. */
export interface PageCheckpoint {
  pageUrl?: string;
  /** SIDs of this page's resources already examined (acted on, skipped, or failed). */
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

  record(a: SweepActionRecord): void {
    if (this.actions.length < this.input.maxReportedActions) this.actions.push(a);
    else this.actionsOmitted++;
  }

  skip(reason: string): void {
    this.counts.skipped[reason] = (this.counts.skipped[reason] ?? 0) + 1;
  }

  error(sid: string | undefined, err: unknown): void {
    this.counts.errors++;
    if (this.errors.length < MAX_ERRORS_PER_PAGE) this.errors.push({ sid, message: errorMessage(err) });
  }

  checkpoint(): PageCheckpoint {
    return {
      pageUrl: this.input.pageUrl,
      handled: [...this.handled],
      counts: this.counts,
      actions: this.actions,
      actionsOmitted: this.actionsOmitted,
      errors: this.errors,
      budgetUsed: this.budgetUsed,
      capReached: this.capReached,
    };
  }

  result(nextPageUrl: string | undefined, notExamined: number): PageResult {
    return {
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

export function createSweepActivities(deps: SweepActivityDeps) {
  const { twilio } = deps;
  const limit: Limit = deps.limit ?? ((fn) => fn());
  const now = deps.now ?? Date.now;
  const checkpointEveryMs = deps.checkpointEveryMs ?? 1_000;
  const ownershipChunk = deps.ownershipChunk ?? 200;

  /** One page activity's plumbing: checkpoint, cancellation, counted and retried Twilio requests. */
  function pageRun(input: { pageUrl?: string; budget: number | null; maxReportedActions: number }) {
    const ctx = currentContext();
    const previous = ctx?.info.heartbeatDetails as PageCheckpoint | undefined;
    // A checkpoint belongs to the page it was taken on; anything else is ignored.
    const st = new PageState(input, previous && previous.pageUrl === input.pageUrl ? previous : undefined);
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
    await Promise.all(
      chunks.map(async (chunk) => {
        const query = `WorkflowType = '${CALL_WATCH_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND CallSid IN (${chunk.map((s) => `'${s}'`).join(', ')})`;
        for await (const wf of client.workflow.list({ query, pageSize: chunk.length })) {
          const sid = wf.typedSearchAttributes.get(CallSidKey) ?? (wf.workflowId.startsWith('call:') ? wf.workflowId.slice(5) : undefined);
          if (sid) owned.add(sid);
        }
      }),
    );
    return owned;
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

  /** One Call fetch per CallSid per page, shared by every resource that names it. */
  function callCache(request: <T>(kind: 'read' | 'write', fn: () => Promise<T>) => Promise<T>) {
    const calls = new Map<string, Promise<CallFacts>>();
    return (callSid: string): Promise<CallFacts> => {
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

    /** One page of open Tasks of a Workspace: voice Tasks whose call is over are canceled/completed (seed rule). */
    async sweepTaskPage(input: TaskPageInput): Promise<PageResult> {
      const run = pageRun(input);
      const { st, beat, request, throwIfCancelled } = run;
      const tasksApi = twilio.taskrouter.v1.workspaces(input.workspaceSid).tasks;
      beat(true);

      let page;
      try {
        page = await request('read', () =>
          input.pageUrl ? tasksApi.getPage(input.pageUrl) : tasksApi.page({ assignmentStatus: ['pending', 'reserved', 'assigned'], pageSize: input.pageSize }),
        );
      } catch (err) {
        throw toActivityFailure(err, `list open Tasks of ${input.workspaceSid}`);
      }
      const settings = policySettings(input);
      const getCall = callCache(request);
      const todo = page.instances.filter((t) => !st.handled.has(t.sid));
      const listed = todo.map((t) => {
        const facts = taskFacts(t);
        return { facts, etag: undefined as string | undefined, callSid: taskNeedsCall(facts) };
      });

      const owned = await ownedByCallWatch(listed.map((t) => t.callSid).filter((s): s is string => !!s));

      const readTask = async (taskSid: string): Promise<{ facts: TaskFacts; etag?: string }> => {
        try {
          const res = await request('read', () => tasksApi(taskSid).fetchWithHttpInfo());
          return { facts: taskFacts(res.body), etag: etagOf(res.headers) };
        } catch (err) {
          if (isNotFound(err)) return { facts: { sid: taskSid, state: 'gone' } };
          throw err;
        }
      };

      const examine = async (item: { facts: TaskFacts; etag?: string; callSid?: string }): Promise<void> => {
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
              st.record({ ...base, result: 'capped', atMs: now() });
              return;
            }
            if (input.dryRun) {
              st.counts.wouldClose[action.kind]++;
              st.record({ ...base, result: 'dry-run', atMs: now() });
              return;
            }
            const target = action.kind === 'cancel-task' ? 'canceled' : 'completed';
            try {
              await request('write', () => tasksApi(sid).update({ assignmentStatus: target, reason: input.taskReason, ...(etag ? { ifMatch: etag } : {}) }));
              st.counts.closed[action.kind]++;
              st.record({ ...base, result: 'done', atMs: now() });
              return;
            } catch (err) {
              if (isNotFound(err)) {
                st.counts.alreadyClosed++;
                st.record({ ...base, result: 'already-closed', detail: 'gone (404)', atMs: now() });
                return;
              }
              if (!(isPreconditionFailed(err) || isInvalidTransition(err)) || round >= MAX_REDECIDES) throw err;
              // Changed since it was listed: read it again (with its ETag) and decide again.
              ({ facts, etag } = await readTask(sid));
              if (facts.state === 'gone' || facts.state === 'canceled' || facts.state === 'completed') {
                st.counts.alreadyClosed++;
                st.record({ ...base, result: 'already-closed', detail: `now ${facts.state}`, atMs: now() });
                return;
              }
            }
          }
        } catch (err) {
          if (isAuthFailure(err)) throw (fatal ??= toActivityFailure(err, `Task ${sid}`));
          st.error(sid, err);
        } finally {
          st.handled.add(sid);
          beat();
        }
      };

      let fatal: Error | undefined;
      const notExamined = await pool(listed, input.concurrency, examine, () => st.capReached || run.cancelled() || fatal !== undefined);
      throwIfCancelled();
      return st.result(st.capReached ? undefined : page.nextPageUrl, notExamined);
    },

    /**
     * One page of active Executions of a Flow created before the cutoff: voice ones whose call is over, and
     * messaging ones (SMS, webchat) without a Step for longer than the idle threshold, are ended.
     */
    async sweepExecutionPage(input: ExecutionPageInput): Promise<PageResult> {
      const run = pageRun(input);
      const { st, beat, request, throwIfCancelled } = run;
      const flow = twilio.studio.v2.flows(input.flowSid);
      beat(true);

      let page;
      try {
        page = await request('read', () =>
          input.pageUrl
            ? flow.executions.getPage(input.pageUrl)
            : flow.executions.page({ status: 'active', dateCreatedTo: new Date(input.createdBeforeMs), pageSize: input.pageSize }),
        );
      } catch (err) {
        throw toActivityFailure(err, `list active Executions of ${input.flowSid}`);
      }
      const settings = policySettings(input);
      const getCall = callCache(request);
      const voice = input.channels.includes('voice');
      const messaging = input.channels.some((c) => MESSAGING_CHANNELS.includes(c));
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
          const base = { kind: 'end-execution' as const, sid, parentSid: input.flowSid, callSid, fromStatus: 'active', reason: action.reason };
          if (!st.reserve()) {
            st.counts.capped++;
            st.record({ ...base, result: 'capped', atMs: now() });
            return;
          }
          if (input.dryRun) {
            st.counts.wouldClose['end-execution']++;
            st.record({ ...base, result: 'dry-run', atMs: now() });
            return;
          }
          try {
            await request('write', () => flow.executions(sid).update({ status: 'ended' }));
            st.counts.closed['end-execution']++;
            st.record({ ...base, result: 'done', atMs: now() });
          } catch (err) {
            if (!isNotFound(err)) throw err;
            st.counts.alreadyClosed++;
            st.record({ ...base, result: 'already-closed', detail: 'gone (404)', atMs: now() });
          }
        } catch (err) {
          if (isAuthFailure(err)) throw (fatal ??= toActivityFailure(err, `Execution ${sid}`));
          st.error(sid, err);
        } finally {
          st.handled.add(sid);
          beat();
        }
      };

      let fatal: Error | undefined;
      const notExamined = await pool(todo, input.concurrency, examine, () => st.capReached || run.cancelled() || fatal !== undefined);
      throwIfCancelled();
      return st.result(st.capReached ? undefined : page.nextPageUrl, notExamined);
    },
  };
}

export type SweepActivities = ReturnType<typeof createSweepActivities>;
