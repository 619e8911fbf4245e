import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes, registered on the namespace at every dev-server start and upserted by workflows. */
export const CallSidKey = defineSearchAttributeKey('CallSid', SearchAttributeType.KEYWORD);
export const ExecutionSidKey = defineSearchAttributeKey('ExecutionSid', SearchAttributeType.KEYWORD);
export const TaskSidKey = defineSearchAttributeKey('TaskSid', SearchAttributeType.KEYWORD);
/** One of the policy's OUTCOME values: `watching`, `clean`, `closed`, `dry-run`, `skipped`, `live-flagged`, `errors`. */
export const UnstickOutcomeKey = defineSearchAttributeKey('UnstickOutcome', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [CallSidKey, ExecutionSidKey, TaskSidKey, UnstickOutcomeKey] as const;
