#!/usr/bin/env node
/**
 * Ranker benchmark: server-side latency (p50/p99) at a fixed 500 requests/s and the maximum
 * throughput, at 10, 100 and 1,000 candidates, for the ranker pinned to one core — next to a bare
 * Fastify route that parses the same request and returns the same payload, in the same run.
 *
 *   node bench/ranker.ts [--seconds 20] [--sizes 10,100,1000] [--out bench/results/ranker.md]
 *                        [--cpu-prof <dir>] [--baseline off]
 *
 * --cpu-prof writes a V8 CPU profile of the ranker process to <dir> (summarise it with
 * `node bench/cpuprofile-summary.ts <dir>/*.cpuprofile`); profile one size at a time (--sizes 100).
 *
 * Layout on a 2-vCPU machine: the ranker (or the bare route) runs alone on CPU 0 (taskset); the load
 * generator (autocannon), this script and Redis share CPU 1. Server-side latency comes from the
 * ranker's Server-Timing header (Fastify's reply.elapsedTime: body read, parse, validation, Redis
 * round trip, features, ONNX, serialisation); client latency is printed too.
 *
 * Realism: ~20,000 catalogue products with the real Icecat titles (../shared/data; generated titles,
 * said so in the output, when absent), power-law product popularity over 30 days of tiles, 2,000
 * queries made of title terms with query–product history, and a LightGBM-shaped model of 300 trees
 * × 31 leaves over the 66 features of spec v1, exported by the trainer's exporter. With
 * KAFKA_BROKERS and SCHEMA_REGISTRY_URL set, the feature log writes every ranking to Kafka as in
 * production; otherwise it is off and the output says so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, hostname, loadavg } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { createRedis, defineConfig, loadConfig, redisEnv } from '@searchop/runtime';
import { serviceClients, waitFor } from '@searchop/runtime/testing';
import {
  FEATURE_COUNT,
  FEATURE_NAMES,
  deployedTopic,
  keyLayout,
  normalizeQuery,
  provision,
  terms,
  topics,
} from '@searchop/schemas';
import { startEphemeralRedis } from '@searchop/stack/testing';
import { TestRegistry } from '../ranker/src/testing/model-files.ts';
import { randomEnsemble } from '../ranker/src/testing/lightgbm-text.ts';
import { candidatesFor, seededRandom, writeWorld, type World } from '../ranker/src/testing/synthetic-world.ts';
import { RedisFeatureStore } from '../ranker/src/feature-store/redis-feature-store.ts';
import { buildFeatureMatrix } from '../ranker/src/scoring/feature-matrix.ts';
import { isCandidateProblem, readCandidates, type CandidateInput } from '../ranker/src/scoring/candidates.ts';
import { rankSchemas } from '../ranker/src/routes/rank-schemas.ts';
import { DEFAULT_SETTINGS } from '../ranker/src/config.ts';
import { loadRankingModel } from '../ranker/src/model/load-model.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..');
const FIXED_RATE = 500;
const PREFIX = 'bench:';
/** USER_HZ of /proc/<pid>/stat times (100 on Linux). */
const CLOCK_TICKS = 100;
/** Children of this run, stopped however the run ends. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    /** "off" measures the ranker without the feature log even when Kafka is configured. */
    'feature-log': { type: 'string', default: 'on' },
    out: { type: 'string', default: join(here, 'results', 'ranker.md') },
    'baseline-server': { type: 'string' },
    /** Internal: the onnxruntime-alone child (a directory with the model and the feature rows). */
    'onnx-floor': { type: 'string' },
    sizes: { type: 'string', default: '10,100,1000' },
    'cpu-prof': { type: 'string' },
    /** "off" skips the bare Fastify comparison (profiling runs). */
    baseline: { type: 'string', default: 'on' },
  },
});
const SIZES = args.sizes.split(',').map(Number);

if (args['baseline-server'] !== undefined) {
  await baselineServer(args['baseline-server']);
} else if (args['onnx-floor'] !== undefined) {
  await onnxFloor(args['onnx-floor']);
} else if (process.env['BENCH_PINNED'] !== '1') {
  // The load generator and Redis take CPU 1; the server under test gets CPU 0 to itself.
  const child = spawn(
    'taskset',
    ['-c', '1', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: { ...process.env, BENCH_PINNED: '1' },
    },
  );
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main();
}

/** The comparison: Fastify with the same body parsing and validation, returning a stored answer. */
async function baselineServer(payloadFile: string): Promise<void> {
  const answers = JSON.parse(await readFile(payloadFile, 'utf8')) as Record<string, unknown>;
  const app = Fastify({
    logger: false,
    bodyLimit: DEFAULT_SETTINGS.bodyLimitBytes,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, strictNumbers: true, allowUnionTypes: true } },
  });
  const schemas = rankSchemas(DEFAULT_SETTINGS);
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(3)}`);
    return payload;
  });
  // Fastify keeps reply.elapsedTime only with a logger or an onResponse hook (the ranker has both).
  app.addHook('onResponse', async () => undefined);
  app.post<{ Body: { candidates: unknown[] } }>(
    '/rank',
    { schema: { body: schemas.body, response: { 200: schemas.response[200] } } },
    async (request) => answers[String(request.body.candidates.length)],
  );
  const address = await app.listen({ host: '127.0.0.1', port: Number(process.env['BASELINE_PORT']) });
  console.log(`baseline listening ${address}`);
}

/**
 * The floor of any ranker that scores with this model on this core: onnxruntime alone, loaded by the
 * ranker's own loader (same session options), scoring the very feature rows the ranker built for the
 * benchmark's requests, one call after another, no HTTP, Redis or feature log. Writes floor.json.
 */
async function onnxFloor(dir: string): Promise<void> {
  const seconds = Number(args.seconds);
  const model = await loadRankingModel(join(dir, 'model.onnx'), 1, { intraOpThreads: 1 });
  const out: Record<string, Floor> = {};
  for (const k of SIZES) {
    const bytes = await readFile(join(dir, `rows-${k}.f64`));
    const all = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    const perMatrix = k * FEATURE_COUNT;
    const matrices = Array.from({ length: all.length / perMatrix }, (_, i) =>
      all.slice(i * perMatrix, (i + 1) * perMatrix),
    );
    const pass = async (untilMs: number, times?: number[]) => {
      let calls = 0;
      while (performance.now() < untilMs) {
        const started = performance.now();
        await model.score(matrices[calls % matrices.length]!, k);
        times?.push(performance.now() - started);
        calls++;
      }
      return calls;
    };
    await pass(performance.now() + 1000); // warm-up
    const times: number[] = [];
    const cpu = process.cpuUsage();
    const started = performance.now();
    const calls = await pass(started + (seconds / 2) * 1000, times);
    const wallS = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    times.sort((a, b) => a - b);
    out[String(k)] = {
      cpuMs: (used.user + used.system) / 1000 / calls,
      p50: times[Math.floor(times.length / 2)]!,
      p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]!,
      perSecond: calls / wallS,
    };
  }
  await writeFile(join(dir, 'floor.json'), JSON.stringify(out));
}

interface Floor {
  /** CPU time of the process per scoring call. */
  cpuMs: number;
  /** Wall time of one call, ms. */
  p50: number;
  p99: number;
  /** Calls per second, one after another on the pinned core. */
  perSecond: number;
}

interface Measured {
  /** CPU time of the server process per answered request (user + system, all its threads). */
  cpuMs: number;
  serverP50: number;
  serverP99: number;
  clientP50: number;
  clientP99: number;
  rps: number;
  /** Answers other than 2xx. */
  non2xx: number;
  /** Requests without an answer: connection errors and the client's 10 s timeout. */
  unanswered: number;
  degraded: number;
}

async function main(): Promise<void> {
  const seconds = Number(args.seconds);
  const started = new Date();
  const loadBefore = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(`ranker benchmark, ${seconds} s per run`);

  const redisServer = await startEphemeralRedis({ persistence: 'none' });
  try {
    const redis = createRedis(loadConfig(defineConfig(redisEnv), { REDIS_URL: redisServer.url }));
    const nowMs = Date.now();
    const world = await writeWorld(redis, PREFIX, {
      products: 20_000,
      queries: 2_000,
      pairsPerQuery: 100,
      nowMs,
      seed: 7,
    });
    const memory = /used_memory_human:(\S+)/.exec(await redis.info('memory'))?.[1] ?? '?';
    console.log(`feature store: ${world.keys} keys (${memory}), titles from ${world.titleSource}`);

    const registry = await TestRegistry.create();
    const model = await realisticModel(redis, world, nowMs);
    await registry.publish(1, model);
    await registry.point(1);
    const modelBytes = (await readFile(registry.modelPath(1))).length;
    console.log(
      `model: ${model.trees.length} trees × 31 leaves over ${FEATURE_COUNT} features, ${(modelBytes / 1e6).toFixed(1)} MB`,
    );

    const featureLog = await featureLogTopic();
    const rankerPort = 18_580;
    const profiling = args['cpu-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`];
    const ranker = await startPinned('ranker', [...profiling, join(repoRoot, 'ranker/src/main.ts')], {
      RANKER_HOST: '127.0.0.1',
      RANKER_PORT: String(rankerPort),
      REDIS_URL: redisServer.url,
      REDIS_KEY_PREFIX: PREFIX,
      MODEL_REGISTRY_ROOT: registry.root,
      RANKER_RATE_LIMIT_MAX: '0',
      RANKER_SERVER_TIMING: 'true',
      // Measure full rankings: a loaded 2-vCPU box can delay Redis past the production 50 ms, and a
      // degraded answer (no Redis, default features) is cheaper than a real one.
      RANKER_FEATURE_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'warn',
      ...featureLog.env,
    });
    const rankerUrl = `http://127.0.0.1:${rankerPort}`;
    await waitFor(async () => (await fetch(`${rankerUrl}/ready`)).status === 200, {
      what: 'the ranker',
      timeoutMs: 120_000,
    });

    const bodies = new Map<number, string[]>();
    const random = seededRandom(11);
    for (const k of SIZES) {
      bodies.set(
        k,
        Array.from({ length: 300 }, () => {
          const query = world.queries[Math.floor(random() * world.queries.length)]!;
          return JSON.stringify({ query: query.query, candidates: candidatesFor(world, query, k, random) });
        }),
      );
    }

    // The bare route answers with the ranker's own answer for the same size: same bytes on the wire.
    const payloads: Record<string, unknown> = {};
    for (const k of SIZES) {
      const response = await fetch(`${rankerUrl}/rank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies.get(k)![0]!,
      });
      payloads[String(k)] = await response.json();
    }
    const payloadFile = join(registry.root, 'baseline-payloads.json');
    await writeFile(payloadFile, JSON.stringify(payloads));

    const results: {
      k: number;
      server: 'ranker' | 'bare Fastify';
      single: Measured;
      fixed: Measured;
      max: Measured;
      stages?: string;
    }[] = [];
    for (const k of SIZES) {
      await run(rankerUrl, ranker.pid!, bodies.get(k)!, 3, 16, undefined); // warm-up: JIT, connections, ONNX arenas
      const before = await stageTotals(rankerUrl);
      const single = await run(rankerUrl, ranker.pid!, bodies.get(k)!, seconds / 2, 1, undefined);
      const fixed = await run(rankerUrl, ranker.pid!, bodies.get(k)!, seconds, 16, FIXED_RATE);
      const stages = describeStages(before, await stageTotals(rankerUrl));
      const max = await run(rankerUrl, ranker.pid!, bodies.get(k)!, seconds, 32, undefined);
      results.push({ k, server: 'ranker', single, fixed, max, stages });
      console.log(`ranker k=${k}: ${line(fixed, max)}; ${stages}`);
    }
    ranker.kill('SIGTERM');
    await new Promise((resolve) => ranker.once('exit', resolve));

    const floor = await measureOnnxFloor(
      redis,
      registry.modelPath(1),
      join(registry.root, 'onnx-floor'),
      bodies,
      nowMs,
    );
    for (const k of SIZES) {
      const f = floor[String(k)]!;
      console.log(`onnxruntime alone k=${k}: cpu ${f.cpuMs.toFixed(2)} ms/call, ${f.perSecond.toFixed(0)} calls/s`);
    }

    if (args.baseline !== 'off') {
      const baselinePort = 18_581;
      const baseline = await startPinned(
        'baseline',
        [fileURLToPath(import.meta.url), '--baseline-server', payloadFile],
        {
          BASELINE_PORT: String(baselinePort),
        },
      );
      const baselineUrl = `http://127.0.0.1:${baselinePort}`;
      await waitFor(
        () =>
          fetch(baselineUrl).then(
            () => true,
            () => false,
          ),
        { what: 'the bare route', timeoutMs: 120_000 },
      );
      for (const k of SIZES) {
        await run(baselineUrl, baseline.pid!, bodies.get(k)!, 3, 16, undefined);
        const single = await run(baselineUrl, baseline.pid!, bodies.get(k)!, seconds / 2, 1, undefined);
        const fixed = await run(baselineUrl, baseline.pid!, bodies.get(k)!, seconds, 16, FIXED_RATE);
        const max = await run(baselineUrl, baseline.pid!, bodies.get(k)!, seconds, 32, undefined);
        results.push({ k, server: 'bare Fastify', single, fixed, max });
        console.log(`bare k=${k}: ${line(fixed, max)}`);
      }
      baseline.kill('SIGTERM');
      await new Promise((resolve) => baseline.once('exit', resolve));
    }
    await featureLog.close();
    await registry.destroy();
    redis.disconnect();
    const report = renderReport({
      started,
      loadBefore,
      seconds,
      world,
      memory,
      modelBytes,
      trees: model.trees.length,
      featureLog: featureLog.description,
      results,
      floor,
    });
    await mkdir(dirname(args.out), { recursive: true });
    // The hand-written analysis below the figures (from the "<!-- analysis -->" marker on) is kept.
    const previous = await readFile(args.out, 'utf8').catch(() => '');
    const analysis = previous.indexOf('<!-- analysis -->');
    await writeFile(args.out, analysis >= 0 ? `${report}\n${previous.slice(analysis)}` : report);
    console.log(`\n${report}\nwritten to ${args.out}`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await redisServer.destroy();
  }
}

/** Thresholds of the random trees come from real feature rows of this world, so rows take varied paths. */
async function realisticModel(redis: ReturnType<typeof createRedis>, world: World, nowMs: number) {
  const store = new RedisFeatureStore(redis, keyLayout(PREFIX));
  const random = seededRandom(5);
  const samples: number[][] = Array.from({ length: FEATURE_COUNT }, () => []);
  for (let r = 0; r < 300; r++) {
    const query = world.queries[Math.floor(random() * world.queries.length)]!;
    const candidates = readCandidates(candidatesFor(world, query, 50, random));
    if (isCandidateProblem(candidates)) throw new Error(candidates.message);
    const { snapshot } = await store.fetch(normalizeQuery(query.query), terms(query.query), candidates.ids);
    const matrix = buildFeatureMatrix(terms(query.query), snapshot, candidates.retrievalScores, nowMs);
    for (let i = 0; i < matrix.length; i++) samples[i % FEATURE_COUNT]!.push(matrix[i]!);
  }
  return randomEnsemble(FEATURE_NAMES, samples, { trees: 300, leaves: 31, random: seededRandom(3) });
}

/** Runs the onnxruntime-alone child on CPU 0 over the feature rows of the benchmark's own requests. */
async function measureOnnxFloor(
  redis: ReturnType<typeof createRedis>,
  modelPath: string,
  dir: string,
  bodies: Map<number, string[]>,
  nowMs: number,
): Promise<Record<string, Floor>> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), await readFile(modelPath));
  const store = new RedisFeatureStore(redis, keyLayout(PREFIX));
  for (const k of SIZES) {
    const rows: Float64Array[] = [];
    for (const body of bodies.get(k)!.slice(0, 50)) {
      const request = JSON.parse(body) as { query: string; candidates: CandidateInput[] };
      const candidates = readCandidates(request.candidates);
      if (isCandidateProblem(candidates)) throw new Error(candidates.message);
      const queryTerms = terms(request.query);
      const { snapshot } = await store.fetch(normalizeQuery(request.query), queryTerms, candidates.ids);
      rows.push(buildFeatureMatrix(queryTerms, snapshot, candidates.retrievalScores, nowMs));
    }
    await writeFile(
      join(dir, `rows-${k}.f64`),
      Buffer.concat(rows.map((m) => Buffer.from(m.buffer, m.byteOffset, m.byteLength))),
    );
  }
  const child = await startPinned(
    'onnxruntime alone',
    [fileURLToPath(import.meta.url), ...process.argv.slice(2), '--onnx-floor', dir],
    {},
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the onnxruntime-alone measurement exited with ${code}`);
  return JSON.parse(await readFile(join(dir, 'floor.json'), 'utf8')) as Record<string, Floor>;
}

/** With KAFKA_BROKERS and SCHEMA_REGISTRY_URL set: a topic of this run for the feature log, as in production. */
async function featureLogTopic(): Promise<{
  env: Record<string, string>;
  description: string;
  close(): Promise<void>;
}> {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL } = process.env;
  if (!KAFKA_BROKERS || !SCHEMA_REGISTRY_URL || args['feature-log'] === 'off') {
    return {
      env: { RANKER_FEATURE_LOG_ENABLED: 'false' },
      description:
        args['feature-log'] === 'off' ? 'off (--feature-log off)' : 'off (KAFKA_BROKERS / SCHEMA_REGISTRY_URL not set)',
      close: async () => undefined,
    };
  }
  const { config, kafka, registry } = serviceClients(process.env, { name: 'bench', level: 'warn' });
  const admin = kafka.admin();
  await admin.connect();
  const suffix = `.bench-${Date.now().toString(36)}`;
  const spec = deployedTopic(topics.rankingLog, suffix);
  await provision({
    admin,
    registry,
    registryUrl: config.SCHEMA_REGISTRY_URL,
    specs: [spec],
  });
  return {
    env: { RANKER_FEATURE_LOG_ENABLED: 'true', TOPIC_NAME_SUFFIX: suffix, KAFKA_BROKERS, SCHEMA_REGISTRY_URL },
    description: `on: every ranking to ${spec.name} (Kafka ${KAFKA_BROKERS})`,
    async close() {
      await admin.deleteTopics({ topics: [spec.name, spec.dlq] }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

function startPinned(name: string, script: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', '0', process.execPath, ...script], {
    env: { ...process.env, ...env, BENCH_PINNED: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') console.error(`${name} exited with ${code ?? signal}`);
  });
  return Promise.resolve(child);
}

/** One autocannon run cycling through the request bodies; server time from Server-Timing. */
async function run(
  url: string,
  pid: number,
  bodies: string[],
  seconds: number,
  connections: number,
  rate: number | undefined,
): Promise<Measured> {
  const serverMs: number[] = [];
  const cpuBefore = await cpuSeconds(pid);
  let degraded = 0;
  let next = 0;
  const result = await autocannon({
    url: `${url}/rank`,
    connections,
    duration: seconds,
    ...(rate === undefined ? {} : { overallRate: rate }),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request: Record<string, unknown>) => ({ ...request, body: bodies[next++ % bodies.length] }),
        onResponse: (status: number, body: string, _context: unknown, headers: Record<string, string>) => {
          const timing = /dur=([\d.]+)/.exec(headers['server-timing'] ?? '');
          if (timing) serverMs.push(Number(timing[1]));
          if (status === 200 && body.includes('"degraded":true')) degraded++;
        },
      },
    ],
  });
  const cpu = (await cpuSeconds(pid)) - cpuBefore;
  serverMs.sort((a, b) => a - b);
  const at = (q: number) => serverMs[Math.min(serverMs.length - 1, Math.floor(q * serverMs.length))] ?? Number.NaN;
  return {
    cpuMs: (cpu * 1000) / Math.max(1, result.requests.total),
    serverP50: at(0.5),
    serverP99: at(0.99),
    clientP50: result.latency.p50,
    clientP99: result.latency.p99,
    rps: result.requests.total / result.duration,
    non2xx: result.non2xx,
    unanswered: result.errors + result.timeouts,
    degraded,
  };
}

/** utime + stime of a process (all threads: the event loop and onnxruntime's), from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // Fields 14 and 15 of proc(5), counted from the state field (3).
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Sums and counts of the ranker's stage histograms, to split the server time. */
async function stageTotals(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const totals = new Map<string, number>();
  for (const name of [
    'feature_store_duration_seconds',
    'rank_scoring_duration_seconds',
    'rank_request_duration_seconds',
  ]) {
    for (const suffix of ['_sum', '_count']) {
      const total = text
        .split('\n')
        .filter((l) => l.startsWith(`${name}${suffix}`))
        .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
      totals.set(`${name}${suffix}`, total);
    }
  }
  return totals;
}

function describeStages(before: Map<string, number>, after: Map<string, number>): string {
  const mean = (name: string) => {
    const count = after.get(`${name}_count`)! - before.get(`${name}_count`)!;
    return count > 0 ? ((after.get(`${name}_sum`)! - before.get(`${name}_sum`)!) / count) * 1000 : Number.NaN;
  };
  const total = mean('rank_request_duration_seconds');
  const redis = mean('feature_store_duration_seconds');
  const onnx = mean('rank_scoring_duration_seconds');
  return `mean server time ${total.toFixed(2)} ms; mean Redis round trip ${redis.toFixed(2)} ms (answered lookups); mean ONNX run ${onnx.toFixed(2)} ms`;
}

function line(fixed: Measured, max: Measured): string {
  return `cpu ${fixed.cpuMs.toFixed(2)} ms/req, @${FIXED_RATE}/s server p50 ${fixed.serverP50.toFixed(2)} p99 ${fixed.serverP99.toFixed(2)} ms (client p99 ${fixed.clientP99} ms), max ${max.rps.toFixed(0)}/s, non-2xx ${fixed.non2xx + max.non2xx}, unanswered ${fixed.unanswered + max.unanswered}, degraded ${fixed.degraded + max.degraded}`;
}

function renderReport(r: {
  started: Date;
  loadBefore: string;
  seconds: number;
  world: World;
  memory: string;
  modelBytes: number;
  trees: number;
  featureLog: string;
  results: { k: number; server: string; single: Measured; fixed: Measured; max: Measured; stages?: string }[];
  floor: Record<string, Floor>;
}): string {
  const cpu = cpus();
  const ms = (x: number) => x.toFixed(2);
  const rows = r.results.map(
    ({ k, server, single, fixed, max }) =>
      `| ${k} | ${server} | ${ms(single.serverP50)} / ${ms(single.serverP99)} | ${ms(fixed.serverP50)} / ${ms(fixed.serverP99)} | ${fixed.clientP50} / ${fixed.clientP99} | ${max.rps.toFixed(0)} | ${ms(max.serverP50)} / ${ms(max.serverP99)} | ${ms(fixed.cpuMs)} | ${single.non2xx + fixed.non2xx + max.non2xx} / ${single.unanswered + fixed.unanswered + max.unanswered} | ${single.degraded + fixed.degraded + max.degraded} |`,
  );
  const stages = r.results.filter((x) => x.stages).map((x) => `- ${x.k} candidates: ${x.stages}`);
  const floorRows = Object.entries(r.floor).map(([k, f]) => {
    const ranker = r.results.find((x) => x.server === 'ranker' && String(x.k) === k);
    const share = ranker ? `${((100 * f.cpuMs) / ranker.fixed.cpuMs).toFixed(0)} %` : '-';
    return `| ${k} | ${ms(f.cpuMs)} | ${ms(f.p50)} / ${ms(f.p99)} | ${f.perSecond.toFixed(0)} | ${share} |`;
  });
  return [
    '# Ranker benchmark',
    '',
    `Command: \`node bench/ranker.ts ${process.argv.slice(2).join(' ')}\` (with KAFKA_BROKERS/SCHEMA_REGISTRY_URL of the local stack)`,
    `Date: ${r.started.toISOString()}; machine: ${hostname()}, ${cpu.length} vCPU ${cpu[0]?.model ?? ''}; Node ${process.version}.`,
    `Load average of the machine at the start / end of the run: ${r.loadBefore} / ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (other work on the machine shares both CPUs when it is above ~2).`,
    'Server under test pinned to CPU 0 (taskset); autocannon, Redis and this script on CPU 1.',
    `Feature store: ${r.world.keys} keys (${r.memory}) — ${r.world.productIds.length} products, titles from ${r.world.titleSource}; ${r.world.queries.length} queries.`,
    `Model: ${r.trees} trees × 31 leaves, ${FEATURE_COUNT} features, ${(r.modelBytes / 1e6).toFixed(1)} MB ONNX (trainer exporter), onnxruntime-node 1 intra-op thread.`,
    `Feature log: ${r.featureLog}.`,
    '',
    `Latencies in ms as p50 / p99. "1 conn": ${r.seconds / 2} s of one request at a time (no queueing: the floor); "@${FIXED_RATE}/s": ${r.seconds} s at a fixed ${FIXED_RATE} requests/s over 16 connections; "max": ${r.seconds} s as fast as 32 connections go. Server time: Server-Timing (Fastify's reply.elapsedTime), client time: autocannon. CPU ms/request: CPU time of the server process (all its threads) per request at ${FIXED_RATE}/s; 1,000 / it is what one uncontended core could serve.`,
    '',
    `| candidates | server | server, 1 conn | server @${FIXED_RATE}/s | client @${FIXED_RATE}/s | max req/s | server @max | CPU ms/request | non-2xx / unanswered | degraded |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Where the ranker's time goes at ${FIXED_RATE}/s (means from its own histograms):`,
    ...stages,
    '',
    "The floor: onnxruntime alone, in a process of its own on the same core, loaded by the ranker's loader (same session options), scoring the feature rows of the same requests one call after another (no HTTP, Redis or feature log). Its calls/s bound the throughput of any ranker scoring with this model on one core.",
    '',
    "| candidates (rows per call) | onnxruntime alone, CPU ms per call | call p50 / p99 ms | calls/s | share of the ranker's CPU ms/request |",
    '| --- | --- | --- | --- | --- |',
    ...floorRows,
    '',
  ].join('\n');
}
