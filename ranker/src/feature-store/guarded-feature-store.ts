import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  timeout,
  wrap,
} from 'cockatiel';
import type { Logger } from '@searchop/runtime';
import type { RankerMetrics } from '../metrics.ts';
import type { FeatureSnapshot } from '../scoring/feature-matrix.ts';
import type { FeatureStore } from './redis-feature-store.ts';

/** Why a request was served without the feature store. */
export type FeatureStoreFailure = 'feature_store_timeout' | 'feature_store_error' | 'circuit_open';

export type FeatureLookup =
  | { readonly ok: true; readonly snapshot: FeatureSnapshot }
  | { readonly ok: false; readonly reason: FeatureStoreFailure };

export interface GuardOptions {
  /** A lookup slower than this fails (and counts toward opening the circuit). */
  readonly timeoutMs: number;
  /** Consecutive failures that open the circuit. */
  readonly failures: number;
  /** Open time before one request is let through to probe the store. */
  readonly halfOpenAfterMs: number;
}

/**
 * The feature store behind a timeout and a circuit breaker (cockatiel): a lookup never throws and
 * never takes much longer than the timeout. While Redis is slow or down the circuit opens and
 * requests skip it at once (no pile-up of pending commands, no latency spent waiting); after
 * `halfOpenAfterMs` one request probes it, and a success closes the circuit again.
 */
export class GuardedFeatureStore {
  readonly #store: FeatureStore;
  readonly #metrics: RankerMetrics;
  readonly #policy;
  readonly #breaker;

  constructor(store: FeatureStore, options: GuardOptions, metrics: RankerMetrics, logger: Logger) {
    this.#store = store;
    this.#metrics = metrics;
    this.#breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.failures),
    });
    // abortOnReturn off: the lookup takes no signal, and aborting each finished lookup's controller
    // built a DOMException (with its stack) per request for nothing.
    this.#policy = wrap(
      this.#breaker,
      timeout(options.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }),
    );
    metrics.circuitOpen.set(0);
    this.#breaker.onStateChange((state) => {
      const open = state === CircuitState.Open;
      metrics.circuitOpen.set(open ? 1 : 0);
      if (open)
        logger.warn({ code: 'RNK_FEATURE_STORE_UNAVAILABLE' }, 'feature store circuit opened: serving degraded');
      else if (state === CircuitState.Closed) logger.info('feature store circuit closed: serving full features');
    });
  }

  /** True while requests skip the store. */
  get open(): boolean {
    return this.#breaker.state === CircuitState.Open;
  }

  async lookup(
    normalizedQuery: string,
    queryTerms: readonly string[],
    productIds: readonly string[],
  ): Promise<FeatureLookup> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const { snapshot, corrupt } = await this.#policy.execute(() =>
        this.#store.fetch(normalizedQuery, queryTerms, productIds),
      );
      this.#metrics.featureStoreSeconds.observe({ outcome: 'ok' }, seconds());
      this.#countMisses(snapshot, productIds.length, corrupt);
      return { ok: true, snapshot };
    } catch (error) {
      if (error instanceof BrokenCircuitError) return { ok: false, reason: 'circuit_open' };
      const reason: FeatureStoreFailure =
        error instanceof TaskCancelledError ? 'feature_store_timeout' : 'feature_store_error';
      this.#metrics.featureStoreSeconds.observe(
        { outcome: reason === 'feature_store_timeout' ? 'timeout' : 'error' },
        seconds(),
      );
      return { ok: false, reason };
    }
  }

  #countMisses(snapshot: FeatureSnapshot, candidates: number, corrupt: number): void {
    const { featureStoreMisses: misses, featureStoreLookups: lookups } = this.#metrics;
    const absent = (values: readonly unknown[]) => {
      let n = 0;
      for (let i = 0; i < candidates; i++) if (values[i] === undefined) n++;
      return n;
    };
    lookups.inc({ entity: 'product' }, candidates);
    lookups.inc({ entity: 'query_product' }, candidates);
    lookups.inc({ entity: 'catalog' }, candidates);
    misses.inc({ entity: 'product' }, absent(snapshot.products));
    misses.inc({ entity: 'query_product' }, absent(snapshot.pairs));
    misses.inc({ entity: 'catalog' }, absent(snapshot.catalog));
    if (corrupt > 0) misses.inc({ entity: 'corrupt' }, corrupt);
  }
}
