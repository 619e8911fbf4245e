/** A typed client for the emulator's HTTP admin API (`/_emulator/…`), for tests and benchmarks in other processes. */
import type { ClockState, NumberSettings, RunState, Snapshot, WorkspaceSettings } from './admin';
import type { EmulatorSettings } from './core';
import type { EventStreamsCounters, EventStreamsSink } from './eventStreams';
import type { CounterSnapshot, FaultRule, FaultSettings } from './faults';
import type { SeedExecutionsOptions, SeedExecutionsResult, SeedTasksOptions, SeedTasksResult } from './bulkSeed';
import type { SeededAccount } from './seed';
import type { CreateCallParams } from './simulator';
import type { TrafficOptions, TrafficStatus } from './traffic';
import type { WebhookDelivery } from './webhooks';

export interface EmulatorInfo {
  url: string;
  accountSid: string;
  authToken: string;
  apiKey: { sid: string; secret: string };
  seeded: SeededAccount;
}

export class EmulatorAdminClient {
  private readonly auth?: string;
  constructor(
    readonly baseUrl: string,
    /** Only needed when the admin API is not called from loopback. */
    credentials?: { accountSid: string; authToken: string },
  ) {
    if (credentials) this.auth = 'Basic ' + Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl.replace(/\/+$/, '')}/_emulator${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...(this.auth ? { Authorization: this.auth } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new Error(`emulator admin ${method} ${path}: ${res.status} ${text}`);
    return json as T;
  }

  info(): Promise<EmulatorInfo> { return this.call('GET', ''); }
  reset(): Promise<{ ok: true }> { return this.call('POST', '/reset', {}); }
  clock(): Promise<ClockState> { return this.call('GET', '/clock'); }
  setClock(to: string | number, freeze = false): Promise<ClockState> { return this.call('POST', '/clock', { set: to, freeze }); }
  advanceClock(ms: number): Promise<ClockState> { return this.call('POST', '/clock', { advanceMs: ms }); }
  realClock(): Promise<ClockState> { return this.call('POST', '/clock', { real: true }); }
  /** Starts a call; with `wait`, answers once the scenario has settled. */
  createCall(params: CreateCallParams & { wait?: boolean } = {}): Promise<RunState> { return this.call('POST', '/calls', params); }
  run(id: string): Promise<RunState> { return this.call('GET', `/runs/${encodeURIComponent(id)}`); }
  hangup(callSid: string): Promise<{ hungUp: boolean }> { return this.call('POST', `/calls/${callSid}/hangup`, {}); }
  startTraffic(o: TrafficOptions): Promise<TrafficStatus> { return this.call('POST', '/traffic', o); }
  stopTraffic(id: string): Promise<TrafficStatus> { return this.call('DELETE', `/traffic/${id}`); }
  traffic(): Promise<TrafficStatus[]> { return this.call('GET', '/traffic'); }
  faults(): Promise<FaultSettings> { return this.call('GET', '/faults'); }
  setFaults(s: Partial<FaultSettings>): Promise<FaultSettings> { return this.call('PUT', '/faults', s); }
  addFault(rule: FaultRule): Promise<{ id: number }> { return this.call('POST', '/faults', rule); }
  clearFaults(): Promise<FaultSettings> { return this.call('DELETE', '/faults'); }
  setLimits(l: { maxInFlight?: number; dropStatusCallbacks?: number; dropTaskRouterEvents?: number; evaluateTaskAttributesRps?: number }): Promise<FaultSettings> { return this.call('POST', '/limits', l); }
  /** The Event Streams Sink and what it has delivered: batches sent, dropped, duplicated, and the answers by HTTP status. */
  eventStreams(): Promise<{ sink?: EventStreamsSink; counters: EventStreamsCounters }> { return this.call('GET', '/event-streams'); }
  setEventStreamsSink(sink: EventStreamsSink | undefined): Promise<{ sink: EventStreamsSink | null }> { return sink ? this.call('PUT', '/event-streams', sink) : this.call('DELETE', '/event-streams'); }
  snapshot(runs = 200): Promise<Snapshot> { return this.call('GET', `/snapshot?runs=${runs}`); }
  counters(): Promise<CounterSnapshot> { return this.call('GET', '/counters'); }
  resetCounters(): Promise<CounterSnapshot> { return this.call('POST', '/counters/reset', {}); }
  seedTasks(o: SeedTasksOptions): Promise<SeedTasksResult> { return this.call('POST', '/seed/tasks', o); }
  seedExecutions(o: SeedExecutionsOptions): Promise<SeedExecutionsResult> { return this.call('POST', '/seed/executions', o); }
  setWorkspace(sid: string, s: WorkspaceSettings): Promise<{ ok: true }> { return this.call('POST', `/workspaces/${sid}`, s); }
  setNumber(sidOrPhone: string, s: NumberSettings): Promise<{ ok: true }> { return this.call('POST', `/numbers/${encodeURIComponent(sidOrPhone)}`, s); }
  updateSettings(s: Partial<EmulatorSettings>): Promise<EmulatorSettings> { return this.call('POST', '/settings', s); }
  webhooks(filter: { callSid?: string; kind?: string } = {}): Promise<WebhookDelivery[]> {
    const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v) as [string, string][]).toString();
    return this.call('GET', `/webhooks${q ? `?${q}` : ''}`);
  }
}
