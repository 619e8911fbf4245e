// Root hooks for mocha: one Temporal Runtime per process, quiet logs.
import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;
export const mochaHooks = {
  beforeAll(): void {
    if (installed) return;
    installed = true;
    Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } } });
  },
};
