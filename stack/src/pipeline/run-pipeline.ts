import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { repoRoot, type StackSettings } from '../settings.ts';
import { stackUp } from '../stack.ts';
import { histogramQuantile, scrape, total } from './metrics-scrape.ts';
import { runCommand, startProcess, waitForHttp, type RunningService } from './processes.ts';

export interface PipelineOptions {
  /** Behavioural events of simulated history before the first model (simulated clock, ending now). */
  readonly historyEvents: number;
  /** Seconds of live, closed-loop traffic through the ranker (real clock). */
  readonly liveSeconds: number;
  /** Events per second of live traffic. */
  readonly liveRate: number;
  readonly world: 'generated' | 'homedepot';
  readonly judgments?: string;
  readonly seed: number;
  /** Leave the services running at the end (Ctrl-C stops them). */
  readonly keepRunning: boolean;
}

const ports = { collector: 8090, ranker: 8080, features: 9465, compactor: 9464 } as const;
const HISTORY_SECONDS = 14 * 86_400;

/**
 * The trainer's configuration for a pipeline run: the project's own (trainer/config), with
 * attribution windows short enough that the minutes of live, closed-loop traffic become examples.
 */
function writeTrainerConfig(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const file of ['gates.json', 'lightgbm.json', 'data.json']) {
    const config = JSON.parse(readFileSync(join(repoRoot, 'trainer', 'config', file), 'utf8')) as Record<
      string,
      unknown
    >;
    if (file === 'data.json') config['attribution_minutes'] = { click: 1, add_to_cart: 1, purchase: 1 };
    writeFileSync(join(dir, file), `${JSON.stringify(config, null, 2)}\n`);
  }
  return dir;
}
const script = (path: string) => join(repoRoot, path);

/**
 * The main job end to end on built-in data: the local stack, the services as separate processes
 * (collector, feature processor, compactor, later the ranker), simulated history from the shopper
 * simulator, a first model trained, gated and promoted, live closed-loop traffic ranked by it, a
 * retrain on the ranker's feature log, and a summary a person can read at a glance.
 */
export async function runPipeline(settings: StackSettings, options: PipelineOptions): Promise<void> {
  const began = Date.now();
  const work = join(settings.STACK_DIR, 'pipeline', new Date().toISOString().replace(/[:.]/g, '-'));
  const logs = join(work, 'logs');
  const offlineStore = join(work, 'offline-store');
  const registry = join(work, 'registry');
  const worldDir = join(work, 'world');
  mkdirSync(logs, { recursive: true });
  const step = (text: string) => console.log(`\n[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${text}`);

  step('1/8 local stack');
  await stackUp(settings, (line) => console.log(`  ${line}`));
  const env: Record<string, string> = {
    KAFKA_BROKERS: settings.kafkaBrokers,
    SCHEMA_REGISTRY_URL: settings.schemaRegistryUrl,
    REDIS_URL: settings.redisUrl,
    // Each run writes its own Redis keys, so a second run starts from a clean feature store.
    REDIS_KEY_PREFIX: `so:${Date.now().toString(36)}:`,
    OFFLINE_STORE_ROOT: offlineStore,
    MODEL_REGISTRY_ROOT: registry,
    LOG_LEVEL: 'info',
  };
  const suffix = `.run${Date.now().toString(36)}`;
  env['TOPIC_NAME_SUFFIX'] = suffix;

  step('2/8 topics and schemas');
  await runCommand('provision', script('schemas/src/provision-cli.ts'), [], env, join(logs, 'provision.log'));

  step('3/8 services: feature processor, compactor, collector');
  const services: RunningService[] = [];
  const stopAll = async () => {
    for (const s of services.reverse()) await s.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const groupSuffix = suffix;
    // What each consumer group reads: the feature processor behaviour and the catalogue, the compactor everything.
    const consumers = [
      {
        group: `searchop-features${groupSuffix}`,
        topics: ['search-impressions', 'clicks', 'add-to-carts', 'purchases', 'catalog'],
      },
      {
        group: `searchop-compactor${groupSuffix}`,
        topics: ['search-impressions', 'clicks', 'add-to-carts', 'purchases', 'catalog', 'ranking-log'],
      },
    ].map(({ group, topics }) => ({ group, topics: topics.map((t) => `searchop.${t}.v1${suffix}`) }));
    const features = startProcess(
      'feature-processor',
      script('stream-processors/src/features/main.ts'),
      [],
      { ...env, METRICS_PORT: String(ports.features), FEATURES_GROUP_ID: `searchop-features${groupSuffix}` },
      join(logs, 'feature-processor.log'),
    );
    const compactor = startProcess(
      'compactor',
      script('stream-processors/src/compactor/main.ts'),
      [],
      {
        ...env,
        METRICS_PORT: String(ports.compactor),
        COMPACTOR_GROUP_ID: `searchop-compactor${groupSuffix}`,
        COMPACTOR_FLUSH_INTERVAL_MS: '2000',
      },
      join(logs, 'compactor.log'),
    );
    const collector = startProcess(
      'collector',
      script('producers/src/collector/main.ts'),
      [],
      { ...env, COLLECTOR_PORT: String(ports.collector) },
      join(logs, 'collector.log'),
    );
    services.push(features, compactor, collector);
    await waitForHttp(`http://127.0.0.1:${ports.features}/health`, 120_000, features);
    await waitForHttp(`http://127.0.0.1:${ports.compactor}/health`, 120_000, compactor);
    await waitForHttp(`http://127.0.0.1:${ports.collector}/health`, 120_000, collector);
    console.log(`  running; logs in ${logs}`);

    step(
      `4/8 simulated history: ${options.historyEvents} events from the ${options.world} world (text-ranked storefront)`,
    );
    const worldArgs =
      options.world === 'homedepot'
        ? ['--world', 'homedepot', ...(options.judgments ? ['--judgments', options.judgments] : [])]
        : ['--world', 'generated'];
    await runCommand(
      'simulator',
      script('producers/src/simulator/main.ts'),
      [
        ...worldArgs,
        '--seed',
        String(options.seed),
        '--clock',
        'simulated',
        '--events',
        String(options.historyEvents),
        // History spread over two weeks of event time, ending now: the windows (1 h … 30 d) all see data.
        '--rate',
        (options.historyEvents / HISTORY_SECONDS).toFixed(6),
        '--ranker',
        'text',
        '--out-dir',
        worldDir,
        '--progress-seconds',
        '10',
      ],
      env,
      join(logs, 'simulator-history.log'),
    );
    await waitForCatchUp(settings, consumers);

    const truth = join(worldDir, 'truth.jsonl');
    const trainerConfig = writeTrainerConfig(join(work, 'trainer-config'));
    // The trainer's exit code 3 (registered, not promoted) is an outcome of the loop, not a failure.
    const train = (run: number) =>
      runCommand(
        'trainer',
        script('trainer/src/cli.ts'),
        [
          'run',
          '--config',
          trainerConfig,
          '--offline-store',
          offlineStore,
          '--registry',
          registry,
          ...(existsSync(truth) ? ['--truth', truth] : []),
        ],
        env,
        join(logs, `trainer-${run}.log`),
        run === 1 ? [0] : [0, 3],
      );
    step('5/8 train on the history (backfill), evaluate, gate, promote');
    await train(1);

    step('6/8 ranker on the promoted model');
    const ranker = startProcess(
      'ranker',
      script('ranker/src/main.ts'),
      [],
      { ...env, RANKER_PORT: String(ports.ranker), RANKER_HOST: '127.0.0.1' },
      join(logs, 'ranker.log'),
    );
    services.push(ranker);
    await waitForHttp(`http://127.0.0.1:${ports.ranker}/ready`, 120_000, ranker);

    step(
      `7/8 closed loop: ${options.liveSeconds} s of live traffic ranked by POST /rank, then retrain on the feature log`,
    );
    await runCommand(
      'simulator',
      script('producers/src/simulator/main.ts'),
      [
        ...worldArgs,
        '--seed',
        String(options.seed + 1),
        '--clock',
        'real',
        '--duration',
        String(options.liveSeconds),
        '--rate',
        String(options.liveRate),
        '--ranker',
        'http',
        '--rank-url',
        `http://127.0.0.1:${ports.ranker}/rank`,
        '--skip-catalog',
        '--progress-seconds',
        '10',
      ],
      env,
      join(logs, 'simulator-live.log'),
    );
    await waitForCatchUp(settings, consumers);
    await train(2);

    step('8/8 summary');
    await printSummary(settings, { registry, logs, began });
    if (options.keepRunning) {
      console.log('\nServices keep running (Ctrl-C stops them).');
      await new Promise(() => undefined);
    }
  } finally {
    if (!options.keepRunning) await stopAll();
  }
}

/** Waits until each consumer group has committed everything produced so far on the topics it reads. */
async function waitForCatchUp(
  settings: StackSettings,
  consumers: readonly { group: string; topics: string[] }[],
): Promise<void> {
  const admin = new Kafka({
    clientId: 'searchop-pipeline',
    brokers: [settings.kafkaBrokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 600_000;
    for (;;) {
      let lag = 0;
      for (const { group, topics } of consumers) {
        for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group, topics })) {
          for (const end of await admin.fetchTopicOffsets(topic)) {
            const at = Number(partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
            if (Number(end.high) > Number(end.low))
              lag += Math.max(0, Number(end.high) - Math.max(at, Number(end.low)));
          }
        }
      }
      if (lag === 0) return;
      if (Date.now() > deadline) throw new Error(`consumers still ${lag} records behind after 10 minutes`);
      process.stdout.write(`  waiting for the processors: ${lag} records behind\n`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  } finally {
    await admin.disconnect();
  }
}

interface SummaryContext {
  readonly registry: string;
  readonly logs: string;
  readonly began: number;
}

async function printSummary(settings: StackSettings, context: SummaryContext): Promise<void> {
  const features = await scrape(`http://127.0.0.1:${ports.features}/metrics`);
  const ranker = await scrape(`http://127.0.0.1:${ports.ranker}/metrics`);
  const seconds = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v * 1000).toFixed(1)} ms`);
  const events = ['impressions', 'clicks', 'add-to-carts', 'purchases', 'catalog'].map(
    (id) =>
      [
        id,
        total(
          features,
          'searchop_consumer_records_total',
          (l) =>
            (l['topic'] ?? '').includes(id === 'impressions' ? 'search-impressions' : id) &&
            l['outcome'] === 'processed',
        ),
      ] as const,
  );
  console.log('\nEvents processed by the feature processor');
  for (const [id, count] of events) console.log(`  ${id.padEnd(14)} ${count}`);
  console.log(
    `  freshness p50 ${seconds(histogramQuantile(features, 'searchop_feature_freshness_seconds', 0.5))}, p99 ${seconds(histogramQuantile(features, 'searchop_feature_freshness_seconds', 0.99))}`,
  );
  console.log(`  consumer lag at the end: ${total(features, 'kafka_consumergroup_lag')} records`);
  console.log(
    `\n/rank: ${total(ranker, 'rank_requests_total')} requests, latency p50 ${seconds(histogramQuantile(ranker, 'rank_request_duration_seconds', 0.5))}, p99 ${seconds(histogramQuantile(ranker, 'rank_request_duration_seconds', 0.99))}`,
  );

  console.log('\nModels (validation period; NDCG@10 truth = against the world’s true relevance)');
  const pointer = join(context.registry, 'models', 'current_model_version.txt');
  const current = existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : 'none';
  const rows: string[] = [
    `  ${'model'.padEnd(16)} ${'ranking'.padEnd(11)} ${'NDCG@10'.padStart(7)} ${'MRR'.padStart(7)} ${'CTR@10'.padStart(7)} ${'NDCG@10 truth'.padStart(13)}`,
  ];
  const f = (v: unknown) => (typeof v === 'number' ? v.toFixed(4) : 'n/a');
  for (
    let version = 1;
    existsSync(join(context.registry, 'artifacts', `training_metrics_v${version}.json`));
    version++
  ) {
    const report = JSON.parse(
      readFileSync(join(context.registry, 'artifacts', `training_metrics_v${version}.json`), 'utf8'),
    ) as {
      promoted?: boolean;
      metrics?: Record<string, { ndcg_at_10?: number; mrr?: number; ctr_at_10?: number; truth_ndcg_at_10?: number }>;
    };
    const label = `v${version}${String(version) === current ? ' (production)' : report.promoted === false ? ' (not promoted)' : ''}`;
    for (const [ranking, m] of Object.entries(report.metrics ?? {})) {
      const name = ranking === 'new' ? `v${version}` : ranking;
      rows.push(
        `  ${(ranking === 'new' ? label : '').padEnd(16)} ${name.padEnd(11)} ${f(m.ndcg_at_10).padStart(7)} ${f(m.mrr).padStart(7)} ${f(m.ctr_at_10).padStart(7)} ${f(m.truth_ndcg_at_10).padStart(13)}`,
      );
    }
  }
  console.log(rows.join('\n'));
  console.log(`\nWhere to look next
  ranker       http://127.0.0.1:${ports.ranker}/rank  (POST), /metrics, /docs/json
  collector    http://127.0.0.1:${ports.collector}/v1/events, /metrics
  processors   http://127.0.0.1:${ports.features}/metrics, http://127.0.0.1:${ports.compactor}/metrics
  logs         ${context.logs}
  registry     ${context.registry}
  finished in ${((Date.now() - context.began) / 1000).toFixed(0)} s`);
  void settings;
}
