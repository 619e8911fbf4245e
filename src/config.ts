/**
 * Configuration from the environment (and `.env`), validated once at start-up.
 * Every bad value is reported with the variable's name, the value seen, and how to fix it.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as dotenv from 'dotenv';
import { z } from 'zod';
import { msToNumber } from '@temporalio/common/lib/time';
import { ExpressionError, compileProtection } from './policy/expression';

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const hostPort = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Milliseconds from `1500` or an `ms`-style string (`30s`, `4h`); NaN when it is neither. */
function parseDurationMs(raw: string): number {
  const v = raw.trim();
  try {
    return /^\d+$/.test(v) ? Number(v) : msToNumber(v as never);
  } catch {
    return Number.NaN;
  }
}

function duration(name: string, fallback: string, opts: { allowZero?: boolean } = {}) {
  return z
    .string()
    .default(fallback)
    .transform((raw, ctx) => {
      const ms = parseDurationMs(raw);
      if (!Number.isFinite(ms) || ms < 0 || (!opts.allowZero && ms === 0)) {
        ctx.addIssue({
          code: 'custom',
          message: `${name}=${JSON.stringify(raw)} is not a duration; use a number of milliseconds or a value like "30s", "5m", "4h"`,
        });
        return z.NEVER;
      }
      return ms;
    });
}

/** Why a variable's value is bad: the sentence after `NAME="value"` in its problem line. */
class Bad {
  constructor(readonly message: string) {}
}

/**
 * A variable that may be unset: unset or blank gives `fallback`; otherwise `parse` gives the value, or a Bad that
 * becomes the variable's one problem line (loadConfig puts `NAME="value"` in front unless the message starts with it).
 */
function optional<T, F>(fallback: F, parse: (raw: string) => T | Bad) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const v = parse(raw);
      if (v instanceof Bad) {
        ctx.addIssue({ code: 'custom', message: v.message });
        return z.NEVER;
      }
      return v;
    });
}

function optionalDuration() {
  return optional(undefined, (raw) => {
    const ms = parseDurationMs(raw);
    return Number.isFinite(ms) && ms > 0 ? ms : new Bad('is not a duration; use e.g. "30m" or leave it unset');
  });
}

function bool(fallback: boolean) {
  return optional(fallback, (raw) => {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    return new Bad('is not a boolean; use true or false');
  });
}

function int(fallback: number, min: number, max: number) {
  return optional(fallback, (raw) => {
    const n = Number(raw.trim());
    return Number.isInteger(n) && n >= min && n <= max ? n : new Bad(`must be a whole number from ${min} to ${max}`);
  });
}

function optionalPort() {
  return optional(undefined, (raw) => {
    const n = Number(raw.trim());
    return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : new Bad('is not a TCP port (1-65535)');
  });
}

function sidList(name: string, prefix: string) {
  return optional([] as string[], (raw) => {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = items.filter((s) => !new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(s));
    if (bad.length === 0) return items;
    return new Bad(`${name} has ${bad.map((b) => JSON.stringify(b)).join(', ')}: each entry must be a ${prefix}… SID (${prefix} + 32 hex digits), comma-separated`);
  });
}

function optionalUrl() {
  return optional(undefined, (raw) => {
    try {
      const u = new URL(raw.trim());
      if (u.protocol === 'http:' || u.protocol === 'https:') return raw.trim().replace(/\/+$/, '');
    } catch {
      // not a URL at all
    }
    return new Bad('is not an http(s) URL, e.g. https://unstick.example.com');
  });
}

/** A TaskRouter-style expression that may be unset; the value is the (trimmed) source, parsed here so a typo stops start-up. */
function optionalExpression(example: string) {
  return optional(undefined, (raw) => {
    try {
      compileProtection(raw); // positions in the message count from the value as given
      return raw.trim();
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      return new Bad(`is not a valid TaskRouter expression: ${err.message} (e.g. ${example})`);
    }
  });
}

const schema = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .default('localhost:7233')
    .refine((v) => hostPort.test(v) && Number(v.split(':').pop()) <= 65535, {
      message: 'must be host:port, e.g. localhost:7233 or my-ns.a1b2c.tmprl.cloud:7233',
    }),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('unstick'),
  TEMPORAL_TLS: bool(false),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_DEV_PORT: optionalPort(),
  TEMPORAL_UI_PORT: optionalPort(),
  UNSTICK_DATA_DIR: z.string().default('.unstick'),
  UNSTICK_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

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
  UNSTICK_GRACE_PERIOD: duration('UNSTICK_GRACE_PERIOD', '2m', { allowZero: true }),
  UNSTICK_MAX_AGE: duration('UNSTICK_MAX_AGE', '4h'),
  UNSTICK_POLL_INITIAL: duration('UNSTICK_POLL_INITIAL', '30s'),
  UNSTICK_POLL_MAX: duration('UNSTICK_POLL_MAX', '5m'),
  UNSTICK_WRAP_LIMIT: optionalDuration(),
  UNSTICK_TASK_REASON: z.string().min(1).default('unstick: closed stuck voice Task after the call ended'),
  /** Tasks whose attributes match this expression are never written. */
  UNSTICK_PROTECT_TASKS: optionalExpression('taskType IN ["callback","voicemail"] OR conversations.external_contact != null'),
  /** A Task created more than this long after its call ended is not that call's live Task (callback, voicemail). */
  UNSTICK_POST_CALL_TASK_AFTER: duration('UNSTICK_POST_CALL_TASK_AFTER', '2m', { allowZero: true }),
  UNSTICK_DISCOVERY_RPS: optional(2.5, (raw) => {
    const n = Number(raw);
    return Number.isFinite(n) && n > 0 && n <= 3 ? n : new Bad("must be a number above 0 and at most 3 (Twilio's EvaluateTaskAttributes limit)");
  }),

  UNSTICK_SWEEP_INTERVAL: duration('UNSTICK_SWEEP_INTERVAL', '15m'),
  UNSTICK_SWEEP_CRON: z.string().optional(),
  UNSTICK_SWEEP_CATCHUP: duration('UNSTICK_SWEEP_CATCHUP', '1h'),
  UNSTICK_SWEEP_MAX_ACTIONS: int(500, 0, 1_000_000),
  UNSTICK_SWEEP_CONCURRENCY: int(40, 1, 1000),
  UNSTICK_EXECUTION_THRESHOLD: duration('UNSTICK_EXECUTION_THRESHOLD', '4h'),
  UNSTICK_SWEEP_CHANNELS: z.string().default('voice,sms,webchat'),
  UNSTICK_SWEEP_WATCH_LIVE_CALLS: bool(true),

  WEBHOOK_HOST: z.string().default('0.0.0.0'),
  WEBHOOK_PORT: int(8080, 0, 65535),
  WEBHOOK_PUBLIC_URL: optionalUrl(),
  WEBHOOK_MAX_BODY_BYTES: int(65536, 1024, 10 * 1024 * 1024),
  /** Comma list of `+15551230000=FWxxxxxxxx…`: the Studio Flow each number's status callbacks are redirected to (302). */
  WEBHOOK_FLOW_REDIRECTS: z.string().optional(),
  /** Rebuild the signed URL from X-Forwarded-Proto/-Host when WEBHOOK_PUBLIC_URL is unset (only behind a trusted proxy). */
  WEBHOOK_TRUST_PROXY: bool(false),
});

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
}

export interface Config {
  temporal: TemporalConfig;
  temporalCliPath?: string;
  devServer: { port?: number; uiPort?: number; dataDir: string };
  logLevel: string;
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

  const parsed = schema.safeParse(cleaned);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      const msg = issue.message.startsWith(name) ? issue.message : `${name}=${JSON.stringify(cleaned[name])} ${issue.message}`;
      problems.push(msg);
    }
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const flowRedirects = parseRedirects(e.WEBHOOK_FLOW_REDIRECTS, problems);
  if (e.TWILIO_API_KEY && !e.TWILIO_API_SECRET) problems.push('TWILIO_API_KEY is set but TWILIO_API_SECRET is not: set both, or use TWILIO_AUTH_TOKEN');
  if (e.TWILIO_ACCOUNT_SID && !e.TWILIO_AUTH_TOKEN && !e.TWILIO_API_KEY) problems.push('TWILIO_ACCOUNT_SID is set without TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET)');
  if ((e.TEMPORAL_TLS_CERT_PATH && !e.TEMPORAL_TLS_KEY_PATH) || (!e.TEMPORAL_TLS_CERT_PATH && e.TEMPORAL_TLS_KEY_PATH)) problems.push('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together (mTLS client certificate and key)');
  for (const k of ['TEMPORAL_TLS_CERT_PATH', 'TEMPORAL_TLS_KEY_PATH', 'TEMPORAL_TLS_CA_PATH'] as const) {
    const p = e[k];
    if (p && !existsSync(p)) problems.push(`${k}=${JSON.stringify(p)}: no such file`);
  }
  if (e.UNSTICK_POLL_MAX < e.UNSTICK_POLL_INITIAL) problems.push(`UNSTICK_POLL_MAX (${e.UNSTICK_POLL_MAX} ms) must not be below UNSTICK_POLL_INITIAL (${e.UNSTICK_POLL_INITIAL} ms)`);
  const channels = e.UNSTICK_SWEEP_CHANNELS.split(',').map((s) => s.trim()).filter(Boolean);
  const badChannels = channels.filter((c) => !['voice', 'sms', 'webchat', 'chat', 'whatsapp'].includes(c));
  if (badChannels.length) problems.push(`UNSTICK_SWEEP_CHANNELS has unknown channel(s) ${badChannels.join(', ')}; use any of voice, sms, webchat, chat, whatsapp`);
  if (problems.length) throw new ConfigError(problems);

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
    },
    temporalCliPath: e.TEMPORAL_CLI_PATH,
    devServer: { port: e.TEMPORAL_DEV_PORT, uiPort: e.TEMPORAL_UI_PORT, dataDir: path.resolve(e.UNSTICK_DATA_DIR) },
    logLevel: e.UNSTICK_LOG_LEVEL,
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
    },
  };
}
