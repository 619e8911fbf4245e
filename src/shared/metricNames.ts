/**
 * unstick's own metrics: names, units and help texts, for the activity side (src/activities/metrics.ts) and the
 * workflow side (src/workflows/metrics.ts), which both record through the Temporal SDK's metric meter, so they come
 * out on the worker's UNSTICK_METRICS_ADDRESS next to the SDK's, with its tags (namespace, task_queue, and
 * activity_type or workflow_type). Counters have no `_total` suffix (the Runtime's Prometheus default). Workflow-safe.
 */

export interface MetricDef {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

export const METRICS = {
  writes: {
    name: 'unstick_writes',
    unit: 'resources',
    description: 'Guarded writes by action (kind) and result (done, dry-run, already-closed, changed, capped)',
  },
  skipped: { name: 'unstick_skipped', unit: 'resources', description: "Resources left alone, by the policy's reason" },
  dryRun: { name: 'unstick_dry_run', unit: 'resources', description: 'Dry-run decisions by action (kind): writes the policy approved and did not make' },
  twilioRequests: {
    name: 'unstick_twilio_requests',
    unit: 'requests',
    description: 'Twilio REST requests by endpoint (method and templated path) and status_class (2xx..5xx, error = no answer)',
  },
  twilioThrottled: { name: 'unstick_twilio_throttled', unit: 'requests', description: 'Twilio 429 answers by endpoint' },
  retryAfter: {
    name: 'unstick_twilio_retry_after_seconds',
    unit: 's',
    description: "Waits Twilio asked for with Retry-After and unstick honoured (an in-activity retry's sleep, or an activity's next retry delay)",
  },
  livePastMaxAge: {
    name: 'unstick_watches_live_past_max_age',
    unit: 'workflows',
    description: 'callWatch workflows flagged because their call was still live past its max age (left alone, never closed)',
  },
  sweepDuration: { name: 'unstick_sweep_duration_seconds', unit: 's', description: 'Sweep duration, first run to report (continue-as-new runs included)' },
  sweepBacklog: {
    name: 'unstick_sweep_backlog',
    unit: 'resources',
    description: 'Resources a sweep found stuck (kind task or execution): closed, would close in dry run, or left by maxActions',
  },
} as const satisfies Record<string, MetricDef>;

/**
 * Bucket boundaries for unstick's histograms, for the Runtime's `histogramBucketOverrides` (the SDK's default for a
 * histogram it does not know is 50..10,000, too coarse for waits of a few seconds).
 */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [METRICS.retryAfter.name]: [0.5, 1, 2, 5, 10, 30, 60, 120, 300],
  [METRICS.sweepDuration.name]: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
};
