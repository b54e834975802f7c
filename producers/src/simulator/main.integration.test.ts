import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWorld } from './io/world-files.ts';
import { referenceProblems } from './references.ts';
import type { SimEvent } from './sinks/sink.ts';
import { countByType, reportOf, runCli } from './test-support.ts';

describe('npm run simulate (the CLI)', () => {
  it('writes the world and an NDJSON history, prints progress on stderr and the final counts as JSON on stdout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simulate-'));
    const history = join(dir, 'events.ndjson');
    const { code, stdout, stderr } = await runCli([
      '--products',
      '300',
      '--queries',
      '50',
      '--seed',
      '5',
      '--clock',
      'simulated',
      '--events',
      '800',
      '--start',
      '2025-01-01T00:00:00Z',
      '--sink',
      'ndjson',
      '--sink-path',
      history,
      '--out-dir',
      join(dir, 'world'),
      '--ranker',
      'popularity',
    ]);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/world: generated, 300 products, \d+ queries/);
    expect(stderr).toMatch(/done \(events\)/);

    const report = reportOf(stdout);
    expect(report).toMatchObject({ seed: 5, ranker: 'popularity', stopped_by: 'events' });
    expect(report['event_time']).toMatchObject({ start: '2025-01-01T00:00:00.000Z' });

    const events = (await readFile(history, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as SimEvent);
    const counts = countByType(events);
    expect(counts).toEqual(report.counts);
    expect(counts.product_change).toBe(300);
    expect(events.length - 300).toBe(800);
    expect(referenceProblems(events)).toEqual([]);

    const world = await readWorld(join(dir, 'world'));
    expect(world.products).toHaveLength(300);
    const shown = events.flatMap((e) => (e.type === 'search_impression' ? [e.event.normalized_query] : []));
    for (const q of shown) expect(world.queryByNormalized.has(q)).toBe(true);
  });

  it('exits 2 naming the option when the options are wrong', async () => {
    const { code, stderr } = await runCli(['--ranker', 'http']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--rank-url: required with --ranker http/);
    expect(stderr).toMatch(/Usage:/);
  });
});
