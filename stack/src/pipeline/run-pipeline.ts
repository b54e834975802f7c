import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { bucketsSpec, fromCumulative, rateOverTimeSpec, writePng } from '../plot.ts';
import { repoRoot, type StackSettings } from '../settings.ts';
import type { StackEndpoints } from '../stack.ts';
import { histogramBuckets, histogramQuantile, scrape, total } from './metrics-scrape.ts';
import { runCommand, startProcess, waitForHttp, type RunningService } from './processes.ts';
import { countKeys, portOrFree, removeRunData, resolveServices } from './services.ts';
import { formatSummary, type EventType, type ModelReport, type PipelineReport } from './summary.ts';
import { ThroughputSampler } from './throughput.ts';

export interface PipelineOptions {
  /** Behavioural events of simulated history before the first model (simulated clock, ending now). */
  readonly historyEvents: number;
  /** Seconds of live, closed-loop traffic through the ranker (real clock). */
  readonly liveSeconds: number;
  /** Events per second of live traffic. */
  readonly liveRate: number;
  readonly world: 'generated' | 'homedepot';
  readonly judgments?: string;
  /** Size of a generated world (the simulator's defaults when absent). */
  readonly products?: number;
  readonly queries?: number;
  readonly shoppers?: number;
  readonly seed: number;
  /** Leave the services running at the end (Ctrl-C stops them). */
  readonly keepRunning: boolean;
  /** Delete the run's topics, consumer groups and Redis keys at the end. */
  readonly cleanup?: boolean;
  /** Kafka, registry and Redis to use; by default resolved from the environment or the local stack. */
  readonly services?: StackEndpoints;
  /** Where the run's logs, offline store, registry and plots go (default .stack/pipeline/<time>). */
  readonly workDir?: string;
  /** Ports of the run's services; 0 or a busy port means any free port. */
  readonly ports?: Partial<Ports>;
  /** Output of progress and summary lines (default stdout). */
  readonly print?: (line: string) => void;
}

export interface Ports {
  readonly collector: number;
  readonly ranker: number;
  readonly features: number;
  readonly compactor: number;
}

export interface PipelineResult extends PipelineReport {
  readonly workDir: string;
  readonly summary: string;
  /** What the run wrote to the shared services (unique per run). */
  readonly topicSuffix: string;
  readonly redisKeyPrefix: string;
}

const DEFAULT_PORTS: Ports = { collector: 8090, ranker: 8080, features: 9465, compactor: 9464 };
const HISTORY_SECONDS = 14 * 86_400;
const script = (path: string) => join(repoRoot, path);

/**
 * The trainer's configuration for a pipeline run: the project's own (trainer/config), with
 * attribution windows short enough that the minutes of live, closed-loop traffic become examples
 * (a list's label is final only one window after it was shown: a third of the live phase, at most a minute).
 */
function writeTrainerConfig(dir: string, liveSeconds: number): string {
  mkdirSync(dir, { recursive: true });
  const minutes = Math.min(1, liveSeconds / 3 / 60);
  for (const file of ['gates.json', 'lightgbm.json', 'data.json']) {
    const config = JSON.parse(readFileSync(join(repoRoot, 'trainer', 'config', file), 'utf8')) as Record<
      string,
      unknown
    >;
    if (file === 'data.json')
      config['attribution_minutes'] = { click: minutes, add_to_cart: minutes, purchase: minutes };
    writeFileSync(join(dir, file), `${JSON.stringify(config, null, 2)}\n`);
  }
  return dir;
}

/**
 * The main job end to end: the services as separate processes (collector, feature processor,
 * compactor, later the ranker) on Kafka, the registry and Redis, simulated history from the shopper
 * simulator, a first model trained, gated and promoted, live closed-loop traffic ranked by it, a
 * retrain on the ranker's feature log, plots and a summary a person can read at a glance. Every run
 * has its own topic suffix, consumer groups, Redis key prefix and registry, so runs and tests share
 * one stack without meeting.
 */
export async function runPipeline(settings: StackSettings, options: PipelineOptions): Promise<PipelineResult> {
  const began = Date.now();
  const print = options.print ?? ((line: string) => console.log(line));
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const work = options.workDir ?? join(settings.STACK_DIR, 'pipeline', new Date().toISOString().replace(/[:.]/g, '-'));
  const logs = join(work, 'logs');
  const offlineStore = join(work, 'offline-store');
  const registry = join(work, 'registry');
  const worldDir = join(work, 'world');
  mkdirSync(logs, { recursive: true });
  const step = (phase: string, text: string) => {
    sampler.phase(phase);
    print(`\n[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${text}`);
  };
  const ports: Ports = {
    collector: await portOrFree(options.ports?.collector ?? DEFAULT_PORTS.collector),
    ranker: await portOrFree(options.ports?.ranker ?? DEFAULT_PORTS.ranker),
    features: await portOrFree(options.ports?.features ?? DEFAULT_PORTS.features),
    compactor: await portOrFree(options.ports?.compactor ?? DEFAULT_PORTS.compactor),
  };
  const url = (port: number) => `http://127.0.0.1:${port}`;
  let rankerUp = false;
  const processed = (l: Record<string, string>) => l['outcome'] === 'processed';
  const sampler = new ThroughputSampler(began, [
    {
      series: 'feature processor, records/s',
      url: () => `${url(ports.features)}/metrics`,
      metric: 'searchop_consumer_records_total',
      filter: processed,
    },
    {
      series: 'compactor, records/s',
      url: () => `${url(ports.compactor)}/metrics`,
      metric: 'searchop_consumer_records_total',
      filter: processed,
    },
    {
      series: 'ranker, POST /rank requests/s',
      url: () => (rankerUp ? `${url(ports.ranker)}/metrics` : undefined),
      metric: 'rank_requests_total',
    },
  ]);

  step('services', '1/8 services: Kafka, Schema Registry, Redis');
  const endpoints = options.services ?? (await resolveServices(settings, process.env, (line) => print(`  ${line}`)));
  const topicSuffix = `.run${runId}`;
  const redisKeyPrefix = `so:${runId}:`;
  const env: Record<string, string> = {
    KAFKA_BROKERS: endpoints.kafkaBrokers,
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    REDIS_URL: endpoints.redisUrl,
    // Each run writes its own topics and Redis keys, so a run starts from a clean feature store and
    // meets no other run or test on the same stack.
    TOPIC_NAME_SUFFIX: topicSuffix,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    OFFLINE_STORE_ROOT: offlineStore,
    MODEL_REGISTRY_ROOT: registry,
    LOG_LEVEL: 'info',
  };
  print(`  run ${runId}: topics *${topicSuffix}, Redis keys ${redisKeyPrefix}*, work dir ${work}`);

  step('provision', '2/8 topics and schemas');
  await runCommand('provision', script('schemas/src/provision-cli.ts'), [], env, join(logs, 'provision.log'));

  step('start', '3/8 services: feature processor, compactor, collector');
  const services: RunningService[] = [];
  const stopAll = async () => {
    for (const s of services.splice(0).reverse()) await s.stop();
  };
  const onSigint = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', onSigint);
  // What each consumer group reads: the feature processor behaviour and the catalogue, the compactor everything.
  const consumers = [
    {
      group: `searchop-features${topicSuffix}`,
      topics: ['search-impressions', 'clicks', 'add-to-carts', 'purchases', 'catalog'],
    },
    {
      group: `searchop-compactor${topicSuffix}`,
      topics: ['search-impressions', 'clicks', 'add-to-carts', 'purchases', 'catalog', 'ranking-log'],
    },
  ].map(({ group, topics }) => ({ group, topics: topics.map((t) => `searchop.${t}.v1${topicSuffix}`) }));
  try {
    const features = startProcess(
      'feature-processor',
      script('stream-processors/src/features/main.ts'),
      [],
      { ...env, METRICS_PORT: String(ports.features), FEATURES_GROUP_ID: consumers[0]!.group },
      join(logs, 'feature-processor.log'),
    );
    const compactor = startProcess(
      'compactor',
      script('stream-processors/src/compactor/main.ts'),
      [],
      {
        ...env,
        METRICS_PORT: String(ports.compactor),
        COMPACTOR_GROUP_ID: consumers[1]!.group,
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
    await waitForHttp(`${url(ports.features)}/health`, 120_000, features);
    await waitForHttp(`${url(ports.compactor)}/health`, 120_000, compactor);
    await waitForHttp(`${url(ports.collector)}/health`, 120_000, collector);
    sampler.start(3_000);
    print(`  running; logs in ${logs}`);

    step(
      'history',
      `4/8 simulated history: ${options.historyEvents} events from the ${options.world} world (text-ranked storefront)`,
    );
    const worldArgs =
      options.world === 'homedepot'
        ? ['--world', 'homedepot', ...(options.judgments ? ['--judgments', options.judgments] : [])]
        : [
            '--world',
            'generated',
            ...(options.products ? ['--products', String(options.products)] : []),
            ...(options.queries ? ['--queries', String(options.queries)] : []),
          ];
    const shopperArgs = options.shoppers ? ['--shoppers', String(options.shoppers)] : [];
    await runCommand(
      'simulator',
      script('producers/src/simulator/main.ts'),
      [
        ...worldArgs,
        ...shopperArgs,
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
    await waitForCatchUp(endpoints, consumers, print);

    const truth = join(worldDir, 'truth.jsonl');
    const trainerConfig = writeTrainerConfig(join(work, 'trainer-config'), options.liveSeconds);
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
    step('train v1', '5/8 train on the history (backfill), evaluate, gate, promote');
    await train(1);

    step('ranker', '6/8 ranker on the promoted model');
    const ranker = startProcess(
      'ranker',
      script('ranker/src/main.ts'),
      [],
      {
        ...env,
        RANKER_PORT: String(ports.ranker),
        RANKER_HOST: '127.0.0.1',
        // On one small machine the processors, the simulator and the trainer share the cores with
        // Redis: the production budget (50 ms) would degrade most answers, and degraded rankings are
        // not usable as training data. The summary counts the degraded answers that remain.
        RANKER_FEATURE_TIMEOUT_MS: process.env['RANKER_FEATURE_TIMEOUT_MS'] ?? '250',
      },
      join(logs, 'ranker.log'),
    );
    services.push(ranker);
    await waitForHttp(`${url(ports.ranker)}/ready`, 120_000, ranker);
    rankerUp = true;

    step(
      'closed loop',
      `7/8 closed loop: ${options.liveSeconds} s of live traffic at ${options.liveRate} events/s ranked by POST /rank, then retrain on the feature log`,
    );
    await runCommand(
      'simulator',
      script('producers/src/simulator/main.ts'),
      [
        ...worldArgs,
        ...shopperArgs,
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
        `${url(ports.ranker)}/rank`,
        '--skip-catalog',
        '--progress-seconds',
        '10',
      ],
      env,
      join(logs, 'simulator-live.log'),
    );
    await waitForCatchUp(endpoints, consumers, print);
    step('retrain', '   retrain on the feature log and the history');
    await train(2);

    step('summary', '8/8 summary');
    await sampler.stop();
    const report = await collectReport({
      endpoints,
      ports,
      redisKeyPrefix,
      registry,
      logs,
      world: options.world,
      began,
    });
    const plots = await writePlots(work, sampler, report.rankBuckets);
    const full: PipelineReport = {
      ...report.report,
      links: { ...report.report.links, plots, servicesKeepRunning: options.keepRunning },
      seconds: (Date.now() - began) / 1000,
    };
    const summary = formatSummary(full);
    print(`\n${summary}`);
    if (options.keepRunning) {
      print('\nServices keep running (Ctrl-C stops them).');
      await new Promise(() => undefined);
    }
    return { ...full, workDir: work, summary, topicSuffix, redisKeyPrefix };
  } finally {
    await sampler.stop();
    if (!options.keepRunning) await stopAll();
    process.off('SIGINT', onSigint);
    if (options.cleanup) {
      await removeRunData(endpoints, {
        topicSuffix,
        groups: consumers.map((c) => c.group),
        redisKeyPrefix,
      });
    }
  }
}

/** Waits until each consumer group has committed everything produced so far on the topics it reads. */
async function waitForCatchUp(
  endpoints: StackEndpoints,
  consumers: readonly { group: string; topics: string[] }[],
  print: (line: string) => void,
): Promise<void> {
  const admin = new Kafka({
    clientId: 'searchop-pipeline',
    brokers: endpoints.kafkaBrokers.split(','),
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
      print(`  waiting for the processors: ${lag} records behind`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  } finally {
    await admin.disconnect();
  }
}

async function collectReport(context: {
  readonly endpoints: StackEndpoints;
  readonly ports: Ports;
  readonly redisKeyPrefix: string;
  readonly registry: string;
  readonly logs: string;
  readonly world: string;
  readonly began: number;
}): Promise<{ report: PipelineReport; rankBuckets: [number, number][] }> {
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const features = await scrape(`${url(context.ports.features)}/metrics`);
  const compactor = await scrape(`${url(context.ports.compactor)}/metrics`);
  const ranker = await scrape(`${url(context.ports.ranker)}/metrics`);
  const processedOn = (topic: string) => (l: Record<string, string>) =>
    (l['topic'] ?? '').startsWith(`searchop.${topic}.v1`) && l['outcome'] === 'processed';
  const topicOf: Record<EventType, string> = {
    impressions: 'search-impressions',
    clicks: 'clicks',
    'add-to-carts': 'add-to-carts',
    purchases: 'purchases',
    catalog: 'catalog',
    'ranking-log': 'ranking-log',
  };
  const events = Object.fromEntries(
    Object.entries(topicOf).map(([type, topic]) => [
      type,
      total(type === 'ranking-log' ? compactor : features, 'searchop_consumer_records_total', processedOn(topic)),
    ]),
  ) as Record<EventType, number>;

  const models: ModelReport[] = [];
  for (
    let version = 1;
    existsSync(join(context.registry, 'artifacts', `training_metrics_v${version}.json`));
    version++
  ) {
    const m = JSON.parse(
      readFileSync(join(context.registry, 'artifacts', `training_metrics_v${version}.json`), 'utf8'),
    ) as {
      promoted?: boolean;
      decision?: { reasons?: string[] };
      metrics?: ModelReport['metrics'];
      data?: {
        counts?: { lists?: { log?: number; backfill?: number }; examples?: { log?: number; backfill?: number } };
      };
    };
    models.push({
      version,
      promoted: m.promoted === true,
      metrics: m.metrics ?? {},
      lists: { log: m.data?.counts?.lists?.log ?? 0, backfill: m.data?.counts?.lists?.backfill ?? 0 },
      examples: { log: m.data?.counts?.examples?.log ?? 0, backfill: m.data?.counts?.examples?.backfill ?? 0 },
      reasons: m.decision?.reasons ?? [],
    });
  }
  const pointer = join(context.registry, 'models', 'current_model_version.txt');
  const production = existsSync(pointer) ? Number(readFileSync(pointer, 'utf8').trim()) : undefined;
  const report: PipelineReport = {
    events,
    featureFreshness: {
      ...opt('p50', histogramQuantile(features, 'searchop_feature_freshness_seconds', 0.5)),
      ...opt('p99', histogramQuantile(features, 'searchop_feature_freshness_seconds', 0.99)),
      ...opt(
        'top',
        histogramBuckets(features, 'searchop_feature_freshness_seconds')
          .map(([le]) => le)
          .filter(Number.isFinite)
          .at(-1),
      ),
    },
    consumerLag: total(features, 'kafka_consumergroup_lag') + total(compactor, 'kafka_consumergroup_lag'),
    featureKeys: await countKeys(context.endpoints.redisUrl, context.redisKeyPrefix),
    rank: {
      requests: total(ranker, 'rank_requests_total'),
      degraded: total(ranker, 'rank_requests_total', (l) => l['degraded'] === 'true'),
      degradedReasons: Object.fromEntries(
        (ranker.find((m) => m.name === 'rank_degraded_total')?.metrics ?? []).map((m) => [
          m.labels?.['reason'] ?? 'unknown',
          Number(m.value ?? 0),
        ]),
      ),
      ...opt('p50', histogramQuantile(ranker, 'rank_request_duration_seconds', 0.5)),
      ...opt('p99', histogramQuantile(ranker, 'rank_request_duration_seconds', 0.99)),
    },
    models,
    production: production !== undefined && Number.isInteger(production) ? production : undefined,
    world: context.world,
    links: {
      ranker: url(context.ports.ranker),
      collector: url(context.ports.collector),
      featureProcessor: url(context.ports.features),
      compactor: url(context.ports.compactor),
      logs: context.logs,
      registry: context.registry,
      plots: [],
      servicesKeepRunning: false,
    },
    seconds: (Date.now() - context.began) / 1000,
  };
  return { report, rankBuckets: histogramBuckets(ranker, 'rank_request_duration_seconds') };
}

function opt<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

/** The run's PNGs: throughput of the processors (and /rank) over time, the /rank latency distribution. */
async function writePlots(
  work: string,
  sampler: ThroughputSampler,
  rankBuckets: readonly (readonly [number, number])[],
): Promise<string[]> {
  const plots: string[] = [];
  plots.push(
    await writePng(
      join(work, 'throughput.png'),
      rateOverTimeSpec('Throughput over the run', 'per second', sampler.points, sampler.phases),
    ),
  );
  if (rankBuckets.length > 0) {
    plots.push(
      await writePng(
        join(work, 'rank-latency.png'),
        bucketsSpec(
          'POST /rank latency in the closed loop (ranker histogram buckets)',
          'latency, ms',
          fromCumulative('POST /rank', rankBuckets, 1000),
        ),
      ),
    );
  }
  return plots;
}
