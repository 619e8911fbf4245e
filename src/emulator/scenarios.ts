/** The failure stories the emulator plays, with the state each one settles in and what a reconciler should do. */
import type { CallStatus, ExecutionStatus, TaskStatus } from './state';

export type ScenarioName =
  | 'normal'
  | 'hangup-before-twiml'
  | 'sip-cancel-487'
  | 'lost-final-webhook'
  | 'desync-pending'
  | 'desync-reserved'
  | 'desync-assigned'
  | 'live-long'
  | 'abandoned-sms'
  | 'abandoned-webchat'
  | 'task-unparsable'
  | 'task-custom-orchestration'
  | 'chat-task';

export interface ScenarioExpectation {
  /** Status of the Call once the scenario settled (null: no call). */
  callStatus: CallStatus | null;
  /** Status of the Studio Execution (null: none). */
  executionStatus: ExecutionStatus | null;
  /** Status of the TaskRouter Task (null: none). */
  taskStatus: TaskStatus | null;
}

export interface ScenarioInfo {
  description: string;
  /** What the emulator leaves behind. */
  expect: ScenarioExpectation;
  /** What a correct reconciler does: end the Execution? which Task update? (`null`: leave it). */
  unstick: { endExecution: boolean; task: 'cancel' | 'complete' | null; skipReason?: string };
}

export const SCENARIOS: Record<ScenarioName, ScenarioInfo> = {
  normal: {
    description: 'Call answered by an agent; Studio gets the final status callback; Task wraps up and completes.',
    expect: { callStatus: 'completed', executionStatus: 'ended', taskStatus: 'completed' },
    unstick: { endExecution: false, task: null },
  },
  'hangup-before-twiml': {
    description: 'Caller hangs up while Studio runs a non-TwiML widget: "Stop Execution", Execution stays active, no Task.',
    expect: { callStatus: 'canceled', executionStatus: 'active', taskStatus: null },
    unstick: { endExecution: true, task: null },
  },
  'sip-cancel-487': {
    description: 'SIP CANCEL answered 487 before sendToFlex: call canceled, Execution stuck active, no Task.',
    expect: { callStatus: 'canceled', executionStatus: 'active', taskStatus: null },
    unstick: { endExecution: true, task: null },
  },
  'lost-final-webhook': {
    description: 'The final status callback never reaches Studio: Execution stays active; the Task closes normally.',
    expect: { callStatus: 'completed', executionStatus: 'active', taskStatus: 'completed' },
    unstick: { endExecution: true, task: null },
  },
  'desync-pending': {
    description: 'TaskRouter/voice desync: call over, Execution ended, Task stuck pending.',
    expect: { callStatus: 'completed', executionStatus: 'ended', taskStatus: 'pending' },
    unstick: { endExecution: false, task: 'cancel' },
  },
  'desync-reserved': {
    description: 'TaskRouter/voice desync: call over, Execution ended, Task stuck reserved.',
    expect: { callStatus: 'completed', executionStatus: 'ended', taskStatus: 'reserved' },
    unstick: { endExecution: false, task: 'cancel' },
  },
  'desync-assigned': {
    description: 'TaskRouter/voice desync: call over, Execution ended, Task stuck assigned.',
    expect: { callStatus: 'completed', executionStatus: 'ended', taskStatus: 'assigned' },
    unstick: { endExecution: false, task: 'complete' },
  },
  'live-long': {
    description: 'A live call started more than 4 hours ago (in-progress, Execution active, Task assigned). Never touch it.',
    expect: { callStatus: 'in-progress', executionStatus: 'active', taskStatus: 'assigned' },
    unstick: { endExecution: false, task: null, skipReason: 'call is live' },
  },
  'abandoned-sms': {
    description: 'SMS contact stopped replying while the flow sits on Send & Wait for Reply.',
    expect: { callStatus: null, executionStatus: 'active', taskStatus: null },
    unstick: { endExecution: true, task: null },
  },
  'abandoned-webchat': {
    description: 'Webchat visitor closed the window while the flow sits on Send & Wait for Reply (no timeout).',
    expect: { callStatus: null, executionStatus: 'active', taskStatus: null },
    unstick: { endExecution: true, task: null },
  },
  'task-unparsable': {
    description: 'Voice Task whose attributes are not JSON; call over; Task pending.',
    expect: { callStatus: 'completed', executionStatus: 'ended', taskStatus: 'pending' },
    unstick: { endExecution: false, task: null, skipReason: 'unparsable attributes' },
  },
  'task-custom-orchestration': {
    description: 'Call over, Task stuck assigned but marked "custom_orchestration": true.',
    expect: { callStatus: 'completed', executionStatus: 'ended', taskStatus: 'assigned' },
    unstick: { endExecution: false, task: null, skipReason: 'custom orchestration' },
  },
  'chat-task': {
    description: 'A chat-channel Task (no call_sid) stuck pending.',
    expect: { callStatus: null, executionStatus: null, taskStatus: 'pending' },
    unstick: { endExecution: false, task: null, skipReason: 'not a voice task' },
  },
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

export function isScenarioName(s: string): s is ScenarioName {
  return Object.prototype.hasOwnProperty.call(SCENARIOS, s);
}
