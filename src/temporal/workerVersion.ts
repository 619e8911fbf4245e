/**
 * Worker Versioning (Worker Deployments): the version a worker registers, and making it current on a first roll-out.
 * callWatch is pinned to the version it started on (a 4-hour watch finishes on the code it began with); the sweep and
 * the linker auto-upgrade (src/workflows/*: setWorkflowOptions). See README "Upgrading".
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import type { DeploymentConfig } from '../config';
import type { Logger } from '../log';

/** Written by `npm run build` next to the compiled code: the commit the build was made from. */
export const BUILD_INFO_FILE = 'build-info.json';

export interface BuildInfo {
  version: string;
  commit?: string;
}

const ROOT = path.join(__dirname, '..', '..');

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The commit of the checkout this code runs from (UNSTICK_GIT_COMMIT wins, e.g. a Docker build argument). */
export function gitCommit(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.UNSTICK_GIT_COMMIT) return env.UNSTICK_GIT_COMMIT.slice(0, 12);
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

export function currentBuildInfo(): BuildInfo {
  return { version: packageVersion(), commit: gitCommit() };
}

/** The build's own record when running from dist/, else the checkout's. */
export function buildInfo(buildDir: string = path.join(__dirname, '..')): BuildInfo {
  const file = path.join(buildDir, BUILD_INFO_FILE);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as BuildInfo;
  return currentBuildInfo();
}

/** package version + git commit, e.g. `0.1.0+1a2b3c4d5e6f` (no commit known: `0.1.0+unknown`). */
export function defaultBuildId(info: BuildInfo = buildInfo()): string {
  return `${info.version}+${info.commit ?? 'unknown'}`;
}

/** A versioned worker whose default build ID names no commit would share its version with every other such build. */
export function buildIdProblems(deployment: DeploymentConfig | undefined, info: BuildInfo = buildInfo()): string[] {
  if (!deployment || deployment.buildId || info.commit) return [];
  return [
    `UNSTICK_DEPLOYMENT_NAME=${deployment.name} needs a build ID that names this build: set UNSTICK_BUILD_ID, or build with UNSTICK_GIT_COMMIT (docker build --build-arg UNSTICK_GIT_COMMIT=$(git rev-parse HEAD) .); the default would be "${defaultBuildId(info)}"`,
  ];
}

export interface WorkerVersion {
  deploymentName: string;
  buildId: string;
}

export function workerVersion(deployment: DeploymentConfig): WorkerVersion {
  return { deploymentName: deployment.name, buildId: deployment.buildId ?? defaultBuildId() };
}

/**
 * The Worker options of a versioned worker. Each workflow declares its behaviour (callWatch PINNED, sweep and linker
 * AUTO_UPGRADE); the default is PINNED because it also stamps the workflow tasks the SDK's core completes without the
 * workflow code (seen after an activity cancellation): with AUTO_UPGRADE there, a pinned watch moved to the new build
 * mid-call (test/deploy/workerVersioning.test.ts).
 */
export function deploymentOptions(version: WorkerVersion): WorkerDeploymentOptions {
  return { version, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' };
}

interface DeploymentState {
  /** The current version's build ID; undefined while the deployment has none (or does not exist yet). */
  currentBuildId?: string;
  /** Build IDs the server knows for this deployment (a version appears once one of its workers has polled). */
  buildIds: string[];
  /** Passed back with a change so it fails if the deployment changed since this read. */
  conflictToken?: Uint8Array;
}

export async function describeDeployment(client: Client, deploymentName: string): Promise<DeploymentState> {
  try {
    const res = await client.workflowService.describeWorkerDeployment({ namespace: client.options.namespace, deploymentName });
    const info = res.workerDeploymentInfo;
    const current = info?.routingConfig?.currentDeploymentVersion?.buildId ?? undefined;
    const buildIds = (info?.versionSummaries ?? []).map((v) => v.deploymentVersion?.buildId ?? '').filter(Boolean);
    return { currentBuildId: current || undefined, buildIds, conflictToken: res.conflictToken ?? undefined };
  } catch (err) {
    if ((err as { code?: number }).code === 5 /* NOT_FOUND */) return { buildIds: [] };
    throw err;
  }
}

export async function setCurrentVersion(client: Client, version: WorkerVersion, identity: string, conflictToken?: Uint8Array): Promise<void> {
  await client.workflowService.setWorkerDeploymentCurrentVersion({
    namespace: client.options.namespace,
    deploymentName: version.deploymentName,
    buildId: version.buildId,
    identity,
    ...(conflictToken ? { conflictToken } : {}),
  });
}

/**
 * UNSTICK_DEPLOYMENT_SET_CURRENT=if-none: once this worker's version is registered (its pollers were seen), make it
 * current if the deployment has no current version yet, so a first roll-out runs without a manual step. A later
 * version never becomes current here: that is the operator's `temporal worker deployment set-current-version`.
 */
export async function makeCurrentIfNone(
  client: Client,
  version: WorkerVersion,
  log: Logger,
  opts: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<'set' | 'kept' | 'timeout'> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (!opts.signal?.aborted) {
    const state = await describeDeployment(client, version.deploymentName);
    if (state.currentBuildId) {
      if (state.currentBuildId !== version.buildId) {
        log.info(`deployment ${version.deploymentName}: current version is ${state.currentBuildId}; this worker (${version.buildId}) serves the watches pinned to it until it is made current`);
      } else {
        log.info(`deployment ${version.deploymentName}: this worker's build ${version.buildId} is current`);
      }
      return 'kept';
    }
    if (state.buildIds.includes(version.buildId)) {
      try {
        await setCurrentVersion(client, version, 'unstick worker (first roll-out)', state.conflictToken);
        log.info(`deployment ${version.deploymentName}: had no current version; made ${version.buildId} current`);
        return 'set';
      } catch (err) {
        // The deployment changed since the read (conflict token), or not all of this build's task queues have
        // pollers yet (the discovery queue registers a moment after the main one): look again.
        if ((err as { code?: number }).code !== 9 /* FAILED_PRECONDITION */) throw err;
      }
    }
    if (Date.now() > deadline) return 'timeout';
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 500));
  }
  return 'timeout';
}
