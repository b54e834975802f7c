/**
 * Collector and SDK throughput, each next to raw kafkajs sending the same bytes, in one run.
 *
 *   KAFKA_BROKERS=… SCHEMA_REGISTRY_URL=… node bench/collector-and-sdk.ts
 *
 * Four producers, each a process of its own pinned to CPU 0 (`taskset -c 0`):
 *  a. the collector (producers/src/collector/main.ts, as deployed) taking POST /v1/events batches of
 *     100 events over HTTP from autocannon; counted: events answered "accepted" (acknowledged by Kafka);
 *  b. raw kafkajs: a producer configured as the SDK's (idempotent, acks=all, one request in flight,
 *     batches of 1,000) sending the same Avro records, encoded once up front, to the same topics;
 *  c. the SDK: StorefrontClient.emit() of the same events (validated, encoded, deduplicated, batched),
 *     one promise per event;
 *  d. the SDK: StorefrontClient.emitMany() of the same events, lists of 100, one promise per list;
 *  e. for reference, raw kafkajs that Avro-encodes each event as it sends it (the same events and
 *     producer as b; avsc through EventCodec.encodeSync, no dedupe, no per-event tracking): what a
 *     hand-written producer of these events pays, next to b, which replays bytes encoded up front.
 * This orchestrator and autocannon run on CPU 1, with Kafka and the registry of the local stack
 * floating over both CPUs. The five take turns in short slices, round after round (the first round
 * is warm-up), so that a change in the machine's load during the run hits all five alike.
 * Events are a fixed storefront mix: per 100, 40 search impressions of 12 products, 40 clicks,
 * 12 add-to-carts, 8 purchases; event ids are unique so that nothing is dropped as a duplicate.
 * Results go to stdout and bench/results/collector-and-sdk.md. About 2 minutes in all.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createKafka } from '@searchop/runtime';
import { serviceClients } from '@searchop/runtime/testing';
import { EventCodec, eventTypes, provision, type EventType, type TopicSpec, deployedTopic } from '@searchop/schemas';
import { Partitioners, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { validateEvent } from '../producers/src/collector/validation/event.ts';
import { StorefrontClient, type EmitRequest } from '../producers/src/sdk/storefront-client.ts';

const { config, logger, registry } = serviceClients(process.env, { name: 'bench', level: 'error' });
const root = fileURLToPath(new URL('..', import.meta.url));
const SLICE_SECONDS = 3;
const ROUNDS = 6; // measured, after one round of warm-up
const BATCH = 100;
const SDK_BATCH = 1_000;
/** Up to this many SDK events outstanding, as a busy storefront back end would have. */
const SDK_WINDOW = 20_000;
/** Concurrent HTTP connections to the collector: its acknowledgement wait is hidden only by concurrency. */
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 64);

type WireEvent = { type: EventType } & Record<string, unknown>;

/** The storefront mix of one batch of 100 events, with `@ID@` where each event id goes. */
function eventMix(now: number): WireEvent[] {
  const events: WireEvent[] = [];
  for (let i = 0; i < BATCH; i++) {
    const common = { event_id: `@ID@-${i}`, occurred_at: now, session_id: `s-${i % 25}`, user_id: `u-${i % 25}` };
    const slot = i % 25;
    if (slot < 10) {
      events.push({
        type: 'search_impression',
        ...common,
        request_id: `req-${i}`,
        query: 'Cordless Drill 18V',
        device: 'MOBILE',
        items: Array.from({ length: 12 }, (_, p) => ({
          product_id: `sku-${(i * 12 + p) % 5000}`,
          position: p + 1,
          retrieval_score: 20 - p,
        })),
      });
    } else {
      const line = {
        ...common,
        impression_id: `imp-${i}`,
        query: 'Cordless Drill 18V',
        product_id: `sku-${i}`,
        position: 3,
      };
      if (slot < 20) events.push({ type: 'click', ...line });
      else if (slot < 23) events.push({ type: 'add_to_cart', ...line, quantity: 2 });
      else
        events.push({
          type: 'purchase',
          ...line,
          order_id: `o-${i}`,
          quantity: 1,
          unit_price_minor: 12_999,
          currency: 'EUR',
        });
    }
  }
  return events;
}

/** The same events as the collector hands them to the SDK: typed, with defaults and normalized_query. */
function sdkEvents(mix: WireEvent[]): { type: EventType; event: Record<string, unknown> }[] {
  const now = Date.now();
  return mix.map((wire) => {
    const validated = validateEvent(wire, now, { maxPastMs: 86_400_000, maxFutureMs: 60_000 });
    if (!validated.ok) throw new Error(`the bench mix is invalid: ${JSON.stringify(validated.errors)}`);
    return { type: validated.type, event: validated.event as unknown as Record<string, unknown> };
  });
}

interface Slice {
  readonly events: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
}

function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function measure(seconds: number, run: (deadline: number) => Promise<number>): Promise<Slice> {
  const cpu0 = ownCpuSeconds();
  const start = performance.now();
  const events = await run(start + seconds * 1000);
  return { events, seconds: (performance.now() - start) / 1000, cpuSeconds: ownCpuSeconds() - cpu0 };
}

// ---------------------------------------------------------------------------------------------
// Workers: raw kafkajs and the SDK, each a process pinned to CPU 0, running a slice per stdin line.

async function connectCodec(prefix: string) {
  const specs = Object.values(eventTypes).map((t) => deployedTopic(t, prefix));
  const codec = await EventCodec.connect(registry, specs);
  return { codec, topicNames: Object.fromEntries(specs.map((s) => [s.id, s.name])) };
}

async function rawWorker(prefix: string): Promise<(seconds: number) => Promise<Slice>> {
  const { codec, topicNames } = await connectCodec(prefix);
  const byTopic = new Map<string, Message[]>();
  for (let round = 0; round < SDK_BATCH / BATCH; round++) {
    for (const { type, event } of sdkEvents(eventMix(Date.now()))) {
      const spec = eventTypes[type] as unknown as TopicSpec<unknown>;
      const value = await codec.encode(spec, { ...event, event_id: randomUUID() });
      const topic = topicNames[spec.id]!;
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), { key: String(event['session_id']), value }]);
    }
  }
  const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  const producer = await rawProducer('bench-raw');
  return (seconds) =>
    measure(seconds, async (deadline) => {
      let events = 0;
      while (performance.now() < deadline) {
        await producer.sendBatch({ topicMessages, acks: -1 });
        events += SDK_BATCH;
      }
      return events;
    });
}

/** A plain kafkajs producer with the SDK's producer settings (idempotent, one request in flight). */
async function rawProducer(clientId: string): Promise<Producer> {
  const producer = createKafka(config, logger, clientId).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return producer;
}

async function rawEncodingWorker(prefix: string): Promise<(seconds: number) => Promise<Slice>> {
  const { codec, topicNames } = await connectCodec(prefix);
  const templates = sdkEvents(eventMix(Date.now())).map(({ type, event }) => {
    const spec = eventTypes[type] as unknown as TopicSpec<unknown>;
    return { spec, topic: topicNames[spec.id]!, event };
  });
  const producer = await rawProducer('bench-raw-encoding');
  let n = 0;
  return (seconds) =>
    measure(seconds, async (deadline) => {
      let events = 0;
      while (performance.now() < deadline) {
        const byTopic = new Map<string, Message[]>();
        for (let round = 0; round < SDK_BATCH / BATCH; round++) {
          for (const { spec, topic, event } of templates) {
            const value = codec.encodeSync(spec, { ...event, event_id: `enc-${n++}` });
            const message = { key: String(event['session_id']), value };
            const messages = byTopic.get(topic);
            if (messages) messages.push(message);
            else byTopic.set(topic, [message]);
          }
        }
        const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
        await producer.sendBatch({ topicMessages, acks: -1 });
        events += SDK_BATCH;
      }
      return events;
    });
}

async function sdkWorker(prefix: string): Promise<(seconds: number) => Promise<Slice>> {
  const { codec, topicNames } = await connectCodec(prefix);
  const client = await StorefrontClient.create({ kafka: createKafka(config, logger, 'bench-sdk'), codec, topicNames });
  const templates = sdkEvents(eventMix(Date.now()));
  let n = 0;
  const emitBatch = () =>
    Promise.all(templates.map(({ type, event }) => client.emit(type, { ...event, event_id: `sdk-${n++}` } as never)));
  return (seconds) =>
    measure(seconds, async (deadline) => {
      const first = n;
      const window: Promise<unknown>[] = [];
      while (performance.now() < deadline) {
        window.push(emitBatch());
        if (window.length >= SDK_WINDOW / BATCH) await window.shift();
      }
      await Promise.all(window);
      return n - first;
    });
}

async function sdkManyWorker(prefix: string): Promise<(seconds: number) => Promise<Slice>> {
  const { codec, topicNames } = await connectCodec(prefix);
  const client = await StorefrontClient.create({
    kafka: createKafka(config, logger, 'bench-sdk-many'),
    codec,
    topicNames,
  });
  const templates = sdkEvents(eventMix(Date.now()));
  let n = 0;
  const emitList = () =>
    client.emitMany(
      templates.map(({ type, event }) => ({ type, event: { ...event, event_id: `many-${n++}` } }) as EmitRequest),
    );
  return (seconds) =>
    measure(seconds, async (deadline) => {
      const first = n;
      const window: Promise<unknown>[] = [];
      while (performance.now() < deadline) {
        window.push(emitList());
        if (window.length >= SDK_WINDOW / BATCH) await window.shift();
      }
      await Promise.all(window);
      return n - first;
    });
}

const workers = { raw: rawWorker, sdk: sdkWorker, many: sdkManyWorker, rawEncoding: rawEncodingWorker } as const;
type Role = keyof typeof workers;

async function serveSlices(
  makeWorker: (prefix: string) => Promise<(seconds: number) => Promise<Slice>>,
  prefix: string,
) {
  const run = await makeWorker(prefix);
  console.log('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'exit') break;
    console.log(JSON.stringify(await run(Number(line))));
  }
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The orchestrator.

/** BENCH_CPU_PROF=<dir> writes a V8 CPU profile of every measured process there, to see where time goes. */
function pinnedChild(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const profile = process.env['BENCH_CPU_PROF']
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`]
    : [];
  return spawn('taskset', ['-c', '0', process.execPath, ...profile, ...args], {
    cwd: root,
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** A worker process and a function that runs one slice in it. */
async function startWorker(role: Role, prefix: string) {
  const child = pinnedChild([fileURLToPath(import.meta.url), '--role', role, prefix]);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  // Only protocol lines count: a log line on stdout (kafkajs through pino) is skipped.
  const next = async (): Promise<string> => {
    for (;;) {
      const { value, done } = await lines.next();
      if (done) throw new Error(`the ${role} worker exited`);
      if (value === 'ready' || value.startsWith('{"events":')) return value;
    }
  };
  if ((await next()) !== 'ready') throw new Error(`the ${role} worker did not start`);
  return {
    slice: async (seconds: number): Promise<Slice> => {
      child.stdin!.write(`${seconds}\n`);
      return JSON.parse(await next()) as Slice;
    },
    stop: async () => {
      child.stdin!.write('exit\n');
      await new Promise((resolve) => child.on('exit', resolve));
    },
  };
}

/** CPU seconds a process has used, from /proc (utime + stime, in ticks of 1/100 s on Linux). */
function processCpuSeconds(pid: number): number {
  const fields = execFileSync('cat', [`/proc/${pid}/stat`])
    .toString()
    .split(') ')[1]!
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface AutocannonResult {
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: object) => Promise<AutocannonResult>;

async function startCollector(prefix: string) {
  const port = 18_000 + Math.floor(Math.random() * 1_000);
  const child = pinnedChild(['producers/src/collector/main.ts'], {
    ...process.env,
    COLLECTOR_PORT: String(port),
    TOPIC_NAME_SUFFIX: prefix,
    COLLECTOR_RATE_LIMIT: '0',
    LOG_LEVEL: 'info', // the default: request logging is part of the cost
  });
  child.stdout!.resume();
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`${url}/ready`)
      .then((r) => r.ok)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error('the collector did not become ready');
    await new Promise((r) => setTimeout(r, 250));
  }
  const template = JSON.stringify({ events: eventMix(Date.now()) }).split('@ID@');
  const latencies: AutocannonResult[] = [];
  return {
    bytesPerEvent: template.join('x'.repeat(24)).length / BATCH,
    latencies,
    slice: async (seconds: number): Promise<Slice> => {
      let accepted = 0;
      const cpu0 = processCpuSeconds(child.pid!);
      const start = performance.now();
      const result = await autocannon({
        url: `${url}/v1/events`,
        method: 'POST',
        connections: CONNECTIONS,
        duration: seconds,
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            setupRequest: (request: object) => ({ ...request, body: template.join(randomUUID().slice(0, 24)) }),
            onResponse: (status: number, body: string) => {
              if (status === 200 && body.startsWith(`{"accepted":${BATCH},`)) accepted += BATCH;
            },
          },
        ],
      });
      latencies.push(result);
      return {
        events: accepted,
        seconds: (performance.now() - start) / 1000,
        cpuSeconds: processCpuSeconds(child.pid!) - cpu0,
      };
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function total(slices: readonly Slice[]): Slice {
  return slices.reduce((a, s) => ({
    events: a.events + s.events,
    seconds: a.seconds + s.seconds,
    cpuSeconds: a.cpuSeconds + s.cpuSeconds,
  }));
}

async function main(): Promise<void> {
  const [, , flag, role, prefixArg] = process.argv;
  if (flag === '--role') return serveSlices(workers[role as Role], prefixArg!);

  execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  const prefix = `.bench-${Date.now().toString(36)}`;
  const admin = createKafka(config, logger, 'bench-admin').admin();
  await admin.connect();
  const specs = Object.values(eventTypes).map((t) => ({
    ...t,
    name: `${t.name}${prefix}`,
    dlq: `${t.name}${prefix}.dlq`,
  }));
  await provision({ admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL, specs });

  const [collector, raw, sdk, many, rawEncoding] = await Promise.all([
    startCollector(prefix),
    startWorker('raw', prefix),
    startWorker('sdk', prefix),
    startWorker('many', prefix),
    startWorker('rawEncoding', prefix),
  ]);
  const slices = {
    collector: [] as Slice[],
    raw: [] as Slice[],
    sdk: [] as Slice[],
    many: [] as Slice[],
    rawEncoding: [] as Slice[],
  };
  for (let round = 0; round <= ROUNDS; round++) {
    console.error(round === 0 ? 'warm-up round …' : `round ${round} of ${ROUNDS} …`);
    const measured = [
      await collector.slice(SLICE_SECONDS),
      await raw.slice(SLICE_SECONDS),
      await sdk.slice(SLICE_SECONDS),
      await many.slice(SLICE_SECONDS),
      await rawEncoding.slice(SLICE_SECONDS),
    ];
    if (round > 0)
      [slices.collector, slices.raw, slices.sdk, slices.many, slices.rawEncoding].forEach((list, i) =>
        list.push(measured[i]!),
      );
  }
  await Promise.all([collector.stop(), raw.stop(), sdk.stop(), many.stop(), rawEncoding.stop()]);
  await admin.deleteTopics({ topics: specs.flatMap((s) => [s.name, s.dlq]) }).catch(() => undefined);
  await admin.disconnect();

  const c = total(slices.collector);
  const r = total(slices.raw);
  const s = total(slices.sdk);
  const m = total(slices.many);
  const e = total(slices.rawEncoding);
  const rate = (m: Slice) => m.events / m.seconds;
  const perCpu = (m: Slice) => m.events / m.cpuSeconds;
  const int = (x: number) => Math.round(x).toLocaleString('en');
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  const measuredLatencies = collector.latencies.slice(1);
  const p50 = measuredLatencies.map((l) => l.latency.p50).sort((a, b) => a - b)[
    Math.floor(measuredLatencies.length / 2)
  ];
  const p99 = Math.max(...measuredLatencies.map((l) => l.latency.p99));
  const refused = measuredLatencies.reduce((n, l) => n + l.non2xx + l.errors, 0);
  const rows: [string, Slice, string][] = [
    [
      'collector, POST /v1/events, batches of 100',
      c,
      `HTTP p50 ${p50} ms (median slice), p99 ${p99} ms (worst slice); non-2xx/errors ${refused}`,
    ],
    ['raw kafkajs, same records, batches of 1,000', r, `the SDK's producer settings, records encoded up front`],
    ['StorefrontClient.emit(), same events', s, `one promise per event, ${int(SDK_WINDOW)} events outstanding`],
    [
      'StorefrontClient.emitMany(), same events',
      m,
      `lists of ${BATCH}, one promise per list, ${int(SDK_WINDOW)} events outstanding`,
    ],
    [
      'for reference: raw kafkajs encoding each event, batches of 1,000',
      e,
      'as raw kafkajs, each event Avro-encoded (avsc) as it is sent; no dedupe or per-event tracking',
    ],
  ];
  const table = [
    '| producer (its own process, pinned to CPU 0) | events/s | CPU used (cores) | events per CPU-second | vs raw, events/s | vs raw, per CPU-second | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      ([name, m, notes]) =>
        `| ${name} | ${int(rate(m))} | ${(m.cpuSeconds / m.seconds).toFixed(2)} | ${int(perCpu(m))} | ${pct(rate(m) / rate(r))} | ${pct(perCpu(m) / perCpu(r))} | ${notes} |`,
    ),
  ].join('\n');
  const load = `load average (1 min) ${loadBefore.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after the run, on ${cpus().length} vCPUs`;
  const verdict = [
    `- Collector: ${int(rate(c))} accepted events/s while its process got ${(c.cpuSeconds / c.seconds).toFixed(2)} of a core, ${int(perCpu(c))} events per CPU-second. Target ≥ 20,000 per core: ${perCpu(c) >= 20_000 ? 'met' : 'missed'} per CPU-second, ${rate(c) >= 20_000 ? 'met' : 'missed'} in wall-clock events/s.`,
    ...(
      [
        ['emit()', s],
        ['emitMany()', m],
      ] as const
    ).map(
      ([name, x]) =>
        `- SDK ${name}: ${pct(rate(x) / rate(r))} of raw kafkajs in events/s, ${pct(perCpu(x) / perCpu(r))} per CPU-second. Target ≥ 80%: ${rate(x) >= 0.8 * rate(r) ? 'met' : 'missed'} in events/s, ${perCpu(x) >= 0.8 * perCpu(r) ? 'met' : 'missed'} per CPU-second.`,
    ),
    `- For reference, the SDK's emitMany() is ${pct(rate(m) / rate(e))} in events/s and ${pct(perCpu(m) / perCpu(e))} per CPU-second of raw kafkajs that Avro-encodes each event as it sends it (${int(perCpu(e))} events per CPU-second).`,
    `- Machine: ${load}.`,
  ].join('\n');
  const report = `# Collector and SDK throughput

Command: \`KAFKA_BROKERS=… SCHEMA_REGISTRY_URL=… node bench/collector-and-sdk.ts\` (${Math.round((Date.now() - started) / 1000)} s).
Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${cpus().length} vCPU (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; Kafka and the schema registry of the local stack on the same machine.

${table}

${verdict}

Method: each producer is a process of its own pinned to CPU 0 (\`taskset -c 0\`); the orchestrator and
the load generator (autocannon, ${CONNECTIONS} connections, unique event ids in every request) are pinned to CPU 1;
the broker and the registry float over both. The producers take turns in ${SLICE_SECONDS}-second slices,
${ROUNDS} measured rounds after one warm-up round, so that load from outside the benchmark falls on all
five alike. "events/s" counts events acknowledged by Kafka (acks=all) — for the collector, events
answered \`accepted\` — over the slices' wall-clock time; "CPU used" is the producer process's own user +
system time over the same slices, so "events per CPU-second" is what one core would sustain if the
process had it to itself. Mix per 100 events: 40 search impressions of 12 products, 40 clicks,
12 add-to-carts, 8 purchases (${int(collector.bytesPerEvent)} B of JSON per event on the wire to the collector).
`;
  console.log(report);
  // Hand-written notes below the generated part survive a re-run.
  const file = new URL('./results/collector-and-sdk.md', import.meta.url);
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const notes = previous.indexOf('\n## Notes');
  writeFileSync(file, notes >= 0 ? `${report}${previous.slice(notes)}` : report);
}

await main();
