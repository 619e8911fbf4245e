// Private stand-in for the shared dev-server helper (src/temporal/devServer.ts) until it lands.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';

export interface WebhookTestServer {
  address: string;
  namespace: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startTestTemporal(): Promise<WebhookTestServer> {
  const bin = process.env.TEMPORAL_CLI ?? path.join(os.homedir(), '.cache/unstick/temporal-cli/v1.5.1/temporal');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-webhook-'));
  const port = await freePort();
  const args = [
    'server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port),
    '--db-filename', path.join(dir, 'temporal.db'), '--log-level', 'error',
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false',
    ...['CallSid', 'ExecutionSid', 'TaskSid', 'UnstickOutcome'].flatMap((n) => ['--search-attribute', `${n}=Keyword`]),
  ];
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited ${child.exitCode}: ${stderr}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.withDeadline(Date.now() + 2000, () => conn.workflowService.getSystemInfo({}));
        break;
      } finally {
        await conn.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`temporal dev server not ready in 60 s: ${String(err)} ${stderr}`, { cause: err });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  let stopped = false;
  return {
    address,
    namespace: 'default',
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
