/**
 * A local, stateful stand-in for the Twilio REST APIs unstick uses (API v2010 Calls/IncomingPhoneNumbers,
 * Studio v2, TaskRouter v1, the Studio Flow webhook), with a call simulator, signed webhooks, faults and counters.
 * Products live under path prefixes named for their hosts: /api, /studio, /taskrouter, /webhooks.
 */
import type { TwilioConfig } from '../config';
import { EmulatorAdmin } from './admin';
import { EmulatedClock } from './clock';
import type { Core, EmulatorSettings } from './core';
import { Counters, Faults, RateWindow } from './faults';
import type { FaultSettings } from './faults';
import { ResponseHooks } from './hooks';
import { Rng, SidFactory } from './ids';
import { BulkSeeder } from './bulkSeed';
import { seedAccount } from './seed';
import type { SeededAccount } from './seed';
import { buildServer } from './server';
import { Simulator } from './simulator';
import type { SimulatorDefaults } from './simulator';
import { Store } from './state';
import type { CallbackEvent } from './statusCallbacks';
import type { Task, TrEvent } from './state';
import { Studio } from './studio';
import { TaskRouter } from './taskrouter';
import { WebhookSender } from './webhooks';
import { EventStreamsEmitter } from './eventStreams';

export { SCENARIOS, SCENARIO_NAMES } from './scenarios';
export type { ScenarioName, ScenarioExpectation, ScenarioInfo } from './scenarios';
export type { CreateCallParams, ScenarioRun } from './simulator';
export type { CallbackEvent } from './statusCallbacks';
export type { TrafficOptions, TrafficStatus } from './traffic';
export type { FaultRule, FaultSettings, CounterSnapshot } from './faults';
export type { ResponseMatch, AnsweredRequest } from './hooks';
export type { TaskChange, NewTaskParams } from './actors';
export type { SeededAccount } from './seed';
export type { SeedTasksOptions, SeedTasksResult, SeedExecutionsOptions, SeedExecutionsResult, SeedTaskCategory } from './bulkSeed';
export type { EmulatorAdmin, Snapshot, RunState, ClockState, WorkspaceSettings, NumberSettings } from './admin';
export type { WebhookDelivery } from './webhooks';
export type { EventStreamsSink, EventStreamsCounters } from './eventStreams';
export type { EmulatorSettings } from './core';
export { EmulatedClock } from './clock';
export { EmulatorAdminClient } from './adminClient';
export type { EmulatorInfo } from './adminClient';

export interface EmulatorOptions {
  /** TCP port (default 0: any free port). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Seed for SIDs, credentials and random draws (default "unstick"). Same seed, same seeded SIDs. */
  seed?: number | string;
  accountSid?: string;
  authToken?: string;
  /** fastify request logging (default off). */
  log?: boolean;
  /** Default simulator timings in real ms and status-callback events. */
  simulator?: Partial<SimulatorDefaults>;
  settings?: Partial<EmulatorSettings>;
  faults?: Partial<FaultSettings>;
  /** How long closed Tasks stay readable, emulated ms (default 5 min). */
  closedTaskTtlMs?: number;
  /** TaskRouter's limit on `EvaluateTaskAttributes` lists per account (default 3 rps; 0 disables). */
  evaluateTaskAttributesRps?: number;
}

export interface Emulator {
  /** Base URL, e.g. http://127.0.0.1:41234 (set `TWILIO_API_BASE_URL` to it). */
  url: string;
  accountSid: string;
  authToken: string;
  apiKey: { sid: string; secret: string };
  seeded: SeededAccount;
  admin: EmulatorAdmin;
  clock: EmulatedClock;
  /** Internals, for white-box assertions in tests. */
  core: Core;
  /** A TwilioConfig aimed at this emulator, for `createTwilioClient`. */
  twilioConfig(overrides?: Partial<TwilioConfig>): TwilioConfig;
  close(): Promise<void>;
}

const DEFAULT_EVENTS: CallbackEvent[] = ['initiated', 'ringing', 'answered', 'completed'];

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const seed = opts.seed ?? 'unstick';
  const clock = new EmulatedClock();
  const rng = new Rng(seed);
  const store = new Store(clock, new SidFactory(rng));
  if (opts.closedTaskTtlMs !== undefined) store.closedTaskTtlMs = opts.closedTaskTtlMs;
  const counters = new Counters();
  const faults = new Faults(new Rng(`${String(seed)}:faults`));
  if (opts.faults) faults.set(opts.faults);
  let baseUrl = '';
  let acct = seedAccount(store, seed, { accountSid: opts.accountSid, authToken: opts.authToken });
  const webhooks = new WebhookSender({ authToken: () => acct.authToken, baseUrl: () => baseUrl });
  const studio = new Studio(store);
  const tr = new TaskRouter(store);
  const settings: EmulatorSettings = { taskListAttributes: 'full', executionListContext: 'full', adminOpenOnLoopback: true, ...opts.settings };
  const simDefaults: SimulatorDefaults = { ringMs: 40, talkMs: 150, wrapMs: 60, stepMs: 5, callbackEvents: DEFAULT_EVENTS, ...opts.simulator };
  const core: Core = {
    store, clock, studio, tr, faults, counters, acct, webhooks, rng, settings,
    eventStreams: new EventStreamsEmitter(() => acct.authToken, new Rng(`${String(seed)}:event-streams`)),
    hooks: new ResponseHooks(),
    evaluateRate: new RateWindow(opts.evaluateTaskAttributesRps ?? 3),
    seeder: new BulkSeeder(store, studio, tr, acct, rng),
    sim: new Simulator(store, studio, tr, acct, rng, webhooks, faults, counters, simDefaults),
    baseUrl: () => baseUrl,
  };

  store.taskListeners.push((ev, task) => deliverTaskRouterEvent(core, ev, task));
  store.taskListeners.push((ev, task) => task && core.eventStreams.task(ev, task));
  store.executionListeners.push((ex, event) => core.eventStreams.execution(ex, event, clock.now()));

  const reset = () => {
    core.sim.close();
    store.clear();
    clock.reset();
    faults.clear();
    if (opts.faults) faults.set(opts.faults);
    core.hooks.clear();
    core.evaluateRate.limitPerSecond = opts.evaluateTaskAttributesRps ?? 3;
    Object.assign(settings, { taskListAttributes: 'full', executionListContext: 'full', adminOpenOnLoopback: true, ...opts.settings });
    counters.reset();
    webhooks.log.length = 0;
    core.eventStreams.configure(undefined);
    core.eventStreams.resetCounters();
    acct = seedAccount(store, seed, { accountSid: opts.accountSid, authToken: opts.authToken });
    core.acct = acct;
    core.seeder = new BulkSeeder(store, studio, tr, acct, rng);
    core.sim = new Simulator(store, studio, tr, acct, rng, webhooks, faults, counters, simDefaults);
  };

  const app = buildServer(core, { logger: opts.log });
  const admin = new EmulatorAdmin(core, reset);
  app.decorate('emulatorAdmin', admin);
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port ?? 0;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${urlHost}:${port}`;

  const purge = setInterval(() => store.purgeClosedTasks(), 1000);
  purge.unref();

  return {
    url: baseUrl,
    get accountSid() { return core.acct.accountSid; },
    get authToken() { return core.acct.authToken; },
    get apiKey() { return core.acct.apiKey; },
    get seeded() { return core.acct; },
    admin,
    clock,
    core,
    twilioConfig(overrides = {}) {
      return {
        accountSid: core.acct.accountSid,
        authToken: core.acct.authToken,
        baseUrl,
        maxInFlight: 20,
        requestTimeoutMs: 15_000,
        workspaceSids: [core.acct.workspaceSid],
        flowSids: [core.acct.flexFlowSid, core.acct.messagingFlowSid, core.acct.webchatFlowSid, core.acct.legacyFlowSid],
        ...overrides,
      };
    },
    async close() {
      clearInterval(purge);
      core.sim.close();
      webhooks.close();
      core.eventStreams.close();
      await app.close();
    },
  };
}

/** Sends a TaskRouter event to the workspace's EventCallbackUrl (signed, honouring EventsFilter and drop faults). */
function deliverTaskRouterEvent(core: Core, ev: TrEvent, task: Task | undefined): void {
  const ws = core.store.workspaces.get(ev.workspaceSid);
  if (!ws?.eventCallbackUrl || !task) return;
  if (ws.eventsFilter && !ws.eventsFilter.split(',').map((s) => s.trim()).includes(ev.eventType)) return;
  const params: Record<string, string> = {
    EventType: ev.eventType,
    AccountSid: ev.accountSid,
    WorkspaceSid: ws.sid,
    WorkspaceName: ws.friendlyName,
    EventDescription: ev.description,
    ResourceType: ev.resourceType,
    ResourceSid: ev.resourceSid,
    Timestamp: String(Math.floor(ev.date / 1000)),
    TimestampMs: String(ev.date),
    Sid: ev.sid,
    TaskSid: task.sid,
    TaskAttributes: task.attributes,
    TaskAge: String(Math.max(0, Math.floor((ev.date - task.dateCreated) / 1000))),
    TaskPriority: String(task.priority),
    TaskAssignmentStatus: task.status,
    TaskChannelSid: task.channelSid,
    TaskChannelUniqueName: task.channelUniqueName,
    TaskDateCreated: String(Math.floor(task.dateCreated / 1000)),
    TaskVersion: String(task.version),
    TaskTimeout: String(task.timeout),
  };
  if (task.queueSid) Object.assign(params, { TaskQueueSid: task.queueSid, TaskQueueName: task.queueName ?? '' });
  if (task.workflowSid) Object.assign(params, { WorkflowSid: task.workflowSid, WorkflowName: task.workflowName ?? '' });
  if (ev.eventType === 'task.canceled' && task.reason) params.TaskCanceledReason = task.reason;
  if (ev.eventType === 'task.completed' && task.reason) params.TaskCompletedReason = task.reason;
  for (const [k, v] of Object.entries(ev.data)) {
    const pascal = k.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());
    if (['WorkerSid', 'WorkerName', 'WorkerAttributes', 'ReservationSid'].includes(pascal) && typeof v === 'string' && v) params[pascal] = v;
  }
  const d = { kind: 'taskrouter-event' as const, url: ws.eventCallbackUrl, method: 'POST', params, eventType: ev.eventType };
  if (core.faults.dropCallback('taskrouter')) {
    core.counters.webhooksDropped++;
    core.webhooks.recordDropped(d);
    return;
  }
  core.counters.webhooksSent++;
  void core.webhooks.send(d).then((r) => {
    if (r.finalStatus === null || r.finalStatus >= 400) core.counters.webhooksFailed++;
  });
}
