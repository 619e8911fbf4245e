/**
 * The call simulator: plays an inbound call the way Twilio, Studio, Flex and TaskRouter would, per scenario,
 * sending status callbacks (statusCallbacks.ts) and workspace events, and keeps the runs it started. Timings are real
 * milliseconds; timestamps come from the emulated clock (optionally shifted into the past). Background traffic at a
 * steady rate is traffic.ts.
 */
import type { Rng } from './ids';
import { SCENARIOS, isScenarioName } from './scenarios';
import type { ScenarioName } from './scenarios';
import { chatTaskAttributes, randomCaller, unparsableAttributes, voiceTaskAttributes } from './seed';
import type { SeededAccount } from './seed';
import type { Call, Flow, PhoneNumber, Store, Task, Workspace } from './state';
import { isTerminalCallStatus } from '../shared/constants';
import { flowSidFromUrl } from './studio';
import type { Studio } from './studio';
import type { TaskRouter } from './taskrouter';
import { StatusCallbacks, type CallbackEvent, type WebhookCounters } from './statusCallbacks';
import { Traffic } from './traffic';
import type { Faults } from './faults';
import type { WebhookSender } from './webhooks';

export interface CreateCallParams {
  scenario?: ScenarioName;
  /** Caller (E.164); random by default. */
  from?: string;
  /** Number called: E.164 or PN SID; default the seeded main number. */
  to?: string;
  ringMs?: number;
  talkMs?: number;
  wrapMs?: number;
  stepMs?: number;
  /** Shift every timestamp this far into the past (the script still runs in real time). */
  agoMs?: number;
  /** live-long: how long ago the call started (default 5 h). */
  startedAgoMs?: number;
  /** abandoned-sms / abandoned-webchat: Execution age (default 5 h). */
  ageMs?: number;
  /** abandoned-*: age of the last step (default = ageMs). */
  lastStepAgeMs?: number;
  /** Status callback events sent for this call (default: the emulator's setting). */
  callbackEvents?: CallbackEvent[];
}

export interface ScenarioRun {
  id: string;
  scenario: ScenarioName;
  callSid?: string;
  executionSid?: string;
  taskSid?: string;
  /** The call was refused an Execution by a flow without concurrent calls. */
  blockedByExecutionSid?: string;
  /** True once the scenario reached the state it keeps by itself. */
  settled: boolean;
  startedAt: string;
}

interface LiveCall {
  hangup: () => void;
  hungUp: boolean;
  wake?: () => void;
}

export interface SimulatorDefaults {
  ringMs: number;
  talkMs: number;
  wrapMs: number;
  stepMs: number;
  callbackEvents: CallbackEvent[];
}

export class Simulator {
  readonly runs = new Map<string, ScenarioRun>();
  private readonly settledWaiters = new Map<string, Promise<ScenarioRun>>();
  private readonly live = new Map<string, LiveCall>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Background calls at a steady rate (the admin API's /traffic). */
  readonly traffic: Traffic;
  private readonly callbacks: StatusCallbacks;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly studio: Studio,
    private readonly tr: TaskRouter,
    private readonly acct: SeededAccount,
    private readonly rng: Rng,
    webhooks: WebhookSender,
    faults: Faults,
    counters: WebhookCounters,
    readonly defaults: SimulatorDefaults,
  ) {
    this.callbacks = new StatusCallbacks(store.clock, webhooks, faults, counters);
    this.traffic = new Traffic(rng, (params) => this.createCall(params));
  }

  private sleep(ms: number, live?: LiveCall): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return;
      if (live?.hungUp) return resolve();
      if (!Number.isFinite(ms)) {
        if (live) live.wake = resolve;
        return;
      }
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (live) live.wake = undefined;
        resolve();
      }, Math.max(0, ms));
      this.timers.add(t);
      if (live) live.wake = () => {
        clearTimeout(t);
        this.timers.delete(t);
        resolve();
      };
    });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.traffic.close();
  }

  private workspace(): Workspace {
    return this.store.workspaces.get(this.acct.workspaceSid)!;
  }

  private numberFor(to: string | undefined): PhoneNumber {
    const want = to ?? this.acct.phoneNumber;
    for (const n of this.store.numbers.values()) if (n.phoneNumber === want || n.sid === want) return n;
    throw new Error(`no IncomingPhoneNumber ${want}`);
  }

  /** Hangs up a live call (the caller or agent ends it). Returns false when the call is not live. */
  hangup(callSid: string): boolean {
    const l = this.live.get(callSid);
    if (l && !l.hungUp) {
      l.hangup();
      return true;
    }
    const call = this.store.calls.get(callSid);
    if (call && !isTerminalCallStatus(call.status)) {
      this.store.setCallStatus(call, call.status === 'in-progress' ? 'completed' : 'canceled');
      return true;
    }
    return false;
  }

  isScripted(callSid: string): boolean {
    return this.live.has(callSid);
  }

  /** Resolves when the run has settled (reached the state it keeps by itself). */
  whenSettled(id: string): Promise<ScenarioRun> {
    const p = this.settledWaiters.get(id);
    if (!p) return Promise.reject(new Error(`unknown scenario run ${id}`));
    return p;
  }

  createCall(params: CreateCallParams = {}): ScenarioRun {
    const scenario = params.scenario ?? 'normal';
    if (!isScenarioName(scenario)) throw new Error(`unknown scenario ${String(scenario)}`);
    const run: ScenarioRun = { id: '', scenario, settled: false, startedAt: new Date().toISOString() };
    let script: () => Promise<void>;
    if (scenario === 'abandoned-sms' || scenario === 'abandoned-webchat') script = () => this.abandonedMessaging(run, params);
    else if (scenario === 'chat-task') script = () => this.chatTask(run);
    else if (scenario === 'live-long') script = () => this.liveLong(run, params);
    else script = () => this.voice(run, params);
    let resolveSettled!: (r: ScenarioRun) => void;
    const settled = new Promise<ScenarioRun>((r) => (resolveSettled = r));
    const done = script().then(
      () => {
        run.settled = true;
        resolveSettled(run);
      },
      (err: unknown) => {
        run.settled = true;
        (run as ScenarioRun & { error?: string }).error = err instanceof Error ? err.message : String(err);
        resolveSettled(run);
      },
    );
    void done;
    run.id = run.callSid ?? run.executionSid ?? run.taskSid ?? this.store.sids.make('XX');
    this.runs.set(run.id, run);
    this.settledWaiters.set(run.id, settled);
    return run;
  }

  // ---- scripts ----
  private newCall(number: PhoneNumber, from: string, at: number): Call {
    return this.store.addCall({
      sid: this.store.sids.make('CA'), accountSid: this.acct.accountSid, from, to: number.phoneNumber, phoneNumberSid: number.sid,
      status: 'ringing', direction: 'inbound', dateCreated: at, dateUpdated: at, startTime: at, endTime: null, answeredAt: null, duration: null,
    });
  }

  private registerLive(call: Call): LiveCall {
    const l: LiveCall = { hungUp: false, hangup: () => undefined };
    l.hangup = () => {
      l.hungUp = true;
      l.wake?.();
    };
    this.live.set(call.sid, l);
    return l;
  }

  private async voice(run: ScenarioRun, p: CreateCallParams): Promise<void> {
    const sc = run.scenario;
    const d = this.defaults;
    const ringMs = p.ringMs ?? d.ringMs;
    const talkMs = p.talkMs ?? d.talkMs;
    const wrapMs = p.wrapMs ?? d.wrapMs;
    const stepMs = p.stepMs ?? d.stepMs;
    const events = p.callbackEvents ?? d.callbackEvents;
    const ago = p.agoMs ?? 0;
    const T = () => this.store.clock.now() - ago;
    const number = this.numberFor(p.to);
    const flowSid = flowSidFromUrl(number.voiceUrl);
    const flow: Flow | undefined = flowSid ? this.store.flows.get(flowSid) : undefined;
    const call = this.newCall(number, p.from ?? randomCaller(this.rng), T());
    call.scenario = sc;
    run.callSid = call.sid;
    const live = this.registerLive(call);
    const ws = this.workspace();
    const sip: Record<string, string> = sc === 'sip-cancel-487' ? { SipResponseCode: '487' } : {};
    try {
      void this.callbacks.send(call, number, 'initiated', events);
      void this.callbacks.send(call, number, 'ringing', events);
      let ex;
      if (flow) {
        const r = this.studio.startVoiceExecution(call, flow, T());
        if ('blockedBy' in r) {
          // Studio refuses the call (the caller hears an out-of-service message); the call ends quickly.
          call.blockedByExecutionSid = r.blockedBy.sid;
          run.blockedByExecutionSid = r.blockedBy.sid;
          this.store.blockedCalls.push({ callSid: call.sid, flowSid: flow.sid, from: call.from, blockedByExecutionSid: r.blockedBy.sid, at: T() });
          await this.sleep(stepMs);
          this.store.setCallStatus(call, 'in-progress', T());
          void this.callbacks.send(call, number, 'answered', events);
          await this.sleep(stepMs);
          this.store.setCallStatus(call, 'completed', T());
          await this.callbacks.send(call, number, 'completed', events);
          return;
        }
        ex = r.execution;
        call.executionSid = ex.sid;
        call.flowSid = flow.sid;
        run.executionSid = ex.sid;
      }
      await this.sleep(stepMs, live);

      if (sc === 'hangup-before-twiml' || sc === 'sip-cancel-487') {
        await this.sleep(ringMs, live);
        if (!isTerminalCallStatus(call.status)) this.store.setCallStatus(call, 'canceled', T());
        if (ex && flow) this.studio.stopListening(ex, flow, T());
        await this.callbacks.send(call, number, 'completed', events, sip);
        return;
      }

      let task: Task | undefined;
      if (ex && flow && !live.hungUp) {
        const at = this.studio.runToTwiml(ex, flow, T());
        const w = flow.definition.states.find((s) => s.name === at);
        if (w?.type === 'send-to-flex') {
          const attributes =
            sc === 'task-unparsable'
              ? unparsableAttributes(call.sid)
              : voiceTaskAttributes(call, sc === 'task-custom-orchestration' ? { custom_orchestration: true, orchestration: 'custom' } : {});
          task = this.tr.create(ws, { attributes, channelUniqueName: 'voice', createdAt: T() });
          call.taskSid = task.sid;
          run.taskSid = task.sid;
        }
      }
      await this.sleep(ringMs, live);
      if (!live.hungUp) {
        this.store.setCallStatus(call, 'in-progress', T());
        void this.callbacks.send(call, number, 'answered', events);
        if (task && sc !== 'desync-pending' && sc !== 'task-unparsable') {
          this.tr.reserve(ws, task);
          await this.sleep(stepMs, live);
          if (sc !== 'desync-reserved' && !live.hungUp) this.tr.accept(ws, task);
        }
        await this.sleep(talkMs, live);
      }
      // The call ends (or the caller gave up while it rang). A REST hang-up may already have set the status.
      if (!isTerminalCallStatus(call.status)) this.store.setCallStatus(call, call.status === 'in-progress' ? 'completed' : 'canceled', T());
      // The agent's leg ends with the call: TaskRouter moves the Task on whether or not the status callback has
      // been delivered yet (under load that delivery, webhook and 302 to Studio, can take seconds).
      const delivered = this.callbacks.send(call, number, 'completed', events, {}, sc === 'lost-final-webhook');
      await Promise.all([delivered, this.afterCall(sc, ws, task, wrapMs)]);
    } finally {
      if (!['live-long'].includes(sc)) this.live.delete(call.sid);
    }
  }

  /** What TaskRouter does with the call's Task once the call is over: the agent wraps up and completes it. */
  private async afterCall(sc: ScenarioName, ws: Workspace, task: Task | undefined, wrapMs: number): Promise<void> {
    if (!task || ['desync-pending', 'desync-reserved', 'desync-assigned', 'task-unparsable', 'task-custom-orchestration'].includes(sc)) return;
    if (task.status === 'pending' || task.status === 'reserved') {
      this.tr.cancel(task);
      return;
    }
    this.tr.wrap(ws, task);
    await this.sleep(wrapMs);
    this.tr.complete(ws, task);
  }

  private async liveLong(run: ScenarioRun, p: CreateCallParams): Promise<void> {
    const startedAgo = p.startedAgoMs ?? 5 * 3_600_000;
    const now = this.store.clock.now();
    const t0 = now - startedAgo;
    const number = this.numberFor(p.to);
    const flow = this.store.flows.get(flowSidFromUrl(number.voiceUrl) ?? '');
    const ws = this.workspace();
    const events = p.callbackEvents ?? this.defaults.callbackEvents;
    const call = this.newCall(number, p.from ?? randomCaller(this.rng), t0);
    call.scenario = 'live-long';
    run.callSid = call.sid;
    const live = this.registerLive(call);
    this.store.setCallStatus(call, 'in-progress', t0 + 5_000);
    let task: Task | undefined;
    if (flow) {
      const r = this.studio.startVoiceExecution(call, flow, t0);
      if ('execution' in r) {
        this.studio.runToTwiml(r.execution, flow, t0 + 1_000);
        call.executionSid = r.execution.sid;
        call.flowSid = flow.sid;
        run.executionSid = r.execution.sid;
        task = this.tr.create(ws, { attributes: voiceTaskAttributes(call), channelUniqueName: 'voice', createdAt: t0 + 1_000, status: 'assigned', quiet: true });
        call.taskSid = task.sid;
        run.taskSid = task.sid;
      }
    }
    run.settled = true;
    // Settled now; the rest only happens when someone hangs it up.
    void (async () => {
      await this.sleep(Number.POSITIVE_INFINITY, live);
      if (this.closed) return;
      if (!isTerminalCallStatus(call.status)) this.store.setCallStatus(call, 'completed');
      const delivered = this.callbacks.send(call, number, 'completed', events);
      const wrapped = (async () => {
        if (!task || task.status !== 'assigned') return;
        this.tr.wrap(ws, task);
        await this.sleep(p.wrapMs ?? this.defaults.wrapMs);
        this.tr.complete(ws, task);
      })();
      await Promise.all([delivered, wrapped]);
      this.live.delete(call.sid);
    })();
  }

  private async abandonedMessaging(run: ScenarioRun, p: CreateCallParams): Promise<void> {
    const sms = run.scenario === 'abandoned-sms';
    const flow = this.store.flows.get(sms ? this.acct.messagingFlowSid : this.acct.webchatFlowSid)!;
    const now = this.store.clock.now();
    const age = p.ageMs ?? 5 * 3_600_000;
    const lastStepAge = Math.min(p.lastStepAgeMs ?? age, age);
    const contact = sms ? p.from ?? randomCaller(this.rng) : this.store.sids.make('CH');
    const ex = this.studio.createMessagingExecution(flow, sms ? 'sms' : 'webchat', { contact, flowAddress: this.acct.phoneNumber, createdAt: now - age, lastStepAt: now - lastStepAge });
    run.executionSid = ex.sid;
  }

  private async chatTask(run: ScenarioRun): Promise<void> {
    const ws = this.workspace();
    const task = this.tr.create(ws, { attributes: chatTaskAttributes(this.store.sids.make('CH'), this.rng), channelUniqueName: 'chat' });
    run.taskSid = task.sid;
  }

  /** The actual state of a run's resources, comparable with `SCENARIOS[name].expect`. */
  observed(id: string): { callStatus: string | null; executionStatus: string | null; taskStatus: string | null } {
    const run = this.runs.get(id);
    const call = run?.callSid ? this.store.calls.get(run.callSid) : undefined;
    const ex = run?.executionSid ? this.store.executions.get(run.executionSid) : undefined;
    const task = run?.taskSid ? this.store.tasks.get(run.taskSid) : undefined;
    return { callStatus: call?.status ?? null, executionStatus: ex?.status ?? null, taskStatus: task?.status ?? null };
  }
}

export { SCENARIOS };
