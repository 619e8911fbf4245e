/**
 * Event Streams as Twilio delivers it to a webhook Sink: CloudEvents 1.0 batched into JSON arrays, POSTed to the
 * Sink's destination with `bodySHA256` (hex SHA-256 of the body) appended to the URL and `X-Twilio-Signature`
 * (HMAC-SHA1 of that full URL, keyed by the auth token). Studio `com.twilio.studio.flow.execution.started|ended` and
 * TaskRouter `com.twilio.taskrouter.task.*`, with the `data` fields Twilio's event-type pages document.
 *
 * Faults, per batch: `drop` (never delivered), `duplicate` (delivered twice), `delayMs` (each batch waits a random
 * time up to it, so later batches overtake earlier ones), `reorder` (events within a batch reversed).
 */
import { createHash } from 'node:crypto';
import twilio from 'twilio';
import type { Rng } from './ids';
import type { Execution, Task, TrEvent } from './state';

export interface EventStreamsSink {
  /** The Sink's `destination` (the webhook's `/twilio/event-streams` URL). */
  destination: string;
  /** Events are gathered for this long (real ms) into one batch (default 20). */
  batchWindowMs?: number;
  /** Most events in one batch (default 50). */
  maxBatch?: number;
  /** Subscribed types (default: the Studio execution and TaskRouter task types). */
  types?: string[];
  /** Chance (0..1) that a batch is never delivered. */
  drop?: number;
  /** Chance (0..1) that a batch is delivered twice. */
  duplicate?: number;
  /** Each delivery waits a random 0..delayMs real ms. */
  delayMs?: number;
  /** Reverse the events in each batch. */
  reorder?: boolean;
}

export interface EventStreamsCounters {
  batchesSent: number;
  batchesDropped: number;
  batchesDuplicated: number;
  eventsEmitted: number;
  /** Answers by HTTP status (`error` for none). */
  answers: Record<string, number>;
}

interface CloudEvent {
  specversion: '1.0';
  type: string;
  source: string;
  id: string;
  dataschema: string;
  datacontenttype: 'application/json';
  time: string;
  data: Record<string, unknown>;
}

const DEFAULT_TYPES = ['com.twilio.studio.flow.execution.started', 'com.twilio.studio.flow.execution.ended', 'com.twilio.taskrouter.task.*'];

function subscribed(types: string[], type: string): boolean {
  return types.some((t) => t === type || (t.endsWith('.*') && type.startsWith(t.slice(0, -1))));
}

export class EventStreamsEmitter {
  sink: EventStreamsSink | undefined;
  readonly counters: EventStreamsCounters = { batchesSent: 0, batchesDropped: 0, batchesDuplicated: 0, eventsEmitted: 0, answers: {} };
  private pending: CloudEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private seq = 0;
  private closed = false;

  constructor(
    private readonly authToken: () => string,
    private readonly rng: Rng,
  ) {}

  configure(sink: EventStreamsSink | undefined): void {
    this.sink = sink ? { ...sink } : undefined;
    this.pending = [];
    if (sink) new URL(sink.destination); // a bad destination fails here, as Twilio refuses it at create time
  }

  resetCounters(): void {
    Object.assign(this.counters, { batchesSent: 0, batchesDropped: 0, batchesDuplicated: 0, eventsEmitted: 0, answers: {} });
  }

  execution(ex: Execution, event: 'started' | 'ended', now: number): void {
    this.emit(`com.twilio.studio.flow.execution.${event}`, `/v2/Flows/${ex.flowSid}/Executions/${ex.sid}`, 'https://events-schemas.twilio.com/Studio.FlowExecutionEvent/2', now, {
      execution_sid: ex.sid,
      account_sid: ex.accountSid,
      flow_sid: ex.flowSid,
      contact_channel_address: ex.contactAddress,
      status: ex.status,
      ...(event === 'ended' ? { ended_reason: 'FLOW_END' } : {}),
      date_created: new Date(ex.dateCreated).toISOString(),
      date_updated: new Date(ex.dateUpdated).toISOString(),
      started_by: ex.initiatedBy ?? ex.callSid ?? null,
      flow_revision: ex.flowVersion,
    });
  }

  task(ev: TrEvent, t: Task): void {
    if (!ev.eventType.startsWith('task.')) return;
    this.emit(`com.twilio.taskrouter.${ev.eventType}`, `/v1/Workspaces/${t.workspaceSid}/Tasks/${t.sid}`, 'https://events-schemas.twilio.com/TaskRouter.WDSTaskEvent/1', ev.date, {
      ...ev.data,
      account_sid: ev.accountSid,
      workspace_sid: ev.workspaceSid,
      event_type: ev.eventType,
      event_description: ev.description,
      resource_type: ev.resourceType,
      resource_sid: ev.resourceSid,
      timestamp: ev.date,
    });
  }

  private emit(type: string, source: string, dataschema: string, at: number, data: Record<string, unknown>): void {
    const sink = this.sink;
    if (!sink || this.closed || !subscribed(sink.types ?? DEFAULT_TYPES, type)) return;
    this.counters.eventsEmitted++;
    this.pending.push({ specversion: '1.0', type, source, id: `EZ${(++this.seq).toString(16).padStart(32, '0')}`, dataschema, datacontenttype: 'application/json', time: new Date(at).toISOString(), data });
    if (this.pending.length >= (sink.maxBatch ?? 50)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), sink.batchWindowMs ?? 20);
  }

  /** Sends what is gathered now (tests call it to settle). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const sink = this.sink;
    const batch = this.pending;
    this.pending = [];
    if (!sink || batch.length === 0) return;
    if (this.rng.next() < (sink.drop ?? 0)) {
      this.counters.batchesDropped++;
      return;
    }
    const events = sink.reorder ? [...batch].reverse() : batch;
    const copies = this.rng.next() < (sink.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) this.counters.batchesDuplicated++;
    for (let i = 0; i < copies; i++) {
      const p = this.deliver(sink, events).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Resolves when nothing is gathered or on its way. */
  async settle(): Promise<void> {
    this.flush();
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private async deliver(sink: EventStreamsSink, events: CloudEvent[]): Promise<void> {
    const delay = sink.delayMs ? Math.floor(this.rng.next() * sink.delayMs) : 0;
    if (delay) await new Promise((r) => setTimeout(r, delay));
    if (this.closed) return;
    const body = JSON.stringify(events);
    // fetch refuses a URL with credentials: they go, as Event Streams sends them, in a Basic Authorization header.
    const dest = new URL(sink.destination);
    const auth = dest.username ? `Basic ${Buffer.from(`${decodeURIComponent(dest.username)}:${decodeURIComponent(dest.password)}`).toString('base64')}` : undefined;
    dest.username = '';
    dest.password = '';
    const destination = dest.toString();
    const hash = createHash('sha256').update(body).digest('hex');
    const url = `${destination}${destination.includes('?') ? '&' : '?'}bodySHA256=${hash}`;
    const signature = twilio.getExpectedTwilioSignature(this.authToken(), url, {});
    this.counters.batchesSent++;
    let key: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Twilio-Signature': signature, 'User-Agent': 'Twilio-Event-Streams', ...(auth ? { Authorization: auth } : {}) },
        body,
        signal: AbortSignal.timeout(5000), // the Sink's documented response timeout
      });
      await res.arrayBuffer().catch(() => undefined);
      key = String(res.status);
    } catch {
      key = 'error';
    }
    this.counters.answers[key] = (this.counters.answers[key] ?? 0) + 1;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
