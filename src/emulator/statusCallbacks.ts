/**
 * Voice status callbacks as Twilio sends them for an inbound call: the form post to the number's status callback
 * (through the webhook sender, which signs it and follows redirects), or a drop (a fault, or a scenario's lost webhook).
 */
import type { EmulatedClock } from './clock';
import type { Faults } from './faults';
import { rfc2822 } from './format';
import type { Call, PhoneNumber } from './records';
import type { WebhookSender } from './webhooks';

export type CallbackEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

export interface WebhookCounters {
  webhooksSent: number;
  webhooksDropped: number;
  webhooksFailed: number;
}

export class StatusCallbacks {
  constructor(
    private readonly clock: EmulatedClock,
    private readonly webhooks: WebhookSender,
    private readonly faults: Faults,
    private readonly counters: WebhookCounters,
  ) {}

  /** Sends (or drops) one status callback; resolves when it has been delivered, so a scenario settles after Studio heard it. */
  send(call: Call, number: PhoneNumber, event: CallbackEvent, events: CallbackEvent[], extra: Record<string, string> = {}, suppress = false): Promise<void> {
    if (!events.includes(event) || !number.statusCallback) return Promise.resolve();
    const seq = call.callbackSeq++;
    const final = event === 'completed';
    const params: Record<string, string> = {
      Called: call.to, ToState: 'CA', CallerCountry: 'US', Direction: 'inbound', Timestamp: rfc2822(this.clock.now()),
      CallbackSource: 'call-progress-events', CallerState: 'CA', ToZip: '94105', SequenceNumber: String(seq), CallSid: call.sid,
      To: call.to, CallerZip: '94105', ToCountry: 'US', CalledZip: '94105', ApiVersion: '2010-04-01', CalledCity: 'SAN FRANCISCO',
      CallStatus: event === 'initiated' ? 'initiated' : event === 'answered' ? 'in-progress' : final ? call.status : 'ringing',
      From: call.from, AccountSid: call.accountSid, CalledCountry: 'US', CallerCity: 'SAN FRANCISCO', ToCity: 'SAN FRANCISCO',
      FromCountry: 'US', Caller: call.from, FromCity: 'SAN FRANCISCO', CalledState: 'CA', FromZip: '94105', FromState: 'CA',
      ...(final ? { CallDuration: String(call.duration ?? 0), Duration: String(Math.ceil((call.duration ?? 0) / 60)) } : {}),
      ...extra,
    };
    const d = { kind: 'status-callback' as const, url: number.statusCallback, method: number.statusCallbackMethod, params, callSid: call.sid, eventType: event };
    if (suppress || this.faults.dropCallback('status')) {
      this.counters.webhooksDropped++;
      this.webhooks.recordDropped(d);
      return Promise.resolve();
    }
    this.counters.webhooksSent++;
    return this.webhooks.send(d).then((r) => {
      if (r.finalStatus === null || r.finalStatus >= 400) this.counters.webhooksFailed++;
    });
  }
}
