/**
 * Saves a finished workflow's history as a replay fixture when UNSTICK_RECORD_HISTORIES=1, in the JSON
 * that `temporal workflow show --output json` prints (what Worker.runReplayHistories reads back via
 * historyFromJSON). The CLI is used because historyToJSON trips over two protobufjs copies in the tree.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import type { DevServer } from '../../src/temporal/devServer';

export const recordingHistories = process.env.UNSTICK_RECORD_HISTORIES === '1';

export async function saveHistoryFixture(name: string, handle: WorkflowHandle, server: DevServer): Promise<void> {
  if (!recordingHistories) return;
  const { stdout } = await promisify(execFile)(
    server.cliPath,
    ['workflow', 'show', '--workflow-id', handle.workflowId, '--address', server.address, '--namespace', server.namespace, '--output', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  JSON.parse(stdout); // must be one JSON document
  const dir = path.resolve(__dirname, '../fixtures/histories');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), stdout);
}
