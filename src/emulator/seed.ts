/** The seeded sandbox account (flows, numbers, workspace) and the Task attributes Flex writes (bulk seeding: bulkSeed.ts). */
import { stableSid } from './ids';
import type { Rng } from './ids';
import { flowWebhookUrl } from './serialize';
import type { Call, Flow, FlowDefinition, PhoneNumber, Store, Workspace } from './state';

export interface SeededAccount {
  accountSid: string;
  authToken: string;
  apiKey: { sid: string; secret: string };
  workspaceSid: string;
  workspaceName: string;
  defaultChannelSid: string;
  voiceChannelSid: string;
  chatChannelSid: string;
  smsChannelSid: string;
  videoChannelSid: string;
  workflowSid: string;
  taskQueueSid: string;
  workerSid: string;
  /** Flex voice flow (allow_concurrent_calls: true). */
  flexFlowSid: string;
  /** SMS flow waiting on Send & Wait for Reply (timeout "3600"). */
  messagingFlowSid: string;
  /** Webchat flow whose Send & Wait for Reply has no `timeout` property (misconfiguration). */
  webchatFlowSid: string;
  /** Old voice flow with allow_concurrent_calls: false (misconfiguration). */
  legacyFlowSid: string;
  /** Main number: voice_url and status_callback = the Flex flow's webhook URL; sms_url = messaging flow. */
  phoneNumber: string;
  phoneNumberSid: string;
  /** Number on the Flex flow whose status_callback points elsewhere (misconfiguration). */
  misconfiguredNumber: string;
  misconfiguredNumberSid: string;
  misconfiguredStatusCallback: string;
  /** Number on the legacy flow. */
  legacyNumber: string;
  legacyNumberSid: string;
}

const off = (x: number, y: number) => ({ offset: { x, y } });

function voiceDefinition(concurrent: boolean, legacy: boolean, workflowSid: string, voiceChannelSid: string): FlowDefinition {
  const first = legacy ? 'say_welcome' : 'check_hours';
  return {
    description: legacy ? 'Legacy IVR copied in 2017' : 'Flex inbound voice',
    initial_state: 'Trigger',
    flags: { allow_concurrent_calls: concurrent },
    states: [
      {
        name: 'Trigger',
        type: 'trigger',
        transitions: [{ event: 'incomingMessage' }, { event: 'incomingCall', next: first }, { event: 'incomingConversationMessage' }, { event: 'incomingRequest' }, { event: 'incomingParent' }],
        properties: off(0, 0),
      },
      legacy
        ? { name: 'say_welcome', type: 'set-variables', transitions: [{ event: 'next', next: 'SendCallToAgent' }], properties: { ...off(0, 200), variables: [{ key: 'greeting', value: 'legacy' }] } }
        : {
            name: 'check_hours',
            type: 'split-based-on',
            transitions: [{ event: 'noMatch', next: 'SendCallToAgent' }, { event: 'match', next: 'SendCallToAgent' }],
            properties: { ...off(0, 200), input: '{{trigger.call.To}}', cases: [] },
          },
      {
        name: 'SendCallToAgent',
        type: 'send-to-flex',
        transitions: [{ event: 'callComplete' }, { event: 'failedToEnqueue' }, { event: 'callFailure' }],
        properties: { ...off(0, 400), workflow: workflowSid, channel: voiceChannelSid, attributes: '{"type": "inbound", "name": "{{trigger.call.From}}"}' },
      },
    ],
  };
}

function messagingDefinition(withTimeout: boolean, workflowSid: string, chatChannelSid: string, trigger: string): FlowDefinition {
  const swr: Record<string, unknown> = { ...off(0, 200), from: '{{flow.channel.address}}', body: 'Hi! What can we help you with?', service: '{{trigger.message.InstanceSid}}', channel: '{{trigger.message.ChannelSid}}' };
  if (withTimeout) swr.timeout = '3600';
  return {
    description: withTimeout ? 'SMS to Flex' : 'Webchat to Flex (no Send & Wait timeout)',
    initial_state: 'Trigger',
    flags: { allow_concurrent_calls: true },
    states: [
      {
        name: 'Trigger',
        type: 'trigger',
        transitions: [{ event: 'incomingMessage', next: trigger === 'incomingMessage' ? 'send_and_wait' : undefined }, { event: 'incomingCall' }, { event: 'incomingConversationMessage', next: trigger === 'incomingConversationMessage' ? 'send_and_wait' : undefined }, { event: 'incomingRequest' }, { event: 'incomingParent' }].map((t) => (t.next ? t : { event: t.event })),
        properties: off(0, 0),
      },
      { name: 'send_and_wait', type: 'send-and-wait-for-reply', transitions: [{ event: 'incomingMessage', next: 'SendToFlex' }, { event: 'timeout' }, { event: 'deliveryFailure' }], properties: swr },
      {
        name: 'SendToFlex',
        type: 'send-to-flex',
        transitions: [{ event: 'callComplete' }, { event: 'failedToEnqueue' }, { event: 'callFailure' }],
        properties: { ...off(0, 400), workflow: workflowSid, channel: chatChannelSid, attributes: '{"name": "{{trigger.message.From}}", "channelType": "{{trigger.message.ChannelAttributes.channel_type}}"}' },
      },
    ],
  };
}

/** Builds the seeded account into the store. All SIDs derive from the seed, so they are stable run to run. */
export function seedAccount(store: Store, seed: number | string, overrides: { accountSid?: string; authToken?: string }): SeededAccount {
  const sid = (prefix: string, name: string) => stableSid(prefix, seed, name);
  const accountSid = overrides.accountSid ?? sid('AC', 'account');
  const authToken = overrides.authToken ?? stableSid('', seed, 'authToken');
  const now = store.clock.now();
  const year = 365 * 24 * 3600 * 1000;
  const acct: SeededAccount = {
    accountSid,
    authToken,
    apiKey: { sid: sid('SK', 'apiKey'), secret: stableSid('', seed, 'apiKeySecret') },
    workspaceSid: sid('WS', 'workspace'),
    workspaceName: 'Flex Task Assignment',
    defaultChannelSid: sid('TC', 'channel:default'),
    voiceChannelSid: sid('TC', 'channel:voice'),
    chatChannelSid: sid('TC', 'channel:chat'),
    smsChannelSid: sid('TC', 'channel:sms'),
    videoChannelSid: sid('TC', 'channel:video'),
    workflowSid: sid('WW', 'workflow'),
    taskQueueSid: sid('WQ', 'queue'),
    workerSid: sid('WK', 'worker'),
    flexFlowSid: sid('FW', 'flow:flex'),
    messagingFlowSid: sid('FW', 'flow:messaging'),
    webchatFlowSid: sid('FW', 'flow:webchat'),
    legacyFlowSid: sid('FW', 'flow:legacy'),
    phoneNumber: '+15551230000',
    phoneNumberSid: sid('PN', 'number:main'),
    misconfiguredNumber: '+15551230001',
    misconfiguredNumberSid: sid('PN', 'number:misconfigured'),
    misconfiguredStatusCallback: 'https://callbacks.example.com/voice/status',
    legacyNumber: '+15551230002',
    legacyNumberSid: sid('PN', 'number:legacy'),
  };

  const ws: Workspace = {
    seq: store.nextSeq(),
    sid: acct.workspaceSid,
    accountSid,
    friendlyName: acct.workspaceName,
    eventCallbackUrl: null,
    eventsFilter: null,
    defaultActivitySid: sid('WA', 'activity:offline'),
    defaultActivityName: 'Offline',
    timeoutActivitySid: sid('WA', 'activity:offline'),
    timeoutActivityName: 'Offline',
    dateCreated: now - 2 * year,
    dateUpdated: now - 2 * year,
    workflows: [{ sid: acct.workflowSid, friendlyName: 'Assign to Anyone' }],
    queues: [{ sid: acct.taskQueueSid, friendlyName: 'Everyone' }],
    workers: [{ sid: acct.workerSid, friendlyName: 'alice', attributes: JSON.stringify({ contact_uri: 'client:alice', full_name: 'Alice Agent', routing: { skills: ['voice', 'chat'] } }) }],
  };
  store.workspaces.set(ws.sid, ws);
  store.channels.set(ws.sid, (
    [
      ['default', 'Default', acct.defaultChannelSid, false],
      ['voice', 'Voice', acct.voiceChannelSid, false],
      ['chat', 'Chat', acct.chatChannelSid, false],
      ['sms', 'SMS', acct.smsChannelSid, false],
      ['video', 'Video', acct.videoChannelSid, false],
    ] as const
  ).map(([uniqueName, friendlyName, s, cor]) => ({
    seq: store.nextSeq(), sid: s, accountSid, workspaceSid: ws.sid, uniqueName, friendlyName, channelOptimizedRouting: cor, dateCreated: now - 2 * year, dateUpdated: now - 2 * year,
  })));

  const flows: [string, string, FlowDefinition, number][] = [
    [acct.flexFlowSid, 'Flex Voice Flow', voiceDefinition(true, false, acct.workflowSid, acct.voiceChannelSid), now - year],
    [acct.messagingFlowSid, 'Messaging Flow', messagingDefinition(true, acct.workflowSid, acct.chatChannelSid, 'incomingMessage'), now - year],
    [acct.webchatFlowSid, 'Webchat Flow', messagingDefinition(false, acct.workflowSid, acct.chatChannelSid, 'incomingConversationMessage'), now - year],
    [acct.legacyFlowSid, 'Legacy IVR (2017 copy)', voiceDefinition(false, true, acct.workflowSid, acct.voiceChannelSid), Date.UTC(2017, 10, 2)],
  ];
  for (const [s, name, definition, created] of flows) {
    const f: Flow = { seq: store.nextSeq(), sid: s, accountSid, friendlyName: name, definition, revision: 3, dateCreated: created, dateUpdated: created };
    store.flows.set(s, f);
  }

  const number = (s: string, phone: string, name: string, voiceFlow: string, statusCallback: string, smsFlow: string | null): PhoneNumber => ({
    seq: store.nextSeq(),
    sid: s,
    accountSid,
    phoneNumber: phone,
    friendlyName: name,
    voiceUrl: flowWebhookUrl(accountSid, voiceFlow),
    voiceMethod: 'POST',
    voiceFallbackUrl: null,
    voiceFallbackMethod: 'POST',
    statusCallback,
    statusCallbackMethod: 'POST',
    smsUrl: smsFlow ? flowWebhookUrl(accountSid, smsFlow) : null,
    smsMethod: 'POST',
    dateCreated: now - year,
    dateUpdated: now - year,
  });
  for (const n of [
    number(acct.phoneNumberSid, acct.phoneNumber, 'Main line', acct.flexFlowSid, flowWebhookUrl(accountSid, acct.flexFlowSid), acct.messagingFlowSid),
    number(acct.misconfiguredNumberSid, acct.misconfiguredNumber, 'Support line', acct.flexFlowSid, acct.misconfiguredStatusCallback, null),
    number(acct.legacyNumberSid, acct.legacyNumber, 'Legacy line', acct.legacyFlowSid, flowWebhookUrl(accountSid, acct.legacyFlowSid), null),
  ]) {
    store.numbers.set(n.sid, n);
  }
  return acct;
}

export function randomCaller(rng: Rng): string {
  return '+1555' + String(Math.floor(rng.next() * 1e7)).padStart(7, '0');
}

/** Voice Task attributes as Flex writes them (cf. the seed article's example). */
export function voiceTaskAttributes(call: Pick<Call, 'sid' | 'from' | 'to' | 'accountSid'>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    from_country: 'US',
    called: call.to,
    to_country: 'US',
    to_city: 'SAN FRANCISCO',
    to_state: 'CA',
    caller_country: 'US',
    call_status: 'ringing',
    call_sid: call.sid,
    account_sid: call.accountSid,
    from_zip: '94105',
    from: call.from,
    direction: 'inbound',
    called_zip: '94105',
    caller_state: 'CA',
    to_zip: '94105',
    called_country: 'US',
    from_city: 'SAN FRANCISCO',
    called_city: 'SAN FRANCISCO',
    caller_zip: '94105',
    api_version: '2010-04-01',
    called_state: 'CA',
    from_state: 'CA',
    caller: call.from,
    caller_city: 'SAN FRANCISCO',
    to: call.to,
    type: 'inbound',
    name: call.from,
    ...extra,
  });
}

export function unparsableAttributes(callSid: string): string {
  return `{"call_sid":"${callSid}","from":"+1555`; // truncated JSON, as written by a broken custom integration
}

export function chatTaskAttributes(conversationSid: string, rng: Rng): string {
  return JSON.stringify({
    channelType: 'web',
    conversationSid,
    from: `webchat-guest-${rng.hex(8)}`,
    name: 'Web guest',
    direction: 'inbound',
    customerAddress: `webchat-guest-${rng.hex(8)}`,
  });
}
