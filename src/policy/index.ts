/** The policy: pure, deterministic decisions shared by the callWatch and sweep workflows. Workflow-safe. */
export * from './types';
export { CALL_SID_PATTERN, CHANNEL_HINT_KEYS, CUSTOM_ORCHESTRATION_KEYS, DEFAULT_ORCHESTRATION_VALUES, isCallSid, isTruthyMarker, parseTaskAttributes } from './attributes';
export { classifyChannel, hintContradictsVoice, KNOWN_NON_VOICE_CHANNELS, VOICE_CHANNEL, type ChannelClass } from './channels';
export {
  cancelableFrom,
  completableFrom,
  formatDuration,
  isCallLive,
  isCallTerminal,
  isTaskClosed,
  isTaskOpen,
  LIVE_CALL_STATES,
  MIN_RECHECK_MS,
  OPEN_TASK_STATES,
  TERMINAL_CALL_STATES,
} from './facts';
export { decideCall } from './call';
export { SKIP_REASONS } from './reasons';
export { decideSweepExecution, decideSweepTask, executionNeedsCall, taskNeedsCall } from './sweep';
export { isWriteAction, OUTCOME, summarizeOutcome, UNSTICK_OUTCOMES, type OutcomeInput, type PolicyAction, type UnstickOutcome, type WriteAction } from './outcome';
