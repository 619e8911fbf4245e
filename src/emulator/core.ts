/** Everything a route or the admin API needs, wired together once per emulator. */
import type { EmulatedClock } from './clock';
import type { Counters, Faults, RateWindow } from './faults';
import type { ResponseHooks } from './hooks';
import type { Rng } from './ids';
import type { BulkSeeder } from './bulkSeed';
import type { SeededAccount } from './seed';
import type { Simulator } from './simulator';
import type { Store } from './state';
import type { Studio } from './studio';
import type { TaskRouter } from './taskrouter';
import type { WebhookSender } from './webhooks';
import type { EventStreamsEmitter } from './eventStreams';

export interface EmulatorSettings {
  /** Task list items: `full` attributes (the spec's example) or `null` (the spec's description). */
  taskListAttributes: 'full' | 'null';
  /** Execution list items: with `context` or `null`. */
  executionListContext: 'full' | 'null';
  /** Admin API without credentials from loopback addresses (default true). */
  adminOpenOnLoopback: boolean;
}

export interface Core {
  store: Store;
  clock: EmulatedClock;
  studio: Studio;
  tr: TaskRouter;
  sim: Simulator;
  seeder: BulkSeeder;
  faults: Faults;
  /** Test actions run right after matching responses (`admin.afterResponse`). */
  hooks: ResponseHooks;
  counters: Counters;
  evaluateRate: RateWindow;
  acct: SeededAccount;
  webhooks: WebhookSender;
  /** The Event Streams webhook Sink, when one is configured (`admin.setEventStreamsSink`). */
  eventStreams: EventStreamsEmitter;
  rng: Rng;
  settings: EmulatorSettings;
  baseUrl(): string;
}
