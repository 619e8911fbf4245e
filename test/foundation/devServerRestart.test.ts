import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/shared/searchAttributes';
import { startDevServer, type DevServer } from '../../src/temporal/devServer';
import { createWorker } from '../../src/worker';
import { pingActivities, timerThenActivity } from '../fixtures/timerWorkflows';
import { bundleWorkflowsOnce, TIMER_WORKFLOWS_PATH, startTestTemporal, testTemporalCli, uniqueId, waitUntil, type TestTemporal } from '../helpers/temporal';

describe('foundation: dev server restart on the same SQLite file', () => {
  describe('a workflow on a durable timer', () => {
    let t: TestTemporal;
    before(async () => {
      t = await startTestTemporal();
    });
    after(async () => {
      await t?.teardown();
    });

    it('finishes after the worker is killed and the server restarted mid-timer', async () => {
      const taskQueue = uniqueId('tq');
      const newWorker = async () =>
        createWorker({
          connection: t.nativeConnection,
          namespace: t.namespace,
          taskQueue,
          activities: pingActivities,
          workflowBundle: await bundleWorkflowsOnce(TIMER_WORKFLOWS_PATH),
        });
      const first = await newWorker();
      const firstRun = first.run();
      const workflowId = uniqueId('restart');
      const handle = await t.client.workflow.start(timerThenActivity, { taskQueue, workflowId, args: [3000, 'survived'] });
      await waitUntil('the timer to start', async () => (await handle.fetchHistory()).events?.some((e) => e.timerStartedEventAttributes));

      first.shutdown();
      await firstRun;
      const oldPid = t.server.pid;
      await t.server.restart();
      assert.notEqual(t.server.pid, oldPid, 'a new server process runs');

      const second = await newWorker();
      const result = await second.runUntil(handle.result());
      assert.equal(result, 'pong: survived');
      const events = (await handle.fetchHistory()).events ?? [];
      assert.equal(events.filter((e) => e.timerStartedEventAttributes).length, 1, 'the timer was not restarted');
      assert.ok(events.some((e) => e.timerFiredEventAttributes), 'the timer fired');
    });
  });

  describe('search attributes on an existing DB file', () => {
    let dir: string;
    let server: DevServer | undefined;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'unstick-sa-'));
    });
    after(async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function customAttributes(s: DevServer): Promise<Record<string, temporal.api.enums.v1.IndexedValueType>> {
      const connection = await Connection.connect({ address: s.address });
      try {
        return (await connection.operatorService.listSearchAttributes({ namespace: s.namespace })).customAttributes ?? {};
      } finally {
        await connection.close();
      }
    }

    it('registers them at start on a DB file created without them, and keeps them across restarts', async () => {
      const cliPath = (await testTemporalCli()).path;
      const dbFile = path.join(dir, 'data', 'temporal.sqlite');
      server = await startDevServer({ cliPath, dbFile, headless: true, searchAttributes: [] });
      const before = await customAttributes(server);
      for (const key of ALL_SEARCH_ATTRIBUTES) assert.equal(before[key.name], undefined, `${key.name} is not there yet`);
      await server.stop();

      // A new manager on the existing file (what `npm start` does on its second run).
      server = await startDevServer({ cliPath, dbFile, headless: true });
      const afterStart = await customAttributes(server);
      for (const key of ALL_SEARCH_ATTRIBUTES) {
        assert.equal(afterStart[key.name], temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, `${key.name} is a Keyword`);
      }

      await server.restart(); // registration again is a no-op, not an error
      const afterRestart = await customAttributes(server);
      for (const key of ALL_SEARCH_ATTRIBUTES) assert.ok(afterRestart[key.name] !== undefined, `${key.name} survives a restart`);
    });
  });
});
