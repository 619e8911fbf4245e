/** Fast bulk seeding of past calls, Tasks and Executions (no webhooks, no events: nobody was listening then). */
import type { Rng } from './ids';
import { chatTaskAttributes, randomCaller, unparsableAttributes, voiceTaskAttributes } from './seed';
import type { SeededAccount } from './seed';
import type { Call, Store, TaskStatus } from './state';
import type { Studio } from './studio';
import type { TaskRouter } from './taskrouter';

/**
 * `voiceEnded`: the call is over, its Task still open. `voiceLive`: the call is in progress. `chat`: a webchat Task.
 * `unparsable`: truncated attributes JSON. `callback`: a callback Task (Flex's queued-callback pattern) carrying the
 * `call_sid` of a call that had already ended when the Task was created.
 */
export type SeedTaskCategory = 'voiceEnded' | 'voiceLive' | 'chat' | 'unparsable' | 'callback';
export interface SeedTasksOptions {
  count: number;
  /** Ratios by category (normalised); default all `voiceEnded`. */
  mix?: Partial<Record<SeedTaskCategory, number>>;
  /** Task statuses to draw from for each Task (default pending, reserved, assigned). */
  assignmentStatuses?: TaskStatus[];
  /** How long ago the calls and Tasks were created (default 1 h). */
  ageMs?: number;
  /** Creation times spread over this many ms before `now - ageMs` (default 60 s). */
  spreadMs?: number;
  /**
   * Ended calls (`voiceEnded`, `unparsable`, `callback`): how long ago they ended (`end_time`). Default: after a random
   * 30 s–10 min talk, and never in the future.
   */
  callEndedAgoMs?: number;
  /** `callback`: how long after its call ended the callback Task was created (default 2 min; at the latest now). */
  callbackDelayMs?: number;
  workspaceSid?: string;
}
export interface SeedTasksResult {
  taskSids: string[];
  byCategory: Record<SeedTaskCategory, { taskSids: string[]; callSids: string[] }>;
  byStatus: Partial<Record<TaskStatus, number>>;
}

export interface SeedExecutionsOptions {
  count: number;
  /** `voice-ended-call`: call over, Execution stuck active; `voice-live-call`: call still in progress; `sms`/`webchat`: abandoned Send & Wait. */
  kind: 'voice-ended-call' | 'voice-live-call' | 'sms' | 'webchat';
  /** How long ago the Executions (and, for voice, their calls) were created (default 5 h). */
  ageMs?: number;
  /** How long ago their last step happened (default = ageMs). */
  lastStepAgeMs?: number;
  /** `voice-ended-call`: how long ago the call ended (default: a random 30 s–10 min talk, never in the future). */
  callEndedAgoMs?: number;
  /** Default: the seeded Flex flow (voice), Messaging flow (sms), Webchat flow (webchat). */
  flowSid?: string;
}
export interface SeedExecutionsResult {
  executionSids: string[];
  callSids: string[];
}

/** Flex's queued-callback Task: the caller asked to be called back, so the Task outlives the call it names. */
function callbackTaskAttributes(call: Pick<Call, 'sid' | 'from' | 'to'>, requestedAt: number): string {
  return JSON.stringify({
    taskType: 'callback',
    type: 'callback',
    name: `Callback: ${call.from}`,
    call_sid: call.sid,
    from: call.from,
    to: call.to,
    direction: 'inbound',
    callBackData: { number: call.from, utcDateTimeReceived: new Date(requestedAt).toISOString(), attempts: 0 },
    conversations: { conversation_id: call.sid },
  });
}

function allocate<K extends string>(count: number, mix: Partial<Record<K, number>>): [K, number][] {
  const entries = Object.entries(mix).filter(([, v]) => typeof v === 'number' && (v as number) > 0) as [K, number][];
  const total = entries.reduce((s, [, v]) => s + v, 0);
  const out = entries.map(([k, v]) => [k, Math.floor((count * v) / total)] as [K, number]);
  let rest = count - out.reduce((s, [, n]) => s + n, 0);
  for (let i = 0; rest > 0; i = (i + 1) % out.length, rest--) out[i]![1]++;
  return out;
}

export class BulkSeeder {
  constructor(
    private readonly store: Store,
    private readonly studio: Studio,
    private readonly tr: TaskRouter,
    private readonly acct: SeededAccount,
    private readonly rng: Rng,
  ) {}

  /** A past inbound call, answered 5 s after it started; an ended one ends at `endAt` (default: a random talk, capped at now). */
  private pastCall(createdAt: number, live: boolean, o: { endAt?: number; flowSid?: string } = {}): Call {
    const from = randomCaller(this.rng);
    const talk = 30_000 + Math.floor(this.rng.next() * 600_000);
    const now = this.store.clock.now();
    const endedAt = live ? null : Math.max(createdAt, Math.min(o.endAt ?? createdAt + 5_000 + talk, now));
    const answeredAt = endedAt === null ? createdAt + 5_000 : Math.min(createdAt + 5_000, endedAt);
    return this.store.addCall({
      sid: this.store.sids.make('CA'),
      accountSid: this.acct.accountSid,
      from,
      to: this.acct.phoneNumber,
      phoneNumberSid: this.acct.phoneNumberSid,
      status: live ? 'in-progress' : 'completed',
      direction: 'inbound',
      dateCreated: createdAt,
      dateUpdated: endedAt ?? answeredAt,
      startTime: createdAt,
      endTime: endedAt,
      answeredAt,
      duration: endedAt === null ? null : Math.round((endedAt - answeredAt) / 1000),
      scenario: live ? 'seed:voice-live' : 'seed:voice-ended',
      flowSid: o.flowSid ?? this.acct.flexFlowSid,
    });
  }

  seedTasks(o: SeedTasksOptions): SeedTasksResult {
    const ws = this.store.workspaces.get(o.workspaceSid ?? this.acct.workspaceSid);
    if (!ws) throw new Error(`unknown workspace ${o.workspaceSid}`);
    const statuses = o.assignmentStatuses?.length ? o.assignmentStatuses : (['pending', 'reserved', 'assigned'] as TaskStatus[]);
    const now = this.store.clock.now();
    const ageMs = o.ageMs ?? 3_600_000;
    const spread = o.spreadMs ?? 60_000;
    const callbackDelay = o.callbackDelayMs ?? 120_000;
    if (o.callEndedAgoMs !== undefined && o.callEndedAgoMs > ageMs) throw new Error(`callEndedAgoMs ${o.callEndedAgoMs} is more than ageMs ${ageMs}: a call cannot end before it starts`);
    if (o.mix?.callback && o.callEndedAgoMs !== undefined && callbackDelay > o.callEndedAgoMs) {
      throw new Error(`a callback Task ${callbackDelay} ms after a call that ended ${o.callEndedAgoMs} ms ago would be created in the future`);
    }
    const plan = allocate<SeedTaskCategory>(o.count, o.mix ?? { voiceEnded: 1 });
    const byCategory = {} as SeedTasksResult['byCategory'];
    for (const k of ['voiceEnded', 'voiceLive', 'chat', 'unparsable', 'callback'] as const) byCategory[k] = { taskSids: [], callSids: [] };
    const byStatus: Partial<Record<TaskStatus, number>> = {};
    const taskSids: string[] = [];
    // Interleave categories so pages mix them, oldest first.
    const queue: SeedTaskCategory[] = [];
    for (const [k, n] of plan) for (let i = 0; i < n; i++) queue.push(k);
    for (let i = queue.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng.next() * (i + 1));
      [queue[i], queue[j]] = [queue[j]!, queue[i]!];
    }
    queue.forEach((cat, i) => {
      const createdAt = now - ageMs - spread + Math.floor((spread * i) / Math.max(1, queue.length));
      const status = this.rng.pick(statuses);
      let attributes: string;
      let channel = 'voice';
      let taskCreatedAt = createdAt + 2_000;
      if (cat === 'chat') {
        attributes = chatTaskAttributes(this.store.sids.make('CH'), this.rng);
        channel = 'chat';
      } else {
        const call = this.pastCall(createdAt, cat === 'voiceLive', { endAt: o.callEndedAgoMs === undefined ? undefined : now - o.callEndedAgoMs });
        byCategory[cat].callSids.push(call.sid);
        if (cat === 'callback') {
          // A random end (no callEndedAgoMs) may be too recent for the delay: the Task is then created now.
          taskCreatedAt = Math.min(call.endTime! + callbackDelay, now);
          attributes = callbackTaskAttributes(call, call.endTime!);
        } else {
          attributes = cat === 'unparsable' ? unparsableAttributes(call.sid) : voiceTaskAttributes(call);
        }
      }
      const t = this.tr.create(ws, { attributes, channelUniqueName: channel, status, createdAt: taskCreatedAt, quiet: true });
      // The call's own Task (not a callback created after it).
      if (t.callSid && cat !== 'callback') this.store.calls.get(t.callSid)!.taskSid = t.sid;
      byCategory[cat].taskSids.push(t.sid);
      taskSids.push(t.sid);
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    });
    return { taskSids, byCategory, byStatus };
  }

  seedExecutions(o: SeedExecutionsOptions): SeedExecutionsResult {
    const now = this.store.clock.now();
    const ageMs = o.ageMs ?? 5 * 3_600_000;
    const lastStepAgeMs = Math.min(o.lastStepAgeMs ?? ageMs, ageMs);
    if (o.callEndedAgoMs !== undefined && o.callEndedAgoMs > ageMs) throw new Error(`callEndedAgoMs ${o.callEndedAgoMs} is more than ageMs ${ageMs}: a call cannot end before it starts`);
    const flowSid = o.flowSid ?? (o.kind === 'sms' ? this.acct.messagingFlowSid : o.kind === 'webchat' ? this.acct.webchatFlowSid : this.acct.flexFlowSid);
    const flow = this.store.flows.get(flowSid);
    if (!flow) throw new Error(`no Flow ${flowSid}`);
    const executionSids: string[] = [];
    const callSids: string[] = [];
    for (let i = 0; i < o.count; i++) {
      const createdAt = now - ageMs + i;
      const lastStepAt = now - lastStepAgeMs + i;
      if (o.kind === 'sms' || o.kind === 'webchat') {
        const contact = o.kind === 'sms' ? randomCaller(this.rng) : this.store.sids.make('CH');
        const ex = this.studio.createMessagingExecution(flow, o.kind, { contact, flowAddress: this.acct.phoneNumber, createdAt, lastStepAt });
        executionSids.push(ex.sid);
      } else {
        const live = o.kind === 'voice-live-call';
        const endAt = o.callEndedAgoMs === undefined ? undefined : now - o.callEndedAgoMs + i;
        const call = this.pastCall(createdAt, live, { endAt, flowSid: flow.sid });
        const r = this.studio.startVoiceExecution(call, flow, createdAt);
        if (!('execution' in r)) continue;
        const ex = r.execution;
        this.studio.runToTwiml(ex, flow, lastStepAt);
        call.executionSid = ex.sid;
        executionSids.push(ex.sid);
        callSids.push(call.sid);
      }
    }
    return { executionSids, callSids };
  }
}
