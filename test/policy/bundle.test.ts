// The policy must load in Temporal's workflow sandbox: bundle it the way the worker does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import * as policy from '../../src/policy';

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

  /** What the probe workflow imports (webpack leaves a missing export undefined without a word, so check them here). */
  const PROBE_IMPORTS = ['decideCall', 'decideTask', 'decideExecution', 'flowFactsFromDefinition', 'parseTaskAttributes', 'summarizeOutcome', 'SKIP_REASONS'] as const;
  it('the probe imports only what the policy exports', () => {
    for (const name of PROBE_IMPORTS) assert.ok(policy[name] !== undefined, `src/policy exports ${name}`);
  });

  it('bundles src/policy without Node built-ins', async () => {
    const workflowsPath = write(
      // Plain JS: the bundler's TypeScript loader skips node_modules; the policy's own .ts files are compiled.
      'policyWorkflow.js',
      `import { ${PROBE_IMPORTS.join(', ')} } from ${JSON.stringify(policyDir)};\n` +
        `export async function policyProbe() {\n` +
        `  const s = { graceMs: 0, maxAgeMs: 1, messagingIdleMs: 1, taskReason: 'r', postCallTaskAfterMs: 0, protectTasks: 'vip == true' };\n` +
        `  const d = decideCall({ nowMs: 0, call: { status: 'unknown' }, settings: s });\n` +
        `  const t = decideTask({ nowMs: 0, task: { sid: 'WT1', state: 'pending', attributes: parseTaskAttributes('{"vip":true}'), source: 'list' }, settings: s });\n` +
        `  const e = decideExecution({ nowMs: 0, execution: { sid: 'FN1', state: 'active', trigger: 'message', source: 'list' }, flow: flowFactsFromDefinition('FW1', 1, { states: [] }), settings: s });\n` +
        `  return [summarizeOutcome({ decision: d }), t.kind, e.kind, SKIP_REASONS.length].join(',');\n` +
        `}\n`,
    );
    logged.length = 0;
    const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger }).catch((err: Error) => {
      err.message += `\n${logged.join('\n')}`;
      throw err;
    });
    assert.ok(code.length > 1000);
    for (const name of ['decideTask', 'decideExecution', 'decideCall', 'flowFactsFromDefinition', 'parseExpression', 'attributes-unparsable']) {
      assert.ok(code.includes(name), `${name} is in the bundle`);
    }
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
