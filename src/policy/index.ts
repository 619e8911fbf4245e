/** The policy: pure, deterministic decisions shared by every writer (callWatch, the sweep). Workflow-safe. */
export * from './types';
export { CALL_SID_PATTERN, CHANNEL_HINT_KEYS, CUSTOM_ORCHESTRATION_KEYS, DEFAULT_ORCHESTRATION_VALUES, isCallSid, parseTaskAttributes, readTaskAttributes } from './attributes';
export { classifyChannel, hintContradictsVoice, type ChannelClass } from './channels';
export { formatDuration, isCallLive, isCallTerminal, isTaskClosed, isTaskOpen, MAX_READ_AGE_MS, MIN_RECHECK_MS, OPEN_TASK_STATES, TERMINAL_CALL_STATES } from './facts';
export { flowFactsFromDefinition, SEND_AND_WAIT, widgetTimeoutMs } from './flow';
export { callBlocks, decideTask, isFreshTask, taskCallSid } from './task';
export { decideExecution } from './execution';
export { decideCall } from './call';
export { SKIP_REASONS } from './reasons';
export { isWriteAction, OUTCOME, summarizeOutcome, UNSTICK_OUTCOMES, type OutcomeInput, type PolicyAction, type UnstickOutcome, type WriteAction, type WriteResult } from './outcome';
