import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ProducerErrorCode } from '../../errors.ts';
import { Retrieval } from '../retrieval.ts';
import { worldFromJudgments } from '../world/load-judgments.ts';
import { summarizeWorld } from '../world-summary.ts';
import { rejectionOf } from '../test-support.ts';
import { readJudgments } from './judgments-file.ts';

const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const homedepot = resolve(repositoryRoot, '../shared/data/homedepot/judgments-dev.csv.gz');

describe('the real Home Depot judgments (../shared/data)', () => {
  it('load into a world of 8,2xx queries over 41,066 products with graded candidates', async () => {
    expect(
      existsSync(homedepot),
      `${homedepot} is missing: the shared sample data is required (see ../shared/data/README.md)`,
    ).toBe(true);
    const rows = await readJudgments(homedepot);
    expect(rows).toHaveLength(51_845);
    expect(new Set(rows.map((r) => r.query)).size).toBe(8_219);

    const world = worldFromJudgments(rows, { seed: 1 });
    expect(world.products).toHaveLength(41_066);
    // A few raw queries differ only in case or punctuation and merge.
    expect(world.queries.length).toBeGreaterThan(8_150);
    expect(world.queries.length).toBeLessThanOrEqual(8_219);
    const judged = world.queries.reduce((n, q) => n + q.candidates.length, 0);
    expect(judged).toBeGreaterThan(51_000);
    expect(world.products.some((p) => p.title.includes('&amp;'))).toBe(false);

    const summary = summarizeWorld(world, Retrieval.forWorld(world));
    // Mostly relevant pairs (the judged products were what Home Depot's own search retrieved), every grade present.
    for (const count of summary.grades) expect(count).toBeGreaterThan(2_000);
    expect(summary.grades[3]).toBeGreaterThan(summary.grades[0]);
    expect(summary.ndcg10.text).toBeGreaterThan(summary.ndcg10.random);
  }, 60_000);
});

describe('readJudgments', () => {
  it('reads plain and gzipped CSV, quoted titles included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'judgments-'));
    const csv = 'query,product_id,product_title,relevance\nangle bracket,7,"Simpson 12-Gauge Angle, Zinc",2.67\n';
    await writeFile(join(dir, 'j.csv'), csv);
    await writeFile(join(dir, 'j.csv.gz'), gzipSync(csv));
    const expected = [
      { query: 'angle bracket', productId: '7', productTitle: 'Simpson 12-Gauge Angle, Zinc', relevance: 2.67 },
    ];
    expect(await readJudgments(join(dir, 'j.csv'))).toEqual(expected);
    expect(await readJudgments(join(dir, 'j.csv.gz'))).toEqual(expected);
  });

  it('fails with PRD_INPUT_INVALID naming the file for a missing file, a missing column or a bad number', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'judgments-'));
    await writeFile(join(dir, 'no-column.csv'), 'query,product_id,relevance\na,1,2\n');
    await writeFile(join(dir, 'bad-number.csv'), 'query,product_id,product_title,relevance\na,1,t,high\n');
    for (const [file, message] of [
      ['absent.csv', /cannot be read/],
      ['no-column.csv', /no column product_title/],
      ['bad-number.csv', /bad-number\.csv: record 1: bad product_id or relevance/],
    ] as const) {
      const error = await rejectionOf(readJudgments(join(dir, file)));
      expect(error?.code).toBe(ProducerErrorCode.INPUT_INVALID);
      expect(error?.message).toMatch(message);
    }
  });
});
