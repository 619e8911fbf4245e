/** The emulator's control surface, in process (`emulator.admin`) and over HTTP (`/_emulator/…`). */
import type { Core, EmulatorSettings } from './core';
import type { CounterSnapshot, FaultRule, FaultSettings } from './faults';
import { updateNumber } from './routes/api2010';
import { SCENARIOS } from './scenarios';
import type { ScenarioExpectation } from './scenarios';
import type { SeedExecutionsOptions, SeedExecutionsResult, SeedTasksOptions, SeedTasksResult } from './seed';
import type { CreateCallParams, ScenarioRun, TrafficOptions, TrafficStatus } from './simulator';
import type { CallStatus, ExecutionStatus, TaskStatus } from './state';
import type { WebhookDelivery } from './webhooks';

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
    return this.core.sim.startTraffic(o);
  }
  stopTraffic(id: string): TrafficStatus | undefined {
    return this.core.sim.stopTraffic(id);
  }
  listTraffic(): TrafficStatus[] {
    return this.core.sim.listTraffic();
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
