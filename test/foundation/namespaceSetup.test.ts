/**
 * `unstick setup` and the worker's start-up check, on a real dev server whose namespace starts without unstick's
 * search attributes (as a self-hosted or Cloud namespace does): the worker refuses to start with one line naming
 * them, setup adds them (and a second setup changes nothing), then the worker starts; an attribute registered under
 * another type is reported, never changed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/shared/searchAttributes';
import { checkSearchAttributes, INDEXED_TYPE, registerSearchAttributes } from '../../src/temporal/namespaceSetup';
import { startTestTemporal, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '../..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('namespace setup: search attributes on a namespace that lacks them', function () {
  this.timeout(120_000);
  let t: TestTemporal;

  before(async () => {
    t = await startTestTemporal({ searchAttributes: [] });
  });
  after(async () => t?.teardown());

  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    UNSTICK_FROM_SOURCE: '1',
    UNSTICK_LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: t.address,
    TEMPORAL_NAMESPACE: t.namespace,
    TEMPORAL_TASK_QUEUE: uniqueId('setup'),
  });

  function unstick(args: string[], opts: { until?: string } = {}): Promise<Run> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), ...args], { cwd: REPO, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const seen = () => {
        if (opts.until && (stdout + stderr).includes(opts.until)) child.kill('SIGTERM');
      };
      child.stdout!.on('data', (b: Buffer) => ((stdout += b.toString()), seen()));
      child.stderr!.on('data', (b: Buffer) => ((stderr += b.toString()), seen()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('the worker stops at start-up with one line naming what is missing, exit 2', async () => {
    const r = await unstick(['worker']);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^search attributes missing on namespace ${t.namespace}: CallSid \\(Keyword\\), ExecutionSid \\(Keyword\\), TaskSid \\(Keyword\\), UnstickOutcome \\(Keyword\\); run \`npx unstick setup\`$`));
  });

  it('setup adds them, a second setup changes nothing, and the worker then starts', async () => {
    const first = await unstick(['setup']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^added to namespace default: CallSid \(Keyword\), ExecutionSid \(Keyword\), TaskSid \(Keyword\), UnstickOutcome \(Keyword\)$/m);
    await waitUntil('attributes listed', async () => (await checkSearchAttributes(t.connection, t.namespace)).missing.length === 0 || undefined);

    const second = await unstick(['setup']);
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stdout, /added/);
    assert.match(second.stdout, /^already on namespace default: CallSid \(Keyword\), ExecutionSid \(Keyword\), TaskSid \(Keyword\), UnstickOutcome \(Keyword\)$/m);

    // Stopped by the test once it polls.
    const worker = await unstick(['worker'], { until: 'worker polling' });
    assert.match(worker.stdout + worker.stderr, /worker polling/);
    assert.doesNotMatch(worker.stderr, /search attributes missing/);
  });

  it('an attribute registered under another type is reported and left as it is', async () => {
    const clash = defineSearchAttributeKey(`UnstickClash${Date.now()}`, SearchAttributeType.KEYWORD);
    await t.connection.operatorService.addSearchAttributes({ namespace: t.namespace, searchAttributes: { [clash.name]: INDEXED_TYPE.INT } });
    const outcome = await registerSearchAttributes(t.connection, t.namespace, [...ALL_SEARCH_ATTRIBUTES, clash]);
    assert.equal(outcome.kind, 'conflict');
    assert.deepEqual(outcome.kind === 'conflict' && outcome.problems, [
      `search attribute ${clash.name} on namespace ${t.namespace} is Int, unstick needs Keyword: rename or remove it first`,
    ]);
    const listed = await t.connection.operatorService.listSearchAttributes({ namespace: t.namespace });
    assert.equal(listed.customAttributes?.[clash.name], INDEXED_TYPE.INT, 'unchanged');
  });
});
