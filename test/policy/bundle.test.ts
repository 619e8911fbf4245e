// The policy must load in Temporal's workflow sandbox: bundle it the way the worker does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const repoRoot = path.resolve(__dirname, '../..');
const policyDir = path.join(repoRoot, 'src/policy');

describe('policy: Temporal workflow bundle', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    // Inside the repo (under the ignored node_modules/.cache) so webpack resolves @temporalio/workflow.
    const cache = path.join(repoRoot, 'node_modules/.cache');
    fs.mkdirSync(cache, { recursive: true });
    dir = fs.mkdtempSync(path.join(cache, 'unstick-policy-bundle-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, body: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, body);
    return file;
  };

  it('bundles src/policy without Node built-ins', async () => {
    const workflowsPath = write(
      // Plain JS: the bundler's TypeScript loader skips node_modules; the policy's own .ts files are compiled.
      'policyWorkflow.js',
      `import { decideCall, decideSweepTask, decideSweepExecution, parseTaskAttributes, summarizeOutcome } from ${JSON.stringify(policyDir)};\n` +
        `export async function policyProbe() {\n` +
        `  const d = decideCall({ nowMs: 0, call: { status: 'unknown' }, settings: { graceMs: 0, maxAgeMs: 1, messagingIdleMs: 1, taskReason: 'r' } });\n` +
        `  return [summarizeOutcome({ decision: d }), typeof decideSweepTask, typeof decideSweepExecution, String(parseTaskAttributes('{}').ok)].join(',');\n` +
        `}\n`,
    );
    logged.length = 0;
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger }).catch((err: Error) => {
      err.message += `\n${logged.join('\n')}`;
      throw err;
    });
    assert.ok(code.length > 1000);
    assert.ok(code.includes('parseTaskAttributes') && code.includes('attributes-unparsable'), 'the policy is in the bundle');
  });

  it('(control) the same bundling rejects a Node built-in', async () => {
    const workflowsPath = write('badWorkflow.js', `import fs from 'fs';\nexport async function bad() { return fs.existsSync('/'); }\n`);
    await assert.rejects(bundleWorkflowCode({ workflowsPath, logger: quietLogger }), /disallowed modules:\s+- 'fs'/);
  });
});

const noop = (): void => undefined;
/** Keeps the bundler quiet but remembers its errors so a failure says why. */
const logged: string[] = [];
const keep = (message: string, meta?: unknown): void => void logged.push(`${message} ${meta ? JSON.stringify(meta) : ''}`);
const quietLogger = { trace: noop, debug: noop, info: noop, warn: keep, error: keep, log: noop };
