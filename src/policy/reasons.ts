/** Runtime lists of the policy's stable keywords (report keys, search-attribute values). */
import type { SkipReason } from './types';

// A Record over the union makes the compiler insist that every SkipReason is listed here.
const SKIP_REASON_SET: Record<SkipReason, true> = {
  'call-live': true,
  'call-unknown': true,
  'attributes-unparsable': true,
  'custom-orchestration': true,
  'no-call-sid': true,
  'unknown-channel': true,
  'not-voice': true,
  'wrapping-left-to-agent': true,
  'messaging-not-idle': true,
  'execution-trigger-unknown': true,
  'owned-by-callwatch': true,
  'grace-period': true,
  'call-sid-mismatch': true,
  protected: true,
  'post-call-task': true,
  'channel-not-swept': true,
  'flow-unreadable': true,
  'task-version-unknown': true,
  'changed-under-us': true,
};
export const SKIP_REASONS = Object.keys(SKIP_REASON_SET) as readonly SkipReason[];
