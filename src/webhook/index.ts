export { createWebhookServer, startWebhook, webhookStats, WEBHOOK_DEFAULTS } from './server';
export type { StarterStats } from './starter';
export type { WebhookDeps, RunningWebhook } from './server';
