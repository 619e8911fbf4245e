/** Seeded randomness and Twilio-style SIDs (two-letter prefix + 32 lower-case hex digits). */
import { createHash } from 'node:crypto';

/** Small seeded PRNG (mulberry32): deterministic traffic, fault draws and SIDs for a given seed. */
export class Rng {
  private state: number;
  constructor(seed: number | string) {
    this.state = typeof seed === 'number' ? seed >>> 0 : hash32(seed);
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  hex(len: number): string {
    let out = '';
    while (out.length < len) out += (0x100000000 + Math.floor(this.next() * 0x100000000)).toString(16).slice(1);
    return out.length === len ? out : out.slice(0, len);
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length) % items.length] as T;
  }
  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Partial<Record<K, number>>): K {
    const entries = Object.entries(weights).filter(([, w]) => typeof w === 'number' && (w as number) > 0) as [K, number][];
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return entries[entries.length - 1]![0];
  }
}

function hash32(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32LE(0);
}

/** A stable SID derived from the seed and a name: the seeded account's SIDs never change for a given seed. */
export function stableSid(prefix: string, seed: number | string, name: string): string {
  return prefix + createHash('sha256').update(`unstick-emulator:${seed}:${name}`).digest('hex').slice(0, 32);
}

export class SidFactory {
  constructor(private readonly rng: Rng) {}
  make(prefix: string): string {
    return prefix + this.rng.hex(32);
  }
}
