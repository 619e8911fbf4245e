/** Studio's engine, as far as the emulator needs it: executions started by calls and messages, steps, endings. */
import { TwilioHttpError } from './format';
import type { Call, Execution, Flow, Store } from './state';
import { isTerminalCallStatus } from '../shared/constants';

const TWIML_WIDGETS = new Set([
  'say-play', 'gather-input-on-call', 'send-to-flex', 'enqueue-call', 'connect-call-to', 'record-voicemail',
  'add-twiml-redirect', 'fork-stream', 'record-call', 'capture-payments', 'connect-virtual-agent',
]);

function isTwimlWidget(type: string): boolean {
  return TWIML_WIDGETS.has(type);
}

/** Extracts the FlowSid from a Studio webhook URL on any host (`…/v1/Accounts/AC…/Flows/FW…`). */
export function flowSidFromUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  const m = /\/v1\/Accounts\/AC[0-9a-fA-F]{32}\/Flows\/(FW[0-9a-fA-F]{32})(?:[/?#]|$)/.exec(url);
  return m?.[1];
}

function widget(flow: Flow, name: string) {
  return flow.definition.states.find((s) => s.name === name);
}

/** The transition a widget takes on `event` (or, when no event is given, its first transition with a target). */
function nextOf(flow: Flow, from: string, event?: string): { event: string; next: string | undefined } | undefined {
  const w = widget(flow, from);
  if (!w) return undefined;
  const t = event ? w.transitions.find((x) => x.event === event) : w.transitions.find((x) => x.next);
  return t ? { event: t.event, next: t.next } : undefined;
}

function voiceContext(call: Call, flow: Flow): Record<string, unknown> {
  return {
    trigger: {
      call: {
        CallSid: call.sid,
        AccountSid: call.accountSid,
        From: call.from,
        To: call.to,
        Caller: call.from,
        Called: call.to,
        CallStatus: 'ringing',
        Direction: 'inbound',
        ApiVersion: '2010-04-01',
        FromCountry: 'US',
        FromState: 'CA',
        FromCity: 'SAN FRANCISCO',
        FromZip: '94105',
        ToCountry: 'US',
        ToState: 'CA',
        ToCity: 'SAN FRANCISCO',
        ToZip: '94105',
        CallerCountry: 'US',
        CalledCountry: 'US',
      },
    },
    contact: { channel: { address: call.from } },
    flow: { flow_sid: flow.sid, channel: { address: call.to }, sid: flow.sid, data: {}, variables: {} },
    widgets: {},
  };
}

export class Studio {
  constructor(private readonly store: Store) {}

  currentWidget(ex: Execution): string {
    return ex.steps[ex.steps.length - 1]?.transitionedTo ?? 'Trigger';
  }

  /**
   * A call reached the flow: starts an Execution and takes the Trigger's `incomingCall` transition. When the flow
   * does not allow concurrent calls and the caller already has an active call execution, returns the blocker.
   */
  startVoiceExecution(call: Call, flow: Flow, at: number): { execution: Execution } | { blockedBy: Execution } {
    if (!flow.definition.flags.allow_concurrent_calls) {
      const active = this.store.activeExecutionsForContact(flow.sid, call.from).filter((e) => e.kind === 'voice');
      if (active[0]) return { blockedBy: active[0] };
    }
    const ex = this.store.addExecution({
      sid: this.store.sids.make('FN'),
      accountSid: call.accountSid,
      flowSid: flow.sid,
      contactAddress: call.from,
      contactSid: this.store.sids.make('FC'),
      flowVersion: flow.revision,
      status: 'active',
      dateCreated: at,
      dateUpdated: at,
      initiatedBy: call.sid,
      context: voiceContext(call, flow),
      kind: 'voice',
      callSid: call.sid,
    });
    this.advance(ex, flow, 'incomingCall', at);
    return { execution: ex };
  }

  /** Takes one transition from the current widget; returns the widget reached (undefined when the flow ends). */
  advance(ex: Execution, flow: Flow, event: string | undefined, at: number): string | undefined {
    const from = this.currentWidget(ex);
    const fromWidget = widget(flow, from);
    const t = nextOf(flow, from, event);
    const to = t?.next ?? 'Ended';
    this.store.addStep(ex, { name: t?.event ?? event ?? 'Ended', transitionedFrom: from, transitionedTo: to, type: fromWidget?.type ?? 'trigger', context: {} }, at);
    if (fromWidget && fromWidget.type !== 'trigger') (ex.context.widgets as Record<string, unknown>)[from] = {};
    return t?.next;
  }

  /** Walks forward while the next widget is not a TwiML widget; returns the widget it stopped on. */
  runToTwiml(ex: Execution, flow: Flow, at: number): string {
    for (let i = 0; i < 20; i++) {
      const cur = this.currentWidget(ex);
      const w = widget(flow, cur);
      if (!w || isTwimlWidget(w.type) || cur === 'Ended') return cur;
      if (!this.advance(ex, flow, undefined, at)) return 'Ended';
    }
    return this.currentWidget(ex);
  }

  /** The caller left while Studio ran non-TwiML widgets: the log shows "Stop Execution" and Studio stops listening. */
  stopListening(ex: Execution, flow: Flow, at: number): void {
    const from = this.currentWidget(ex);
    const w = widget(flow, from);
    const t = nextOf(flow, from);
    this.store.addStep(ex, { name: t?.event ?? 'noMatch', transitionedFrom: from, transitionedTo: 'Stop Execution', type: w?.type ?? 'split-based-on', context: {} }, at);
    ex.deaf = true;
  }

  /** Studio's webhook received a call status callback: a final status ends the call's active Execution. */
  receiveStatusCallback(flowSid: string, params: Record<string, string>, at: number): 'ended' | 'ignored' {
    const callSid = params.CallSid;
    const status = params.CallStatus;
    if (!callSid || !status || !isTerminalCallStatus(status)) return 'ignored';
    const ex = this.store.executionByCall.get(callSid);
    if (!ex || ex.flowSid !== flowSid || ex.status !== 'active' || ex.deaf) return 'ignored';
    const flow = this.store.flows.get(flowSid);
    const from = this.currentWidget(ex);
    const w = flow ? widget(flow, from) : undefined;
    const event = w?.type === 'send-to-flex' ? 'callComplete' : w?.transitions.find((x) => /complete/i.test(x.event))?.event ?? 'callComplete';
    this.store.addStep(ex, { name: event, transitionedFrom: from, transitionedTo: 'Ended', type: w?.type ?? 'trigger', context: { CallStatus: status } }, at);
    this.store.endExecution(ex, at);
    return 'ended';
  }

  /** REST-triggered execution (`POST /v2/Flows/{FW}/Executions`): one active per contact. */
  createRestExecution(flow: Flow, to: string, from: string, parameters: Record<string, unknown>, at: number): Execution {
    const existing = this.store.activeExecutionsForContact(flow.sid, to).filter((e) => e.kind === 'rest');
    if (existing.length) {
      // Twilio's exact answer here is undocumented; 409 is what users report.
      throw new TwilioHttpError(409, 20409, `Execution ${existing[0]!.sid} is already active for contact ${to}`);
    }
    const requestSid = this.store.sids.make('RQ');
    const ex = this.store.addExecution({
      sid: this.store.sids.make('FN'),
      accountSid: flow.accountSid,
      flowSid: flow.sid,
      contactAddress: to,
      contactSid: this.store.sids.make('FC'),
      flowVersion: flow.revision,
      status: 'active',
      dateCreated: at,
      dateUpdated: at,
      initiatedBy: requestSid,
      context: {
        trigger: { request: { parameters } },
        contact: { channel: { address: to } },
        flow: { flow_sid: flow.sid, channel: { address: from }, sid: flow.sid, data: parameters, variables: {} },
        widgets: {},
      },
      kind: 'rest',
    });
    this.advance(ex, flow, 'incomingRequest', at);
    return ex;
  }

  /** An inbound SMS or webchat message started the flow, which now waits on Send & Wait for Reply. */
  createMessagingExecution(
    flow: Flow,
    kind: 'sms' | 'webchat',
    p: { contact: string; flowAddress: string; createdAt: number; lastStepAt: number; body?: string },
  ): Execution {
    const sids = this.store.sids;
    let initiatedBy: string;
    let trigger: Record<string, unknown>;
    let event: string;
    if (kind === 'sms') {
      initiatedBy = sids.make('SM');
      event = 'incomingMessage';
      trigger = {
        message: {
          MessageSid: initiatedBy, SmsSid: initiatedBy, AccountSid: flow.accountSid, From: p.contact, To: p.flowAddress,
          Body: p.body ?? 'Hi, I need help', NumMedia: '0', ChannelSid: null,
        },
      };
    } else {
      initiatedBy = sids.make('IM');
      event = 'incomingConversationMessage';
      trigger = {
        conversation: {
          ConversationSid: p.contact, MessageSid: initiatedBy, AccountSid: flow.accountSid, ChatServiceSid: 'IS' + flow.sid.slice(2),
          Author: `webchat-guest-${initiatedBy.slice(2, 10)}`, Body: p.body ?? 'Hello?', Source: 'SDK', ParticipantSid: sids.make('MB'),
          EventType: 'onMessageAdded',
        },
      };
    }
    const ex = this.store.addExecution({
      sid: sids.make('FN'),
      accountSid: flow.accountSid,
      flowSid: flow.sid,
      contactAddress: p.contact,
      contactSid: sids.make('FC'),
      flowVersion: flow.revision,
      status: 'active',
      dateCreated: p.createdAt,
      dateUpdated: p.createdAt,
      initiatedBy,
      context: {
        trigger,
        contact: { channel: { address: p.contact } },
        flow: { flow_sid: flow.sid, channel: { address: p.flowAddress }, sid: flow.sid, data: {}, variables: {} },
        widgets: {},
      },
      kind,
    });
    this.advance(ex, flow, event, p.lastStepAt);
    return ex;
  }
}
