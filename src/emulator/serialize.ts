/** Records → the snake_case JSON Twilio returns (every declared field present, null when empty). */
import { iso, isoOrNull, rfc2822, rfc2822OrNull } from './format';
import type { Call, Execution, Flow, PhoneNumber, Step, Task, TaskChannel, TrEvent, Workspace } from './state';

export const HOSTS = {
  api: 'https://api.twilio.com',
  studio: 'https://studio.twilio.com',
  taskrouter: 'https://taskrouter.twilio.com',
  webhooks: 'https://webhooks.twilio.com',
} as const;

export function flowWebhookUrl(accountSid: string, flowSid: string): string {
  return `${HOSTS.webhooks}/v1/Accounts/${accountSid}/Flows/${flowSid}`;
}

function formatNumber(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : e164;
}

export function callJson(c: Call): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${c.accountSid}/Calls/${c.sid}.json`;
  const base = `/2010-04-01/Accounts/${c.accountSid}/Calls/${c.sid}`;
  return {
    sid: c.sid,
    date_created: rfc2822(c.dateCreated),
    date_updated: rfc2822(c.dateUpdated),
    parent_call_sid: null,
    account_sid: c.accountSid,
    to: c.to,
    to_formatted: formatNumber(c.to),
    from: c.from,
    from_formatted: formatNumber(c.from),
    phone_number_sid: c.phoneNumberSid,
    status: c.status,
    start_time: rfc2822OrNull(c.startTime),
    end_time: rfc2822OrNull(c.endTime),
    duration: c.duration === null ? null : String(c.duration),
    price: c.endTime !== null && c.duration ? (-0.0085 * Math.ceil(c.duration / 60)).toFixed(5) : null,
    price_unit: 'USD',
    direction: c.direction,
    answered_by: null,
    api_version: '2010-04-01',
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: '0',
    trunk_sid: null,
    uri,
    subresource_uris: {
      feedback: `${base}/Feedback.json`,
      user_defined_messages: `${base}/UserDefinedMessages.json`,
      notifications: `${base}/Notifications.json`,
      recordings: `${base}/Recordings.json`,
      streams: `${base}/Streams.json`,
      payments: `${base}/Payments.json`,
      user_defined_message_subscriptions: `${base}/UserDefinedMessageSubscriptions.json`,
      siprec: `${base}/Siprec.json`,
      events: `${base}/Events.json`,
      feedback_summaries: `/2010-04-01/Accounts/${c.accountSid}/Calls/FeedbackSummary.json`,
    },
  };
}

export function numberJson(n: PhoneNumber): Record<string, unknown> {
  return {
    account_sid: n.accountSid,
    address_sid: null,
    address_requirements: 'none',
    api_version: '2010-04-01',
    beta: false,
    capabilities: { voice: true, sms: true, mms: true, fax: false },
    date_created: rfc2822(n.dateCreated),
    date_updated: rfc2822(n.dateUpdated),
    friendly_name: n.friendlyName,
    identity_sid: null,
    phone_number: n.phoneNumber,
    origin: 'twilio',
    sid: n.sid,
    sms_application_sid: null,
    sms_fallback_method: 'POST',
    sms_fallback_url: null,
    sms_method: n.smsMethod,
    sms_url: n.smsUrl,
    status_callback: n.statusCallback,
    status_callback_method: n.statusCallbackMethod,
    trunk_sid: null,
    uri: `/2010-04-01/Accounts/${n.accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
    voice_receive_mode: 'voice',
    voice_application_sid: null,
    voice_caller_id_lookup: false,
    voice_fallback_method: n.voiceFallbackMethod,
    voice_fallback_url: n.voiceFallbackUrl,
    voice_method: n.voiceMethod,
    voice_url: n.voiceUrl,
    emergency_status: 'Inactive',
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    bundle_sid: null,
    status: 'in-use',
    type: 'local',
  };
}

export function flowJson(f: Flow, withDefinition = true): Record<string, unknown> {
  const url = `${HOSTS.studio}/v2/Flows/${f.sid}`;
  return {
    sid: f.sid,
    account_sid: f.accountSid,
    author_sid: 'US' + f.sid.slice(2),
    friendly_name: f.friendlyName,
    definition: withDefinition ? f.definition : null,
    status: 'published',
    revision: f.revision,
    commit_message: null,
    valid: true,
    errors: [],
    warnings: [],
    date_created: iso(f.dateCreated),
    date_updated: iso(f.dateUpdated),
    webhook_url: flowWebhookUrl(f.accountSid, f.sid),
    url,
    links: { test_users: `${url}/TestUsers`, revisions: `${url}/Revisions`, executions: `${url}/Executions` },
  };
}

function executionUrl(e: { flowSid: string; sid: string }): string {
  return `${HOSTS.studio}/v2/Flows/${e.flowSid}/Executions/${e.sid}`;
}

export function executionJson(e: Execution, withContext = true): Record<string, unknown> {
  const url = executionUrl(e);
  return {
    sid: e.sid,
    account_sid: e.accountSid,
    flow_sid: e.flowSid,
    contact_channel_address: e.contactAddress,
    contact_sid: e.contactSid,
    flow_version: e.flowVersion,
    context: withContext ? e.context : null,
    status: e.status,
    date_created: iso(e.dateCreated),
    date_updated: iso(e.dateUpdated),
    initiated_by: e.initiatedBy,
    url,
    links: { steps: `${url}/Steps`, execution_context: `${url}/Context` },
  };
}

export function executionContextJson(e: Execution): Record<string, unknown> {
  return { account_sid: e.accountSid, context: e.context, flow_sid: e.flowSid, execution_sid: e.sid, url: `${executionUrl(e)}/Context` };
}

export function stepJson(e: Execution, s: Step): Record<string, unknown> {
  const url = `${executionUrl(e)}/Steps/${s.sid}`;
  return {
    sid: s.sid,
    account_sid: e.accountSid,
    flow_sid: e.flowSid,
    execution_sid: e.sid,
    parent_step_sid: null,
    name: s.name,
    context: s.context,
    transitioned_from: s.transitionedFrom,
    transitioned_to: s.transitionedTo,
    type: s.type,
    date_created: iso(s.dateCreated),
    date_updated: iso(s.dateUpdated),
    url,
    links: { step_context: `${url}/Context` },
  };
}

export function stepContextJson(e: Execution, s: Step): Record<string, unknown> {
  return {
    account_sid: e.accountSid,
    context: s.context,
    execution_sid: e.sid,
    flow_sid: e.flowSid,
    step_sid: s.sid,
    url: `${executionUrl(e)}/Steps/${s.sid}/Context`,
  };
}

export function workspaceJson(w: Workspace): Record<string, unknown> {
  const url = `${HOSTS.taskrouter}/v1/Workspaces/${w.sid}`;
  return {
    account_sid: w.accountSid,
    date_created: iso(w.dateCreated),
    date_updated: iso(w.dateUpdated),
    default_activity_name: w.defaultActivityName,
    default_activity_sid: w.defaultActivitySid,
    event_callback_url: w.eventCallbackUrl,
    events_filter: w.eventsFilter,
    friendly_name: w.friendlyName,
    multi_task_enabled: true,
    sid: w.sid,
    timeout_activity_name: w.timeoutActivityName,
    timeout_activity_sid: w.timeoutActivitySid,
    prioritize_queue_order: 'FIFO',
    url,
    links: {
      activities: `${url}/Activities`,
      statistics: `${url}/Statistics`,
      real_time_statistics: `${url}/RealTimeStatistics`,
      cumulative_statistics: `${url}/CumulativeStatistics`,
      task_queues: `${url}/TaskQueues`,
      tasks: `${url}/Tasks`,
      workers: `${url}/Workers`,
      workflows: `${url}/Workflows`,
      task_channels: `${url}/TaskChannels`,
      events: `${url}/Events`,
    },
  };
}

export function channelJson(c: TaskChannel): Record<string, unknown> {
  const url = `${HOSTS.taskrouter}/v1/Workspaces/${c.workspaceSid}/TaskChannels/${c.sid}`;
  return {
    account_sid: c.accountSid,
    date_created: iso(c.dateCreated),
    date_updated: iso(c.dateUpdated),
    friendly_name: c.friendlyName,
    sid: c.sid,
    unique_name: c.uniqueName,
    workspace_sid: c.workspaceSid,
    channel_optimized_routing: c.channelOptimizedRouting,
    url,
    links: { workspace: `${HOSTS.taskrouter}/v1/Workspaces/${c.workspaceSid}` },
  };
}

export function taskJson(t: Task, now: number, withAttributes = true): Record<string, unknown> {
  const ws = `${HOSTS.taskrouter}/v1/Workspaces/${t.workspaceSid}`;
  const url = `${ws}/Tasks/${t.sid}`;
  return {
    account_sid: t.accountSid,
    age: Math.max(0, Math.floor((now - t.dateCreated) / 1000)),
    assignment_status: t.status,
    attributes: withAttributes ? t.attributes : null,
    addons: '{}',
    date_created: iso(t.dateCreated),
    date_updated: iso(t.dateUpdated),
    task_queue_entered_date: isoOrNull(t.queueEnteredAt),
    priority: t.priority,
    reason: t.reason,
    sid: t.sid,
    task_queue_sid: t.queueSid,
    task_queue_friendly_name: t.queueName,
    task_channel_sid: t.channelSid,
    task_channel_unique_name: t.channelUniqueName,
    timeout: t.timeout,
    workflow_sid: t.workflowSid,
    workflow_friendly_name: t.workflowName,
    workspace_sid: t.workspaceSid,
    url,
    links: {
      task_queue: t.queueSid ? `${ws}/TaskQueues/${t.queueSid}` : null,
      workflow: t.workflowSid ? `${ws}/Workflows/${t.workflowSid}` : null,
      workspace: ws,
      reservations: `${url}/Reservations`,
    },
    virtual_start_time: iso(t.virtualStartTime),
    ignore_capacity: false,
    routing_target: null,
  };
}

export function eventJson(e: TrEvent): Record<string, unknown> {
  const ws = `${HOSTS.taskrouter}/v1/Workspaces/${e.workspaceSid}`;
  const resourcePath = e.resourceType === 'Reservation' ? `Tasks/${String(e.data.task_sid)}/Reservations/${e.resourceSid}` : `Tasks/${e.resourceSid}`;
  return {
    account_sid: e.accountSid,
    actor_sid: e.actorSid,
    actor_type: e.actorType,
    actor_url: e.actorType === 'worker' && e.actorSid ? `${ws}/Workers/${e.actorSid}` : `${HOSTS.api}/2010-04-01/Accounts/${e.accountSid}`,
    description: e.description,
    event_data: e.data,
    event_date: iso(e.date),
    event_date_ms: e.date,
    event_type: e.eventType,
    resource_sid: e.resourceSid,
    resource_type: e.resourceType,
    resource_url: `${ws}/${resourcePath}`,
    sid: e.sid,
    source: 'twilio',
    source_ip_address: '127.0.0.1',
    url: `${ws}/Events/${e.sid}`,
    workspace_sid: e.workspaceSid,
  };
}
