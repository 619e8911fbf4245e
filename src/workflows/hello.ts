/** A tiny workflow for smoke tests: a durable timer, then an activity. */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { createPingActivities } from '../activities/ping';

const { ping } = proxyActivities<ReturnType<typeof createPingActivities>>({ startToCloseTimeout: '30s' });

export async function timerThenActivity(ms: number, message = 'hello'): Promise<string> {
  await sleep(ms);
  return await ping(message);
}
