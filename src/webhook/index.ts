export { createWebhookServer, startWebhook } from './server';
export type { WebhookDeps, RunningWebhook } from './server';
