/**
 * unstick's names: task queues, workflow types and ids, the Schedule, the sweep's channels, the webhook's paths and
 * the URLs built from them. Config, workflows, CLI, audit, webhook and policy all take them from here. Workflow-safe.
 */

/** TEMPORAL_TASK_QUEUE's default: the task queue of the workflows and their activities. */
export const TASK_QUEUE = 'unstick';
/** Task queue for Twilio discovery activities that use EvaluateTaskAttributes (Twilio allows 3 req/s per account). */
export const DISCOVERY_TASK_QUEUE = 'unstick-discovery';
export const SCHEDULE_ID = 'unstick-sweep';

export const CALL_WATCH_WORKFLOW_TYPE = 'callWatch';
export const SWEEP_WORKFLOW_TYPE = 'sweep';
const CALL_WORKFLOW_ID_PREFIX = 'call:';
export const callWorkflowId = (callSid: string): string => `${CALL_WORKFLOW_ID_PREFIX}${callSid}`;
/** The call SID in a callWatch's workflow id, or undefined when the id is not one. */
export const callSidOfWorkflowId = (workflowId: string): string | undefined =>
  workflowId.startsWith(CALL_WORKFLOW_ID_PREFIX) ? workflowId.slice(CALL_WORKFLOW_ID_PREFIX.length) || undefined : undefined;
/** `unstick sweep` passes the ISO time it starts at. */
export const sweepWorkflowId = (suffix: string): string => `sweep:${suffix}`;
/** The Schedule's sweeps: the server appends the scheduled time (`sweep:scheduled-2026-…Z`). */
export const SCHEDULED_SWEEP_ID_PREFIX = sweepWorkflowId('scheduled');

/** TaskRouter's TaskChannel of voice Tasks, and the sweep channel that covers them and call-started Executions. */
export const VOICE_CHANNEL = 'voice';
/** Sweep channels that cover messaging Executions (named as Twilio names those channels). */
export const MESSAGING_CHANNELS = ['sms', 'webchat', 'chat', 'whatsapp'] as const;
/** Every value UNSTICK_SWEEP_CHANNELS (and a sweep's `channels`) may hold. */
export const SWEEP_CHANNELS = [VOICE_CHANNEL, ...MESSAGING_CHANNELS] as const;
export type SweepChannel = (typeof SWEEP_CHANNELS)[number];
export const isSweepChannel = (c: string): c is SweepChannel => (SWEEP_CHANNELS as readonly string[]).includes(c);
export const isMessagingChannel = (c: string): boolean => (MESSAGING_CHANNELS as readonly string[]).includes(c);

/** Where a number's voice status callbacks come in (its "call status changes" URL). */
export const VOICE_STATUS_PATH = '/twilio/voice/status';
/** Where a Workspace's TaskRouter events come in (its Event Callback URL). */
export const TASKROUTER_EVENTS_PATH = '/twilio/taskrouter/events';
/** Where an Event Streams webhook sink posts its CloudEvents batches (the Sink's destination). */
export const EVENT_STREAMS_PATH = '/twilio/event-streams';
/** The webhook's liveness and readiness probes (not callbacks: never counted as one). */
export const HEALTH_PATHS = ['/healthz', '/readyz'] as const;

/** The webhook's URL for `path` under `baseUrl` (WEBHOOK_PUBLIC_URL, or where it listens). */
export const webhookUrl = (baseUrl: string, path: string): string => `${baseUrl.replace(/\/+$/, '')}${path}`;

/** Studio's own webhook URL for a Flow (twilio-facts §10). */
export const studioFlowWebhookUrl = (accountSid: string, flowSid: string): string =>
  `https://webhooks.twilio.com/v1/Accounts/${accountSid}/Flows/${flowSid}`;
