/**
 * Worker Versioning on a real Temporal server: watches started on build A stay pinned to A and finish there after B
 * is made current, while new calls' watches run on B; the linker (auto-upgrade) moves to B; a worker of a fresh
 * deployment makes itself current (first roll-out), a later build does not.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createLogger } from '../../src/log';
import { SWEEP_WORKFLOW_TYPE, callWorkflowId } from '../../src/shared/names';
import { buildIdProblems, defaultBuildId, deploymentOptions, describeDeployment, makeCurrentIfNone, type WorkerVersion } from '../../src/temporal/workerVersion';
import { startLinker } from '../../src/worker';
import type { CallWatchResult } from '../../src/workflows/callWatch';
import { startStack, type Stack } from '../helpers/stack';
import { testTemporalCli, uniqueId, waitUntil } from '../helpers/temporal';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The build ID stamped on a completed workflow task (the new field, or the older "name.buildId" string). */
function buildIdOf(e: HistoryEvent): string | undefined {
  const a = e.workflowTaskCompletedEventAttributes;
  if (!a) return undefined;
  return a.deploymentVersion?.buildId || a.workerDeploymentVersion?.split('.').slice(1).join('.') || undefined;
}

async function buildsThatRan(handle: WorkflowHandle): Promise<string[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.filter((e) => e.workflowTaskCompletedEventAttributes).map((e) => buildIdOf(e) ?? '(none)');
}

async function versioning(handle: WorkflowHandle): Promise<{ behavior: string; buildId?: string }> {
  const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
  const b = info?.behavior;
  const behavior = typeof b === 'number' ? temporal.api.enums.v1.VersioningBehavior[b]! : String(b ?? 'none');
  return { behavior, buildId: info?.deploymentVersion?.buildId ?? undefined };
}

describe('Worker Versioning: callWatch pinned to its build, the linker and the sweep auto-upgrade', function () {
  this.timeout(180_000);
  let stack: Stack;
  const log = createLogger('test');
  const deploymentName = uniqueId('unstick').replace(/[^A-Za-z0-9_-]/g, '');
  const A: WorkerVersion = { deploymentName, buildId: '0.1.0+aaaaaaaa' };
  const B: WorkerVersion = { deploymentName, buildId: '0.1.1+bbbbbbbb' };
  const talkMs = 600_000;

  before(async () => {
    stack = await startStack({ env: { UNSTICK_LINKER: 'false', UNSTICK_POLL_WITH_CALLBACKS: '2s' } });
  });
  after(async () => {
    await stack?.teardown();
  });

  /** `temporal worker deployment <args>` against the suite's server, as an operator runs it. */
  async function cli(...args: string[]): Promise<{ code: number | null; out: string }> {
    const bin = (await testTemporalCli()).path;
    const r = spawnSync(bin, ['worker', 'deployment', ...args, '--address', stack.temporal.address, '--namespace', stack.temporal.namespace], { encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  async function watchOf(callSid: string): Promise<WorkflowHandle> {
    const handle = stack.temporal.client.workflow.getHandle(callWorkflowId(callSid));
    await waitUntil(`the watch of ${callSid} runs on a build`, async () => ((await versioning(handle).catch(() => undefined))?.buildId ? true : undefined), { timeoutMs: 30_000 });
    return handle;
  }

  it('A\'s open watches finish on A after B is made current; new calls run on B', async () => {
    const client = stack.temporal.client;
    await stack.startWorkers({ options: { workerDeploymentOptions: deploymentOptions(A), identity: 'worker-A' } });
    assert.equal(await makeCurrentIfNone(client, A, log, { timeoutMs: 30_000, intervalMs: 200 }), 'set', 'a fresh deployment: the first build makes itself current');
    assert.equal((await describeDeployment(client, deploymentName)).currentBuildId, A.buildId);

    const onA = stack.emu.admin.createCall({ scenario: 'desync-assigned', talkMs });
    const watchA = await watchOf(onA.callSid!);
    assert.deepEqual(await versioning(watchA), { behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: A.buildId });
    const linker = client.workflow.getHandle(await startLinker(client, stack.config));
    await waitUntil('the linker runs on A', async () => ((await versioning(linker)).buildId === A.buildId ? true : undefined));
    assert.equal((await versioning(linker)).behavior, 'VERSIONING_BEHAVIOR_AUTO_UPGRADE');

    // Roll out B: its workers start next to A's; a later build does not make itself current.
    await stack.startWorkers({ options: { workerDeploymentOptions: deploymentOptions(B), identity: 'worker-B' } });
    assert.equal(await makeCurrentIfNone(client, B, log, { timeoutMs: 30_000, intervalMs: 200 }), 'kept');
    // The README's command; it is refused until both of B's task queues (main and discovery) have pollers.
    await waitUntil('B made current', async () => (await cli('set-current-version', '--deployment-name', deploymentName, '--build-id', B.buildId, '--yes')).code === 0 || undefined);
    assert.equal((await describeDeployment(client, deploymentName)).currentBuildId, B.buildId);

    const onB = stack.emu.admin.createCall({ scenario: 'desync-assigned', talkMs });
    const watchB = await watchOf(onB.callSid!);
    assert.deepEqual(await versioning(watchB), { behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: B.buildId });
    await waitUntil('the linker moved to B', async () => ((await versioning(linker)).buildId === B.buildId ? true : undefined), { timeoutMs: 30_000 });
    const sweep = await client.workflow.start(SWEEP_WORKFLOW_TYPE, { taskQueue: stack.config.temporal.taskQueue, workflowId: uniqueId('sweep'), args: [{ dryRun: true }] });
    await sweep.result();
    assert.deepEqual(await versioning(sweep), { behavior: 'VERSIONING_BEHAVIOR_AUTO_UPGRADE', buildId: B.buildId });

    // Both calls end; A's watch does its remaining work (read the call, complete the stuck Task) on A.
    for (const r of [onA, onB]) stack.emu.admin.hangup(r.callSid!);
    for (const [handle, run] of [[watchA, onA], [watchB, onB]] as const) {
      const result = (await handle.result()) as CallWatchResult;
      assert.equal(result.outcome, 'closed');
      assert.equal(stack.emu.admin.inspectTask(run.taskSid!)!.status, 'completed');
    }
    const ranA = await buildsThatRan(watchA);
    const ranB = await buildsThatRan(watchB);
    assert.ok(ranA.length >= 3, `A's watch had several workflow tasks (${ranA.length})`);
    assert.deepEqual([...new Set(ranA)], [A.buildId], 'every workflow task of the watch started on A ran on A');
    assert.deepEqual([...new Set(ranB)], [B.buildId], 'every workflow task of the watch started on B ran on B');
    assert.deepEqual(await versioning(watchA), { behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: A.buildId });
    await linker.terminate('test done');
    // What the operator reads before stopping A's workers: draining (pinned workflows may still be open), later drained
    // (the server re-checks periodically, minutes after the last one closed).
    const described = await cli('describe-version', '--deployment-name', deploymentName, '--build-id', A.buildId, '--output', 'json');
    assert.equal(described.code, 0, described.out);
    const status = (JSON.parse(described.out) as { drainageInfo?: { drainageStatus?: string } }).drainageInfo?.drainageStatus ?? '';
    assert.match(status, /^(draining|drained)$/, described.out);
  });

  it('a versioned worker needs a build ID that names its build', () => {
    const deployment = { name: 'unstick', setCurrent: 'if-none' as const };
    assert.deepEqual(buildIdProblems(deployment, { version: '0.1.0', commit: '1a2b3c4d5e6f' }), []);
    assert.deepEqual(buildIdProblems({ ...deployment, buildId: 'b-42' }, { version: '0.1.0' }), []);
    assert.deepEqual(buildIdProblems(undefined, { version: '0.1.0' }), []);
    const [line, ...more] = buildIdProblems(deployment, { version: '0.1.0' });
    assert.deepEqual(more, []);
    assert.match(line!, /^UNSTICK_DEPLOYMENT_NAME=unstick needs a build ID .*UNSTICK_BUILD_ID.*UNSTICK_GIT_COMMIT.*"0\.1\.0\+unknown"$/);
    assert.equal(defaultBuildId({ version: '0.1.0', commit: '1a2b3c4d5e6f' }), '0.1.0+1a2b3c4d5e6f');
  });

  it('the worker default is PINNED (behaviours are declared per workflow, only on versioned workers)', () => {
    assert.deepEqual(deploymentOptions(A), { version: A, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' });
  });
});
