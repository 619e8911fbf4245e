/**
 * unstick against a production-shaped Temporal: the server built from its Go module on Debian's PostgreSQL (SQL
 * persistence and visibility, no dev server), the namespace prepared by `unstick setup`, two worker processes and two
 * webhook processes. A mixed batch of calls is reconciled, a sweep closes a seeded backlog, and the sweep's ownership
 * query with 1,000 CallSids works on PostgreSQL visibility.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { ownedByCallWatch } from '../../src/activities/sweep/ownership';
import { startEmulator, type Emulator } from '../../src/emulator';
import { SCENARIOS, type ScenarioName } from '../../src/emulator/scenarios';
import { TASKROUTER_EVENTS_PATH, VOICE_STATUS_PATH, callWorkflowId } from '../../src/shared/names';
import { getFreePort } from '../../src/util/freePort';
import { describeDeployment, defaultBuildId } from '../../src/temporal/workerVersion';
import { processEnv } from '../helpers/processEnv';
import { startPostgresTemporal, type PostgresTemporal } from '../helpers/postgresTemporal';
import { uniqueId, waitUntil } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '../..');
const BATCH: ScenarioName[] = ['normal', 'hangup-before-twiml', 'lost-final-webhook', 'desync-pending', 'desync-reserved', 'desync-assigned', 'normal', 'desync-assigned'];

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

describe('production topology: Temporal server on PostgreSQL, two workers, two webhooks', function () {
  this.timeout(600_000);
  let pg: PostgresTemporal;
  let emu: Emulator;
  let env: Record<string, string>;
  const procs: Proc[] = [];
  const taskQueue = uniqueId('prod');
  const DEPLOYMENT = 'unstick';

  function start(args: string[], extra: Record<string, string> = {}): Proc {
    const child = spawn(process.execPath, [path.join(REPO, 'bin/unstick.js'), ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, UNSTICK_FROM_SOURCE: '1', ...env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-50_000)));
    child.stderr!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-50_000)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const p = { child, output: () => out, exited };
    procs.push(p);
    return p;
  }

  before(async () => {
    pg = await startPostgresTemporal({ log: (l) => process.stdout.write(`      ${l}\n`) });
    emu = await startEmulator({ simulator: { ringMs: 60, talkMs: 250, wrapMs: 100 } });
    env = {
      ...processEnv(pg, emu, taskQueue),
      UNSTICK_MAX_AGE: '1m',
      // Above processEnv's 1 s: under CI load the emulator's 100 ms wrap-up of a normal call's Task can lag past a
      // 1 s grace, and a Task read while wrapping is (rightly) left alone: the call would end 'skipped'.
      UNSTICK_GRACE_PERIOD: '4s',
      WEBHOOK_HOST: '127.0.0.1',
      WEBHOOK_FLOW_REDIRECTS: `${emu.seeded.phoneNumber}=${emu.seeded.flexFlowSid}`,
      UNSTICK_LOG_LEVEL: 'info',
      // Versioned workers, as deploy/ runs them: the first build makes itself current (README "Upgrading").
      UNSTICK_DEPLOYMENT_NAME: DEPLOYMENT,
    };
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await emu?.close();
    await pg?.teardown();
  });

  it('runs on the server\'s SQL stores, not the dev server\'s', () => {
    assert.equal(pg.persistenceStore, 'postgres12');
    assert.equal(pg.visibilityStore, 'postgres12');
  });

  it('`unstick setup` prepares the namespace; two workers and two webhooks start on it', async () => {
    const setup = start(['setup']);
    assert.equal(await setup.exited, 0, setup.output());
    assert.match(setup.output(), /namespace default is ready for unstick/);

    const workers = [start(['worker']), start(['worker'])];
    const ports = [await getFreePort(), await getFreePort()];
    for (const port of ports) start(['webhook'], { WEBHOOK_PORT: String(port) });
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    for (const url of urls) await waitUntil(`webhook ${url} ready`, async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok || undefined, { timeoutMs: 60_000 });
    for (const w of workers) await waitUntil('worker polling', () => w.output().includes('worker polling') || undefined, { timeoutMs: 120_000 });
    // The number's callbacks go to one webhook, the workspace's events to the other.
    emu.admin.setNumber(emu.seeded.phoneNumber, { statusCallback: `${urls[0]}${VOICE_STATUS_PATH}` });
    emu.admin.setWorkspace(emu.seeded.workspaceSid, { eventCallbackUrl: `${urls[1]}${TASKROUTER_EVENTS_PATH}` });

    const pollers = await waitUntil('two workflow pollers', async () => {
      const d = await pg.connection.workflowService.describeTaskQueue({
        namespace: pg.namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      const ids = new Set((d.pollers ?? []).map((p) => p.identity));
      return ids.size >= 2 ? ids : undefined;
    });
    assert.equal(pollers.size, 2);
    const buildId = defaultBuildId();
    await waitUntil('the first build made current', async () => ((await describeDeployment(pg.client, DEPLOYMENT)).currentBuildId === buildId ? true : undefined), { timeoutMs: 60_000 });
    // One worker made it current; the other found it so (or lost the conflict-token race and then found it so).
    const saw = (w: Proc) => w.output().includes(`made ${buildId} current`) || w.output().includes(`build ${buildId} is current`);
    await waitUntil('each worker saw it', () => workers.every(saw) || undefined);
    for (const w of workers) assert.match(w.output(), new RegExp(`worker deployment ${DEPLOYMENT}, build ${buildId.replace(/[.+]/g, '\\$&')}`));
  });

  it('reconciles a mixed batch of calls as each scenario needs', async () => {
    const runs = BATCH.map((scenario) => ({ scenario, run: emu.admin.createCall({ scenario }) }));
    await Promise.all(runs.map(({ run }) => emu.admin.whenSettled(run.id)));
    for (const { scenario, run } of runs) {
      const result = (await pg.client.workflow.getHandle(callWorkflowId(run.callSid!)).result()) as { outcome: string; skipped: unknown; actions: unknown };
      const want = SCENARIOS[scenario].unstick;
      assert.equal(result.outcome, want.endExecution || want.task ? 'closed' : 'clean', `${scenario} ${run.callSid}: ${JSON.stringify({ skipped: result.skipped, actions: result.actions })}`);
      if (run.executionSid) assert.equal(emu.admin.inspectExecution(run.executionSid)!.status, 'ended', `${scenario}: Execution`);
      if (run.taskSid) {
        const status = emu.admin.inspectTask(run.taskSid)!.status;
        const expected = want.task === 'cancel' ? 'canceled' : want.task === 'complete' ? 'completed' : SCENARIOS[scenario].expect.taskStatus;
        assert.equal(status, expected, `${scenario}: Task`);
      }
    }
  });

  it('a sweep from the CLI closes the seeded backlog and leaves live calls alone', async () => {
    const seeded = emu.admin.seedTasks({ count: 40, mix: { voiceEnded: 30, voiceLive: 10 }, ageMs: 2 * 3_600_000 });
    const sweep = start(['sweep', '--wait', '--json']);
    assert.equal(await sweep.exited, 0, sweep.output());
    for (const sid of seeded.byCategory.voiceEnded.taskSids) assert.match(emu.admin.inspectTask(sid)!.status, /^(canceled|completed)$/, sid);
    for (const sid of seeded.byCategory.voiceLive.taskSids) assert.match(emu.admin.inspectTask(sid)!.status, /^(pending|reserved|assigned)$/, sid);
  });

  it('the ownership query with 1,000 CallSids works on PostgreSQL visibility', async () => {
    const live = [0, 1, 2].map(() => emu.admin.createCall({ scenario: 'live-long' }));
    const watched = live.map((r) => r.callSid!);
    try {
      // Watches of live calls, started as an operator would.
      for (const sid of watched) {
        const w = start(['watch', sid]);
        assert.equal(await w.exited, 0, w.output());
      }
      await waitUntil('the watches indexed', async () => {
        const found = await ownedByCallWatch({ temporal: pg.client, ownershipChunk: 1000 }, watched);
        return found.size === watched.length || undefined;
      }, { timeoutMs: 60_000 });
      const others = Array.from({ length: 1000 - watched.length }, (_, i) => `CA${i.toString(16).padStart(32, '0')}`);
      const found = await ownedByCallWatch({ temporal: pg.client, ownershipChunk: 1000 }, [...others.slice(0, 500), ...watched, ...others.slice(500)]);
      assert.deepEqual([...found].sort(), [...watched].sort());
    } finally {
      for (const sid of watched) emu.admin.hangup(sid);
    }
  });
});
