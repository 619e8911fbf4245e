/**
 * All activities the worker registers, built from their dependencies. Add a line per activity module.
 */
import type { Config } from '../config';
import { createPingActivities } from './ping';

export interface ActivityDeps {
  config: Config;
}

export function createActivities(_deps: ActivityDeps) {
  return {
    ...createPingActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
