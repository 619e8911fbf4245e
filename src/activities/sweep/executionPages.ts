/**
 * The sweep's Execution pages: active Executions of each Flow, page after page, Flow after Flow. A list item only
 * nominates a candidate; the policy judges each (voice by its call, messaging by the widget it waits in) and the
 * guarded writer ends it only on a fresh read that still says `active`.
 */
import { decideExecution } from '../../policy/execution';
import { SWEEP_DEFAULTS, type ExecutionPageInput, type PageResult } from '../../shared/sweepTypes';
import { guardedExecutionWrite } from '../guardedWrite';
import { executionPort } from '../twilioPorts';
import { executionFacts } from '../twilioFacts';
import { readStuckRecord, stuckInput } from '../stuckFacts';
import { toActivityFailure } from '../twilioErrors';
import { callCache } from './callCache';
import { ownedByCallWatch, ownershipBatcher } from './ownership';
import { isAuthFailure, MAX_ERRORS_PER_PAGE, pool, withPageRun, type PageRun } from './pageState';
import { policySettings, tally } from './records';
import type { SweepEnv } from './taskPages';

/**
 * Active Executions created before the cutoff, a page at a time: of `input.flowSid` from `input.pageUrl` on, then
 * of each of `input.moreFlowSids` in turn, up to `input.maxPages` pages (default 1), so that Flows with little
 * or nothing to do cost one activity together rather than one each. The result's `flowsDone` counts the Flows
 * finished; `nextPageUrl` is where the Flow after those goes on, if it was begun.
 */
export function sweepExecutionPages(env: SweepEnv, input: ExecutionPageInput): Promise<PageResult> {
  return withPageRun(env, input, (run) => executionPages(env, input, run));
}

async function executionPages(env: SweepEnv, input: ExecutionPageInput, run: PageRun): Promise<PageResult> {
  const { twilio, now, maxListingMs } = env;
  const { st, beat, request, throwIfCancelled } = run;
  const flows = [input.flowSid, ...(input.moreFlowSids ?? [])];
  const maxPages = Math.max(1, input.maxPages ?? 1);
  st.errorCap = Math.min(MAX_ERRORS_PER_PAGE * maxPages, SWEEP_DEFAULTS.maxReportedErrors);
  beat(true);
  const settings = policySettings(input);
  const getCall = callCache(twilio, request);
  const ports = { twilio, request, now };
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
    const owned = await ownedByCallWatch(env, todo.filter((e) => e.initiatedBy?.startsWith('CA')).map((e) => e.initiatedBy!));
    const port = executionPort(ports, flowSid, getCall);
    const fetchExecution = async (sid: string) => {
      const facts = await port.fetchExecution(sid);
      // Older records have no initiated_by: the fresh read found the call in the context; is it watched?
      if (facts.callSid && !todo.some((e) => e.initiatedBy === facts.callSid) && (await askOwnership(facts.callSid))) owned.add(facts.callSid);
      return facts;
    };
    const guardedPort = { ...port, fetchExecution };
    const askOwnership = ownershipBatcher(env);

    const examine = async (ex: (typeof todo)[number]): Promise<void> => {
      const sid = ex.sid;
      st.counts.executionsSeen++;
      try {
        const listed = { ...executionFacts(ex, { source: 'list' }), flowSid };
        const g = await guardedExecutionWrite(guardedPort, {
          execution: listed,
          dryRun: input.dryRun,
          reserve: () => st.reserve(),
          decide: (execution, call, flowFacts) =>
            decideExecution({
              nowMs: now(),
              execution,
              call,
              flow: flowFacts,
              settings,
              sweptChannels: input.channels,
              ownedByCallWatch: execution.callSid !== undefined && owned.has(execution.callSid),
            }),
        });
        const a = g.action;
        if (a.kind === 'end-execution') {
          const base = { kind: 'end-execution' as const, sid, parentSid: flowSid, callSid: g.facts.callSid, fromStatus: 'active', reason: a.reason };
          const withWidget = a.widget === undefined ? base : { ...base, widget: a.widget };
          const stuck = g.result === 'done' || g.result === 'dry-run' ? await readStuckRecord(ports, stuckInput(flowSid, g.facts, g.call)) : undefined;
          tally(st, g.result, 'end-execution', stuck ? { ...withWidget, stuck } : withWidget, now());
          return;
        }
        if (g.result === 'already-closed') st.counts.alreadyClosed++;
        else if (a.kind === 'skip') st.skip(a.reason);
        else st.counts.noAction++;
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
}
