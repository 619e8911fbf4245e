/**
 * The emulated clock. Real time by default; tests and the admin API can set or advance it so that
 * "older than 4 hours" or "closed 5 minutes ago" take milliseconds. Timers in the call simulator
 * always run in real milliseconds; only timestamps and ages come from this clock.
 */
export class EmulatedClock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }
  /** Jumps to an absolute time; the clock keeps ticking from there unless `freeze` is set. */
  set(epochMs: number, freeze = false): void {
    if (freeze) {
      this.frozenAt = epochMs;
    } else {
      this.frozenAt = undefined;
      this.offsetMs = epochMs - Date.now();
    }
  }
  advance(ms: number): void {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offsetMs += ms;
  }
  /** Back to real time. */
  reset(): void {
    this.offsetMs = 0;
    this.frozenAt = undefined;
  }
  describe(): { now: string; epochMs: number; offsetMs: number; frozen: boolean } {
    const now = this.now();
    return { now: new Date(now).toISOString(), epochMs: now, offsetMs: now - Date.now(), frozen: this.frozenAt !== undefined };
  }
}
