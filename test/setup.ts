// Root hooks for mocha: one Temporal Runtime per process, quiet logs.
import { DefaultLogger, Runtime } from '@temporalio/worker';

// CLIs the tests spawn (bin/unstick.js) run the sources under test, never a dist/ left by an earlier build.
process.env['UNSTICK_FROM_SOURCE'] = '1';

let installed = false;
export const mochaHooks = {
  beforeAll(): void {
    if (installed) return;
    installed = true;
    Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } } });
  },
};
