/**
 * The two loads of the webhook benchmark, against one dev server: raw `signalWithStart` (what the webhook does per
 * callback, straight from a Temporal client) and signed Twilio-style voice status callbacks posted to the webhook.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import twilio from 'twilio';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config';
import { callWatchSettingsFromConfig } from '../src/shared/callWatchSettings';
import { callStatusSignal, type CallStatusEvent, type CallWatchInput } from '../src/shared/messages';
import { VOICE_STATUS_PATH } from '../src/shared/names';
import { startCallWatch } from '../src/temporal/startCallWatch';
import { startWebhook, type StarterStats } from '../src/webhook';

export const ACCOUNT = `AC${'b3'.repeat(16)}`;
const TOKEN = randomBytes(16).toString('hex');
const PUBLIC_URL = 'https://unstick.bench.test';

export interface Latency {
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface LoadResult {
  sent: number;
  inFlight: number;
  wallMs: number;
  /** Accepted (2xx/3xx for callbacks, resolved for raw) per second of wall time. */
  perSecond: number;
  accepted: number;
  /** HTTP status → count (raw: 'ok' / error message → count). */
  outcomes: Record<string, number>;
  /** 503 answers (callbacks only). */
  refused: number;
  latency: Latency;
  /** CPU of this process (load generator, webhook and Temporal client together) per sent request. */
  cpuMsPerRequest: number;
  /** The webhook's own counters after the run (callbacks only). */
  webhook?: StarterStats;
}

const newCallSid = (): string => `CA${randomBytes(16).toString('hex')}`;

function latency(ms: number[]): Latency {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50Ms: Math.round(at(0.5)), p95Ms: Math.round(at(0.95)), maxMs: Math.round(sorted.at(-1) ?? 0) };
}

/** Runs `total` jobs with `inFlight` at a time; each returns its outcome label. */
async function drive(total: number, inFlight: number, job: (i: number) => Promise<string>): Promise<{ wallMs: number; outcomes: Record<string, number>; ms: number[]; cpuMsPerRequest: number }> {
  const outcomes: Record<string, number> = {};
  const ms: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, total) }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        const label = await job(i).catch((err: unknown) => (err instanceof Error ? err.message.slice(0, 80) : String(err)));
        ms.push(performance.now() - s);
        outcomes[label] = (outcomes[label] ?? 0) + 1;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { wallMs: performance.now() - t0, outcomes, ms, cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / total };
}

function benchConfig(address: string, taskQueue: string, env: Record<string, string>) {
  return loadConfig({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_PORT: '0',
    WEBHOOK_PUBLIC_URL: PUBLIC_URL,
    UNSTICK_LOG_LEVEL: 'silent',
    ...env,
  });
}

function statusEvent(callSid: string): CallStatusEvent {
  return { callSid, status: 'completed', sequenceNumber: 3, timestampMs: Date.now(), durationSec: 42, source: 'webhook', from: '+15557654321', to: '+15550002222' };
}

/** signalWithStart straight from the client, as the webhook sends it, `inFlight` at a time. */
export async function rawSignalWithStart(client: Client, address: string, taskQueue: string, total: number, inFlight: number): Promise<LoadResult> {
  const settings = callWatchSettingsFromConfig(benchConfig(address, taskQueue, {}));
  const { wallMs, outcomes, ms, cpuMsPerRequest } = await drive(total, inFlight, async () => {
    const callSid = newCallSid();
    const input: CallWatchInput = { callSid, startedBy: 'webhook', settings, from: '+15557654321', to: '+15550002222' };
    await client.withDeadline(Date.now() + 30_000, () =>
      startCallWatch(client, callSid, { taskQueue, input, summary: `call ${callSid}`, signal: { signal: callStatusSignal, event: statusEvent(callSid) } }),
    );
    return 'ok';
  });
  const accepted = outcomes.ok ?? 0;
  return { sent: total, inFlight, wallMs, perSecond: (accepted * 1000) / wallMs, accepted, outcomes, refused: 0, latency: latency(ms), cpuMsPerRequest };
}

function signedBody(callSid: string): { body: string; signature: string } {
  const params: Record<string, string> = {
    AccountSid: ACCOUNT,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: 'completed',
    CallbackSource: 'call-progress-events',
    CallDuration: '42',
    Direction: 'inbound',
    From: '+15557654321',
    To: '+15550002222',
    SequenceNumber: '3',
    Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
  };
  return { body: new URLSearchParams(params).toString(), signature: twilio.getExpectedTwilioSignature(TOKEN, `${PUBLIC_URL}${VOICE_STATUS_PATH}`, params) };
}

export interface IngestOptions {
  total: number;
  inFlight: number;
  /** WEBHOOK_* variables for this webhook (e.g. WEBHOOK_MAX_IN_FLIGHT, WEBHOOK_REQUEST_BUDGET). */
  env: Record<string, string>;
}

/** A webhook on `client`, fed `total` signed callbacks (signed before the clock starts), `inFlight` at a time. */
export async function ingestCallbacks(client: Client, address: string, taskQueue: string, o: IngestOptions): Promise<LoadResult> {
  const webhook = await startWebhook(benchConfig(address, taskQueue, o.env), client, { log: pino({ level: 'silent' }) });
  const agent = new Agent({ connections: o.inFlight, pipelining: 1, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const bodies = Array.from({ length: o.total }, () => signedBody(newCallSid()));
  try {
    const url = `${webhook.url}${VOICE_STATUS_PATH}`;
    const { wallMs, outcomes, ms, cpuMsPerRequest } = await drive(o.total, o.inFlight, async (i) => {
      const { body, signature } = bodies[i]!;
      const res = await request(url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        body,
      });
      await res.body.dump();
      return String(res.statusCode);
    });
    const accepted = Object.entries(outcomes)
      .filter(([code]) => /^[23]\d\d$/.test(code))
      .reduce((n, [, c]) => n + c, 0);
    return { sent: o.total, inFlight: o.inFlight, wallMs, perSecond: (accepted * 1000) / wallMs, accepted, outcomes, refused: outcomes['503'] ?? 0, latency: latency(ms), cpuMsPerRequest, webhook: webhook.stats() };
  } finally {
    await webhook.close();
    await agent.close();
  }
}
