/** The emulator's control surface, in process (`emulator.admin`) and over HTTP (`/_emulator/…`). */
import { createFlow, createTask, setCallStatus, setFlowDefinition, setSendAndWaitTimeout, updateTask } from './actors';
import type { NewTaskParams, TaskChange } from './actors';
import type { Core, EmulatorSettings } from './core';
import type { CounterSnapshot, FaultRule, FaultSettings } from './faults';
import type { AnsweredRequest, ResponseMatch } from './hooks';
import { updateNumber } from './routes/api2010';
import { SCENARIOS } from './scenarios';
import type { ScenarioExpectation } from './scenarios';
import type { SeedExecutionsOptions, SeedExecutionsResult, SeedTasksOptions, SeedTasksResult } from './bulkSeed';
import type { CreateCallParams, ScenarioRun } from './simulator';
import type { CallStatus, ExecutionStatus, TaskStatus } from './state';
import type { TrafficOptions, TrafficStatus } from './traffic';
import type { WebhookDelivery } from './webhooks';
import type { EventStreamsCounters, EventStreamsSink } from './eventStreams';

export interface ClockState {
  now: string;
  epochMs: number;
  offsetMs: number;
  frozen: boolean;
}

export interface RunState {
  run: ScenarioRun;
  observed: { callStatus: string | null; executionStatus: string | null; taskStatus: string | null };
  expect: ScenarioExpectation;
}

export interface Snapshot {
  clock: ClockState;
  calls: { total: number; byStatus: Partial<Record<CallStatus, number>> };
  executions: Record<string, { friendlyName: string; allowConcurrentCalls: boolean; active: number; ended: number }>;
  tasks: { total: number; byStatus: Partial<Record<TaskStatus, number>> };
  blockedCalls: { callSid: string; flowSid: string; from: string; blockedByExecutionSid: string; at: string }[];
  runs: RunState[];
  traffic: TrafficStatus[];
  faults: FaultSettings;
  counters: CounterSnapshot;
  settings: EmulatorSettings;
}

export interface WorkspaceSettings {
  eventCallbackUrl?: string | null;
  eventsFilter?: string | null;
}
export interface NumberSettings {
  statusCallback?: string | null;
  statusCallbackMethod?: 'GET' | 'POST';
  voiceUrl?: string | null;
  voiceMethod?: 'GET' | 'POST';
  voiceFallbackUrl?: string | null;
  smsUrl?: string | null;
}

export class EmulatorAdmin {
  constructor(
    private readonly core: Core,
    private readonly resetFn: () => void,
  ) {}

  readonly clock = {
    get: (): ClockState => this.core.clock.describe(),
    /** Sets the emulated time (ISO string or epoch ms); `freeze` stops it ticking. */
    set: (to: string | number, freeze = false): ClockState => {
      const ms = typeof to === 'number' ? to : Date.parse(to);
      if (!Number.isFinite(ms)) throw new Error(`not a time: ${String(to)}`);
      this.core.clock.set(ms, freeze);
      return this.core.clock.describe();
    },
    advance: (ms: number): ClockState => {
      this.core.clock.advance(ms);
      this.core.store.purgeClosedTasks();
      return this.core.clock.describe();
    },
    /** Back to real time. */
    real: (): ClockState => {
      this.core.clock.reset();
      return this.core.clock.describe();
    },
  };

  /** Forgets all state and re-seeds the account (same SIDs and credentials); faults and counters are cleared too. */
  reset(): void {
    this.resetFn();
  }

  createCall(params: CreateCallParams = {}): ScenarioRun {
    return this.core.sim.createCall(params);
  }
  whenSettled(id: string): Promise<ScenarioRun> {
    return this.core.sim.whenSettled(id);
  }
  /** Plays a scenario and resolves once it has settled, with what it left behind. */
  async runScenario(params: CreateCallParams = {}): Promise<RunState> {
    const run = this.createCall(params);
    await this.whenSettled(run.id);
    return this.runState(run.id)!;
  }
  runState(id: string): RunState | undefined {
    const run = this.core.sim.runs.get(id);
    if (!run) return undefined;
    return { run: { ...run }, observed: this.core.sim.observed(id), expect: SCENARIOS[run.scenario].expect };
  }
  hangup(callSid: string): boolean {
    return this.core.sim.hangup(callSid);
  }

  startTraffic(o: TrafficOptions): TrafficStatus {
    return this.core.sim.traffic.start(o);
  }
  stopTraffic(id: string): TrafficStatus | undefined {
    return this.core.sim.traffic.stop(id);
  }
  listTraffic(): TrafficStatus[] {
    return this.core.sim.traffic.list();
  }

  setFaults(s: Partial<FaultSettings>): FaultSettings {
    this.core.faults.set(s);
    return this.core.faults.list();
  }
  addFault(rule: FaultRule): number {
    return this.core.faults.add(rule);
  }
  /** Changes only the given limits, keeping the rules. */
  setLimits(l: { maxInFlight?: number; dropStatusCallbacks?: number; dropTaskRouterEvents?: number; evaluateTaskAttributesRps?: number }): FaultSettings {
    if (l.maxInFlight !== undefined) this.core.faults.maxInFlight = l.maxInFlight;
    if (l.dropStatusCallbacks !== undefined) this.core.faults.dropStatusCallbacks = l.dropStatusCallbacks;
    if (l.dropTaskRouterEvents !== undefined) this.core.faults.dropTaskRouterEvents = l.dropTaskRouterEvents;
    if (l.evaluateTaskAttributesRps !== undefined) this.core.evaluateRate.limitPerSecond = l.evaluateTaskAttributesRps;
    return this.core.faults.list();
  }
  /**
   * Configures (or, with undefined, removes) the account's Event Streams webhook Sink and its subscription: the
   * Studio execution and TaskRouter task events from now on go there in signed CloudEvents batches, with the given
   * faults (drop, duplicate, delay, reorder).
   */
  setEventStreamsSink(sink: EventStreamsSink | undefined): EventStreamsSink | undefined {
    this.core.eventStreams.configure(sink);
    return this.core.eventStreams.sink;
  }
  eventStreams(): { sink: EventStreamsSink | undefined; counters: EventStreamsCounters } {
    return { sink: this.core.eventStreams.sink, counters: { ...this.core.eventStreams.counters, answers: { ...this.core.eventStreams.counters.answers } } };
  }
  /** Sends every gathered batch and waits for the answers. */
  settleEventStreams(): Promise<void> {
    return this.core.eventStreams.settle();
  }
  clearFaults(): void {
    this.core.faults.clear();
  }
  faults(): FaultSettings {
    return this.core.faults.list();
  }

  counters(): CounterSnapshot {
    return this.core.counters.snapshot();
  }
  resetCounters(): CounterSnapshot {
    this.core.counters.reset();
    return this.core.counters.snapshot();
  }

  /**
   * Runs `action` (synchronously, in process) right after the emulator has answered a request matching `match`, and
   * before that answer's first byte is written: the client reads the state from before the action, and whatever it
   * sends after reading it meets the state after. Fires `match.times` times (default 1). Returns the hook's id.
   * Cleared by `reset()`. An action that throws is recorded (`hookErrors`), and the answer goes out unchanged.
   */
  afterResponse(match: ResponseMatch, action: (answered: AnsweredRequest) => void): number {
    return this.core.hooks.add(match, action);
  }
  /** Stops the hook (its fire count stays readable); false for an unknown id. */
  removeAfterResponse(id: number): boolean {
    return this.core.hooks.remove(id);
  }
  /** How many times the hook's action ran. */
  hookFires(id: number): number {
    return this.core.hooks.fires(id);
  }
  /** What the hook's action threw, in order. */
  hookErrors(id: number): unknown[] {
    return this.core.hooks.errors(id);
  }

  /**
   * An agent or another app changes a Task: bumps its version (ETag) and emits the TaskRouter events the move makes
   * (`task.updated`, `reservation.created`/`accepted`/`rejected`, `task.wrapup`, `task.completed`, `task.canceled`
   * …), delivered to the workspace's event callback. Allows the agent-only moves the REST API refuses.
   */
  updateTask(sid: string, change: TaskChange): void {
    updateTask(this.core, sid, change);
  }
  /** Creates a Task as another app would (a callback or voicemail Task after its call ended); returns its SID. */
  createTask(p: NewTaskParams): string {
    return createTask(this.core, p);
  }
  /** Sets a call's status (and, when terminal, its `end_time`); see actors.ts. */
  setCallStatus(callSid: string, status: CallStatus, o: { endTimeMs?: number } = {}): void {
    setCallStatus(this.core, callSid, status, o);
  }
  /** Publishes a new revision of a Flow with this definition; returns the new revision. */
  setFlowDefinition(flowSid: string, definition: unknown): number {
    return setFlowDefinition(this.core, flowSid, definition);
  }
  /** Publishes a new revision with every Send & Wait for Reply widget's `timeout` set (undefined: removed); returns it. */
  setSendAndWaitTimeout(flowSid: string, timeout: string | undefined): number {
    return setSendAndWaitTimeout(this.core, flowSid, timeout);
  }
  /** A new published Flow (revision 1); returns its SID. */
  createFlow(p: { friendlyName: string; definition: unknown }): string {
    return createFlow(this.core, p);
  }

  /** A malformed record, as a broken publish could serve it: stores the definition unvalidated (same revision). */
  setRawFlowDefinition(flowSid: string, definition: unknown): void {
    const f = this.core.store.flows.get(flowSid);
    if (!f) throw new Error(`no Flow ${flowSid}`);
    f.definition = definition as typeof f.definition;
  }

  /** What the emulator holds for a Task (purged ones included), for assertions; undefined when it never existed. */
  inspectTask(sid: string): { status: TaskStatus; attributes: string; reason: string | null; version: number } | undefined {
    const t = this.core.store.tasks.get(sid);
    return t && { status: t.status, attributes: t.attributes, reason: t.reason, version: t.version };
  }
  inspectExecution(sid: string): { status: ExecutionStatus; flowSid: string; flowVersion: number } | undefined {
    const e = this.core.store.executions.get(sid);
    return e && { status: e.status, flowSid: e.flowSid, flowVersion: e.flowVersion };
  }

  seedTasks(o: SeedTasksOptions): SeedTasksResult {
    return this.core.seeder.seedTasks(o);
  }
  seedExecutions(o: SeedExecutionsOptions): SeedExecutionsResult {
    return this.core.seeder.seedExecutions(o);
  }

  setWorkspace(sid: string, s: WorkspaceSettings): void {
    const ws = this.core.store.workspaces.get(sid);
    if (!ws) throw new Error(`no workspace ${sid}`);
    if (s.eventCallbackUrl !== undefined) ws.eventCallbackUrl = s.eventCallbackUrl;
    if (s.eventsFilter !== undefined) ws.eventsFilter = s.eventsFilter;
    ws.dateUpdated = this.core.clock.now();
  }
  /** Changes a number (by PN SID or E.164), as the IncomingPhoneNumbers update does. */
  setNumber(sidOrPhone: string, s: NumberSettings): void {
    const n = [...this.core.store.numbers.values()].find((x) => x.sid === sidOrPhone || x.phoneNumber === sidOrPhone);
    if (!n) throw new Error(`no IncomingPhoneNumber ${sidOrPhone}`);
    const b: Record<string, string> = {};
    if (s.statusCallback !== undefined) b.StatusCallback = s.statusCallback ?? '';
    if (s.statusCallbackMethod !== undefined) b.StatusCallbackMethod = s.statusCallbackMethod;
    if (s.voiceUrl !== undefined) b.VoiceUrl = s.voiceUrl ?? '';
    if (s.voiceMethod !== undefined) b.VoiceMethod = s.voiceMethod;
    if (s.voiceFallbackUrl !== undefined) b.VoiceFallbackUrl = s.voiceFallbackUrl ?? '';
    if (s.smsUrl !== undefined) b.SmsUrl = s.smsUrl ?? '';
    updateNumber(n, b, this.core.clock.now());
  }
  updateSettings(s: Partial<EmulatorSettings>): EmulatorSettings {
    Object.assign(this.core.settings, s);
    return { ...this.core.settings };
  }

  webhookLog(filter: { callSid?: string; kind?: WebhookDelivery['kind'] } = {}): WebhookDelivery[] {
    return this.core.webhooks.log.filter((d) => (!filter.callSid || d.callSid === filter.callSid) && (!filter.kind || d.kind === filter.kind));
  }

  snapshot(opts: { runs?: number } = {}): Snapshot {
    const { store } = this.core;
    const callsByStatus: Partial<Record<CallStatus, number>> = {};
    for (const [k, v] of store.callsByStatus) if (v.size) callsByStatus[k] = v.size;
    const tasksByStatus: Partial<Record<TaskStatus, number>> = {};
    for (const byStatus of store.tasksByStatus.values()) for (const [k, v] of byStatus) if (v.size) tasksByStatus[k] = (tasksByStatus[k] ?? 0) + v.size;
    const executions: Snapshot['executions'] = {};
    for (const f of store.flows.values()) {
      const by = store.executionsByFlow.get(f.sid);
      const n = (s: ExecutionStatus) => by?.get(s)?.size ?? 0;
      executions[f.sid] = { friendlyName: f.friendlyName, allowConcurrentCalls: f.definition.flags.allow_concurrent_calls, active: n('active'), ended: n('ended') };
    }
    const runs = [...this.core.sim.runs.keys()].slice(-(opts.runs ?? 200)).map((id) => this.runState(id)!);
    return {
      clock: this.core.clock.describe(),
      calls: { total: store.calls.size, byStatus: callsByStatus },
      executions,
      tasks: { total: store.tasks.size, byStatus: tasksByStatus },
      blockedCalls: store.blockedCalls.map((b) => ({ ...b, at: new Date(b.at).toISOString() })),
      runs,
      traffic: this.listTraffic(),
      faults: this.faults(),
      counters: this.counters(),
      settings: { ...this.core.settings },
    };
  }
}
