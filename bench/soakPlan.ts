/**
 * What the soak plays: a mix of stories (every stuck story the emulator's scenarios produce, clean calls, and the
 * cases unstick must never touch), each with the resources it leaves and whether unstick may close them.
 */
import type { Emulator, ScenarioName } from '../src/emulator';
import { Rng } from '../src/emulator/ids';

export type StoryName =
  | 'normal'
  | 'hangup-before-twiml'
  | 'sip-cancel-487'
  | 'lost-final-webhook'
  | 'desync-pending'
  | 'desync-reserved'
  | 'desync-assigned'
  | 'abandoned-sms'
  | 'abandoned-webchat'
  | 'live-hangup'
  | 'live-keep'
  | 'task-unparsable'
  | 'task-custom-orchestration'
  | 'task-wrapping'
  | 'task-protected-callback'
  | 'chat-task';

/** Per 100 calls. Protected stories: live-keep, unparsable, custom, wrapping, callback (UNSTICK_PROTECT_TASKS), chat. */
export const STORY_WEIGHTS: Record<StoryName, number> = {
  normal: 28,
  'hangup-before-twiml': 8,
  'sip-cancel-487': 8,
  'lost-final-webhook': 12,
  'desync-pending': 7,
  'desync-reserved': 7,
  'desync-assigned': 7,
  'abandoned-sms': 2,
  'abandoned-webchat': 2,
  'live-hangup': 2,
  'live-keep': 3,
  'task-unparsable': 3,
  'task-custom-orchestration': 3,
  'task-wrapping': 3,
  'task-protected-callback': 3,
  'chat-task': 2,
};

export interface Resource {
  sid: string;
  kind: 'execution' | 'task';
  /** Unstick must never write to it. */
  protected: boolean;
}

export interface PlayedStory {
  index: number;
  story: StoryName;
  startedAtMs: number;
  callSid?: string;
  resources: Resource[];
  /** live-hangup: when it was hung up. */
  hungUpAtMs?: number;
}

/** `n` stories in a shuffled, seeded order; every story at least once when n allows. */
export function planStories(n: number, seed = 'soak'): StoryName[] {
  const names = Object.keys(STORY_WEIGHTS) as StoryName[];
  const out: StoryName[] = [];
  for (const name of names) out.push(...Array<StoryName>(Math.max(1, Math.round((n * STORY_WEIGHTS[name]) / 100))).fill(name));
  while (out.length < n) out.push('normal');
  while (out.length > n) {
    const i = out.lastIndexOf('normal');
    out.splice(i >= 0 ? i : out.length - 1, 1);
  }
  const rng = new Rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const SCENARIO: Partial<Record<StoryName, ScenarioName>> = {
  'live-hangup': 'live-long',
  'live-keep': 'live-long',
  'task-wrapping': 'normal',
  'task-protected-callback': 'normal',
};

const PROTECTED_TASK_STORIES: StoryName[] = ['task-unparsable', 'task-custom-orchestration', 'task-wrapping', 'chat-task'];

/** Starts one story; resources are filled in as the emulator creates them (read them once the story settled). */
export function playStory(emu: Emulator, index: number, story: StoryName, timing: { ringMs: number; stepMs: number }): PlayedStory {
  const scenario = SCENARIO[story] ?? (story as ScenarioName);
  const played: PlayedStory = { index, story, startedAtMs: Date.now(), resources: [] };
  const run = emu.admin.createCall({
    scenario,
    ...(story === 'task-wrapping' ? { wrapMs: 3_600_000 } : {}),
    ...(story === 'live-hangup' || story === 'live-keep' ? { startedAgoMs: 60_000 } : {}),
  });
  played.callSid = run.callSid;
  const protectAll = story === 'live-keep';
  const fill = () => {
    if (run.executionSid && !played.resources.some((r) => r.sid === run.executionSid)) played.resources.push({ sid: run.executionSid, kind: 'execution', protected: protectAll });
    if (run.taskSid && !played.resources.some((r) => r.sid === run.taskSid)) {
      played.resources.push({ sid: run.taskSid, kind: 'task', protected: protectAll || PROTECTED_TASK_STORIES.includes(story) });
    }
  };
  fill();
  // The run object is the emulator's own: its SIDs appear as the script goes on.
  const timer = setInterval(fill, 100);
  setTimeout(() => clearInterval(timer), timing.ringMs * 2 + timing.stepMs * 4 + 2_000).unref();
  if (story === 'task-protected-callback' && run.callSid) {
    // Another app's callback Task for this caller, created while the call is live: UNSTICK_PROTECT_TASKS protects it.
    setTimeout(() => {
      const sid = emu.admin.createTask({ attributes: { call_sid: run.callSid, taskType: 'callback', type: 'inbound' }, channel: 'voice' });
      played.resources.push({ sid, kind: 'task', protected: true });
    }, timing.ringMs + timing.stepMs * 2);
  }
  return played;
}

/** A live-hangup story's call ends now. */
export function hangUp(emu: Emulator, p: PlayedStory): void {
  if (p.callSid && emu.admin.hangup(p.callSid)) p.hungUpAtMs = Date.now();
}
