import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testTemporalCli, waitUntil } from '../helpers/temporal';

const repo = path.resolve(__dirname, '../..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('foundation: a crashing process does not leave its dev server behind', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-crash-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('terminates the server when the owning process dies of an uncaught exception', async () => {
    const cliPath = (await testTemporalCli()).path;
    const script = `
      const { startDevServer } = require(${JSON.stringify(path.join(repo, 'src/temporal/devServer.ts'))});
      startDevServer({ cliPath: ${JSON.stringify(cliPath)}, dbFile: ${JSON.stringify(path.join(dir, 't.sqlite'))}, headless: true })
        .then((s) => { process.stdout.write(JSON.stringify({ pid: s.pid }) + '\\n'); setImmediate(() => { throw new Error('crash'); }); });
    `;
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], { cwd: repo, encoding: 'utf8', timeout: 90_000 });
    assert.notEqual(r.status, 0, 'the child crashed');
    assert.match(r.stderr, /Error: crash/);
    const { pid } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { pid: number };
    assert.ok(pid > 0);
    await waitUntil('the orphaned server to exit', () => !alive(pid), { timeoutMs: 20_000 });
  });
});
