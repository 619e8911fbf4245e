/**
 * `npm run build`'s second step: bundles src/workflows once (webpack, as the worker would at start-up) into the file
 * a worker run from dist loads (src/temporal/workflowBundle.ts), and records the build's version and commit (the
 * default Worker Versioning build ID, src/temporal/workerVersion.ts). Usage: tsx scripts/bundle-workflows.ts [outDir]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_FILE } from '../src/temporal/workflowBundle';
import { BUILD_INFO_FILE, currentBuildInfo, defaultBuildId } from '../src/temporal/workerVersion';
import { WORKFLOWS_PATH } from '../src/worker';

async function main(): Promise<void> {
  const outDir = path.resolve(process.argv[2] ?? 'dist');
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  const file = path.join(outDir, WORKFLOW_BUNDLE_FILE);
  writeFileSync(file, code);
  const info = currentBuildInfo();
  writeFileSync(path.join(outDir, BUILD_INFO_FILE), `${JSON.stringify(info)}\n`);
  process.stdout.write(`build ID: ${defaultBuildId(info)}\n`);
  process.stdout.write(`workflow bundle: ${path.relative(process.cwd(), file)} (${(code.length / 1024).toFixed(0)} KiB, ${Date.now() - started} ms)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bundle-workflows: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
