export { createWebhookServer, startWebhook, studioFlowWebhookUrl, VOICE_STATUS_PATH, TASKROUTER_EVENTS_PATH } from './server';
export type { WebhookDeps, RunningWebhook } from './server';
