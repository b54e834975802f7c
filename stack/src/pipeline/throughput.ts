import type { RatePoint } from '../plot.ts';
import { scrape, total } from './metrics-scrape.ts';

/** A counter to follow over a run: scraped from `url`, summed over the series `filter` keeps. */
export interface FollowedCounter {
  readonly series: string;
  readonly url: () => string | undefined;
  readonly metric: string;
  readonly filter?: (labels: Record<string, string>) => boolean;
}

/**
 * Scrapes counters every `intervalMs` while the run goes on and turns consecutive scrapes into
 * rates: the processors' throughput over time, for the run's plot. A service not up yet (or gone)
 * is simply not sampled.
 */
export class ThroughputSampler {
  readonly #began: number;
  readonly #counters: readonly FollowedCounter[];
  readonly #last = new Map<string, { at: number; value: number }>();
  readonly #points: RatePoint[] = [];
  readonly #phases: { seconds: number; label: string }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(began: number, counters: readonly FollowedCounter[]) {
    this.#began = began;
    this.#counters = counters;
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.sample(), intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.sample();
  }

  phase(label: string): void {
    this.#phases.push({ seconds: (Date.now() - this.#began) / 1000, label });
  }

  get points(): readonly RatePoint[] {
    return this.#points;
  }

  get phases(): readonly { seconds: number; label: string }[] {
    return this.#phases;
  }

  async sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (const counter of this.#counters) {
        const url = counter.url();
        if (url === undefined) continue;
        const metrics = await scrape(url);
        if (metrics.length === 0) continue;
        const at = Date.now();
        const value = total(metrics, counter.metric, counter.filter);
        const last = this.#last.get(counter.series);
        this.#last.set(counter.series, { at, value });
        if (last !== undefined && at > last.at && value >= last.value) {
          this.#points.push({
            seconds: Math.round((at - this.#began) / 100) / 10,
            perSecond: ((value - last.value) * 1000) / (at - last.at),
            series: counter.series,
          });
        }
      }
    } finally {
      this.#busy = false;
    }
  }
}
