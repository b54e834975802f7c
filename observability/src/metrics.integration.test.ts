import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { leaf, specModel, split, TestRegistry } from '@searchop/ranker/testing/model-files';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import {
  freePort,
  queryPrometheus,
  startPrometheus,
  startPushgateway,
  type PromProcess,
} from '@searchop/stack/testing';
import { pushRunMetrics, type CompletedRun } from '@searchop/trainer/run-metrics';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { dashboardQueries, loadRules, paths } from './assets.ts';
import { seriesNames, SYNTHETIC_SERIES } from './exported-names.ts';
import { parsePromQL } from './promql.ts';

/**
 * The services as they run in production — collector, feature processor, compactor and ranker,
 * each its own process from its main.ts on the shared Kafka, registry and Redis — plus Debian's
 * Pushgateway holding a trainer run and Debian's Prometheus loaded with our scrape config (targets
 * moved to the local ports) and our rules. Checks that every metric the dashboards and alerts use
 * is one a live /metrics page lists, and that Prometheus scraped lag and latency series with the
 * labels the dashboards group by.
 */
const repo = fileURLToPath(new URL('../../', import.meta.url));
const suffix = `.${uniqueName('obs')}`;
const work = await mkdtemp(join(tmpdir(), 'searchop-observe-'));

interface Service {
  readonly name: string;
  readonly job: string;
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
}
const services: Service[] = [];
let models: TestRegistry;
let pushgateway: PromProcess | undefined;
let prometheus: PromProcess | undefined;

const env: Record<string, string> = {
  KAFKA_BROKERS: inject('kafkaBrokers'),
  SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
  REDIS_URL: inject('redisUrl'),
  REDIS_KEY_PREFIX: `${uniqueName('so-obs')}:`,
  TOPIC_NAME_SUFFIX: suffix,
  LOG_LEVEL: 'warn',
};

function start(name: string, job: string, main: string, port: number, extra: Record<string, string>): Service {
  const child = spawn(process.execPath, [join(repo, main)], {
    env: { ...process.env, ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const service = { name, job, port, child, output: () => output };
  services.push(service);
  return service;
}

async function answers(service: Service, path: string): Promise<void> {
  await waitFor(
    async () => {
      if (service.child.exitCode !== null) throw new Error(`${service.name} exited: ${service.output()}`);
      return (await fetch(`http://127.0.0.1:${service.port}${path}`, { signal: AbortSignal.timeout(1_000) })).ok;
    },
    { timeoutMs: 120_000, intervalMs: 250, what: `${service.name} ${path}` },
  );
}

/** A completed, promoted trainer run with a truth file: every trainer gauge the dashboards use is pushed. */
const trainerRun: CompletedRun = {
  version: 1,
  promoted: true,
  currentBefore: undefined,
  decision: { promote: true, checks: [{ name: 'ndcg_at_10 >= 0.25', passed: true, detail: '' }], reasons: [] },
  evaluation: {
    cutoffMs: Date.now() - 86_400_000,
    groups: 10,
    rows: 100,
    listsWithoutClicks: 5,
    results: [
      {
        name: 'new',
        description: 'new',
        metrics: { ndcgAt10: 0.4, mrr: 0.35, ctrAt10: 0.3, truthNdcgAt10: 0.5, groupsWithClicks: 10, lists: 15 },
      },
    ],
  },
  timings: { 'build-data': 1, fit: 2 },
};

beforeAll(async () => {
  // Provisioning is idempotent; a loaded broker may answer a fresh topic's metadata with a retriable
  // UNKNOWN_TOPIC_OR_PARTITION, so it is retried.
  await waitFor(
    () =>
      promisify(execFile)(process.execPath, [join(repo, 'schemas/src/provision-cli.ts')], {
        cwd: repo,
        env: { ...process.env, ...env },
      }).then(() => true),
    { timeoutMs: 120_000, intervalMs: 1_000, what: 'topics and schemas provisioned' },
  );
  models = await TestRegistry.create();
  await models.publish(1, specModel([split('query_product_clicks_24h', 5, leaf(0), leaf(1))]));
  await models.point(1);

  const [features, compactor, collector, ranker] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const group = uniqueName('obs');
  const processors = [
    start('feature processor', 'feature-processor', 'stream-processors/src/features/main.ts', features, {
      METRICS_PORT: String(features),
      FEATURES_GROUP_ID: `${group}-features`,
    }),
    start('compactor', 'compactor', 'stream-processors/src/compactor/main.ts', compactor, {
      METRICS_PORT: String(compactor),
      COMPACTOR_GROUP_ID: `${group}-compactor`,
      OFFLINE_STORE_ROOT: join(work, 'offline-store'),
      COMPACTOR_FLUSH_INTERVAL_MS: '1000',
    }),
  ];
  const collectorService = start('collector', 'collector', 'producers/src/collector/main.ts', collector, {
    COLLECTOR_PORT: String(collector),
  });
  const rankerService = start('ranker', 'ranker', 'ranker/src/main.ts', ranker, {
    RANKER_PORT: String(ranker),
    RANKER_HOST: '127.0.0.1',
    MODEL_REGISTRY_ROOT: models.root,
  });
  pushgateway = await startPushgateway();
  await pushRunMetrics(
    pushgateway.url,
    { startedAtMs: Date.now() - 60_000, finishedAtMs: Date.now(), outcome: { kind: 'completed', result: trainerRun } },
    () => undefined,
  );
  await Promise.all([
    ...processors.map((p) => answers(p, '/health')),
    answers(collectorService, '/health'),
    answers(rankerService, '/ready'),
  ]);
}, 300_000);

afterAll(async () => {
  await Promise.all(
    services.map(async (s) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
      const exited = once(s.child, 'exit');
      s.child.kill('SIGKILL');
      await exited;
    }),
  );
  await prometheus?.stop();
  await pushgateway?.stop();
  await models?.destroy();
  await rm(work, { recursive: true, force: true });
});

/** A little traffic: a search with a click through the collector, and a few rankings. */
async function driveTraffic(): Promise<void> {
  const collector = services.find((s) => s.job === 'collector')!;
  const ranker = services.find((s) => s.job === 'ranker')!;
  const session = `s-${randomUUID()}`;
  const now = Date.now();
  const events = [
    {
      type: 'search_impression',
      event_id: randomUUID(),
      occurred_at: now - 1_000,
      query: 'cordless drill',
      session_id: session,
      items: [
        { product_id: 'p-1', position: 1 },
        { product_id: 'p-2', position: 2 },
      ],
    },
    {
      type: 'click',
      event_id: randomUUID(),
      occurred_at: now,
      session_id: session,
      product_id: 'p-2',
      query: 'cordless drill',
      position: 2,
    },
  ];
  const posted = await fetch(`http://127.0.0.1:${collector.port}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  expect(posted.status, await posted.text()).toBe(200);
  for (let i = 0; i < 5; i++) {
    const ranked = await fetch(`http://127.0.0.1:${ranker.port}/rank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'cordless drill', candidates: ['p-1', 'p-2', 'p-3'] }),
    });
    expect(ranked.status, await ranked.text()).toBe(200);
  }
}

async function scrapeNames(url: string): Promise<Set<string>> {
  const text = await (await fetch(url)).text();
  return seriesNames(parsePrometheusTextFormat(text) as { name: string; type: string }[]);
}

describe('metrics the dashboards and alerts use', () => {
  it('are all listed by a live /metrics scrape of the services or the Pushgateway', async () => {
    await driveTraffic();
    // The processors have consumed the events once their feature freshness histogram counted them.
    const features = services.find((s) => s.job === 'feature-processor')!;
    await waitFor(
      async () =>
        /searchop_feature_freshness_seconds_count\{[^}]*\} [1-9]/.test(
          await (await fetch(`http://127.0.0.1:${features.port}/metrics`)).text(),
        ),
      { timeoutMs: 60_000, intervalMs: 250, what: 'the feature processor to apply the events' },
    );
    const exported = new Map<string, string[]>();
    const sources = [
      ...services.map((s) => ({ name: s.name, url: `http://127.0.0.1:${s.port}/metrics` })),
      { name: 'pushgateway', url: `${pushgateway!.url}/metrics` },
    ];
    for (const source of sources) {
      for (const name of await scrapeNames(source.url))
        exported.set(name, [...(exported.get(name) ?? []), source.name]);
    }
    const rules = loadRules();
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    const uses = [
      ...rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })),
      ...dashboardQueries().map((q) => ({ where: `${q.dashboard} / ${q.panel}`, expr: q.expr })),
    ];
    const missing: string[] = [];
    const used = new Set<string>();
    for (const { where, expr } of uses) {
      for (const name of parsePromQL(expr).metrics) {
        used.add(name);
        if (!exported.has(name) && !recorded.has(name) && !SYNTHETIC_SERIES.has(name))
          missing.push(`${where}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
    // The check has teeth: the names it passed include each service's own.
    for (const name of [
      'searchop_consumergroup_lag',
      'searchop_feature_freshness_seconds_bucket',
      'searchop_collector_events_total',
      'rank_request_duration_seconds_bucket',
      'model_version_info',
      'searchop_trainer_last_success_timestamp_seconds',
    ]) {
      expect(used).toContain(name);
      expect(exported.has(name), name).toBe(true);
    }
  });
});

describe('Prometheus scraping the running services', () => {
  it('stores consumer lag per group and partition and /rank latency buckets', async () => {
    const config = parseYaml(readFileSync(paths.prometheusConfig, 'utf8')) as {
      global: Record<string, unknown>;
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const portOf: Record<string, string> = Object.fromEntries(services.map((s) => [s.job, `127.0.0.1:${s.port}`]));
    portOf['pushgateway'] = new URL(pushgateway!.url).host;
    config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
    config.rule_files = [join(paths.rulesDir, '*.yml')];
    config.scrape_configs = config.scrape_configs
      .filter((c) => c.job_name in portOf)
      .map((c) => ({ ...c, static_configs: [{ targets: [portOf[c.job_name]!] }] }));
    expect(config.scrape_configs.map((c) => c.job_name).sort()).toEqual(
      ['collector', 'compactor', 'feature-processor', 'pushgateway', 'ranker'].sort(),
    );
    prometheus = await startPrometheus(stringifyYaml(config));
    await driveTraffic();

    const lag = await waitFor(
      async () => {
        const result = await queryPrometheus(
          prometheus!.url,
          `searchop_consumergroup_lag{topic=~".*${suffix.replace(/[.]/g, '\\\\.')}"}`,
        );
        const jobs = new Set(result.map((r) => r.metric['job']));
        return jobs.has('feature-processor') && jobs.has('compactor') ? result : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'consumer lag series of both processors in Prometheus' },
    );
    for (const series of lag) {
      const { __name__: name, consumergroup, topic, partition, job } = series.metric;
      expect(name).toBe('searchop_consumergroup_lag');
      expect(consumergroup).toMatch(job === 'compactor' ? /^obs-.*-compactor$/ : /^obs-.*-features$/);
      expect(topic).toMatch(/^searchop\..*\.v1\.obs-/);
      expect(partition).toMatch(/^\d+$/);
      expect(Number(series.value![1])).toBeGreaterThanOrEqual(0);
    }

    const latency = await waitFor(
      async () => {
        const result = await queryPrometheus(
          prometheus!.url,
          'sum by (le) (rank_request_duration_seconds_bucket{job="ranker"})',
        );
        const inf = result.find((r) => r.metric['le'] === '+Inf');
        return inf && Number(inf.value![1]) >= 10 ? result : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the ten /rank requests in Prometheus' },
    );
    expect(latency.map((r) => r.metric['le'])).toContain('0.1');
    const requests = await queryPrometheus(prometheus.url, 'sum by (status) (rank_requests_total{job="ranker"})');
    expect(requests.map((r) => [r.metric, r.value?.[1]])).toEqual([[{ status: '200' }, '10']]);

    // The shipped rules loaded and evaluate against these series.
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded.length).toBe(loadRules().length);
    await waitFor(
      async () => {
        const r = (await (await fetch(`${prometheus!.url}/api/v1/rules`)).json()) as typeof rules;
        const all = r.data.groups.flatMap((g) => g.rules);
        return all.every((x) => x.health === 'ok') ? all : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'every rule evaluated without error' },
    );
    const model = await queryPrometheus(prometheus.url, 'model_version_info{job="ranker"}');
    expect(model.map((m) => m.metric['version'])).toEqual(['1']);
    const trainer = await queryPrometheus(prometheus.url, 'searchop_trainer_gate_passed');
    expect(trainer.map((t) => [t.metric['job'], t.value?.[1]])).toEqual([['searchop-trainer', '1']]);
  });
});
