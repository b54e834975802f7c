import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC_VERSION, type RankingLog } from '@searchop/schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { backfill, type ReplayEvent } from './backfill.ts';
import { buildData } from './build-data.ts';
import { dataConfigSchema, type DataConfig } from './data-config.ts';
import { openOfflineStore, type OfflineStoreDb } from './store.ts';
import { exampleSteps, HISTORY_START, shopHistory } from './testing/event-history.ts';
import { writeOfflineStore } from './testing/write-store.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const baseConfig: DataConfig = dataConfigSchema.parse({
  labels: { shown: 0, click: 1, add_to_cart: 2, purchase: 3 },
  attribution_minutes: { click: 60, add_to_cart: 1440, purchase: 1440 },
  window_days: 4,
  // Covers the whole history, so that the in-memory replay (which starts at the first event) is comparable.
  warmup_days: 10,
  features: 'auto',
  keep_lists_without_clicks: true,
});

async function storeWith(events: readonly ReplayEvent[], logs: readonly RankingLog[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'trainer-data-'));
  dirs.push(dir);
  await writeOfflineStore(join(dir, 'store'), events, logs, { partitions: 1 });
  return dir;
}

function outputs(dir: string) {
  return {
    trainingFile: join(dir, 'train.parquet'),
    examplesFile: join(dir, 'examples.parquet'),
    listsFile: join(dir, 'lists.parquet'),
    scratchDir: dir,
  };
}

async function open(dir: string): Promise<OfflineStoreDb> {
  return openOfflineStore(join(dir, 'store'), { memoryLimit: '1GB', threads: 2, tempDirectory: join(dir, 'tmp') });
}

interface Row {
  query_id: string;
  label: number;
  position: number;
  timestamp: number;
  product_id: string;
  source: string;
  features: number[];
}

async function examples(db: OfflineStoreDb): Promise<Row[]> {
  const reader = await db.connection.runAndReadAll(
    `SELECT query_id, label, "position", "timestamp"::DOUBLE AS "timestamp", product_id, source,
            [${FEATURE_NAMES.map((n) => `"${n}"`).join(', ')}] AS features
     FROM examples ORDER BY "timestamp", query_id, "position"`,
  );
  return reader.getRowObjectsJS() as unknown as Row[];
}

const same = (a: number, b: number) => (Number.isNaN(a) ? Number.isNaN(b) : a === b);

describe('build-data on an offline store written by the compactor’s encoder', () => {
  it('backfills exactly the features of an in-memory replay of the same events, with 3 worker threads', async () => {
    const history = shopHistory({ days: 12 });
    const dir = await storeWith(history);
    const db = await open(dir);
    try {
      const built = await buildData(db, {
        config: { ...baseConfig, features: 'backfill' },
        ...outputs(dir),
        // Each worker computes a third of the products: together they must give the whole replay's examples.
        backfillWorkers: 3,
      });
      const { period } = built;
      const wanted = history.filter(
        (e): e is Extract<ReplayEvent, { type: 'search_impression' }> =>
          e.type === 'search_impression' &&
          e.value.occurred_at >= period.examplesFrom &&
          e.value.occurred_at < period.examplesTo,
      );
      const wantedIds = new Set(wanted.map((e) => e.value.event_id));
      const expected = new Map(
        [...backfill(exampleSteps(history, (i) => wantedIds.has(i.event_id)))].map((b) => [b.groupId, b]),
      );
      const rows = await examples(db);
      expect(built.counts.impressions).toBe(wanted.length);
      expect(new Set(rows.map((r) => r.query_id)).size).toBe(wanted.length);
      expect(rows.length).toBe([...expected.values()].reduce((n, b) => n + b.productIds.length, 0));
      expect(built.counts.replayedEvents).toBeGreaterThan(history.length / 2);
      for (const row of rows) {
        const block = expected.get(row.query_id)!;
        const r = block.productIds.indexOf(row.product_id);
        expect(row.timestamp).toBe(block.timestamp);
        expect(row.position).toBe(block.positions[r]);
        const vector = [...block.features.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT)];
        expect(row.features.every((v, i) => same(v, vector[i]!))).toBe(true);
      }
    } finally {
      db.close();
    }
  }, 300_000);

  it('labels by the strongest interaction within its window, linked by impression id or by session', async () => {
    const t = HISTORY_START + 3 * 86_400_000;
    const minute = 60_000;
    const impression = (id: string, at: number, products: string[]): ReplayEvent => ({
      type: 'search_impression',
      value: {
        event_id: id,
        request_id: null,
        occurred_at: at,
        query: 'drill',
        normalized_query: 'drill',
        user_id: null,
        session_id: 's1',
        page: 1,
        device: 'DESKTOP',
        items: products.map((p, i) => ({ product_id: p, position: i + 1, retrieval_score: null })),
      },
    });
    const base = (productId: string, at: number, impressionId: string | null) => ({
      event_id: `${productId}-${at}`,
      occurred_at: at,
      impression_id: impressionId,
      request_id: null,
      query: 'drill',
      normalized_query: 'drill',
      user_id: null,
      session_id: 's1',
      product_id: productId,
      position: 1,
    });
    const events: ReplayEvent[] = [
      impression('A', t, ['p1', 'p2', 'p3', 'p4']),
      { type: 'click', value: base('p1', t + minute, 'A') },
      { type: 'add_to_cart', value: { ...base('p1', t + 2 * minute, 'A'), quantity: 1 } },
      impression('B', t + 5 * minute, ['p2', 'p5']),
      // No impression id: the latest earlier impression of the session showing p2 is B, not A.
      {
        type: 'purchase',
        value: {
          ...base('p2', t + 10 * minute, null),
          order_id: 'o1',
          quantity: 1,
          unit_price_minor: 100,
          currency: 'EUR',
        },
      },
      // Too late for the 60-minute click window.
      { type: 'click', value: base('p3', t + 61 * minute, 'A') },
      // Names an impression that did not show the product: no label.
      { type: 'click', value: base('p4', t + 3 * minute, 'B') },
      // Keeps the data going for a day so that both impressions' windows close.
      impression('late', t + 2 * 86_400_000, ['p9']),
    ];
    const dir = await storeWith(events);
    const db = await open(dir);
    try {
      await buildData(db, { config: { ...baseConfig, features: 'backfill' }, ...outputs(dir) });
      const labels = Object.fromEntries((await examples(db)).map((r) => [`${r.query_id}/${r.product_id}`, r.label]));
      expect(labels).toEqual({ 'A/p1': 2, 'A/p2': 0, 'A/p3': 0, 'A/p4': 0, 'B/p2': 3, 'B/p5': 0 });
    } finally {
      db.close();
    }
  }, 120_000);

  it('takes served lists from the feature log verbatim and backfills degraded or other-spec ones', async () => {
    const history = shopHistory({ days: 12, seed: 11 });
    const logs: RankingLog[] = [];
    let n = 0;
    for (const event of history) {
      if (event.type !== 'search_impression' || event.value.request_id === null) continue;
      const kind = n++ % 4;
      logs.push({
        request_id: event.value.request_id,
        occurred_at: event.value.occurred_at - 5,
        query: event.value.query,
        normalized_query: event.value.normalized_query,
        user_id: null,
        session_id: event.value.session_id,
        model_version: 3,
        feature_spec_version: kind === 3 ? 'v0' : FEATURE_SPEC_VERSION,
        degraded: kind === 2,
        degraded_reason: kind === 2 ? 'feature_store_timeout' : null,
        items: event.value.items.map((item, i) => ({
          product_id: item.product_id,
          position: i + 1,
          score: 1 - i / 10,
          retrieval_score: item.retrieval_score,
          // A recognisable vector per product and position; NaN where a feature was missing.
          features: Array.from({ length: FEATURE_COUNT }, (_, f) => (f === 5 ? Number.NaN : 1000 * i + f + 0.25)),
        })),
      });
    }
    const dir = await storeWith(history, logs);
    const db = await open(dir);
    try {
      const built = await buildData(db, { config: baseConfig, ...outputs(dir) });
      const rows = await examples(db);
      const usable = new Map(
        logs
          .filter((l) => !l.degraded && l.feature_spec_version === FEATURE_SPEC_VERSION)
          .map((l) => [l.request_id, l]),
      );
      const fromLog = rows.filter((r) => r.source === 'log');
      expect(fromLog.length).toBeGreaterThan(0);
      expect(built.counts.examples.log).toBe(fromLog.length);
      expect(built.counts.lists.backfill).toBeGreaterThan(0);
      for (const row of fromLog) {
        const log = usable.get(row.query_id)!;
        expect(log).toBeDefined();
        expect(row.timestamp).toBe(log.occurred_at);
        const item = log.items.find((i) => i.product_id === row.product_id)!;
        expect(row.features.every((v, f) => same(v, item.features[f]!))).toBe(true);
      }
      // Degraded and other-spec rankings were replayed instead: their impressions are backfilled groups.
      const replayedRequests = new Set(logs.filter((l) => !usable.has(l.request_id)).map((l) => l.request_id));
      const backfilledImpressions = new Set(rows.filter((r) => r.source === 'backfill').map((r) => r.query_id));
      const impressionOf = new Map(
        history.flatMap((e) =>
          e.type === 'search_impression' ? [[e.value.event_id, e.value.request_id] as const] : [],
        ),
      );
      const replayedAndPresent = [...backfilledImpressions].filter((id) => replayedRequests.has(impressionOf.get(id)!));
      expect(replayedAndPresent.length).toBeGreaterThan(0);
      for (const id of backfilledImpressions) expect(usable.has(impressionOf.get(id) ?? '')).toBe(false);
    } finally {
      db.close();
    }
  }, 300_000);
});
