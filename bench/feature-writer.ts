/**
 * FeatureWriter in isolation (no Kafka): the feature processor's Redis work for N events of the
 * feature benchmarks' storefront mix (feature-bench-shared.ts), applied in batches as the consumer hands them over;
 * CPU time of this process while it applies batches (making the events is not counted) and of Redis
 * per event, keys written per event. For iterating on the
 * writer; `bench/feature-processor.ts` measures the whole processor.
 *
 *   REDIS_URL=… node bench/feature-writer.ts [--events 50000] [--batch 5000,20000] [--rounds 2] [--own-redis] [--compare DIR]
 * --own-redis starts a Redis of its own (Debian's redis-server, in memory, on a free port) instead of
 * REDIS_URL's, so that Redis's CPU time counts this benchmark's commands only.
 * --compare DIR also runs the FeatureWriter of another checkout of this repository (e.g. a worktree of
 * main, with its node_modules) in the same rounds, alternating with this one: a paired before/after.
 * Results: stdout and bench/results/feature-writer.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createRedis, defineConfig, loadConfig, redisEnv } from '@searchop/runtime';
import { keyLayout, topics, type BehaviourEvent } from '@searchop/schemas';
import { startEphemeralRedis } from '@searchop/stack/testing';
import { FeatureWriter, type SourcedEvent } from '../stream-processors/src/features/feature-writer.ts';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { random, redisCpuSeconds, reseed, storefrontEvent } from './feature-bench-shared.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '5000,20000' },
    rounds: { type: 'string', default: '2' },
    compare: { type: 'string' },
    'own-redis': { type: 'boolean', default: false },
  },
});
const N = Number(values.events);
const BATCHES = values.batch.split(',').map(Number);
const ROUNDS = Number(values.rounds);
type Writer = Pick<FeatureWriter, 'applyBehaviour'>;
type WriterClass = new (...args: ConstructorParameters<typeof FeatureWriter>) => Writer;
const writers: [string, WriterClass][] = [['this checkout', FeatureWriter]];
if (values.compare) {
  const url = pathToFileURL(resolve(values.compare, 'stream-processors/src/features/feature-writer.ts')).href;
  writers.push([values.compare, ((await import(url)) as { FeatureWriter: WriterClass }).FeatureWriter]);
}
const ownRedis = values['own-redis'] ? await startEphemeralRedis({ persistence: 'none' }) : undefined;
const redis = createRedis(loadConfig(defineConfig(redisEnv), ownRedis ? { REDIS_URL: ownRedis.url } : process.env));

const start = Date.now() - 7 * 86_400_000;
const specOf = {
  search_impression: topics.impressions,
  click: topics.clicks,
  add_to_cart: topics.addToCarts,
  purchase: topics.purchases,
} as const;
/**
 * Events `from` to `to` of the run (over two partitions), made when their batch is due, as the consumer
 * decodes each batch: a run holds one batch of events at a time, not all N, so that the garbage
 * collector works on a heap like the processor's. Runs start with reseed(): every run writes the
 * same events.
 */
function eventsOf(from: number, to: number): SourcedEvent<BehaviourEvent>[] {
  const out: SourcedEvent<BehaviourEvent>[] = [];
  for (let i = from; i < to; i++) {
    const event = storefrontEvent(i, start + Math.floor((i / N) * 7 * 86_400_000 + random() * 300_000));
    out.push({ spec: specOf[event.type], partition: i % 2, offset: Math.floor(i / 2), event });
  }
  return out;
}

const redisCpu = () => redisCpuSeconds(redis);

/** One pass over the events in batches of `batch`, on keys of its own; the keys are deleted after. */
async function run(batch: number, [name, Writer]: [string, WriterClass]): Promise<string> {
  const prefix = `benchfw:${Date.now().toString(36)}:${batch}:`;
  const writer = new Writer(redis, keyLayout(prefix));
  reseed();
  const redis0 = await redisCpu();
  let applied = 0;
  let wall = 0;
  let nodeSeconds = 0;
  for (let i = 0; i < N; i += batch) {
    const events = eventsOf(i, Math.min(N, i + batch));
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    applied += (await writer.applyBehaviour(events)).applied;
    wall += (performance.now() - wall0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    nodeSeconds += (cpu.user + cpu.system) / 1e6;
  }
  const redisSeconds = (await redisCpu()) - redis0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  const row =
    `| ${name} | ${batch.toLocaleString('en')} | ${(applied / N).toFixed(2)} | ${(N / wall).toFixed(0)} | ` +
    `${((nodeSeconds / N) * 1e6).toFixed(1)} (${(N / nodeSeconds).toFixed(0)} per CPU-second) | ` +
    `${((redisSeconds / N) * 1e6).toFixed(1)} |`;
  console.log(row);
  return row;
}

const loadAtStart = loadavg()[0]!.toFixed(1);
const header = `| writer | batch (events) | keys written per event | events/s (wall) | writer CPU µs per event | Redis CPU µs per event |
| --- | ---: | ---: | ---: | ---: | ---: |`;
console.log(header);
const rows: string[] = [];
// Alternating rounds, so that load from outside falls on every batch size alike.
for (let round = 0; round < ROUNDS; round++)
  for (const batch of BATCHES) for (const writer of writers) rows.push(await run(batch, writer));
await redis.quit();
await ownRedis?.destroy();
writeFileSync(
  'bench/results/feature-writer.md',
  `## Feature writer alone\n\nCommand: \`node bench/feature-writer.ts --events ${N} --batch ${BATCHES.join(',')} --rounds ${ROUNDS}${ownRedis ? ' --own-redis' : ''}${values.compare ? ` --compare ${values.compare}` : ''}\`, ` +
    `${new Date().toISOString()}, ${cpus().length} vCPU (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ` +
    `load average ${loadAtStart} at the start and ${loadavg()[0]!.toFixed(1)} at the end. The FeatureWriter alone ` +
    `(no Kafka) on the feature-processor benchmark's mix (bench/feature-bench-shared.ts), event times over 7 days; ` +
    `Redis CPU from INFO (${ownRedis ? "the benchmark's own Redis" : 'a shared Redis counts other clients too'}).\n\n${header}\n${rows.join('\n')}\n`,
);
