/**
 * Each workflow's Worker Versioning behaviour (README "Upgrading"). Given as a getter because the SDK's core fails
 * every activation of a workflow that declares a behaviour on an unversioned worker (the sandbox, the tests): the
 * behaviour is declared only when the workflow task runs on a worker with a deployment version.
 */
import * as wf from '@temporalio/workflow';
import type { VersioningBehavior } from '@temporalio/common';

export function declareVersioning(behavior: VersioningBehavior, fn: (...args: never[]) => Promise<unknown>): void {
  wf.setWorkflowOptions(() => {
    const v = wf.workflowInfo().currentDeploymentVersion;
    return v?.deploymentName && v.buildId ? { versioningBehavior: behavior } : {};
  }, fn as wf.Workflow);
}
