/**
 * Wall time and peak memory of `trainer run` on simulator data of a given size.
 *
 *   node bench/trainer.ts --impressions 1000000 [--days 14] [--keep DIR] [--results bench/results/trainer.md]
 *
 * "Impressions" are shown products (one product in one served list) — the unit the feature spec
 * counts as an impression and the unit of a training example. The bench:
 *  1. runs the simulator (its CLI, simulated clock, BM25 ranking, a generated 2,000-product world) for
 *     `--days` of event time at the rate that yields about that many shown products, to NDJSON;
 *  2. writes the events into an offline store in the compactor's layout and encoding (6 partitions,
 *     one segment per 200,000 events, as the compactor's default flush);
 *  3. runs `node trainer/src/cli.ts run` on it with a fresh registry and samples, every 250 ms, the
 *     resident memory of the trainer's whole process tree (Node, DuckDB inside it, the Python fit and
 *     export) from /proc; peak = the largest sum seen, and the largest single process.
 * Steps 1–2 are set-up and not timed as part of the result. The result section for this size in the
 * results file is replaced (other sizes are kept).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ndjsonToOfflineStore } from '../trainer/src/data/testing/ndjson-store.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    impressions: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '14' },
    keep: { type: 'string' },
    /** Only simulate and write the store (into --keep), to run the trainer on it later. */
    'setup-only': { type: 'boolean', default: false },
    results: { type: 'string', default: join(repo, 'bench/results/trainer.md') },
  },
});
const impressions = Number(values.impressions);
const days = Number(values.days);
if (!(impressions > 0) || !(days > 0)) throw new Error('--impressions and --days must be positive');

// Measured on the simulator's generated world with BM25 ranking: ~18 shown products per search
// impression, search impressions ~38% of behavioural events.
const SHOWN_PER_EVENT = 6.8;
const events = Math.ceil(impressions / SHOWN_PER_EVENT);
const rate = events / (days * 86_400);

const work = values.keep ?? (await mkdtemp(join(tmpdir(), 'bench-trainer-')));
await mkdir(work, { recursive: true });
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const start = Date.UTC(2026, 0, 1);
const ndjson = join(work, 'events.ndjson');
const store = join(work, 'store');
const setupStarted = performance.now();
if (!(await exists(store))) {
  log(`simulating ~${events} behavioural events over ${days} days (rate ${rate.toFixed(3)}/s of event time)`);
  await promisify(execFile)(
    process.execPath,
    [
      join(repo, 'producers/src/simulator/main.ts'),
      ...['--clock', 'simulated', '--start', new Date(start).toISOString(), '--duration', String(days * 86_400)],
      ...['--events', String(events), '--rate', String(rate), '--seed', '7', '--ranker', 'text'],
      ...['--sink', 'ndjson', '--sink-path', ndjson, '--out-dir', join(work, 'world'), '--progress-seconds', '30'],
    ],
    { cwd: repo, maxBuffer: 64 * 1024 * 1024 },
  );
  log('writing the offline store');
  await ndjsonToOfflineStore(ndjson, store, { partitions: 6, segmentEvents: 200_000 });
  await rm(ndjson);
}
const setupSeconds = (performance.now() - setupStarted) / 1000;
if (values['setup-only']) {
  log(`store ready in ${store} (${setupSeconds.toFixed(0)} s)`);
  process.exit(0);
}

const registry = join(work, 'registry');
await rm(registry, { recursive: true, force: true });
const load = loadavg();
log('running trainer run');
const started = performance.now();
const child = spawn(
  process.execPath,
  [
    join(repo, 'trainer/src/cli.ts'),
    'run',
    ...['--offline-store', store, '--registry', registry, '--truth', join(work, 'world/truth.jsonl')],
    ...['--work-dir', join(work, 'run')],
  ],
  { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
);
let stdout = '';
let stderr = '';
/**
 * Stages as the run reports them: `▶ name` starts one; build-data is split at its progress lines into
 * labels (labelling, lists, feature log), events file (the replay's events read from the store once),
 * backfill (the point-in-time replay) and write (training and evaluation files).
 */
interface Stage {
  name: string;
  started: number;
  ended?: number;
  peakTree: number;
  peakProcess: number;
}
const stages: Stage[] = [];
const enter = (name: string) => {
  const now = performance.now();
  const open = stages.at(-1);
  if (open && open.ended === undefined) open.ended = now;
  stages.push({ name, started: now, peakTree: 0, peakProcess: 0 });
};
let pending = '';
child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
child.stderr.on('data', (chunk: Buffer) => {
  stderr += chunk.toString();
  process.stderr.write(chunk);
  pending += chunk.toString();
  const lines = pending.split('\n');
  pending = lines.pop()!;
  for (const line of lines) {
    const started = /▶ ([\w-]+)/.exec(line);
    if (started) enter(started[1] === 'build-data' ? 'build-data: labels' : started[1]!);
    else if (/lists: \d+ from the feature log/.test(line)) enter('build-data: events file');
    else if (/backfill: \d+ workers?,/.test(line)) enter('build-data: backfill');
    else if (/backfill: \d+ events replayed, \d+ examples in/.test(line)) enter('build-data: write');
    else if (/✔ register/.test(line)) stages.at(-1)!.ended = performance.now();
  }
});
let peakTree = 0;
let peakProcess = 0;
const sampler = setInterval(() => {
  void treeRss(child.pid!).then(({ total, largest }) => {
    peakTree = Math.max(peakTree, total);
    peakProcess = Math.max(peakProcess, largest);
    const stage = stages.at(-1);
    if (stage && stage.ended === undefined) {
      stage.peakTree = Math.max(stage.peakTree, total);
      stage.peakProcess = Math.max(stage.peakProcess, largest);
    }
  });
}, 250);
const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
clearInterval(sampler);
const wallSeconds = (performance.now() - started) / 1000;
const loadAfter = loadavg();
const open = stages.at(-1);
if (open && open.ended === undefined) open.ended = performance.now();

const phases = [...stderr.matchAll(/✔ ([\w-]+) \(([\d.]+) s\)/g)].map(([, name, s]) => `${name} ${s} s`).join(', ');
const dataLine = /^Data: .*$/m.exec(stdout)?.[0] ?? '(no data line)';
const table = /^ranking .*?(?=\n\n)/ms.exec(stdout)?.[0] ?? '(no metrics table)';
const outcome = /^(PROMOTED|NOT PROMOTED).*$/m.exec(stdout)?.[0] ?? `exit code ${code}`;
const gib = (kb: number) => `${(kb / 1024 / 1024).toFixed(2)} GiB`;
const stageRows = stages.map(
  (st) =>
    `| ${st.name} | ${((st.ended! - st.started) / 1000).toFixed(1)} | ${gib(st.peakTree)} | ${gib(st.peakProcess)} |`,
);
const stageTable = [
  '| stage | wall s | peak RSS, process tree | largest process |',
  '| --- | ---: | ---: | ---: |',
  ...stageRows,
].join('\n');
const section = `## ${impressions.toLocaleString('en-US')} impressions

- Command: \`node bench/trainer.ts --impressions ${impressions} --days ${days}\`
- Date: ${new Date().toISOString()}
- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; load average before / after: ${load.map((l) => l.toFixed(1)).join(' ')} / ${loadAfter.map((l) => l.toFixed(1)).join(' ')}
- Data: ${dataLine.replace(/^Data: /, '')} (set-up, not timed: ${setupSeconds.toFixed(0)} s)
- **Wall time of \`trainer run\`: ${wallSeconds.toFixed(1)} s** (${phases}); exit code ${code}: ${outcome}
- **Peak memory: ${gib(peakTree)}** resident for the whole process tree (largest single process ${gib(peakProcess)})
- Backfill workers: ${process.env['TRAINER_BACKFILL_WORKERS'] ?? '2 (default)'}; the tree is Node (with its backfill worker threads and DuckDB) and the Python fit / export child; RSS sampled every 250 ms

${stageTable}

\`\`\`
${table}
\`\`\`
`;
process.stdout.write(`${section}\n`);
await writeResults(values.results, impressions, section);
if (!values.keep) await rm(work, { recursive: true, force: true });
process.exitCode = code === 0 || code === 3 ? 0 : 1;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Resident memory (kB) of a process and all its descendants, from /proc. */
async function treeRss(root: number): Promise<{ total: number; largest: number }> {
  const parents = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = await readFile(`/proc/${name}/status`, 'utf8');
      const ppid = /^PPid:\s+(\d+)/m.exec(status);
      const vm = /^VmRSS:\s+(\d+)/m.exec(status);
      parents.set(Number(name), ppid ? Number(ppid[1]) : 0);
      rss.set(Number(name), vm ? Number(vm[1]) : 0);
    } catch {
      // The process ended while being read.
    }
  }
  let total = 0;
  let largest = 0;
  for (const pid of rss.keys()) {
    let p: number | undefined = pid;
    while (p !== undefined && p !== root && p > 1) p = parents.get(p);
    if (p === root) {
      total += rss.get(pid)!;
      largest = Math.max(largest, rss.get(pid)!);
    }
  }
  return { total, largest };
}

async function writeResults(path: string, size: number, section: string): Promise<void> {
  const header = `# Trainer benchmark

\`trainer run\` end to end (build-data → fit → export → evaluate → gate → register/promote) on simulator data,
written by \`bench/trainer.ts\`. Target from the issue: 10M impressions → promoted model in ≤ 10 minutes.
An impression is a shown product (one product in one served list), the feature spec's unit.

`;
  let text = header;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    // First result.
  }
  const marker = `## ${size.toLocaleString('en-US')} impressions`;
  const parts = text.split(/^(?=## )/m);
  const kept = parts.filter((p) => !p.startsWith(marker));
  const sections = [...kept.slice(1), section].sort((a, b) => sizeOf(a) - sizeOf(b));
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `${kept[0]!.trimEnd()}\n\n${sections.map((s) => s.trimEnd()).join('\n\n')}\n`);
}

function sizeOf(section: string): number {
  return Number(/^## ([\d,]+)/.exec(section)?.[1]?.replaceAll(',', '') ?? 0);
}
