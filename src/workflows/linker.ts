/**
 * linker: one per account (id `unstick-linker`), started by the worker. Every `intervalMs` one activity lists what
 * was created since its cursor — the Executions of each Flow, the Tasks of each Workspace — and signals each
 * running callWatch the links it found (`links`). So finding a call's Execution and Task costs a list page per Flow
 * and per Workspace per interval, not requests per call; a watch discovers on its own only what no link brought.
 * Links only: the watches read everything fresh before the policy decides. Continues as new, carrying its cursor.
 */
import * as wf from '@temporalio/workflow';
import type { LinkActivities, LinkCursor, LinkPassResult } from '../activities/linkActivities';
import { TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST } from '../shared/errorTypes';
import { addLinkCounts, emptyLinkCounts, linkerStateQuery, type LinkerProgress } from '../shared/messages';
import { declareVersioning } from './versioning';

export interface LinkerInput {
  /** UNSTICK_LINKER_INTERVAL: the pause between two passes. */
  intervalMs: number;
  /** UNSTICK_LINKER_LIVE_CHECK: how often a pass also runs the live check (the lost-final-callback backstop); 0 = never. */
  liveCheckMs?: number;
  /** Carried across continueAsNew. */
  cursor?: LinkCursor;
  progress?: LinkerProgress;
  lastLiveCheckAtMs?: number;
}

/** Passes per run before continueAsNew (each pass is ~10 history events). */
const PASSES_PER_RUN = 200;

const link = wf.proxyActivities<LinkActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [TWILIO_AUTH_ERROR, TWILIO_BAD_REQUEST] },
});

function add(p: LinkerProgress, r: LinkPassResult, startedMs: number): void {
  p.passes++;
  addLinkCounts(p, r);
  if (r.liveChecked) p.liveChecks++;
  p.lastPassAtMs = Date.now();
  p.lastPassMs = Date.now() - startedMs;
}

function details(p: LinkerProgress, pending: number): string {
  return [
    `**linker** — ${p.passes} passes, last ${p.lastPassAtMs ? new Date(p.lastPassAtMs).toISOString() : '-'} (${p.lastPassMs ?? 0} ms)`,
    '',
    `| listed Executions | listed Tasks | list pages | Task fetches | watches linked | watches started | unplaced | waiting for a watch | live checks | told to read their Call |`,
    `| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    `| ${p.executionsListed} | ${p.tasksListed} | ${p.listRequests} | ${p.taskFetches} | ${p.linked} | ${p.started} | ${p.unplaced} | ${pending} | ${p.liveChecks} | ${p.nudged} |`,
  ].join('\n');
}

export async function linker(input: LinkerInput): Promise<never> {
  const progress: LinkerProgress = {
    ...{ passes: 0, liveChecks: 0, ...emptyLinkCounts() },
    ...input.progress,
  };
  let cursor = input.cursor;
  let lastLiveCheckAtMs = input.lastLiveCheckAtMs ?? Date.now();
  wf.setHandler(linkerStateQuery, () => progress);
  for (let pass = 1; ; pass++) {
    const startedMs = Date.now();
    const liveCheck = (input.liveCheckMs ?? 0) > 0 && startedMs - lastLiveCheckAtMs >= input.liveCheckMs!;
    const r = await link.linkPass({ cursor, liveCheck });
    if (liveCheck) lastLiveCheckAtMs = startedMs;
    cursor = r.cursor;
    add(progress, r, startedMs);
    wf.setCurrentDetails(details(progress, cursor.pending.length));
    if (pass >= PASSES_PER_RUN || wf.workflowInfo().continueAsNewSuggested) {
      return wf.continueAsNew<typeof linker>({ ...input, cursor, progress, lastLiveCheckAtMs });
    }
    await wf.sleep(input.intervalMs);
  }
}

// Worker Versioning: the linker moves to the current build at its next workflow task (it keeps no code-shaped state).
declareVersioning('AUTO_UPGRADE', linker);
