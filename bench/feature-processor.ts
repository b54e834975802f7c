/**
 * Feature processor benchmark, in one run on the local stack:
 *  a. throughput: N behaviour events (a storefront mix over 20,000 products and 5,000 queries,
 *     event times increasing over 7 days with a few minutes of jitter, as a catch-up after an
 *     outage sees them) in topics of the run's own; a raw kafkajs consumer that only decodes them
 *     (codec.decode, the same decoder) next to the feature processor
 *     (stream-processors/src/features/main.ts, pinned to CPU 0 with taskset), each from the start of
 *     the topics to the end; events/s each (wall clock) and events per CPU-second of each consumer's
 *     own process (user + system, from process.cpuUsage / /proc/<pid>/stat) — on a shared, loaded
 *     machine the second is what one core would sustain; plus the CPU time Redis used meanwhile
 *     (INFO cpu; a shared Redis also counts other clients' work);
 *  b. freshness: for each rate of --rate (default 10,000 then 1,000 events/s), events produced at that
 *     rate for --seconds, evenly (every 10 ms, the events due by then), then until the processor has
 *     caught up; the phase's own observations of its
 *     searchop_feature_freshness_seconds histogram (Kafka timestamp → visible in Redis), p50/p99;
 *  c. Redis memory per 1M (query, product) pairs: 200,000 clicks, each on its own product from one
 *     of 1,000 queries, written through the FeatureWriter (so 1,000 pairs hashes of 200 pairs each);
 *     MEMORY USAGE (SAMPLES 0) of each pairs hash, summed and scaled to 1M pairs, next to the growth
 *     of used_memory for everything the clicks wrote.
 *
 *   KAFKA_BROKERS=… SCHEMA_REGISTRY_URL=… REDIS_URL=… node bench/feature-processor.ts [--events 300000] [--rate 10000,1000] [--seconds 30]
 * Results: stdout and bench/results/feature-processor.md.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Batch } from 'kafkajs';
import { serviceClients } from '@searchop/runtime/testing';
import {
  EntityState,
  EventCodec,
  applyIncrements,
  deployedTopic,
  encodeState,
  keyLayout,
  pairField,
  provision,
  topics,
  visitIncrements,
  type BehaviourEvent,
  type IncrementVisitor,
  type TopicSpec,
} from '@searchop/schemas';
import { StorefrontClient } from '../producers/src/sdk/storefront-client.ts';
import { FeatureWriter } from '../stream-processors/src/features/feature-writer.ts';
import { random, redisCpuSeconds, storefrontEvent as event } from './feature-bench-shared.ts';
import { histogramCount, histogramQuantileBetween, scrape, total } from '../stack/src/pipeline/metrics-scrape.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '10000,1000' },
    seconds: { type: 'string', default: '30' },
  },
});
const loadAtStart = loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
const N = Number(values.events);
const RATES = values.rate.split(',').map(Number);
const SECONDS = Number(values.seconds);
const services = serviceClients(process.env, { name: 'bench', level: 'error' });
const { config, kafka, registry } = services;
const redis = services.redis();
const suffix = `.bench${Date.now().toString(36)}`;
const specs = [topics.impressions, topics.clicks, topics.addToCarts, topics.purchases, topics.catalog].map((t) =>
  deployedTopic(t, suffix),
);
const admin = kafka.admin();
await admin.connect();
await provision({ admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL, specs });
const codec = await EventCodec.connect(registry, specs);
const client = await StorefrontClient.create({
  kafka,
  codec,
  topicNames: Object.fromEntries(specs.map((s) => [s.id, s.name])),
  dedupeWindowMs: 0,
});

const typeOf = {
  search_impression: 'search_impression',
  click: 'click',
  add_to_cart: 'add_to_cart',
  purchase: 'purchase',
} as const;

async function produce(count: number, at: () => number): Promise<void> {
  for (let i = 0; i < count; i += 10_000) {
    await Promise.all(
      Array.from({ length: Math.min(10_000, count - i) }, (_, k) => {
        const e = event(i + k, at());
        return client.emit(typeOf[e.type], e.value);
      }),
    );
  }
}

/**
 * Produces `rate` events per second for `seconds`, spread evenly: every 10 ms, the events due by then
 * (a storefront's traffic arrives continuously, not in one burst a second). Resolves when Kafka
 * acknowledged all of them.
 */
async function produceSteadily(rate: number, seconds: number): Promise<void> {
  const began = Date.now();
  const acks: Promise<unknown>[] = [];
  let sent = 0;
  let i = 0;
  for (let elapsed = 0; elapsed < seconds * 1000; elapsed = Date.now() - began) {
    const due = Math.min(Math.floor((elapsed / 1000) * rate), rate * seconds);
    for (; sent < due; sent++) {
      const e = event(i++, Date.now());
      acks.push(client.emit(typeOf[e.type], e.value));
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (; sent < rate * seconds; sent++) {
    const e = event(i++, Date.now());
    acks.push(client.emit(typeOf[e.type], e.value));
  }
  await Promise.all(acks);
}

console.log(`producing ${N} events into *${suffix}`);
const start = Date.now() - 7 * 86_400_000;
let produced = 0;
await produce(N, () => start + Math.floor((produced++ / N) * 7 * 86_400_000 + random() * 300_000));

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const redisCpu = () => redisCpuSeconds(redis);

/**
 * Consumes the run's topics from the start with a consumer group of its own until all N events were
 * handed to `handle` (each fetched batch with its topic's spec, awaited); events/s over that span and
 * events per CPU-second of this process.
 */
async function consumeAll(
  group: string,
  handle: (batch: Batch, spec: TopicSpec<unknown>, last: boolean) => Promise<void>,
): Promise<{ rate: number; perCpuSecond: number }> {
  const consumer = kafka.consumer({ groupId: `${group}${suffix}` });
  await consumer.connect();
  await consumer.subscribe({ topics: specs.map((s) => s.name), fromBeginning: true });
  let seen = 0;
  let handled = 0;
  let first = 0;
  let last = 0;
  let cpuAtFirst = process.cpuUsage();
  let cpuAtLast = cpuAtFirst;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (first === 0) {
        first = Date.now();
        cpuAtFirst = process.cpuUsage();
      }
      seen += batch.messages.length;
      await handle(batch, specs.find((s) => s.name === batch.topic)! as TopicSpec<unknown>, seen >= N);
      handled += batch.messages.length;
      last = Date.now();
      cpuAtLast = process.cpuUsage();
    },
  });
  while (handled < N) await new Promise((resolve) => setTimeout(resolve, 200));
  await consumer.disconnect();
  const cpu = (cpuAtLast.user + cpuAtLast.system - cpuAtFirst.user - cpuAtFirst.system) / 1e6;
  return { rate: (N / (last - first)) * 1000, perCpuSecond: N / cpu };
}

// a1. raw consumer that only decodes.
async function rawDecode(): Promise<{ rate: number; perCpuSecond: number }> {
  return consumeAll('raw', async (batch, spec) => {
    for (const m of batch.messages) await codec.decode(spec, m.value!);
  });
}
const raw = await rawDecode();
const rawRate = raw.rate;
console.log(`raw decode: ${rawRate.toFixed(0)} events/s, ${raw.perCpuSecond.toFixed(0)} events per CPU-second`);

/**
 * a1'. The storage floor: what any processor that keeps the Redis layout the ranker reads (a key per
 * product, query and the global counters; a hash per query whose fields are its pairs) must at least
 * do — the raw consumer's decoding, then per batch of FLOOR_BATCH events one write of each distinct
 * entity the batch's events touch (found with the shared visitIncrements, in sets, without building a
 * key per increment), awaited before the next batch. Every advantage is given to it: the batch is as
 * large as the freshness target allows at 100,000 events/s (500 ms of events); the writes are
 * ioredis's cheapest — MSET of 1,000 keys per command for the keys, one HSET per touched query of all
 * its touched pairs' fields, all issued together — so no TTL is set and no fences field is written
 * (which the real layout needs); every value is the same pre-encoded Buffer, the size of the smallest
 * state there is (seen once: 3 tiles, and a fence for a key; a pair field has none); nothing is read,
 * merged, encoded or compared; no metrics, no commit. Run a second time without the writes, it shows
 * what finding the keys costs on its own.
 */
const FLOOR_BATCH = 50_000;
const FLOOR_KEYS_PER_MSET = 1_000;
async function storageFloor(write: boolean): Promise<{
  rate: number;
  perCpuSecond: number;
  keysPerEvent: number;
  pairHashesPerEvent: number;
  pairFieldsPerEvent: number;
  keyValueBytes: number;
  pairValueBytes: number;
}> {
  const layout = keyLayout(`benchfloor:${Date.now().toString(36)}:`);
  const smallest = new EntityState();
  applyIncrements(smallest, [{ at: Date.now(), counts: { impressions: 1, clicks: 0, carts: 0, purchases: 0 } }]);
  const pairValue = encodeState(smallest);
  smallest.fences.set(0, 0);
  const value = encodeState(smallest);
  const typeByTopic = new Map<string, BehaviourEvent['type']>([
    [specs[0]!.name, 'search_impression'],
    [specs[1]!.name, 'click'],
    [specs[2]!.name, 'add_to_cart'],
    [specs[3]!.name, 'purchase'],
  ]);
  let products = new Set<string>();
  let queries = new Set<string>();
  let pairs = new Map<string, Set<string>>();
  let global = false;
  const visit: IncrementVisitor = (kind, query, productId) => {
    if (kind === 'product') products.add(productId);
    else if (kind === 'query') queries.add(query);
    else if (kind === 'global') global = true;
    else {
      let ofQuery = pairs.get(query);
      if (!ofQuery) pairs.set(query, (ofQuery = new Set()));
      ofQuery.add(productId);
    }
  };
  let keysWritten = 0;
  let pairHashesWritten = 0;
  let pairFieldsWritten = 0;
  const flush = async () => {
    const keys: string[] = [];
    for (const p of products) keys.push(layout.productCounters(p));
    for (const q of queries) keys.push(layout.queryCounters(q));
    if (global) keys.push(layout.globalCounters());
    keysWritten += keys.length;
    const writes: Promise<unknown>[] = [];
    for (let i = 0; write && i < keys.length; i += FLOOR_KEYS_PER_MSET) {
      const args: (string | Buffer)[] = [];
      for (let k = i; k < Math.min(keys.length, i + FLOOR_KEYS_PER_MSET); k++) args.push(keys[k]!, value);
      writes.push(redis.mset(...args));
    }
    for (const [q, ofQuery] of pairs) {
      pairFieldsWritten += ofQuery.size;
      if (!write) continue;
      const args: (string | Buffer)[] = [];
      for (const p of ofQuery) args.push(pairField(p), pairValue);
      writes.push(redis.hset(layout.queryPairs(q), ...args));
    }
    pairHashesWritten += pairs.size;
    products = new Set();
    queries = new Set();
    pairs = new Map();
    global = false;
    await Promise.all(writes);
  };
  let pending = 0;
  const { rate, perCpuSecond } = await consumeAll(write ? 'floor' : 'floor-identify', async (batch, spec, last) => {
    const type = typeByTopic.get(batch.topic)!;
    for (const m of batch.messages) {
      const decoded = await codec.decode(spec, m.value!);
      visitIncrements({ type, value: decoded } as BehaviourEvent, visit);
    }
    pending += batch.messages.length;
    if (pending >= FLOOR_BATCH || last) {
      pending = 0;
      await flush();
    }
  });
  await redis
    .eval(
      `for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`,
      0,
      `${layout.globalCounters().split('{')[0]}*`,
    )
    .catch(() => undefined);
  return {
    rate,
    perCpuSecond,
    keysPerEvent: keysWritten / N,
    pairHashesPerEvent: pairHashesWritten / N,
    pairFieldsPerEvent: pairFieldsWritten / N,
    keyValueBytes: value.length,
    pairValueBytes: pairValue.length,
  };
}
// The same without the writes: what finding the keys costs on its own.
const identify = await storageFloor(false);
console.log(
  `decode + find the keys: ${identify.rate.toFixed(0)} events/s, ${identify.perCpuSecond.toFixed(0)} events per CPU-second`,
);
const floor = await storageFloor(true);
console.log(
  `storage floor: ${floor.rate.toFixed(0)} events/s, ${floor.perCpuSecond.toFixed(0)} events per CPU-second, ${floor.keysPerEvent.toFixed(2)} keys and ${floor.pairFieldsPerEvent.toFixed(2)} pair fields (in ${floor.pairHashesPerEvent.toFixed(2)} hashes) per event`,
);

// a2. the feature processor, pinned to one core.
const prefix = `bench:${Date.now().toString(36)}:`;
const metricsPort = 9470;
const processor = spawn('taskset', ['-c', '0', process.execPath, 'stream-processors/src/features/main.ts'], {
  env: {
    ...process.env,
    TOPIC_NAME_SUFFIX: suffix,
    REDIS_KEY_PREFIX: prefix,
    FEATURES_GROUP_ID: `features${suffix}`,
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'warn',
  },
  stdio: 'inherit',
});
const processed = async () =>
  total(
    await scrape(`http://127.0.0.1:${metricsPort}/metrics`),
    'searchop_consumer_records_total',
    (l) => l['outcome'] === 'processed',
  );
let began = 0;
let cpuAtBegin = 0;
let redisAtBegin = 0;
let doneAtBegin = 0;
for (;;) {
  const done = await processed().catch(() => 0);
  if (began === 0 && done > 0) {
    began = Date.now();
    cpuAtBegin = cpuSecondsOf(processor.pid!);
    redisAtBegin = await redisCpu();
    doneAtBegin = done;
  }
  if (done >= N) break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const processorRate = ((N - doneAtBegin) / (Date.now() - began)) * 1000;
const processorCpu = cpuSecondsOf(processor.pid!) - cpuAtBegin;
const processorPerCpuSecond = (N - doneAtBegin) / processorCpu;
const redisMicrosPerEvent = (((await redisCpu()) - redisAtBegin) / (N - doneAtBegin)) * 1e6;
console.log(
  `feature processor: ${processorRate.toFixed(0)} events/s, ${processorPerCpuSecond.toFixed(0)} events per CPU-second; Redis ${redisMicrosPerEvent.toFixed(1)} µs CPU per event`,
);

// b. freshness at steady rates: each phase produces at its rate, waits until the processor has
// caught up (so every event of the phase is in the histogram), and reads the phase's own observations.
const freshness: {
  asked: number;
  achieved: number;
  p50: number | undefined;
  p99: number | undefined;
  caughtUpMs: number;
  /** CPU the processor and Redis used per event of the phase, µs. */
  processorMicros: number;
  redisMicros: number;
  batches: number;
  batchMs: number;
}[] = [];
let producedSoFar = N;
for (const rate of RATES) {
  console.log(`steady ${rate} events/s for ${SECONDS} s`);
  const before = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
  const processorCpuBefore = cpuSecondsOf(processor.pid!);
  const redisCpuBefore = await redisCpu();
  const steadyStart = Date.now();
  await produceSteadily(rate, SECONDS);
  const produceEnd = Date.now();
  const achieved = (rate * SECONDS) / ((produceEnd - steadyStart) / 1000);
  producedSoFar += rate * SECONDS;
  while ((await processed().catch(() => 0)) < producedSoFar && Date.now() - produceEnd < 300_000)
    await new Promise((resolve) => setTimeout(resolve, 100));
  const caughtUpMs = Date.now() - produceEnd;
  const after = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
  const quantile = (q: number) => histogramQuantileBetween(before, after, 'searchop_feature_freshness_seconds', q);
  // The phase's batches: how many, and their median time from hand-over to commit.
  const batchHistogram = 'searchop_consumer_batch_duration_seconds';
  const batches = histogramCount(after, batchHistogram) - histogramCount(before, batchHistogram);
  const batchMs = (histogramQuantileBetween(before, after, batchHistogram, 0.5) ?? 0) * 1000;
  const processorMicros = ((cpuSecondsOf(processor.pid!) - processorCpuBefore) / (rate * SECONDS)) * 1e6;
  const redisMicros = (((await redisCpu()) - redisCpuBefore) / (rate * SECONDS)) * 1e6;
  freshness.push({
    asked: rate,
    achieved,
    p50: quantile(0.5),
    p99: quantile(0.99),
    caughtUpMs,
    processorMicros,
    redisMicros,
    batches,
    batchMs,
  });
}
processor.kill('SIGTERM');

// c. Redis memory per 1M pairs.
const memPrefix = `benchmem:${Date.now().toString(36)}:`;
const writer = new FeatureWriter(redis, keyLayout(memPrefix));
const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
const memBefore = await used();
const PAIRS = 200_000;
const now = Date.now();
for (let i = 0; i < PAIRS; i += 5_000) {
  const batch = Array.from({ length: 5_000 }, (_, k) => ({
    spec: topics.clicks,
    partition: 0,
    offset: i + k,
    event: {
      type: 'click' as const,
      value: {
        event_id: 'e',
        occurred_at: now,
        impression_id: null,
        request_id: null,
        query: `q${(i + k) % 1000}`,
        normalized_query: `q${(i + k) % 1000}`,
        user_id: null,
        session_id: 's',
        product_id: `p${i + k}`,
        position: 1,
      },
    },
  }));
  await writer.applyBehaviour(batch);
}
const memAfter = await used();
// Each click wrote its product's key and one field of its query's pairs hash (and the query's and the
// global counters): the pairs are measured alone, as the memory of the 1,000 hashes (fences field and
// key included), each with MEMORY USAGE … SAMPLES 0 (every field counted, not a sample).
const memLayout = keyLayout(memPrefix);
const hashBytes = await Promise.all(
  Array.from({ length: 1000 }, (_, q) => redis.memory('USAGE', memLayout.queryPairs(`q${q}`), 'SAMPLES', 0)),
);
const pairsBytes = hashBytes.reduce<number>((sum, bytes) => sum + (bytes ?? 0), 0);
const mbPerMillion = ((pairsBytes / PAIRS) * 1_000_000) / 2 ** 20;
const usedMbPerMillionClicks = (((memAfter - memBefore) / PAIRS) * 1_000_000) / 2 ** 20;
await redis
  .eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, 0, `${memPrefix}*`)
  .catch(() => undefined);

const machine = `load average ${loadAtStart} at the start; ${cpus().length} vCPU (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${loadavg()
  .map((l) => l.toFixed(1))
  .join(' ')} at the end`;
const ms = (seconds: number | undefined) => (seconds === undefined ? 'n/a' : `${(seconds * 1000).toFixed(0)} ms`);
const table = `| measure | result | target |
| --- | --- | --- |
| raw kafkajs consumer, decode only | ${rawRate.toFixed(0)} events/s; ${raw.perCpuSecond.toFixed(0)} events per CPU-second | |
| raw consumer + finding each ${FLOOR_BATCH}-event batch's distinct entities (the storage floor without its writes) | ${identify.rate.toFixed(0)} events/s (${((identify.rate / rawRate) * 100).toFixed(0)}% of raw); ${identify.perCpuSecond.toFixed(0)} events per CPU-second (${((identify.perCpuSecond / raw.perCpuSecond) * 100).toFixed(0)}% of raw) | |
| storage floor: raw consumer + each ${FLOOR_BATCH}-event batch's distinct entities written once, keys by \`MSET\` of ${FLOOR_KEYS_PER_MSET} keys (${floor.keysPerEvent.toFixed(2)} keys per event, ${floor.keyValueBytes}-byte values), pairs by one \`HSET\` per touched query (${floor.pairFieldsPerEvent.toFixed(2)} pair fields in ${floor.pairHashesPerEvent.toFixed(2)} hashes per event, ${floor.pairValueBytes}-byte values), no TTL, no fences field, nothing else | ${floor.rate.toFixed(0)} events/s (${((floor.rate / rawRate) * 100).toFixed(0)}% of raw); ${floor.perCpuSecond.toFixed(0)} events per CPU-second (${((floor.perCpuSecond / raw.perCpuSecond) * 100).toFixed(0)}% of raw) | |
| feature processor, one core (taskset -c 0) | ${processorRate.toFixed(0)} events/s (${((processorRate / rawRate) * 100).toFixed(0)}% of raw); ${processorPerCpuSecond.toFixed(0)} events per CPU-second (${((processorPerCpuSecond / raw.perCpuSecond) * 100).toFixed(0)}% of raw) | ≥ 100,000 events/s, ≥ 60% of raw |
| Redis CPU per event during the throughput run (shared Redis: includes other clients) | ${redisMicrosPerEvent.toFixed(1)} µs (${(1e6 / redisMicrosPerEvent).toFixed(0)} events per Redis CPU-second) | |
${freshness
  .map(
    (f) =>
      `| freshness at ${f.achieved.toFixed(0)} events/s produced for ${SECONDS} s (asked ${f.asked}; caught up ${(f.caughtUpMs / 1000).toFixed(1)} s after the last; ${f.batches} batches of ${((f.asked * SECONDS) / Math.max(f.batches, 1)).toFixed(0)} events, median ${f.batchMs.toFixed(0)} ms from hand-over to commit; processor ${f.processorMicros.toFixed(0)} µs and Redis ${f.redisMicros.toFixed(0)} µs of CPU per event) | p50 ${ms(f.p50)}, p99 ${ms(f.p99)} | p99 ≤ 500 ms at 10,000 events/s |\n`,
  )
  .join(
    '',
  )}| Redis memory per 1M (query, product) pairs (one impression-free click each: 3 tiles, no fence; 1,000 queries' pairs hashes of ${PAIRS / 1000} fields, MEMORY USAGE of the hashes, fences fields and keys included; used_memory grew ${usedMbPerMillionClicks.toFixed(0)} MB per 1M such clicks, product keys included) | ${mbPerMillion.toFixed(0)} MB | ≤ 256 MB |`;
console.log(table);
writeFileSync(
  'bench/results/feature-processor.md',
  `## Feature processor\n\nCommand: \`node bench/feature-processor.ts --events ${N} --rate ${RATES.join(',')} --seconds ${SECONDS}\`, ${new Date().toISOString()}, ${machine}.\n\n${table}\n`,
);
await client.close();
await admin.disconnect();
redis.disconnect();
process.exit(0);
