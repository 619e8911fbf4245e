/**
 * Fault injection and request accounting: latency, 429/500/503 answers, dropped connections and outage
 * windows per endpoint pattern; answers lost after the request was handled (`answerLost`); the per-account cap on requests in flight; counters for tests and benchmarks.
 */
import type { Rng } from './ids';

export interface FaultRule {
  /** `product:Resource` (e.g. `taskrouter:Tasks`, `api:Calls`, `studio:Executions`), `product:*`, or `*`. */
  endpoint: string;
  /** HTTP method or `*` (default). */
  method?: string;
  /** Added latency in real milliseconds (applied before any status/drop fault of the same rule). */
  latencyMs?: number;
  /** Answer with this status instead of handling the request: 429 (code 20429), 500, 503. */
  status?: 429 | 500 | 503;
  /** Seconds for the `Retry-After` header (429 and 503). */
  retryAfter?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /**
   * The request is handled first (a write is applied), then its answer is lost: with `drop` the socket is destroyed
   * instead of answering, with `status` that error (and `retryAfter`) replaces the real answer. Needs `drop` or `status`.
   */
  answerLost?: boolean;
  /** Chance (0..1) that a matching request is hit; default 1. */
  probability?: number;
  /** Only the next N matching requests are hit, then the rule expires. */
  times?: number;
  /** Real-time window (epoch ms): the rule is active from `from` until `until`. */
  from?: number;
  until?: number;
  /** Shorthand for an outage window starting now: `until = now + forMs`. */
  forMs?: number;
}

export interface FaultSettings {
  rules: FaultRule[];
  /** Per-account requests in flight before Twilio-style 429/20429 (0 or undefined: no cap). */
  maxInFlight?: number;
  /** Fraction (0..1) of voice status callbacks that are never delivered. */
  dropStatusCallbacks?: number;
  /** Fraction (0..1) of TaskRouter workspace events that are never delivered. */
  dropTaskRouterEvents?: number;
}

interface LiveRule extends FaultRule {
  id: number;
  remaining?: number;
}

export interface FaultOutcome {
  status?: 429 | 500 | 503;
  retryAfter?: number;
  drop?: boolean;
}

export interface FaultDecision extends FaultOutcome {
  latencyMs: number;
  /** Handle the request, then lose its answer this way. */
  lostAnswer?: FaultOutcome;
}

export function endpointMatches(pattern: string, endpoint: string): boolean {
  if (pattern === '*' || pattern === endpoint) return true;
  if (pattern.endsWith(':*')) return endpoint.startsWith(pattern.slice(0, -1));
  return false;
}

export class Faults {
  private rules: LiveRule[] = [];
  private nextId = 1;
  maxInFlight = 0;
  dropStatusCallbacks = 0;
  dropTaskRouterEvents = 0;

  constructor(private readonly rng: Rng) {}

  set(s: Partial<FaultSettings>): void {
    this.rules = [];
    for (const r of s.rules ?? []) this.add(r);
    this.maxInFlight = s.maxInFlight ?? 0;
    this.dropStatusCallbacks = s.dropStatusCallbacks ?? 0;
    this.dropTaskRouterEvents = s.dropTaskRouterEvents ?? 0;
  }
  add(r: FaultRule): number {
    const live: LiveRule = { ...r, id: this.nextId++ };
    if (r.forMs !== undefined) {
      live.from = Date.now();
      live.until = Date.now() + r.forMs;
    }
    if (r.times !== undefined) live.remaining = r.times;
    this.rules.push(live);
    return live.id;
  }
  clear(): void {
    this.set({});
  }
  list(): FaultSettings & { rules: (FaultRule & { id: number; remaining?: number })[] } {
    return {
      rules: this.rules.map((r) => ({ ...r })),
      maxInFlight: this.maxInFlight,
      dropStatusCallbacks: this.dropStatusCallbacks,
      dropTaskRouterEvents: this.dropTaskRouterEvents,
    };
  }
  /** Decides what happens to one request; consumes `times` budgets. */
  decide(endpoint: string, method: string): FaultDecision {
    const now = Date.now();
    const d: FaultDecision = { latencyMs: 0 };
    this.rules = this.rules.filter((r) => !(r.until !== undefined && now >= r.until) && !(r.remaining !== undefined && r.remaining <= 0));
    for (const r of this.rules) {
      if (!endpointMatches(r.endpoint, endpoint)) continue;
      if (r.method && r.method !== '*' && r.method.toUpperCase() !== method) continue;
      if (r.from !== undefined && now < r.from) continue;
      if (r.probability !== undefined && r.probability < 1 && this.rng.next() >= r.probability) continue;
      const hasOutcome = !!(r.drop || r.status);
      const outcomeFree = !d.status && !d.drop && !d.lostAnswer;
      // A rule is only consumed (`times`) when it actually does something to this request.
      if (!r.latencyMs && !(hasOutcome && outcomeFree)) continue;
      if (r.remaining !== undefined) r.remaining--;
      d.latencyMs += r.latencyMs ?? 0;
      if (!hasOutcome || !outcomeFree) continue;
      const outcome: FaultOutcome = r.drop ? { drop: true } : { status: r.status, retryAfter: r.retryAfter };
      if (r.answerLost) d.lostAnswer = outcome;
      else Object.assign(d, outcome);
    }
    return d;
  }
  dropCallback(kind: 'status' | 'taskrouter'): boolean {
    const p = kind === 'status' ? this.dropStatusCallbacks : this.dropTaskRouterEvents;
    return p > 0 && this.rng.next() < p;
  }
}

export interface CounterSnapshot {
  /** `product:Resource METHOD` → requests received. */
  byEndpoint: Record<string, number>;
  /** Requests answered by status code. */
  byStatus: Record<string, number>;
  total: number;
  reads: number;
  writes: number;
  tooManyRequests: number;
  serverErrors: number;
  dropped: number;
  /** Requests handled whose answer was then lost (`answerLost` rules). */
  answersLost: number;
  unauthorized: number;
  inFlight: number;
  maxInFlightSeen: number;
  webhooksSent: number;
  webhooksDropped: number;
  webhooksFailed: number;
  since: string;
}

/** Request counters. REST reads/writes count only the Twilio REST products (api, studio, taskrouter). */
export class Counters {
  byEndpoint = new Map<string, number>();
  byStatus = new Map<string, number>();
  total = 0;
  reads = 0;
  writes = 0;
  tooManyRequests = 0;
  serverErrors = 0;
  dropped = 0;
  answersLost = 0;
  unauthorized = 0;
  maxInFlightSeen = 0;
  webhooksSent = 0;
  webhooksDropped = 0;
  webhooksFailed = 0;
  since = Date.now();
  readonly inFlight = new Map<string, number>();

  reset(): void {
    this.byEndpoint.clear();
    this.byStatus.clear();
    this.total = this.reads = this.writes = this.tooManyRequests = this.serverErrors = this.dropped = this.answersLost = this.unauthorized = 0;
    this.webhooksSent = this.webhooksDropped = this.webhooksFailed = 0;
    this.maxInFlightSeen = this.totalInFlight();
    this.since = Date.now();
  }
  request(endpoint: string, method: string): void {
    const k = `${endpoint} ${method}`;
    this.byEndpoint.set(k, (this.byEndpoint.get(k) ?? 0) + 1);
    if (endpoint.startsWith('webhooks:') || endpoint.startsWith('admin:')) return;
    this.total++;
    if (method === 'GET') this.reads++;
    else this.writes++;
  }
  answered(endpoint: string, status: number): void {
    if (endpoint.startsWith('admin:')) return;
    const k = String(status);
    this.byStatus.set(k, (this.byStatus.get(k) ?? 0) + 1);
    if (status === 429) this.tooManyRequests++;
    if (status >= 500) this.serverErrors++;
    if (status === 401) this.unauthorized++;
  }
  enter(account: string): number {
    const n = (this.inFlight.get(account) ?? 0) + 1;
    this.inFlight.set(account, n);
    const total = this.totalInFlight();
    if (total > this.maxInFlightSeen) this.maxInFlightSeen = total;
    return n;
  }
  leave(account: string): void {
    const n = (this.inFlight.get(account) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(account);
    else this.inFlight.set(account, n);
  }
  totalInFlight(): number {
    let s = 0;
    for (const v of this.inFlight.values()) s += v;
    return s;
  }
  snapshot(): CounterSnapshot {
    return {
      byEndpoint: Object.fromEntries(this.byEndpoint),
      byStatus: Object.fromEntries(this.byStatus),
      total: this.total,
      reads: this.reads,
      writes: this.writes,
      tooManyRequests: this.tooManyRequests,
      serverErrors: this.serverErrors,
      dropped: this.dropped,
      answersLost: this.answersLost,
      unauthorized: this.unauthorized,
      inFlight: this.totalInFlight(),
      maxInFlightSeen: this.maxInFlightSeen,
      webhooksSent: this.webhooksSent,
      webhooksDropped: this.webhooksDropped,
      webhooksFailed: this.webhooksFailed,
      since: new Date(this.since).toISOString(),
    };
  }
}

/** Sliding one-second window per account, for TaskRouter's 3 rps limit on `EvaluateTaskAttributes`. */
export class RateWindow {
  private hits = new Map<string, number[]>();
  constructor(public limitPerSecond: number) {}
  /** Returns remaining capacity after this hit, or -1 when over the limit (the hit is not recorded). */
  hit(key: string): number {
    if (this.limitPerSecond <= 0) return Number.MAX_SAFE_INTEGER;
    const now = Date.now();
    const arr = (this.hits.get(key) ?? []).filter((t) => now - t < 1000);
    if (arr.length >= this.limitPerSecond) {
      this.hits.set(key, arr);
      return -1;
    }
    arr.push(now);
    this.hits.set(key, arr);
    return this.limitPerSecond - arr.length;
  }
}
