import { setTimeout as delay } from 'node:timers/promises';
import type { EventType } from '@searchop/schemas';
import TinyQueue from 'tinyqueue';
import { defaultClickModel, type ClickModelParams } from './click-model.ts';
import type { Ranker } from './rankers/ranker.ts';
import { Retrieval } from './retrieval.ts';
import { Rng } from './rng.ts';
import { WeightedSampler, zipfWeights } from './sampling.ts';
import { shopperSession, type Device, type Shopper, type Step } from './session.ts';
import type { EventSink, SimEvent } from './sinks/sink.ts';
import type { Product, World } from './world/types.ts';

export type SimulationClock =
  /** Event time starts at startMs and runs as fast as the simulator can go. */
  | { readonly kind: 'simulated'; readonly startMs: number }
  /** Event time is wall time: events are emitted when their time comes. */
  | { readonly kind: 'real' };

export interface SimulationOptions {
  readonly world: World;
  /** Built from the world when absent; pass one to share its cache between runs. */
  readonly retrieval?: Retrieval;
  readonly ranker: Ranker;
  readonly sink: EventSink;
  /** Seeds shopper behaviour, arrivals and every event id: same seed, world and options → same events. */
  readonly seed: number;
  /** Size of the shopper population; sessions are drawn from it with Zipf-like activity. */
  readonly shoppers: number;
  /** Mean behavioural events (impressions, clicks, carts, purchases) per second of event time. */
  readonly rate: number;
  readonly clock: SimulationClock;
  /** Stop after this many behavioural events (the catalogue is not counted). */
  readonly maxEvents?: number;
  /** Stop when event time reaches start + durationMs. */
  readonly durationMs?: number;
  /** Emit the world's catalogue as product_change upserts before any behaviour (default true). */
  readonly emitCatalog?: boolean;
  /**
   * Sessions whose next step may be computed at once (useful with a remote ranker). With 1, a run is
   * exactly reproducible; with more, each session's events stay in order but events of different
   * sessions may be emitted out of event-time order by up to the ranker's latency.
   */
  readonly concurrency?: number;
  readonly clickModel?: ClickModelParams;
  /** Results per page for every device (default by device). */
  readonly pageSize?: number;
  /** Share of shoppers who are not logged in (their events have user_id null). */
  readonly anonymousShare?: number;
  /** Events handed to the sink and not yet durable before the simulator waits (back-pressure). */
  readonly maxPendingEmits?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: SimulationProgress) => void;
  readonly progressIntervalMs?: number;
  readonly onRankError?: (error: unknown, errors: number) => void;
  readonly now?: () => number;
}

export type EventCounts = Record<EventType, number>;

export interface SimulationProgress {
  readonly wallMs: number;
  /** Event time of the latest step processed. */
  readonly eventTime: number;
  /** Durable in the sink. */
  readonly counts: EventCounts;
  readonly sessions: number;
  readonly activeSessions: number;
  readonly rankErrors: number;
  /** Real clock only: how far behind its schedule the simulator is. */
  readonly lagMs: number;
}

export interface SimulationReport {
  /** Events the sink made durable, per type (the catalogue under product_change). */
  readonly counts: EventCounts;
  /** Events the sink dropped as repeats of a recent event id. */
  readonly duplicates: number;
  readonly sessions: number;
  readonly rankErrors: number;
  /** Event time of the start, and of the last behavioural event emitted. */
  readonly startMs: number;
  readonly endMs: number;
  readonly wallMs: number;
  readonly stoppedBy: 'events' | 'duration' | 'aborted' | 'exhausted' | 'sink-failed';
  /** Why the sink failed, when stoppedBy is 'sink-failed'. */
  readonly failure?: unknown;
}

/** Device shares of e-commerce traffic, roughly as retail analytics reports put them. */
const deviceShares: readonly (readonly [Device, number])[] = [
  ['DESKTOP', 0.4],
  ['MOBILE', 0.38],
  ['APP', 0.14],
  ['TABLET', 0.08],
];
/** Prior of the events-per-session estimate that turns the event rate into a session arrival rate. */
const PRIOR_EVENTS_PER_SESSION = 5;
const PRIOR_WEIGHT = 20;

type Item =
  | { readonly at: number; readonly seq: number; readonly kind: 'arrival' }
  | { readonly at: number; readonly seq: number; readonly kind: 'step'; readonly session: Active; readonly step: Step };

interface Active {
  readonly index: number;
  readonly steps: AsyncGenerator<Step, void>;
  events: number;
}

export function emptyCounts(): EventCounts {
  return { search_impression: 0, click: 0, add_to_cart: 0, purchase: 0, product_change: 0 };
}

/** The catalogue as upserts at `at`, event ids from `rng`. */
export function catalogEvents(world: World, rng: Rng, at: number): SimEvent[] {
  return world.products.map((product) => ({
    type: 'product_change',
    event: {
      event_id: rng.uuid(),
      occurred_at: at,
      product_id: product.id,
      op: 'UPSERT',
      product: productState(product, world.currency),
    },
  }));
}

function productState(product: Product, currency: string) {
  return {
    title: product.title,
    brand: product.brand,
    category_path: [...product.categoryPath],
    price_minor: product.priceMinor,
    currency,
    rating: product.rating,
    review_count: product.reviewCount,
    available: true,
    released_at: null,
    attributes: { ...product.attributes },
  };
}

/** The shopper with this index: the same person (device, logged in or not) in every run. */
export function shopperOf(index: number, anonymousShare: number): Shopper {
  const rng = Rng.seeded(0, `shopper:${index}`);
  let u = rng.float();
  let device: Device = 'DESKTOP';
  for (const [d, share] of deviceShares) {
    device = d;
    if ((u -= share) < 0) break;
  }
  return { userId: rng.chance(anonymousShare) ? null : `u-${String(index + 1).padStart(6, '0')}`, device };
}

/**
 * Runs shoppers against the world: sessions arrive as a Poisson process whose rate is adapted so that
 * events come at `rate` per second of event time; each session is a shopperSession; a discrete-event
 * queue interleaves them in event-time order and hands each event to the sink. Resolves with what the
 * sink made durable once a bound is reached (events, duration, abort) and the sink has flushed.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationReport> {
  const now = options.now ?? Date.now;
  const wallStart = now();
  const startMs = options.clock.kind === 'simulated' ? options.clock.startMs : wallStart;
  const endMs = options.durationMs === undefined ? Infinity : startMs + options.durationMs;
  const maxEvents = options.maxEvents ?? Infinity;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const maxPending = options.maxPendingEmits ?? 10_000;
  const { world, ranker, sink, seed, signal } = options;
  const anonymousShare = options.anonymousShare ?? 0.3;

  const counts = emptyCounts();
  let duplicates = 0;
  let emitted = 0;
  let pending = 0;
  let roomWaiter: (() => void) | undefined;
  let failure: unknown;
  let rankErrors = 0;
  let sessions = 0;
  let active = 0;
  // Events per session, over the longest prefix of sessions (in arrival order) that have all finished:
  // an unbiased sample of sessions. Averaging whichever sessions finished first would favour short
  // ones and overshoot the rate until the long ones end.
  let prefixSessions = 0;
  let prefixEvents = 0;
  const finishedAhead = new Map<number, number>();
  let eventTime = startMs;
  let lastEventAt = startMs;

  const emit = (event: SimEvent) => {
    ranker.observe?.(event);
    pending++;
    sink.emit(event).then(
      (outcome) => {
        if (outcome === 'duplicate') duplicates++;
        else counts[event.type]++;
        settled();
      },
      (error: unknown) => {
        failure ??= error;
        settled();
      },
    );
  };
  const settled = () => {
    pending--;
    if (roomWaiter && pending < maxPending) {
      roomWaiter();
      roomWaiter = undefined;
    }
  };
  const room = async () => {
    while (pending >= maxPending && failure === undefined) await new Promise<void>((resolve) => (roomWaiter = resolve));
  };

  const progress = (): SimulationProgress => ({
    wallMs: now() - wallStart,
    eventTime,
    counts: { ...counts },
    sessions,
    activeSessions: active,
    rankErrors,
    lagMs: options.clock.kind === 'real' ? Math.max(0, now() - eventTime) : 0,
  });
  const ticker = options.onProgress
    ? setInterval(() => options.onProgress!(progress()), options.progressIntervalMs ?? 5_000)
    : undefined;
  ticker?.unref();

  let stoppedBy: SimulationReport['stoppedBy'] | undefined;
  // A session that threw: a bug, not an outcome; rethrown once the sink has flushed.
  let broken: { error: unknown } | undefined;
  try {
    if (options.emitCatalog ?? true) {
      for (const event of catalogEvents(world, Rng.seeded(seed, 'catalog'), startMs)) {
        await room();
        if (failure !== undefined) break;
        emit(event);
      }
    }

    const retrieval = options.retrieval ?? Retrieval.forWorld(world);
    const environment = {
      world,
      retrieval,
      ranker,
      clickModel: options.clickModel ?? defaultClickModel,
      querySampler: new WeightedSampler(world.queries.map((q) => q.weight)),
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
      onRankError: (error: unknown) => {
        rankErrors++;
        options.onRankError?.(error, rankErrors);
      },
    };
    const arrivals = Rng.seeded(seed, 'arrivals');
    const shopperSampler = new WeightedSampler(zipfWeights(options.shoppers, 0.5));
    const shoppers = new Map<number, Shopper>();

    let seq = 0;
    const queue = new TinyQueue<Item>([], (a, b) => a.at - b.at || a.seq - b.seq);
    queue.push({ at: startMs, seq: seq++, kind: 'arrival' });

    const advance = async (session: Active) => {
      const next = await session.steps.next();
      if (next.done) {
        active--;
        finishedAhead.set(session.index, session.events);
        for (
          let events = finishedAhead.get(prefixSessions);
          events !== undefined;
          events = finishedAhead.get(prefixSessions)
        ) {
          finishedAhead.delete(prefixSessions);
          prefixEvents += events;
          prefixSessions++;
        }
      } else {
        queue.push({ at: next.value.at, seq: seq++, kind: 'step', session, step: next.value });
      }
    };
    const inFlight = new Set<Promise<void>>();
    const start = (session: Active) => {
      const done: Promise<void> = advance(session)
        .catch((error: unknown) => {
          broken ??= { error };
        })
        .finally(() => inFlight.delete(done));
      inFlight.add(done);
    };

    let lastYield = now();
    while (stoppedBy === undefined) {
      // A simulated run never waits on timers; letting the event loop turn now and then keeps sink I/O,
      // progress and signals moving without giving up throughput.
      if (now() - lastYield >= 20) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = now();
      }
      if (failure !== undefined) {
        stoppedBy = 'sink-failed';
        break;
      }
      if (broken !== undefined) break;
      if (signal?.aborted) {
        stoppedBy = 'aborted';
        break;
      }
      const head = queue.peek();
      if (head === undefined || inFlight.size >= concurrency) {
        if (inFlight.size === 0) {
          stoppedBy = 'exhausted';
          break;
        }
        await Promise.race(inFlight);
        continue;
      }
      if (options.clock.kind === 'real') {
        const wait = Math.min(head.at, endMs) - now();
        if (wait > 0) {
          // A session computing its next step (a ranking in flight) may produce an event due before the head.
          const timer = new AbortController();
          const cancel = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
          await Promise.race([delay(wait, undefined, { signal: cancel }).catch(() => undefined), ...inFlight]);
          timer.abort();
          continue;
        }
      }
      if (head.at >= endMs) {
        stoppedBy = 'duration';
        break;
      }
      queue.pop();
      eventTime = head.at;

      if (head.kind === 'arrival') {
        const shopperIndex = shopperSampler.sample(arrivals);
        let shopper = shoppers.get(shopperIndex);
        if (!shopper) shoppers.set(shopperIndex, (shopper = shopperOf(shopperIndex, anonymousShare)));
        const rng = Rng.seeded(seed, `session:${sessions}`);
        const session: Active = {
          index: sessions,
          steps: shopperSession(environment, { sessionId: rng.uuid(), shopper, startAt: head.at, rng }),
          events: 0,
        };
        sessions++;
        active++;
        start(session);
        const eventsPerSession =
          (PRIOR_EVENTS_PER_SESSION * PRIOR_WEIGHT + prefixEvents) / (PRIOR_WEIGHT + prefixSessions);
        const gapMs = Math.max(1, Math.round(arrivals.exponential((eventsPerSession / options.rate) * 1000)));
        queue.push({ at: head.at + gapMs, seq: seq++, kind: 'arrival' });
      } else {
        if (head.step.event) {
          await room();
          if (failure !== undefined) continue;
          emit(head.step.event);
          head.session.events++;
          emitted++;
          lastEventAt = head.at;
          if (emitted >= maxEvents) {
            stoppedBy = 'events';
            break;
          }
        }
        start(head.session);
      }
      if (concurrency === 1 && inFlight.size > 0) await Promise.race(inFlight);
    }
    await Promise.allSettled(inFlight);
  } finally {
    if (ticker) clearInterval(ticker);
    await sink.flush().catch((error: unknown) => (failure ??= error));
    while (pending > 0) await new Promise<void>((resolve) => (roomWaiter = resolve));
  }
  if (broken !== undefined) throw broken.error;
  if (failure !== undefined) stoppedBy = 'sink-failed';
  return {
    counts,
    duplicates,
    sessions,
    rankErrors,
    startMs,
    endMs: lastEventAt,
    wallMs: now() - wallStart,
    stoppedBy: stoppedBy ?? 'aborted',
    ...(failure === undefined ? {} : { failure }),
  };
}
