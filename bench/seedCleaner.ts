/**
 * Baseline for the sweep benchmark: the algorithm of Twilio's published bulk cleaner for stuck voice Tasks (seed
 * 003), re-implemented in TypeScript on the twilio SDK.
 *
 * Parity with the published script:
 * - open Tasks are listed with AssignmentStatus pending, reserved, assigned and PageSize 1000;
 * - a Task is considered only when its channel is `voice` and its attributes parse and carry `call_sid`;
 * - the Call is fetched; when its status is one of the script's terminal states (completed, failed, busy, no-answer
 *   — the script does not list `canceled`) the Task is updated: assigned → completed, pending/reserved → canceled,
 *   with a fixed Reason and no If-Match;
 * - errors on a Task are logged and the Task is left;
 * - the client is built with autoRetry and maxRetries 3 (retries 429s only), nothing more.
 * Differences, on purpose:
 * - Tasks are handled strictly one at a time, in list order. The published script hands each Task to the SDK's
 *   `each()` callback and calls `done()` when it skips one; in twilio-node `done` ends the whole iteration, and
 *   `each()` does not await async callbacks, so run literally it would start the page's voice Tasks concurrently and
 *   stop at the first skipped Task. The one-at-a-time loop is what the script is meant to do.
 * - AssignmentStatus is sent as a list (repeated parameter, the SDK's typed form) rather than one comma-joined
 *   string; Twilio documents both.
 */
import type { Twilio } from 'twilio';

const TERMINAL_CALL_STATES = ['completed', 'failed', 'busy', 'no-answer'];
const OPEN_TASK_STATES = ['pending', 'reserved', 'assigned'];
export const SEED_CLEANER_REASON = 'Orchestration issue: closed stuck voice Task.';

export interface SeedCleanerResult {
  processed: number;
  updated: number;
  skipped: number;
  errors: number;
  /** Task SIDs the cleaner closed, with the status it set. */
  closed: Array<{ taskSid: string; status: 'completed' | 'canceled' }>;
  wallMs: number;
}

export async function runSeedCleaner(
  twilio: Twilio,
  workspaceSid: string,
  opts: { onProgress?: (processed: number) => void } = {},
): Promise<SeedCleanerResult> {
  const started = performance.now();
  const result: SeedCleanerResult = { processed: 0, updated: 0, skipped: 0, errors: 0, closed: [], wallMs: 0 };
  const tasks = twilio.taskrouter.v1.workspaces(workspaceSid).tasks;
  let page = await tasks.page({ assignmentStatus: OPEN_TASK_STATES, pageSize: 1000 });
  for (;;) {
    for (const task of page.instances) {
      result.processed++;
      let attributes: { call_sid?: unknown };
      try {
        attributes = JSON.parse(task.attributes) as { call_sid?: unknown };
      } catch {
        result.skipped++;
        continue;
      }
      const callSid = attributes && typeof attributes === 'object' ? attributes.call_sid : undefined;
      if (task.taskChannelUniqueName !== 'voice' || typeof callSid !== 'string' || callSid === '') {
        result.skipped++;
        continue;
      }
      try {
        const call = await twilio.calls(callSid).fetch();
        if (TERMINAL_CALL_STATES.includes(call.status)) {
          const status = task.assignmentStatus === 'assigned' ? 'completed' : 'canceled';
          await tasks(task.sid).update({ assignmentStatus: status, reason: SEED_CLEANER_REASON });
          result.updated++;
          result.closed.push({ taskSid: task.sid, status });
        }
      } catch {
        result.errors++;
      }
      if (result.processed % 100 === 0) opts.onProgress?.(result.processed);
    }
    const next: typeof page | undefined = (await page.nextPage()) as typeof page | undefined;
    if (!next) break;
    page = next;
  }
  result.wallMs = performance.now() - started;
  return result;
}
