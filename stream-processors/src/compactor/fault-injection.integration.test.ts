import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { watch } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import { EventCodec, provision, type TopicSpec } from '@searchop/schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSegmentFileName } from './layout.ts';
import {
  compareWithKafka,
  formatComparison,
  matches,
  ownTopics,
  sampleEvent,
  testServices,
  type PartitionComparison,
} from './test-support.ts';

const { config, kafka, registry } = testServices();
const mainScript = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Events per topic: 200,000 in all, in the proportions of a storefront's traffic. */
const volumes: Record<string, number> = {
  impressions: 60_000,
  clicks: 70_000,
  'add-to-carts': 25_000,
  purchases: 15_000,
  catalog: 10_000,
  'ranking-log': 20_000,
};
const KILLS = 6;
/** Where the kills land, in turn: anywhere, amid a segment's temporary files, right after its first rename (before the commit). */
const KILL_POINTS = ['at a random point', 'while writing a segment', 'just after a rename'] as const;

describe('the compactor killed with SIGKILL at random points', () => {
  const { suffix, specs } = ownTopics('fault');
  const admin = kafka.admin();
  let root: string | undefined;
  let child: ChildProcess | undefined;
  let passed = false;

  afterAll(async () => {
    // Also after a timeout: no compactor may outlive the test.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await admin.disconnect();
    // The store and the compactor's log stay behind for a look when the test failed.
    if (root && passed) await rm(root, { recursive: true, force: true });
    else if (root) console.error(`the store and compactor.log are kept in ${root}`);
  });

  it(
    'ends with exactly the topic: as many Parquet rows as records, each (partition, offset) once',
    { timeout: 600_000 },
    async () => {
      const store = await mkdtemp(join(tmpdir(), 'offline-store-fault-'));
      root = store;
      await admin.connect();
      await provision({ admin, registry, registryUrl: config.SCHEMA_REGISTRY_URL, specs });
      const codec = await EventCodec.connect(registry, specs);
      const total = specs.reduce((n, s) => n + (volumes[s.id] ?? 10_000), 0);
      expect(total).toBeGreaterThanOrEqual(200_000);

      const logPath = join(store, 'compactor.log');
      const log = await open(logPath, 'a');
      const env = {
        ...process.env,
        KAFKA_BROKERS: config.KAFKA_BROKERS.join(','),
        SCHEMA_REGISTRY_URL: config.SCHEMA_REGISTRY_URL,
        OFFLINE_STORE_ROOT: store,
        TOPIC_NAME_SUFFIX: suffix,
        COMPACTOR_GROUP_ID: uniqueName('compactor-fault'),
        // Small writes, so that every kill point finds a write in flight however fast the machine drains the topic.
        COMPACTOR_FLUSH_MAX_RECORDS: '2000',
        COMPACTOR_FLUSH_INTERVAL_MS: '3000',
        // A killed member holds its partitions until its session expires: keep that short.
        COMPACTOR_SESSION_TIMEOUT_MS: '6000',
        COMPACTOR_HEARTBEAT_INTERVAL_MS: '1000',
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
      };
      const start = (): ChildProcess =>
        spawn(process.execPath, [mainScript], { env, stdio: ['ignore', log.fd, log.fd] });

      const began = Date.now();
      const elapsed = () => `${((Date.now() - began) / 1000).toFixed(1)} s`;
      child = start();
      const production = produceAll(codec, total).then(() => console.log(`${elapsed()}: all ${total} events produced`));
      const writes = watchSegmentWrites(store);
      // Random shares of the offsets, low enough that every restarted process has work left to be killed in.
      const thresholds = Array.from({ length: KILLS }, () => 0.05 + Math.random() * 0.6).sort((a, b) => a - b);
      const kills: { threshold: number; when: string; offsetsStored: number; tempFiles: number; exit: string }[] = [];
      try {
        let killedAt = -1;
        for (const [i, threshold] of thresholds.entries()) {
          const when = KILL_POINTS[i % KILL_POINTS.length]!;
          await waitFor(
            async () => {
              const p = await storedProgress(store);
              // At a random point the restarted process must have stored something since the last kill;
              // at a write, the write itself shows it is working.
              return p.offsets >= threshold * total && (when !== 'at a random point' || p.offsets > killedAt) && p;
            },
            { timeoutMs: 240_000, intervalMs: 250, what: `${Math.round(threshold * 100)}% of the offsets stored` },
          );
          if (when === 'while writing a segment') await writes.next('temporary', 60_000);
          if (when === 'just after a rename') await writes.next('final', 60_000);
          child.kill('SIGKILL');
          const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
          const after = await storedProgress(store);
          killedAt = after.offsets;
          console.log(`${elapsed()}: SIGKILL #${i + 1} ${when}, ${after.offsets} offsets stored`);
          kills.push({
            threshold,
            when,
            offsetsStored: after.offsets,
            tempFiles: after.tempFiles,
            exit: signal ?? String(code),
          });
          child = start();
        }
        await production;

        // Cheap first (file names), then the exact comparison through DuckDB.
        await waitFor(async () => (await storedProgress(store)).offsets >= total, {
          timeoutMs: 300_000,
          intervalMs: 1_000,
          what: 'every offset in the store after the last restart',
        });
        const comparison: PartitionComparison[] = [];
        for (const spec of specs) comparison.push(...(await compareWithKafka(admin, store, spec)));
        console.log(`${elapsed()}: every offset stored`);

        child.kill('SIGTERM');
        const [code] = (await once(child, 'exit')) as [number | null];
        console.log(`${elapsed()}: stopped with SIGTERM, exit code ${code}`);
        expect(code).toBe(0);

        const childLog = (await readFile(logPath, 'utf8')).split('\n');
        const recoveries = childLog
          .filter((l) => l.includes('recovered segments interrupted'))
          .map((l) => JSON.parse(l) as { completed: string[]; discarded: string[] });
        const renamed = recoveries.reduce((n, r) => n + r.completed.length, 0);
        const discarded = recoveries.reduce((n, r) => n + r.discarded.length, 0);
        const resumes = childLog.filter((l) => l.includes('resuming after what the store already holds')).length;
        console.log(
          [
            `SIGKILLs at ${kills.length} random points (past a random share of the ${total} offsets; offsets stored and temporary files left at the kill):`,
            ...kills.map(
              (k, i) =>
                `  #${i + 1}: past ${(k.threshold * 100).toFixed(1)}%, ${k.when} → ${k.offsetsStored} offsets stored, ${k.tempFiles} temporary file(s), exit ${k.exit}`,
            ),
            `temporary files found at restarts: ${renamed} renamed into place (crash between renames), ${discarded} discarded (crash before them)`,
            `partitions resumed from the files, ahead of the committed offset: ${resumes}`,
            '',
            'final offline store vs Kafka offsets (rows = high − low, distinct (partition, offset) = rows: no duplicate, no gap)',
            formatComparison(comparison),
          ].join('\n'),
        );
        expect(kills).toHaveLength(KILLS);
        expect(kills.every((k) => k.exit === 'SIGKILL' && k.offsetsStored < total)).toBe(true);
        expect(comparison.filter((r) => !matches(r))).toEqual([]);
        for (const r of comparison) {
          if (r.parquetRows > 0) expect([r.minOffset, r.maxOffset]).toEqual([r.low, r.high - 1]);
        }
        expect(comparison.reduce((n, r) => n + r.parquetRows, 0)).toBe(total);
        expect((await storedProgress(store)).tempFiles).toBe(0);
        passed = true;
      } catch (error) {
        const lines = (await readFile(logPath, 'utf8')).trim().split('\n');
        console.error(`compactor log (last 40 of ${lines.length} lines):\n${lines.slice(-40).join('\n')}`);
        throw error;
      } finally {
        writes.close();
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await log.close();
      }
    },
  );

  /** Produces every topic's volume of small valid events in batches, as a storefront fleet would. */
  async function produceAll(codec: EventCodec, total: number): Promise<void> {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const hour = 3_600_000;
    const now = Date.now();
    const queue = specs.flatMap((spec) => Array.from({ length: volumes[spec.id] ?? 10_000 }, (_, i) => ({ spec, i })));
    // Interleave the topics so that they all flow at once.
    queue.sort((a, b) => a.i / (volumes[a.spec.id] ?? 1) - b.i / (volumes[b.spec.id] ?? 1));
    try {
      for (let at = 0; at < queue.length; at += 2_000) {
        const byTopic = new Map<string, { key: string; value: Buffer }[]>();
        for (const { spec, i } of queue.slice(at, at + 2_000)) {
          // Two hours of traffic, one event in a hundred an hour late.
          const occurredAt = now - (i % 100 === 99 ? 3 * hour : Math.floor((i / total) * 2 * hour));
          const event = sampleEvent(spec.id, i, occurredAt, `s-${i % 5_000}`) as Record<string, string>;
          const key = String(event[spec.keyField]);
          const value = await codec.encode(spec as TopicSpec<unknown>, event);
          const messages = byTopic.get(spec.name) ?? [];
          messages.push({ key, value });
          byTopic.set(spec.name, messages);
        }
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
      }
    } finally {
      await producer.disconnect();
    }
  }
});

/**
 * Resolves `next(kind)` at the next temporary file (the middle of a segment write) or final file (a
 * rename: the write is finishing, the commit has not happened) that appears in the store.
 */
function watchSegmentWrites(root: string): {
  next(kind: 'temporary' | 'final', timeoutMs: number): Promise<void>;
  close(): void;
} {
  let waiting: { kind: 'temporary' | 'final'; resolve: () => void } | undefined;
  const watcher = watch(root, { recursive: true }, (_event, name) => {
    const kind = name?.endsWith('.tmp') ? 'temporary' : name?.endsWith('.parquet') ? 'final' : undefined;
    if (waiting && kind === waiting.kind) {
      waiting.resolve();
      waiting = undefined;
    }
  });
  return {
    next: (kind, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${kind} file within ${timeoutMs} ms`)), timeoutMs);
        waiting = {
          kind,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      }),
    close: () => watcher.close(),
  };
}

/** Offsets covered by the segments on disk (each segment counted once) and temporary files present. */
async function storedProgress(root: string): Promise<{ offsets: number; tempFiles: number }> {
  const seen = new Set<string>();
  let offsets = 0;
  let tempFiles = 0;
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  for (const entry of entries) {
    const name = entry.slice(entry.lastIndexOf('/') + 1);
    if (name.endsWith('.tmp')) tempFiles++;
    const segment = parseSegmentFileName(name);
    const topic = entry.slice(0, entry.indexOf('/'));
    if (!segment || seen.has(`${topic}/${name}`)) continue;
    seen.add(`${topic}/${name}`);
    offsets += segment.lastOffset - segment.firstOffset + 1;
  }
  return { offsets, tempFiles };
}
