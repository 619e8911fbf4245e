/**
 * The records of the emulator's in-memory Twilio account, as the Store (state.ts) keeps them; their REST
 * representations are built from them in serialize.ts.
 */
import type { CallStatus, TaskAssignmentStatus } from '../shared/constants';

export type { CallStatus };
export type TaskStatus = TaskAssignmentStatus;
export type ExecutionStatus = 'active' | 'ended';

export interface Call {
  seq: number;
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  phoneNumberSid: string | null;
  status: CallStatus;
  direction: string;
  dateCreated: number;
  dateUpdated: number;
  startTime: number | null;
  endTime: number | null;
  answeredAt: number | null;
  duration: number | null;
  /** Emulator bookkeeping (not part of the REST representation). */
  scenario?: string;
  executionSid?: string;
  flowSid?: string;
  taskSid?: string;
  blockedByExecutionSid?: string;
  callbackSeq: number;
}

export interface PhoneNumber {
  seq: number;
  sid: string;
  accountSid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string | null;
  voiceMethod: 'GET' | 'POST';
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: 'GET' | 'POST';
  statusCallback: string | null;
  statusCallbackMethod: 'GET' | 'POST';
  smsUrl: string | null;
  smsMethod: 'GET' | 'POST';
  dateCreated: number;
  dateUpdated: number;
}

export interface Flow {
  seq: number;
  sid: string;
  accountSid: string;
  friendlyName: string;
  definition: FlowDefinition;
  revision: number;
  dateCreated: number;
  dateUpdated: number;
}

export interface FlowState {
  name: string;
  type: string;
  transitions: { event: string; next?: string }[];
  properties: Record<string, unknown>;
}
export interface FlowDefinition {
  description: string;
  states: FlowState[];
  initial_state: string;
  flags: { allow_concurrent_calls: boolean };
}

export interface Step {
  seq: number;
  sid: string;
  executionSid: string;
  flowSid: string;
  name: string;
  transitionedFrom: string;
  transitionedTo: string;
  type: string;
  context: Record<string, unknown>;
  dateCreated: number;
  dateUpdated: number;
}

export type ExecutionKind = 'voice' | 'sms' | 'webchat' | 'rest';
export interface Execution {
  seq: number;
  sid: string;
  accountSid: string;
  flowSid: string;
  contactAddress: string;
  contactSid: string;
  flowVersion: number;
  status: ExecutionStatus;
  dateCreated: number;
  dateUpdated: number;
  initiatedBy: string | null;
  context: Record<string, unknown>;
  steps: Step[];
  kind: ExecutionKind;
  callSid?: string;
  /** Studio stopped listening (caller gone before a TwiML widget): the final status callback does not end it. */
  deaf?: boolean;
}

export interface Workspace {
  seq: number;
  sid: string;
  accountSid: string;
  friendlyName: string;
  eventCallbackUrl: string | null;
  eventsFilter: string | null;
  defaultActivitySid: string;
  defaultActivityName: string;
  timeoutActivitySid: string;
  timeoutActivityName: string;
  dateCreated: number;
  dateUpdated: number;
  workflows: { sid: string; friendlyName: string }[];
  queues: { sid: string; friendlyName: string }[];
  workers: { sid: string; friendlyName: string; attributes: string }[];
}

export interface TaskChannel {
  seq: number;
  sid: string;
  accountSid: string;
  workspaceSid: string;
  uniqueName: string;
  friendlyName: string;
  channelOptimizedRouting: boolean | null;
  dateCreated: number;
  dateUpdated: number;
}

export interface Task {
  seq: number;
  sid: string;
  accountSid: string;
  workspaceSid: string;
  status: TaskStatus;
  attributes: string;
  priority: number;
  reason: string | null;
  timeout: number;
  channelSid: string;
  channelUniqueName: string;
  queueSid: string | null;
  queueName: string | null;
  workflowSid: string | null;
  workflowName: string | null;
  dateCreated: number;
  dateUpdated: number;
  queueEnteredAt: number | null;
  virtualStartTime: number;
  closedAt: number | null;
  version: number;
  callSid: string | null;
  reservationSid: string | null;
  workerSid: string | null;
}

export interface TrEvent {
  seq: number;
  sid: string;
  accountSid: string;
  workspaceSid: string;
  eventType: string;
  description: string;
  date: number;
  resourceType: string;
  resourceSid: string;
  data: Record<string, unknown>;
  actorType: string;
  actorSid: string | null;
}

export interface TaskEventListener {
  (ev: TrEvent, task: Task | undefined, extra: Record<string, string>): void;
}
