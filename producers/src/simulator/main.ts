import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKafka, createLogger, createSchemaRegistry, loadConfig } from '@searchop/runtime';
import { EventCodec, eventTypes, deployedTopic } from '@searchop/schemas';
import { StorefrontClient } from '../sdk/storefront-client.ts';
import { parseCli, usage, type CliOptions } from './cli-options.ts';
import { simulatorConfigSchema } from './config.ts';
import { readJudgments } from './io/judgments-file.ts';
import { writeWorld } from './io/world-files.ts';
import { httpRanker } from './rankers/http.ts';
import { PopularityRanker, randomRanker, textRanker } from './rankers/in-process.ts';
import type { Ranker } from './rankers/ranker.ts';
import { Retrieval } from './retrieval.ts';
import { runSimulation, type EventCounts, type SimulationProgress, type SimulationReport } from './simulator.ts';
import { storefrontSink } from './sinks/kafka-sink.ts';
import { NdjsonSink } from './sinks/ndjson-sink.ts';
import type { EventSink } from './sinks/sink.ts';
import { generateWorld } from './world/generate.ts';
import { worldFromJudgments } from './world/load-judgments.ts';
import type { World } from './world/types.ts';
import { summarizeWorld } from './world-summary.ts';

/*
 * The shopper simulator's command line: builds the world, writes its truth, runs shoppers into Kafka
 * or a file, prints progress on stderr and the final report as one JSON line on stdout.
 * Exit codes: 0 done, 1 the sink failed, 2 bad options or input.
 */

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const defaultJudgments = resolve(repositoryRoot, '../shared/data/homedepot/judgments-dev.csv.gz');

const parsed = parseCli(process.argv.slice(2));
if (!parsed.ok) {
  process.stderr.write(`${parsed.error}\n\n${usage}\n`);
  process.exit(2);
}
if (parsed.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const options = parsed.options;
const config = (() => {
  try {
    return loadConfig(simulatorConfigSchema, process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
})();
const seed = options.seed ?? randomInt(0, 2 ** 32);
const say = (line: string) => process.stderr.write(`${line}\n`);
let previous = { wallMs: 0, events: 0 };

const world = await buildWorld(options).catch((error: unknown) => {
  say(`cannot build the world: ${(error as Error).message}`);
  process.exit(2);
});
const retrieval = Retrieval.forWorld(world);
const summary = summarizeWorld(world, retrieval);
say(
  `world: ${summary.source}, ${summary.products} products, ${summary.queries} queries, ${summary.judgments} judgments ` +
    `(grades 0–3: ${summary.grades.join('/')}); NDCG@10 text ${summary.ndcg10.text.toFixed(3)}, random ${summary.ndcg10.random.toFixed(3)}`,
);
if (options['out-dir']) {
  const origin =
    options.world === 'generated'
      ? { world: 'generated', seed: options['world-seed'], products: options.products, queries: options.queries }
      : { world: 'homedepot', judgments: options.judgments ?? defaultJudgments, seed: options['world-seed'] };
  await writeWorld(options['out-dir'], world, origin);
  say(`world written to ${options['out-dir']}`);
}

const closers: (() => Promise<void>)[] = [];
const sink = await openSink(options);
const ranker = makeRanker(options);
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());

// A simulated history ends when the run starts, never later: without --start it starts that long before,
// with, for an --events bound, a margin for the first minutes when sessions are still ramping up; and it
// stops at that moment if the bound is not reached by then.
const RAMP_UP_MARGIN_MS = 5 * 60_000;
const historyEnd = Date.now();
const runLength =
  options.duration !== undefined
    ? options.duration * 1000
    : ((options.events ?? 0) / options.rate) * 1000 + RAMP_UP_MARGIN_MS;
// Event times are Avro longs (whole milliseconds): a fractional --rate must not make them fractional.
const startMs = options.start !== undefined ? Date.parse(options.start) : Math.floor(historyEnd - runLength);
const durationMs =
  options.duration !== undefined
    ? options.duration * 1000
    : options.clock === 'simulated' && options.start === undefined
      ? runLength
      : undefined;
say(
  `seed ${seed}, ranker ${ranker.name}, ${options.clock} clock` +
    (options.clock === 'simulated' ? ` from ${new Date(startMs).toISOString()}` : '') +
    `, ${options.rate} events/s, sink ${options.sink}`,
);

let report: SimulationReport;
try {
  report = await runSimulation({
    world,
    retrieval,
    ranker,
    sink,
    seed,
    shoppers: options.shoppers,
    rate: options.rate,
    clock: options.clock === 'simulated' ? { kind: 'simulated', startMs } : { kind: 'real' },
    ...(options.events === undefined ? {} : { maxEvents: options.events }),
    ...(durationMs === undefined ? {} : { durationMs }),
    emitCatalog: !options['skip-catalog'],
    concurrency: options.concurrency ?? (options.ranker === 'http' ? 8 : 1),
    ...(options['page-size'] === undefined ? {} : { pageSize: options['page-size'] }),
    signal: controller.signal,
    progressIntervalMs: options['progress-seconds'] * 1000,
    onProgress: (p) => say(progressLine(p)),
    onRankError: (error, count) => {
      // The first failure and then every hundredth: enough to see an outage without flooding.
      if (count === 1 || count % 100 === 0)
        say(`ranking failed (${count} so far), showing retrieval order: ${(error as Error).message}`);
    },
  });
} finally {
  for (const close of closers.reverse())
    await close().catch((error: unknown) => say(`close failed: ${(error as Error).message}`));
}

const behavioural =
  report.counts.search_impression + report.counts.click + report.counts.add_to_cart + report.counts.purchase;
say(
  `done (${report.stoppedBy}): ${countsLine(report.counts)}; ${report.sessions} sessions in ${(report.wallMs / 1000).toFixed(1)} s`,
);
process.stdout.write(
  `${JSON.stringify({
    seed,
    world: { source: world.source, products: world.products.length, queries: world.queries.length },
    ranker: ranker.name,
    sink: options.sink,
    counts: report.counts,
    duplicates: report.duplicates,
    sessions: report.sessions,
    rank_errors: report.rankErrors,
    event_time: { start: new Date(report.startMs).toISOString(), end: new Date(report.endMs).toISOString() },
    wall_seconds: report.wallMs / 1000,
    events_per_second: report.wallMs > 0 ? Math.round((behavioural / report.wallMs) * 1000) : null,
    stopped_by: report.stoppedBy,
    ...(report.failure === undefined ? {} : { failure: (report.failure as Error).message }),
  })}\n`,
);
process.exitCode = report.stoppedBy === 'sink-failed' ? 1 : 0;

async function buildWorld(o: CliOptions): Promise<World> {
  if (o.world === 'generated')
    return generateWorld({ seed: o['world-seed'], products: o.products, queries: o.queries });
  return worldFromJudgments(await readJudgments(o.judgments ?? defaultJudgments), { seed: o['world-seed'] });
}

function makeRanker(o: CliOptions): Ranker {
  switch (o.ranker) {
    case 'random':
      return randomRanker();
    case 'popularity':
      return new PopularityRanker();
    case 'text':
      return textRanker();
    case 'http':
      return httpRanker({
        url: o['rank-url']!,
        timeoutMs: o['rank-timeout-ms'],
        ...(config.SIMULATOR_RANK_API_KEY === undefined ? {} : { apiKey: config.SIMULATOR_RANK_API_KEY }),
      });
  }
}

async function openSink(o: CliOptions): Promise<EventSink> {
  if (o.sink === 'ndjson') {
    const file = await NdjsonSink.open(o['sink-path']!);
    closers.push(() => file.close());
    return file;
  }
  // Logs (kafkajs warnings) are JSON lines on stdout like every service's; the report is the last line.
  const logger = createLogger('simulator', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const kafka = createKafka(config, logger, `${config.KAFKA_CLIENT_ID}-simulator`);
  const specs = Object.values(eventTypes).map((t) => deployedTopic(t, config.TOPIC_NAME_SUFFIX));
  const codec = await EventCodec.connect(createSchemaRegistry(config), specs);
  const client = await StorefrontClient.create({
    kafka,
    codec,
    topicNames: Object.fromEntries(specs.map((s) => [s.id, s.name])),
  });
  closers.push(() => client.close());
  return storefrontSink(client);
}

function countsLine(c: EventCounts): string {
  return `impressions ${c.search_impression}, clicks ${c.click}, carts ${c.add_to_cart}, purchases ${c.purchase}, catalogue ${c.product_change}`;
}

function progressLine(p: SimulationProgress): string {
  const events = p.counts.search_impression + p.counts.click + p.counts.add_to_cart + p.counts.purchase;
  const rate = ((events - previous.events) / Math.max(1, p.wallMs - previous.wallMs)) * 1000;
  previous = { wallMs: p.wallMs, events };
  return (
    `[${(p.wallMs / 1000).toFixed(0)}s] event time ${new Date(p.eventTime).toISOString()}  ${countsLine(p.counts)}  ` +
    `sessions ${p.sessions} (${p.activeSessions} open)  ${rate.toFixed(0)} events/s` +
    (p.rankErrors > 0 ? `  rank errors ${p.rankErrors}` : '') +
    (p.lagMs > 1000 ? `  behind by ${(p.lagMs / 1000).toFixed(1)} s` : '')
  );
}
