// eslint.config.mjs keeps Node-side modules out of the workflow bundle: value imports of activities, config, emulator,
// webhook… are errors in src/workflows (and in src/policy, src/shared, which workflows import); type imports are not.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ESLint } from 'eslint';

const repoRoot = path.resolve(__dirname, '../..');

describe('lint: workflow code imports no Node-side module', function () {
  this.timeout(60_000);
  // Only the import rule, and no type information: the snippets are not files of the TypeScript project.
  const eslint = new ESLint({
    cwd: repoRoot,
    overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  });
  const restricted = async (code: string, file: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
    assert.ok(result);
    assert.deepEqual(result.messages.filter((m) => m.ruleId !== 'no-restricted-imports'), [], 'the snippet parses');
    return result.messages.map((m) => m.message);
  };

  const refused: Array<[string, string]> = [
    ["import { createActivities } from '../activities';\nexport const x = createActivities;", 'src/workflows/probe.ts'],
    ["import { toActivityFailure } from '../activities/twilioErrors';\nexport const x = toActivityFailure;", 'src/workflows/probe.ts'],
    ["export { createActivities } from '../activities';", 'src/workflows/probe.ts'],
    ["import { loadConfig } from '../config';\nexport const x = loadConfig;", 'src/workflows/probe.ts'],
    ["import { startEmulator } from '../emulator';\nexport const x = startEmulator;", 'src/workflows/probe.ts'],
    ["import { createWebhookServer } from '../webhook/server';\nexport const x = createWebhookServer;", 'src/workflows/probe.ts'],
    ["import { loadConfig } from '../../config';\nexport const x = loadConfig;", 'src/workflows/nested/probe.ts'],
    ["import { loadConfig } from '../config';\nexport const x = loadConfig;", 'src/shared/probe.ts'],
    ["import { createActivities } from '../activities';\nexport const x = createActivities;", 'src/policy/probe.ts'],
  ];
  for (const [code, file] of refused) {
    it(`refuses ${JSON.stringify(code.split('\n')[0])} in ${file}`, async () => {
      const messages = await restricted(code, file);
      assert.equal(messages.length, 1, `expected one error, got ${JSON.stringify(messages)}`);
      assert.match(messages[0]!, /Workflow code takes values only from src\/policy, src\/shared and src\/workflows/);
    });
  }

  const allowed: Array<[string, string]> = [
    ["import type { CallActivities } from '../activities/callActivities';\nexport type X = CallActivities;", 'src/workflows/probe.ts'],
    ["import { type CallActivities } from '../activities/callActivities';\nexport type X = CallActivities;", 'src/workflows/probe.ts'],
    ["import { VOICE_CHANNEL } from '../shared/names';\nexport const x = VOICE_CHANNEL;", 'src/workflows/probe.ts'],
    ["import { decideCall } from '../policy';\nexport const x = decideCall;", 'src/workflows/probe.ts'],
    ["import { CallWatch } from './callWatchState';\nexport const x = CallWatch;", 'src/workflows/probe.ts'],
    ["import type { Config } from '../config';\nexport type C = Config;", 'src/shared/probe.ts'],
    ["import { loadConfig } from '../config';\nexport const x = loadConfig;", 'src/cli/probe.ts'],
  ];
  for (const [code, file] of allowed) {
    it(`allows ${JSON.stringify(code.split('\n')[0])} in ${file}`, async () => {
      assert.deepEqual(await restricted(code, file), []);
    });
  }

  it('the workflow code as it is passes', async () => {
    const results = await eslint.lintFiles(['src/workflows/**/*.ts', 'src/policy/**/*.ts', 'src/shared/**/*.ts']);
    assert.ok(results.length > 10);
    assert.deepEqual(results.flatMap((r) => r.messages.map((m) => `${path.relative(repoRoot, r.filePath)}: ${m.message}`)), []);
  });
});
