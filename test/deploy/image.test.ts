/**
 * The production image's own steps, without a Docker engine (see Dockerfile): `npm run build` in a copy of the
 * sources, then an image folder with only package.json, the lockfile, bin/ and the built dist/, `npm ci --omit=dev`,
 * and `unstick worker` + `unstick webhook` started from it as processes against a real Temporal dev server and the
 * emulator. One stuck call is reconciled end to end, and neither process loaded tsx, TypeScript, webpack's compiler
 * or a devDependency (they are not even installed).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, existsSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator';
import { TASKROUTER_EVENTS_PATH, VOICE_STATUS_PATH, callWorkflowId } from '../../src/shared/names';
import { BUILD_INFO_FILE } from '../../src/temporal/workerVersion';
import { getFreePort } from '../../src/util/freePort';
import { processEnv } from '../helpers/processEnv';
import { startTestTemporal, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '../..');
const TRACE = path.join(__dirname, 'moduleTrace.js');
// Only what nothing in production depends on (ajv, for one, is also fastify's).
const DEV_ONLY = ['tsx', 'typescript', 'mocha', 'eslint', 'fast-check', 'typescript-eslint'];

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const PACKAGE_VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', ...env } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} in ${cwd}:\n${r.stdout}\n${r.stderr}`);
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  traceFile: string;
}

describe('the production image, by its own steps (build, npm ci --omit=dev, worker and webhook from dist)', function () {
  this.timeout(600_000);
  let work: string;
  let image: string;
  let t: TestTemporal;
  let emu: Emulator;
  const procs: Proc[] = [];

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'unstick-image-'));
    // Build stage: the sources and configs, with the repo's node_modules (the stage's `npm ci`).
    const build = path.join(work, 'build');
    for (const f of ['src', 'scripts', 'bin', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(path.join(REPO, f), path.join(build, f), { recursive: true });
    symlinkSync(path.join(REPO, 'node_modules'), path.join(build, 'node_modules'), 'dir');
    // No .git in the build stage: the commit comes in as the Docker build argument does.
    run('npm', ['run', 'build'], build, { UNSTICK_GIT_COMMIT: COMMIT });
    assert.deepEqual(JSON.parse(readFileSync(path.join(build, 'dist', BUILD_INFO_FILE), 'utf8')), { version: PACKAGE_VERSION, commit: COMMIT.slice(0, 12) });
    // Run stage: what the Dockerfile copies, then production dependencies only.
    image = path.join(work, 'image');
    for (const f of ['bin', 'dist', 'package.json', 'package-lock.json']) cpSync(path.join(build, f), path.join(image, f), { recursive: true });
    run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], image);
    for (const dev of DEV_ONLY) assert.equal(existsSync(path.join(image, 'node_modules', dev)), false, `${dev} is not installed`);

    t = await startTestTemporal();
    emu = await startEmulator({ simulator: { ringMs: 60, talkMs: 250, wrapMs: 100 } });
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await emu?.close();
    await t?.teardown();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function start(name: string, args: string[], env: Record<string, string>): Proc {
    const traceFile = path.join(work, `${name}-${procs.length}.modules.json`);
    const child = spawn(process.execPath, [path.join(image, 'bin/unstick.js'), ...args], {
      cwd: image,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: `--require ${TRACE}`, UNSTICK_MODULE_TRACE: traceFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const p = { child, output: () => out, exited, traceFile };
    procs.push(p);
    return p;
  }

  async function stop(p: Proc): Promise<string[]> {
    p.child.kill('SIGTERM');
    const code = await p.exited;
    assert.equal(code, 0, `exit code ${code}:\n${p.output()}`);
    return JSON.parse(readFileSync(p.traceFile, 'utf8')) as string[];
  }

  function assertProductionOnly(modules: string[], what: string): void {
    assert.ok(modules.length > 50, `${what}: the trace holds its modules`);
    const outside = modules.filter((m) => path.isAbsolute(m) && !m.startsWith(image) && m !== TRACE);
    assert.deepEqual(outside, [], `${what} loaded only what the image holds`);
    for (const bad of ['/node_modules/tsx/', '/node_modules/typescript/', '/webpack/lib/Compiler.js', '/swc']) {
      assert.deepEqual(modules.filter((m) => m.includes(bad)), [], `${what} loaded nothing of ${bad}`);
    }
    assert.ok(modules.some((m) => m.startsWith(path.join(image, 'dist'))), `${what} ran dist/`);
  }

  const readyLine = (p: Proc, line: string) => waitUntil(line, async () => p.output().includes(line) || undefined, { timeoutMs: 60_000, intervalMs: 50 });

  it('reconciles a stuck call with the worker and the webhook from dist/, loading no devDependency and no bundler', async () => {
    const taskQueue = uniqueId('image');
    const webhookPort = await getFreePort();
    const env = {
      ...processEnv(t, emu, taskQueue),
      WEBHOOK_HOST: '127.0.0.1',
      WEBHOOK_PORT: String(webhookPort),
      WEBHOOK_FLOW_REDIRECTS: `${emu.seeded.phoneNumber}=${emu.seeded.flexFlowSid}`,
      UNSTICK_LOG_LEVEL: 'info',
    };
    const startedAt = Date.now();
    const worker = start('worker', ['worker'], env);
    await readyLine(worker, 'worker polling');
    const workerReadyMs = Date.now() - startedAt;
    const webhook = start('webhook', ['webhook'], env);
    const webhookUrl = `http://127.0.0.1:${webhookPort}`;
    await waitUntil('webhook ready', async () => (await fetch(`${webhookUrl}/readyz`).catch(() => undefined))?.ok || undefined, { timeoutMs: 30_000 });
    emu.admin.setNumber(emu.seeded.phoneNumber, { statusCallback: `${webhookUrl}${VOICE_STATUS_PATH}` });
    emu.admin.setWorkspace(emu.seeded.workspaceSid, { eventCallbackUrl: `${webhookUrl}${TASKROUTER_EVENTS_PATH}` });

    const run = emu.admin.createCall({ scenario: 'desync-assigned' });
    await emu.admin.whenSettled(run.id);
    const result = (await t.client.workflow.getHandle(callWorkflowId(run.callSid!)).result()) as { outcome: string };
    assert.equal(result.outcome, 'closed');
    assert.equal(emu.admin.inspectTask(run.taskSid!)!.status, 'completed');

    assertProductionOnly(await stop(webhook), 'the webhook');
    assertProductionOnly(await stop(worker), 'the worker');
    process.stdout.write(`      (worker from dist with the prebuilt bundle: polling ${workerReadyMs} ms after spawn)\n`);
  });

  it('without the prebuilt bundle the same worker bundles at start-up (what the bundle saves)', async () => {
    const bundle = path.join(image, 'dist', 'workflow-bundle.js');
    renameSync(bundle, `${bundle}.away`);
    try {
      const startedAt = Date.now();
      const worker = start('worker-nobundle', ['worker'], { TEMPORAL_ADDRESS: t.address, TEMPORAL_NAMESPACE: t.namespace, TEMPORAL_TASK_QUEUE: uniqueId('image'), TWILIO_ACCOUNT_SID: emu.accountSid, TWILIO_AUTH_TOKEN: emu.authToken, TWILIO_API_BASE_URL: emu.url, UNSTICK_LOG_LEVEL: 'info' });
      await readyLine(worker, 'worker polling');
      const readyMs = Date.now() - startedAt;
      const modules = await stop(worker);
      assert.ok(modules.some((m) => m.includes('/webpack/lib/Compiler.js')), 'webpack compiled the workflows at start-up');
      process.stdout.write(`      (worker from dist without the bundle: polling ${readyMs} ms after spawn)\n`);
    } finally {
      renameSync(`${bundle}.away`, bundle);
    }
  });
});
