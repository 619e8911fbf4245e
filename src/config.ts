/**
 * Configuration from the environment (and `.env`), validated once at start-up.
 * Every bad value is reported with the variable's name, the value seen, and how to fix it.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as dotenv from 'dotenv';
import { z } from 'zod';
import { DEFAULTS } from './shared/defaults';
import { SWEEP_CHANNELS, TASK_QUEUE, isSweepChannel } from './shared/names';
import { Bad, bool, duration, hostPort, int, optional, optionalCron, optionalDuration, optionalExpression, optionalPort, optionalUrl, sidList } from './configValues';

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const schema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .default('localhost:7233')
    .refine((v) => hostPort.test(v) && Number(v.split(':').pop()) <= 65535, {
      message: 'must be host:port, e.g. localhost:7233 or my-ns.a1b2c.tmprl.cloud:7233',
    }),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
  TEMPORAL_TLS: bool(false),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  /** Worker Versioning: the Worker Deployment this worker belongs to. Unset: an unversioned worker (the sandbox). */
  UNSTICK_DEPLOYMENT_NAME: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^[A-Za-z0-9_-]{1,200}$/.test(v), {
      message: 'must be letters, digits, "-" or "_" (no "."), e.g. unstick',
    }),
  /** The worker's build ID in its deployment; default: package version + git commit (src/temporal/workerVersion.ts). */
  UNSTICK_BUILD_ID: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^[A-Za-z0-9_.+-]{1,200}$/.test(v), {
      message: 'must be letters, digits, ".", "+", "-" or "_", e.g. 0.2.0+1a2b3c4d',
    }),
  /** if-none: a versioned worker makes its version current when the deployment has none yet (first roll-out). */
  UNSTICK_DEPLOYMENT_SET_CURRENT: z.enum(['if-none', 'never']).default('if-none'),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_DEV_PORT: optionalPort(),
  TEMPORAL_UI_PORT: optionalPort(),
  UNSTICK_DATA_DIR: z.string().default('.unstick'),
  UNSTICK_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** The worker's Prometheus endpoint (`/metrics`): the SDK's metrics and unstick's own. Unset: none. */
  UNSTICK_METRICS_ADDRESS: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || (hostPort.test(v) && Number(v.split(':').pop()) <= 65535), {
      message: 'must be host:port to listen on, e.g. 0.0.0.0:9464',
    }),

  TWILIO_ACCOUNT_SID: z.string().optional().refine((v) => v === undefined || v === '' || /^AC[0-9a-fA-F]{32}$/.test(v), {
    message: 'must be your Account SID: AC followed by 32 hex digits (Twilio Console > Account Info)',
  }),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  TWILIO_API_KEY: z.string().optional().refine((v) => v === undefined || v === '' || /^SK[0-9a-fA-F]{32}$/.test(v), {
    message: 'must be an API Key SID: SK followed by 32 hex digits',
  }),
  TWILIO_API_SECRET: z.string().optional(),
  /** When set, the twilio SDK is aimed at this base URL (the emulator) instead of *.twilio.com. */
  TWILIO_API_BASE_URL: optionalUrl(),
  TWILIO_MAX_IN_FLIGHT: int(20, 1, 1000),
  TWILIO_REQUEST_TIMEOUT: duration('TWILIO_REQUEST_TIMEOUT', '15s'),
  TWILIO_WORKSPACE_SIDS: sidList('TWILIO_WORKSPACE_SIDS', 'WS'),
  TWILIO_FLOW_SIDS: sidList('TWILIO_FLOW_SIDS', 'FW'),

  UNSTICK_DRY_RUN: bool(false),
  UNSTICK_GRACE_PERIOD: duration('UNSTICK_GRACE_PERIOD', DEFAULTS.callWatch.graceMs, { allowZero: true }),
  UNSTICK_MAX_AGE: duration('UNSTICK_MAX_AGE', DEFAULTS.callWatch.maxAgeMs),
  UNSTICK_POLL_INITIAL: duration('UNSTICK_POLL_INITIAL', DEFAULTS.callWatch.pollInitialMs),
  UNSTICK_POLL_MAX: duration('UNSTICK_POLL_MAX', DEFAULTS.callWatch.pollMaxMs),
  UNSTICK_WRAP_LIMIT: optionalDuration(),
  UNSTICK_TASK_REASON: z.string().min(1).default(DEFAULTS.callWatch.taskReason),
  /** Tasks whose attributes match this expression are never written. */
  UNSTICK_PROTECT_TASKS: optionalExpression('taskType IN ["callback","voicemail"] OR conversations.external_contact != null'),
  /** A Task created more than this long after its call ended is not that call's live Task (callback, voicemail). */
  UNSTICK_POST_CALL_TASK_AFTER: duration('UNSTICK_POST_CALL_TASK_AFTER', DEFAULTS.policy.postCallTaskAfterMs, { allowZero: true }),
  UNSTICK_DISCOVERY_RPS: optional(2.5, (raw) => {
    const n = Number(raw);
    return Number.isFinite(n) && n > 0 && n <= 3 ? n : new Bad("must be a number above 0 and at most 3 (Twilio's EvaluateTaskAttributes limit)");
  }),
  /** The linker: one list per Flow and per Workspace every interval links the open watches (src/workflows/linker.ts). */
  UNSTICK_LINKER: bool(true),
  UNSTICK_LINKER_INTERVAL: duration('UNSTICK_LINKER_INTERVAL', '2s'),
  UNSTICK_LINK_WAIT: duration('UNSTICK_LINK_WAIT', '5s', { allowZero: true }),
  UNSTICK_LINKER_LIVE_CHECK: duration('UNSTICK_LINKER_LIVE_CHECK', '20s', { allowZero: true }),
  UNSTICK_POLL_WITH_CALLBACKS: duration('UNSTICK_POLL_WITH_CALLBACKS', '2h'),
  UNSTICK_MAX_CACHED_WORKFLOWS: int(200, 10, 1_000_000),

  UNSTICK_SWEEP_INTERVAL: duration('UNSTICK_SWEEP_INTERVAL', DEFAULTS.sweep.intervalMs),
  UNSTICK_SWEEP_CRON: optionalCron(),
  UNSTICK_SWEEP_CATCHUP: duration('UNSTICK_SWEEP_CATCHUP', DEFAULTS.sweep.catchupMs),
  UNSTICK_SWEEP_MAX_ACTIONS: int(DEFAULTS.sweep.maxActions, 0, 1_000_000),
  UNSTICK_SWEEP_CONCURRENCY: int(DEFAULTS.sweep.concurrency, 1, 1000),
  UNSTICK_EXECUTION_THRESHOLD: duration('UNSTICK_EXECUTION_THRESHOLD', DEFAULTS.sweep.executionThresholdMs),
  UNSTICK_SWEEP_CHANNELS: z.string().default(DEFAULTS.sweep.channels.join(',')),
  UNSTICK_SWEEP_WATCH_LIVE_CALLS: bool(true),

  WEBHOOK_HOST: z.string().default('0.0.0.0'),
  WEBHOOK_PORT: int(8080, 0, 65535),
  WEBHOOK_PUBLIC_URL: optionalUrl(),
  WEBHOOK_MAX_BODY_BYTES: int(65536, 1024, 10 * 1024 * 1024),
  /** Comma list of `+15551230000=FWxxxxxxxx…`: the Studio Flow each number's status callbacks are redirected to (302). */
  WEBHOOK_FLOW_REDIRECTS: z.string().optional(),
  /** Rebuild the signed URL from X-Forwarded-Proto/-Host when WEBHOOK_PUBLIC_URL is unset (only behind a trusted proxy). */
  WEBHOOK_TRUST_PROXY: bool(false),
  /** Total time one callback may take, waiting for a Temporal slot included; within Twilio's 15 s webhook timeout. */
  WEBHOOK_REQUEST_BUDGET: duration('WEBHOOK_REQUEST_BUDGET', '10s'),
  /** Concurrent signalWithStart calls to Temporal; more callbacks wait in a queue of WEBHOOK_MAX_QUEUED. */
  WEBHOOK_MAX_IN_FLIGHT: int(32, 1, 10_000),
  WEBHOOK_MAX_QUEUED: int(1000, 0, 1_000_000),
  /** user:password of the Event Streams Sink's destination URL: when set, its Basic auth is required too. */
  WEBHOOK_EVENT_STREAMS_BASIC_AUTH: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^[^:]+:.+$/.test(v), { message: 'must be user:password, the credentials in the Event Streams Sink destination URL' }),
  /** Where the webhook serves its Prometheus /metrics (a listener of its own, not the port Twilio reaches). */
  WEBHOOK_METRICS_ADDRESS: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || (hostPort.test(v) && Number(v.split(':').pop()) <= 65535), {
      message: 'must be host:port to listen on, e.g. 0.0.0.0:9465',
    }),
});

type Parsed = z.infer<typeof schema>;

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  tls: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  apiKey?: string;
  /** Worker Versioning (UNSTICK_DEPLOYMENT_NAME…); undefined: unversioned. */
  deployment?: DeploymentConfig;
}

export interface DeploymentConfig {
  name: string;
  /** UNSTICK_BUILD_ID; undefined: derived from the build (package version + git commit). */
  buildId?: string;
  setCurrent: 'if-none' | 'never';
}

export interface TwilioConfig {
  accountSid: string;
  authToken?: string;
  apiKey?: string;
  apiSecret?: string;
  /** Emulator base URL; undefined means real Twilio. */
  baseUrl?: string;
  maxInFlight: number;
  requestTimeoutMs: number;
  workspaceSids: string[];
  flowSids: string[];
}

export interface CallWatchConfig {
  dryRun: boolean;
  graceMs: number;
  maxAgeMs: number;
  pollInitialMs: number;
  pollMaxMs: number;
  wrapLimitMs?: number;
  taskReason: string;
  discoveryRps: number;
  /** UNSTICK_LINKER: the worker starts the linker (idempotently, one per account). */
  linker: boolean;
  linkerIntervalMs: number;
  linkWaitMs: number;
  /** UNSTICK_LINKER_LIVE_CHECK: how often the linker tells watches whose call is no longer live to read it; 0 = never. */
  linkerLiveCheckMs: number;
  pollWithCallbacksMs: number;
  /** UNSTICK_MAX_CACHED_WORKFLOWS: the worker's sticky workflow cache (an evicted watch is replayed when it wakes). */
  maxCachedWorkflows: number;
}

export interface SweepConfig {
  intervalMs: number;
  cron?: string;
  catchupMs: number;
  maxActions: number;
  concurrency: number;
  executionThresholdMs: number;
  channels: string[];
  /** Start a callWatch for each live call the sweep finds (so it is closed soon after it ends). */
  watchLiveCalls: boolean;
}

export interface PolicyConfig {
  /** Operator protection: a TaskRouter-style expression (source) over Task attributes; a matching Task is never written. */
  protectTasks?: string;
  /** A Task created more than this long after its call ended is not that call's live Task, and is never written. */
  postCallTaskAfterMs: number;
}

export interface WebhookConfig {
  host: string;
  port: number;
  publicUrl?: string;
  maxBodyBytes: number;
  /** phone number (E.164) → FlowSid */
  flowRedirects: Record<string, string>;
  /** Honour X-Forwarded-Proto/-Host when rebuilding the signed URL (only used when publicUrl is unset). */
  trustProxy?: boolean;
  /** Time a callback may take, queueing for a Temporal slot included (unset: the webhook's default, 10 s). */
  requestBudgetMs?: number;
  /** Concurrent signalWithStart calls; callbacks beyond wait (at most maxQueued of them) for a slot. */
  maxInFlight?: number;
  maxQueued?: number;
  /** host:port of the webhook's Prometheus /metrics listener, when set. */
  metricsAddress?: string;
  /** The Event Streams Sink's Basic auth credentials (`user:password`), required on its route when set. */
  eventStreamsBasicAuth?: string;
}

export interface Config {
  temporal: TemporalConfig;
  temporalCliPath?: string;
  devServer: { port?: number; uiPort?: number; dataDir: string };
  logLevel: string;
  /** host:port of the worker's Prometheus endpoint, when set. */
  metricsAddress?: string;
  twilio: TwilioConfig;
  callWatch: CallWatchConfig;
  sweep: SweepConfig;
  policy: PolicyConfig;
  webhook: WebhookConfig;
}

function parseRedirects(raw: string | undefined, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw || raw.trim() === '') return out;
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\+\d{6,15})=(FW[0-9a-fA-F]{32})$/.exec(part);
    if (!m) {
      problems.push(`WEBHOOK_FLOW_REDIRECTS entry ${JSON.stringify(part)} must look like +15551230000=FW<32 hex digits>`);
      continue;
    }
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** Reads the given environment (default: process.env plus `.env` in the working directory). Throws ConfigError. */
export function loadConfig(env?: Env, opts: { dotenvPath?: string } = {}): Config {
  let source: Env;
  if (env) {
    source = env;
  } else {
    const dotenvPath = opts.dotenvPath ?? path.resolve(process.cwd(), '.env');
    const fromFile = existsSync(dotenvPath) ? dotenv.parse(readFileSync(dotenvPath)) : {};
    source = { ...fromFile, ...process.env };
  }
  // Empty strings count as unset, as they do for most twelve-factor tools.
  const cleaned: Env = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== '') cleaned[k] = v;

  // Each variable on its own, so that every bad one is reported, and the checks across variables still run on the
  // ones that are good: one pass, every problem.
  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.shape)) {
    const r = (field as z.ZodType).safeParse(cleaned[name]);
    if (r.success) parsed[name] = r.data;
    else for (const issue of r.error.issues) problems.push(issue.message.startsWith(name) ? issue.message : `${name}=${JSON.stringify(cleaned[name])} ${issue.message}`);
  }
  const p = parsed as unknown as Partial<Parsed>;
  const has = (name: keyof Parsed): boolean => cleaned[name] !== undefined;
  const flowRedirects = parseRedirects(p.WEBHOOK_FLOW_REDIRECTS, problems);
  if (p.WEBHOOK_REQUEST_BUDGET !== undefined && (p.WEBHOOK_REQUEST_BUDGET < 1000 || p.WEBHOOK_REQUEST_BUDGET > 14_000)) {
    problems.push(`WEBHOOK_REQUEST_BUDGET=${JSON.stringify(cleaned.WEBHOOK_REQUEST_BUDGET)} must be between 1s and 14s: Twilio gives up on a webhook after 15 s`);
  }
  if (has('TWILIO_API_KEY') && !has('TWILIO_API_SECRET')) problems.push('TWILIO_API_KEY is set but TWILIO_API_SECRET is not: set both, or use TWILIO_AUTH_TOKEN');
  if (has('TWILIO_ACCOUNT_SID') && !has('TWILIO_AUTH_TOKEN') && !has('TWILIO_API_KEY')) problems.push('TWILIO_ACCOUNT_SID is set without TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET)');
  if (has('TEMPORAL_TLS_CERT_PATH') !== has('TEMPORAL_TLS_KEY_PATH')) problems.push('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together (mTLS client certificate and key)');
  for (const k of ['TEMPORAL_TLS_CERT_PATH', 'TEMPORAL_TLS_KEY_PATH', 'TEMPORAL_TLS_CA_PATH'] as const) {
    const file = p[k];
    if (file && !existsSync(file)) problems.push(`${k}=${JSON.stringify(file)}: no such file`);
  }
  if (p.UNSTICK_POLL_MAX !== undefined && p.UNSTICK_POLL_INITIAL !== undefined && p.UNSTICK_POLL_MAX < p.UNSTICK_POLL_INITIAL) {
    problems.push(`UNSTICK_POLL_MAX (${p.UNSTICK_POLL_MAX} ms) must not be below UNSTICK_POLL_INITIAL (${p.UNSTICK_POLL_INITIAL} ms)`);
  }
  const channels = (p.UNSTICK_SWEEP_CHANNELS ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  const badChannels = channels.filter((c) => !isSweepChannel(c));
  if (badChannels.length) problems.push(`UNSTICK_SWEEP_CHANNELS has unknown channel(s) ${badChannels.join(', ')}; use any of ${SWEEP_CHANNELS.join(', ')}`);
  if (problems.length) throw new ConfigError(problems);
  const e = parsed as unknown as Parsed;

  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      tls: e.TEMPORAL_TLS || !!e.TEMPORAL_API_KEY || !!e.TEMPORAL_TLS_CERT_PATH,
      tlsCertPath: e.TEMPORAL_TLS_CERT_PATH,
      tlsKeyPath: e.TEMPORAL_TLS_KEY_PATH,
      tlsCaPath: e.TEMPORAL_TLS_CA_PATH,
      tlsServerName: e.TEMPORAL_TLS_SERVER_NAME,
      apiKey: e.TEMPORAL_API_KEY,
      deployment: e.UNSTICK_DEPLOYMENT_NAME
        ? { name: e.UNSTICK_DEPLOYMENT_NAME, buildId: e.UNSTICK_BUILD_ID || undefined, setCurrent: e.UNSTICK_DEPLOYMENT_SET_CURRENT }
        : undefined,
    },
    temporalCliPath: e.TEMPORAL_CLI_PATH,
    devServer: { port: e.TEMPORAL_DEV_PORT, uiPort: e.TEMPORAL_UI_PORT, dataDir: path.resolve(e.UNSTICK_DATA_DIR) },
    logLevel: e.UNSTICK_LOG_LEVEL,
    metricsAddress: e.UNSTICK_METRICS_ADDRESS || undefined,
    twilio: {
      accountSid: e.TWILIO_ACCOUNT_SID ?? '',
      authToken: e.TWILIO_AUTH_TOKEN,
      apiKey: e.TWILIO_API_KEY,
      apiSecret: e.TWILIO_API_SECRET,
      baseUrl: e.TWILIO_API_BASE_URL,
      maxInFlight: e.TWILIO_MAX_IN_FLIGHT,
      requestTimeoutMs: e.TWILIO_REQUEST_TIMEOUT,
      workspaceSids: e.TWILIO_WORKSPACE_SIDS,
      flowSids: e.TWILIO_FLOW_SIDS,
    },
    callWatch: {
      dryRun: e.UNSTICK_DRY_RUN,
      graceMs: e.UNSTICK_GRACE_PERIOD,
      maxAgeMs: e.UNSTICK_MAX_AGE,
      pollInitialMs: e.UNSTICK_POLL_INITIAL,
      pollMaxMs: e.UNSTICK_POLL_MAX,
      wrapLimitMs: e.UNSTICK_WRAP_LIMIT,
      taskReason: e.UNSTICK_TASK_REASON,
      discoveryRps: e.UNSTICK_DISCOVERY_RPS,
      linker: e.UNSTICK_LINKER,
      linkerIntervalMs: e.UNSTICK_LINKER_INTERVAL,
      linkWaitMs: e.UNSTICK_LINK_WAIT,
      linkerLiveCheckMs: e.UNSTICK_LINKER_LIVE_CHECK,
      pollWithCallbacksMs: e.UNSTICK_POLL_WITH_CALLBACKS,
      maxCachedWorkflows: e.UNSTICK_MAX_CACHED_WORKFLOWS,
    },
    sweep: {
      intervalMs: e.UNSTICK_SWEEP_INTERVAL,
      cron: e.UNSTICK_SWEEP_CRON,
      catchupMs: e.UNSTICK_SWEEP_CATCHUP,
      maxActions: e.UNSTICK_SWEEP_MAX_ACTIONS,
      concurrency: e.UNSTICK_SWEEP_CONCURRENCY,
      executionThresholdMs: e.UNSTICK_EXECUTION_THRESHOLD,
      channels,
      watchLiveCalls: e.UNSTICK_SWEEP_WATCH_LIVE_CALLS,
    },
    policy: {
      protectTasks: e.UNSTICK_PROTECT_TASKS,
      postCallTaskAfterMs: e.UNSTICK_POST_CALL_TASK_AFTER,
    },
    webhook: {
      host: e.WEBHOOK_HOST,
      port: e.WEBHOOK_PORT,
      publicUrl: e.WEBHOOK_PUBLIC_URL,
      maxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
      flowRedirects,
      trustProxy: e.WEBHOOK_TRUST_PROXY,
      requestBudgetMs: e.WEBHOOK_REQUEST_BUDGET,
      maxInFlight: e.WEBHOOK_MAX_IN_FLIGHT,
      maxQueued: e.WEBHOOK_MAX_QUEUED,
      metricsAddress: e.WEBHOOK_METRICS_ADDRESS || undefined,
      ...(e.WEBHOOK_EVENT_STREAMS_BASIC_AUTH ? { eventStreamsBasicAuth: e.WEBHOOK_EVENT_STREAMS_BASIC_AUTH } : {}),
    },
  };
}
