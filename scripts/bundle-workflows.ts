/**
 * `npm run build`'s second step: bundles src/workflows once (webpack, as the worker would at start-up) into the file
 * a worker run from dist loads (src/temporal/workflowBundle.ts). Usage: tsx scripts/bundle-workflows.ts [outDir]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_FILE } from '../src/temporal/workflowBundle';
import { WORKFLOWS_PATH } from '../src/worker';

async function main(): Promise<void> {
  const outDir = path.resolve(process.argv[2] ?? 'dist');
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  const file = path.join(outDir, WORKFLOW_BUNDLE_FILE);
  writeFileSync(file, code);
  process.stdout.write(`workflow bundle: ${path.relative(process.cwd(), file)} (${(code.length / 1024).toFixed(0)} KiB, ${Date.now() - started} ms)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bundle-workflows: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
