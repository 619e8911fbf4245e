/**
 * One callWatch run per call, whoever starts it: `startCallWatch` (used by the webhook, the sweep and
 * `unstick watch`) against a real dev server, worker and emulator; the command itself in a child process.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startWatch } from '../../src/cli/watch';
import { stateQuery, taskLinkSignal, type CallWatchState, type TaskLinkEvent } from '../../src/shared/messages';
import { startCallWatch } from '../../src/temporal/startCallWatch';
import { startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '../..');

describe('startCallWatch: one callWatch run per call', function () {
  this.timeout(120_000);
  let stack: Stack;

  // No webhook: only the starts made here start a watch, and the watch polls the call itself.
  before(async () => {
    stack = await startStack({ viaWebhook: false });
    await stack.startWorkers();
  });
  after(async () => stack?.teardown());

  const runsOf = async (workflowId: string) => (await stack.temporal.client.workflow.count(`WorkflowId = '${workflowId}'`)).count;

  /** `unstick watch …` in a child process against the suite's dev server; resolves with its exit code and output. */
  async function unstick(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'unstick-watch-cli-'));
    try {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: stack.temporal.address,
        TEMPORAL_NAMESPACE: stack.temporal.namespace,
        TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
        UNSTICK_LOG_LEVEL: 'warn',
      };
      const child = spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, stdout, stderr };
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }

  it('`unstick watch` on a call whose watch finished starts no second run and says it finished', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'normal' });
    const callSid = run.callSid!;
    const first = await startWatch(stack.temporal.client, stack.config, callSid);
    assert.equal(first.outcome.kind, 'started');
    const handle = stack.temporal.client.workflow.getHandle(first.workflowId);
    await handle.result();
    const finished = await handle.describe();
    assert.equal(finished.status.name, 'COMPLETED');

    const again = await startWatch(stack.temporal.client, stack.config, callSid);
    assert.deepEqual(again, { workflowId: first.workflowId, started: false, outcome: { kind: 'closed', workflowId: first.workflowId, status: 'COMPLETED' } });

    const cli = await unstick(['watch', callSid]);
    assert.equal(cli.code, 0, `exit code (stderr: ${cli.stderr})`);
    assert.equal(cli.stdout, `${first.workflowId} already finished (COMPLETED): nothing started\n`);

    // The latest run is still the finished one, and it is the only run of that workflow id.
    const latest = await handle.describe();
    assert.equal(latest.runId, finished.runId);
    assert.equal(latest.status.name, 'COMPLETED');
    assert.equal(await runsOf(first.workflowId), 1);
  });

  it('a second start on a running watch signals it instead of starting another; `unstick watch` reports it running', async () => {
    const run = stack.emu.admin.createCall({ scenario: 'live-long' });
    const callSid = run.callSid!;
    const taskQueue = stack.config.temporal.taskQueue;
    const first = await startCallWatch(stack.temporal.client, callSid, { taskQueue, input: { startedBy: 'manual', settings: stack.settings }, summary: `call ${callSid} (test)` });
    assert.equal(first.kind, 'started');
    const handle = stack.temporal.client.workflow.getHandle(first.workflowId);
    try {
      const before = await handle.query(stateQuery);
      assert.equal(before.taskSid, undefined, 'nothing told the watch of the Task yet');

      const link: TaskLinkEvent = { callSid, workspaceSid: stack.emu.seeded.workspaceSid, taskSid: run.taskSid!, eventType: 'test.link', assignmentStatus: 'assigned' };
      const second = await startCallWatch(stack.temporal.client, callSid, {
        taskQueue,
        input: { startedBy: 'sweep', settings: stack.settings },
        summary: `call ${callSid} (second start)`,
        signal: { signal: taskLinkSignal, event: link },
      });
      assert.deepEqual(second, { kind: 'signalled', workflowId: first.workflowId, runId: first.runId });
      await waitUntil('the running watch heard the link', async () => (await handle.query(stateQuery)).taskSid === run.taskSid);

      const byHand = await startWatch(stack.temporal.client, stack.config, callSid);
      assert.deepEqual(byHand, { workflowId: first.workflowId, started: false, outcome: { kind: 'running', workflowId: first.workflowId, runId: first.runId } });

      const cli = await unstick(['watch', callSid]);
      assert.equal(cli.code, 0, `exit code (stderr: ${cli.stderr})`);
      const [line, stateJson] = cli.stdout.trimEnd().split('\n');
      assert.equal(line, `${first.workflowId} already running (run ${first.runId}): nothing started`);
      const printed = JSON.parse(stateJson!) as CallWatchState;
      assert.equal(printed.callSid, callSid);
      assert.equal(printed.taskSid, run.taskSid);

      const latest = await handle.describe();
      assert.equal(latest.runId, first.runId);
      assert.equal(latest.status.name, 'RUNNING');
      assert.equal(await runsOf(first.workflowId), 1);
    } finally {
      await handle.terminate('test done');
      stack.emu.admin.hangup(callSid);
    }
  });
});
