/**
 * Micro-benchmark of the shared tile code (schemas/src/features): what the ranker does per
 * candidate at request time and what the trainer's backfill does per replayed event, at realistic
 * state sizes. No services needed; one process, one thread.
 *
 *   node bench/feature-tiles.ts [--entities 2000] [--rounds 200]
 *
 * State sizes (tiles per entity; the maximum is 13 five-minute + 25 hourly + 31 daily = 69):
 *   tail  — a pair seen once:                3 tiles, 2 fences
 *   mid   — a product active over ~10 days: 40 tiles, 8 fences
 *   hot   — a product active every 5 minutes for 30 days: 69 tiles, 24 fences
 * Rows:
 *   decode               decodeState of the Redis value (what the ranker does after MGET)
 *   window sums          windowTotals: all 4 windows × 4 counters in one pass
 *   decode + sums        the two together, per entity
 *   features / candidate writeFeatures for a candidate whose product and pair are of that size
 *                        (decoded beforehand; includes BM25 and the catalogue attributes)
 *   full / candidate     decode product + pair, then writeFeatures: the ranker's whole per-candidate cost
 *   applyIncrements      per increment, batches of 16 into a state of that size (the backfill's settle)
 * Times are CPU time of the process (process.cpuUsage), less sensitive to a loaded machine than wall time.
 * Results: stdout and bench/results/feature-tiles.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  FEATURE_COUNT,
  WINDOW_TOTALS_LENGTH,
  applyIncrements,
  decodeState,
  emptyState,
  encodeState,
  prepareQuery,
  terms,
  windowFrame,
  windowTotals,
  writeFeatures,
  type CatalogEntry,
  type EntityState,
  type Increment,
} from '@searchop/schemas';

const { values } = parseArgs({
  options: { entities: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '200' } },
});
const ENTITIES = Number(values.entities);
const ROUNDS = Number(values.rounds);
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;

let seed = 7;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;

function stateOf(size: 'tail' | 'mid' | 'hot'): EntityState {
  const state = emptyState();
  const span = size === 'tail' ? 0 : size === 'mid' ? 10 * DAY : 30 * DAY;
  const step = size === 'tail' ? 1 : 5 * MIN;
  const increments: Increment[] = [];
  for (let t = NOW - span; t <= NOW; t += size === 'tail' ? DAY : step) {
    // Mid: only some hours of each day are active, which gives ~40 tiles.
    if (size === 'mid' && new Date(t).getUTCHours() % 8 !== 0 && t < NOW - 13 * 5 * MIN) continue;
    increments.push({
      at: t,
      counts: {
        impressions: 1 + Math.floor(random() * 20),
        clicks: random() < 0.3 ? 1 : 0,
        purchases: random() < 0.02 ? 1 : 0,
      },
    });
  }
  applyIncrements(state, increments);
  const fences = size === 'tail' ? 2 : size === 'mid' ? 8 : 24;
  for (let f = 0; f < fences; f++) state.fences.set(f, 1_000_000 + f);
  return state;
}

const catalog: CatalogEntry = {
  t: terms('Cordless drill 18V with two batteries'),
  p: 12_999,
  r: 4.5,
  n: 120,
  d: NOW - 90 * DAY,
  a: 1,
};
const text = { documents: 20_000, averageLength: 6, documentFrequency: () => 100 };

/**
 * µs of this process's CPU time (user + system, so that other load on a shared machine counts less
 * than in wall-clock time) per operation over ROUNDS passes of `count` operations, after a warm-up
 * pass; the median of 5 measurements.
 */
function measure(count: number, op: (i: number) => void): number {
  for (let i = 0; i < count; i++) op(i);
  const samples: number[] = [];
  for (let s = 0; s < 5; s++) {
    const start = process.cpuUsage();
    for (let r = 0; r < ROUNDS / 5; r++) for (let i = 0; i < count; i++) op(i);
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / ((ROUNDS / 5) * count));
  }
  return samples.sort((a, b) => a - b)[2]!;
}

const rows: string[] = [];
let sink = 0;
for (const size of ['tail', 'mid', 'hot'] as const) {
  const states = Array.from({ length: ENTITIES }, () => stateOf(size));
  const encoded = states.map((s) => encodeState(s));
  const decoded = encoded.map((b) => decodeState(b)!);
  const frame = windowFrame(NOW);
  const sums = new Float64Array(WINDOW_TOTALS_LENGTH);
  const prepared = prepareQuery({
    queryTerms: terms('cordless drill'),
    query: decoded[0],
    global: decoded[1],
    text,
    nowMs: NOW,
  });
  const out = new Float64Array(FEATURE_COUNT);

  const decodeUs = measure(ENTITIES, (i) => {
    sink += decodeState(encoded[i])!.tileCount;
  });
  const sumsUs = measure(ENTITIES, (i) => {
    windowTotals(decoded[i], frame, sums);
    sink += sums[0]!;
  });
  const bothUs = measure(ENTITIES, (i) => {
    windowTotals(decodeState(encoded[i]), frame, sums);
    sink += sums[0]!;
  });
  const featuresUs = measure(ENTITIES, (i) => {
    writeFeatures(out, 0, prepared, {
      product: decoded[i],
      pair: decoded[(i + 1) % ENTITIES],
      catalog,
      retrievalScore: 1,
    });
    sink += out[0]!;
  });
  const fullUs = measure(ENTITIES, (i) => {
    writeFeatures(out, 0, prepared, {
      product: decodeState(encoded[i]),
      pair: decodeState(encoded[(i + 1) % ENTITIES]),
      catalog,
      retrievalScore: 1,
    });
    sink += out[0]!;
  });
  // Backfill: batches of 16 increments in the newest hour into a copy of a state of that size.
  const batch: Increment[] = Array.from({ length: 16 }, (_, k) => ({
    at: NOW - k * 3 * MIN,
    counts: { impressions: 1, clicks: k % 4 === 0 ? 1 : 0 },
  }));
  const copies = encoded.map((b) => decodeState(b)!);
  const applyUs =
    measure(ENTITIES, (i) => {
      sink += applyIncrements(copies[i]!, batch);
    }) / batch.length;
  const tiles = states[0]!.tileCount;
  rows.push(
    `| ${size} (${tiles} tiles, ${encoded[0]!.length} B) | ${decodeUs.toFixed(3)} | ${sumsUs.toFixed(3)} | ${bothUs.toFixed(3)} | ${featuresUs.toFixed(3)} | ${fullUs.toFixed(3)} | ${applyUs.toFixed(3)} |`,
  );
}

const table = `| state | decode µs | window sums µs | decode + sums µs / entity | features µs / candidate (decoded) | decode ×2 + features µs / candidate | applyIncrements µs / increment |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`;
const machine = `${cpus().length} vCPU (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${loadavg()
  .map((l) => l.toFixed(1))
  .join(' ')}`;
console.log(table);
console.log(`(checksum ${sink})`);
writeFileSync(
  'bench/results/feature-tiles.md',
  `## Feature tile code (schemas/src/features)\n\nCommand: \`node bench/feature-tiles.ts --entities ${ENTITIES} --rounds ${ROUNDS}\`, ${new Date().toISOString()}, ${machine}.\n\n${table}\n\nTarget: decode + window counts + feature derivation ≲ 2 µs per entity. Before this change (Map of per-tile objects, window by window) windowCounts alone cost ≈ 51 µs per entity (ranker profile, same machine).\n`,
);
