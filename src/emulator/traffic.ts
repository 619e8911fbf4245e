/** Background traffic: calls started at a steady rate with a mix of scenarios, until a count or a duration is reached. */
import type { Rng } from './ids';
import type { ScenarioName } from './scenarios';
import type { CreateCallParams } from './simulator';

export interface TrafficOptions {
  /** Calls per second. */
  rate: number;
  durationMs?: number;
  count?: number;
  /** Scenario ratios, e.g. `{ normal: 0.8, 'lost-final-webhook': 0.1, 'desync-assigned': 0.1 }`; default all normal. */
  mix?: Partial<Record<ScenarioName, number>>;
  params?: Omit<CreateCallParams, 'scenario'>;
}
export interface TrafficStatus {
  id: string;
  running: boolean;
  started: number;
  byScenario: Partial<Record<ScenarioName, number>>;
  options: TrafficOptions;
}

export class Traffic {
  private readonly runs = new Map<string, TrafficStatus & { timer?: NodeJS.Timeout }>();
  private closed = false;
  private seq = 0;

  constructor(
    private readonly rng: Rng,
    private readonly createCall: (params: CreateCallParams) => unknown,
  ) {}

  start(o: TrafficOptions): TrafficStatus {
    if (!(o.rate > 0)) throw new Error('traffic rate must be > 0 calls per second');
    const id = `traffic-${++this.seq}`;
    const status: TrafficStatus & { timer?: NodeJS.Timeout } = { id, running: true, started: 0, byScenario: {}, options: o };
    const mix = o.mix && Object.keys(o.mix).length ? o.mix : { normal: 1 };
    const startedAt = Date.now();
    const tick = () => {
      if (this.closed) return this.stop(id);
      if ((o.count !== undefined && status.started >= o.count) || (o.durationMs !== undefined && Date.now() - startedAt >= o.durationMs)) return this.stop(id);
      const scenario = this.rng.weighted<ScenarioName>(mix);
      status.started++;
      status.byScenario[scenario] = (status.byScenario[scenario] ?? 0) + 1;
      try {
        this.createCall({ ...o.params, scenario });
      } catch {
        // a bad mix entry is reported by createCall; traffic goes on
      }
    };
    status.timer = setInterval(tick, Math.max(1, 1000 / o.rate));
    this.runs.set(id, status);
    return this.view(status);
  }
  stop(id: string): TrafficStatus | undefined {
    const t = this.runs.get(id);
    if (!t) return undefined;
    if (t.timer) clearInterval(t.timer);
    t.timer = undefined;
    t.running = false;
    return this.view(t);
  }
  list(): TrafficStatus[] {
    return [...this.runs.values()].map((t) => this.view(t));
  }
  private view(t: TrafficStatus): TrafficStatus {
    return { id: t.id, running: t.running, started: t.started, byScenario: { ...t.byScenario }, options: t.options };
  }

  /** Stops every run for good (the emulator is closing). */
  close(): void {
    this.closed = true;
    for (const run of this.runs.values()) if (run.timer) clearInterval(run.timer);
  }
}
