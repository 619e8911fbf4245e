/**
 * The prebuilt workflow bundle: `npm run build` writes it next to the compiled code (dist/workflow-bundle.js), and a
 * worker run from dist loads it instead of bundling src/workflows with webpack at every start. Run from source (tsx),
 * there is none and the worker bundles at start-up.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/** The bundle's path when this code runs from a build that has one. */
export function prebuiltWorkflowBundle(buildDir: string = path.join(__dirname, '..')): string | undefined {
  const file = path.join(buildDir, WORKFLOW_BUNDLE_FILE);
  return existsSync(file) ? file : undefined;
}
