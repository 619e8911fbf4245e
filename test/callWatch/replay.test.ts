/**
 * Determinism guard: replays histories recorded from real runs (test/fixtures/histories/*.json,
 * written by the callWatch and sweep end-to-end tests when UNSTICK_RECORD_HISTORIES=1) against
 * today's workflow code. A change that breaks replay of a running workflow fails here.
 */
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOWS_PATH } from '../../src/worker';

const dir = path.resolve(__dirname, '../fixtures/histories');

describe('workflow replay of saved histories', function () {
  this.timeout(180_000);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has saved histories of the main paths', () => {
    const names = files.join(' ');
    for (const needed of ['callWatch-', 'sweep-']) assert.match(names, new RegExp(needed), `no saved ${needed}* history in ${dir}`);
    assert.ok(files.length >= 5, `expected at least 5 saved histories, found ${files.length}`);
  });

  it('replays every saved history without a determinism error', async () => {
    const histories = files.map((f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(path.join(dir, f), 'utf8'))),
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.equal(replayed, files.length);
    assert.deepEqual(failures, []);
  });

  it('fails a workflow change that is incompatible with a saved history (DeterminismViolationError)', async () => {
    const file = files.find((f) => f.startsWith('callWatch-normal'))!;
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
    const changed = path.resolve(__dirname, '../fixtures/changedWorkflows');
    assert.equal(typeof DeterminismViolationError, 'function');
    await assert.rejects(Worker.runReplayHistory({ workflowsPath: changed }, history, 'callWatch-normal'), (err: unknown) => {
      assert.ok(err instanceof DeterminismViolationError, `expected a DeterminismViolationError, got ${String(err)}`);
      return true;
    });
    // The unchanged workflow replays the same history.
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'callWatch-normal');
  });
});
