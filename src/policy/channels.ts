/** TaskRouter channels: only `voice` Tasks are closed by the policy; messaging is handled through Executions. */
import { MESSAGING_CHANNELS, VOICE_CHANNEL } from '../shared/names';

/** TaskChannel unique names known not to be voice (Flex defaults plus common messaging channels). */
const KNOWN_NON_VOICE_CHANNELS = ['default', ...MESSAGING_CHANNELS, 'web', 'messenger', 'email', 'video'] as const;

export type ChannelClass = 'voice' | 'not-voice' | 'unknown';

/** Classifies a TaskChannel unique name. `extraKnown` are further names known to exist (e.g. the workspace's TaskChannels). */
export function classifyChannel(channel: string | undefined, extraKnown: readonly string[] = []): ChannelClass {
  if (channel === undefined || channel === '') return 'unknown';
  if (channel === VOICE_CHANNEL) return 'voice';
  if ((KNOWN_NON_VOICE_CHANNELS as readonly string[]).includes(channel) || extraKnown.includes(channel)) return 'not-voice';
  return 'unknown';
}

/** A channel hint from the attributes (e.g. Flex `channelType: "web"`) contradicts a voice Task unless it says voice. */
export const hintContradictsVoice = (hint: string | undefined): boolean => hint !== undefined && hint.toLowerCase() !== VOICE_CHANNEL;
