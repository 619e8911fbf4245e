/** Shared by the webhook suites: a config for the starter, signed Twilio-style POSTs, and reads of what it started. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import pino from 'pino';
import twilio from 'twilio';
import { loadConfig, type Config } from '../../src/config';
import { callWorkflowId } from '../../src/shared/names';

export const ACCOUNT = `AC${'a1'.repeat(16)}`;
export const TOKEN = `tok_${randomBytes(12).toString('hex')}`;
export const FLOW = `FW${'f0'.repeat(16)}`;
export const WORKSPACE = `WS${'b2'.repeat(16)}`;
export const REDIRECTED_NUMBER = '+15550001111';
export const OTHER_NUMBER = '+15550002222';
export const PUBLIC_URL = 'https://unstick.example.test/hooks';
export const VOICE = '/twilio/voice/status';
export const TR = '/twilio/taskrouter/events';

export const newCallSid = (): string => `CA${randomBytes(16).toString('hex')}`;
export const newTaskSid = (): string => `WT${randomBytes(16).toString('hex')}`;

export function testConfig(taskQueue: string, address: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_FLOW_SIDS: FLOW,
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_PORT: '0',
    WEBHOOK_PUBLIC_URL: PUBLIC_URL,
    WEBHOOK_MAX_BODY_BYTES: '2048',
    WEBHOOK_FLOW_REDIRECTS: `${REDIRECTED_NUMBER}=${FLOW}`,
    UNSTICK_LOG_LEVEL: 'info',
    ...extra,
  });
}

export function captureLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

export type Params = Record<string, string>;

export interface PostOptions {
  /** Signature: valid for `signUrl` (default public URL + path), a forged value, or none. */
  sign?: 'valid' | 'forged' | 'none';
  signUrl?: string;
  contentType?: string;
  body?: string;
  headers?: Record<string, string>;
}

export async function post(base: string, path: string, params: Params, opts: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/x-www-form-urlencoded', ...opts.headers };
  const sign = opts.sign ?? 'valid';
  if (sign === 'valid') headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(TOKEN, opts.signUrl ?? `${PUBLIC_URL}${path}`, params);
  if (sign === 'forged') headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature('not-the-token', `${PUBLIC_URL}${path}`, params);
  return fetch(`${base}${path}`, { method: 'POST', headers, body: opts.body ?? new URLSearchParams(params).toString(), redirect: 'manual' });
}

export function voiceParams(callSid: string, over: Params = {}): Params {
  return {
    AccountSid: ACCOUNT,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: 'completed',
    CallbackSource: 'call-progress-events',
    CallDuration: '42',
    Direction: 'inbound',
    From: '+15557654321',
    To: OTHER_NUMBER,
    SequenceNumber: '3',
    Timestamp: 'Tue, 14 Jan 2025 10:00:42 +0000',
    ...over,
  };
}

export function taskParams(callSid: string | undefined, over: Params = {}): Params {
  const attributes = callSid ? { call_sid: callSid, from: '+15557654321', to: OTHER_NUMBER, direction: 'inbound' } : { channelType: 'web', conversationSid: `CH${'c3'.repeat(16)}` };
  return {
    AccountSid: ACCOUNT,
    WorkspaceSid: WORKSPACE,
    WorkspaceName: 'Flex Task Assignment',
    EventType: 'task.created',
    EventDescription: 'Task created',
    ResourceType: 'Task',
    ResourceSid: newTaskSid(),
    Timestamp: '1736848842',
    TaskSid: newTaskSid(),
    TaskAttributes: JSON.stringify(attributes),
    TaskAssignmentStatus: 'pending',
    TaskChannelUniqueName: callSid ? 'voice' : 'chat',
    ...over,
  };
}

export const decode = <T>(payloads: temporal.api.common.v1.IPayload[] | null | undefined, i = 0): T =>
  defaultPayloadConverter.fromPayload<T>(payloads![i]! as never);

export async function signals(client: Client, callSid: string): Promise<{ name: string; arg: unknown }[]> {
  const history = await client.workflow.getHandle(callWorkflowId(callSid)).fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.workflowExecutionSignaledEventAttributes)
    .map((e) => ({ name: e.workflowExecutionSignaledEventAttributes!.signalName!, arg: decode(e.workflowExecutionSignaledEventAttributes!.input?.payloads) }));
}

export async function assertNoWorkflow(client: Client, callSid: string): Promise<void> {
  await assert.rejects(client.workflow.getHandle(callWorkflowId(callSid)).describe(), WorkflowNotFoundError);
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
