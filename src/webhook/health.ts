/**
 * Whether Temporal is reachable, as the webhook knows it: a cheap probe (GetSystemInfo, which touches no
 * persistence, so a slow database does not fail it) run only when there is doubt, and the evidence of every answered
 * call. A server that is slow is "up"; only a failed probe makes it "down", and then callbacks get 503 at once.
 */
import { setMaxListeners } from 'node:events';

export type TemporalState = 'unknown' | 'up' | 'down';

export interface TemporalHealthOptions {
  /** One probe; resolves when Temporal answered within its deadline, rejects otherwise. */
  probe: () => Promise<unknown>;
  /** While down, at most one re-probe this often, triggered by traffic (default 1 s). */
  recheckMs?: number;
  /** Evidence (an answered call or probe) younger than this needs no probe (default 1 s). */
  freshMs?: number;
  now?: () => number;
}

export interface TemporalHealth {
  readonly state: TemporalState;
  /** Aborted when Temporal is found down; a fresh signal is handed out once it is up again. */
  readonly downSignal: AbortSignal;
  /** Temporal answered something (a call succeeded, or failed with a non-transient error). */
  noteAnswer(): void;
  /** Probes unless the evidence is fresh or a probe is running; resolves true when Temporal is up. */
  check(): Promise<boolean>;
  /** Probes now (deduplicated with a running probe), whatever the evidence says. */
  probeNow(): Promise<boolean>;
  /** While down: starts a re-probe in the background if the last one is older than recheckMs. */
  recheckIfDown(): void;
}

export function createTemporalHealth(opts: TemporalHealthOptions): TemporalHealth {
  const now = opts.now ?? Date.now;
  const recheckMs = opts.recheckMs ?? 1000;
  const freshMs = opts.freshMs ?? 1000;
  let state: TemporalState = 'unknown';
  let lastAnswerAt = -Infinity;
  let lastProbeAt = -Infinity;
  let running: Promise<boolean> | undefined;
  // Every waiting callback listens to it: no listener limit (each one removes itself when it is answered).
  const newDownController = (): AbortController => {
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  };
  let down = newDownController();

  function markUp(): void {
    lastAnswerAt = now();
    if (state === 'down') down = newDownController();
    state = 'up';
  }

  function probeNow(): Promise<boolean> {
    running ??= (async () => {
      lastProbeAt = now();
      try {
        await opts.probe();
        markUp();
        return true;
      } catch {
        if (state !== 'down') {
          state = 'down';
          down.abort();
        }
        return false;
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  return {
    get state() {
      return state;
    },
    get downSignal() {
      return down.signal;
    },
    noteAnswer: markUp,
    async check(): Promise<boolean> {
      if (state === 'up' && now() - lastAnswerAt < freshMs) return true;
      return probeNow();
    },
    probeNow,
    recheckIfDown(): void {
      if (state === 'down' && !running && now() - lastProbeAt >= recheckMs) void probeNow();
    },
  };
}
