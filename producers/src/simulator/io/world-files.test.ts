import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProducerErrorCode } from '../../errors.ts';
import { generateWorld } from '../world/generate.ts';
import { rejectionOf } from '../test-support.ts';
import { readWorld, worldFiles, writeWorld } from './world-files.ts';

describe('world files', () => {
  it('write the truth of every candidate and read back the same world', async () => {
    const world = generateWorld({ seed: 2, products: 300, queries: 40 });
    const dir = await mkdtemp(join(tmpdir(), 'world-'));
    const manifest = await writeWorld(dir, world, { world: 'generated', seed: 2 });
    const judgments = world.queries.reduce((n, q) => n + q.candidates.length, 0);
    expect(manifest).toMatchObject({ source: 'generated', products: 300, queries: world.queries.length, judgments });

    const truth = (await readFile(join(dir, worldFiles.truth), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as object);
    expect(truth).toHaveLength(judgments);
    const first = world.queries[0]!;
    expect(truth[0]).toEqual({
      query: first.text,
      normalized_query: first.normalized,
      product_id: first.candidates[0],
      grade: first.grades.get(first.candidates[0]!),
    });

    expect(await readWorld(dir)).toEqual(world);
  });

  it('names the file and line of a bad record', async () => {
    const world = generateWorld({ seed: 2, products: 100, queries: 5 });
    const dir = await mkdtemp(join(tmpdir(), 'world-'));
    await writeWorld(dir, world, {});
    const lines = (await readFile(join(dir, worldFiles.truth), 'utf8')).split('\n');
    lines[1] = JSON.stringify({ normalized_query: 'x', product_id: 'p', grade: 7 });
    await writeFile(join(dir, worldFiles.truth), lines.join('\n'));
    const error = await rejectionOf(readWorld(dir));
    expect(error?.code).toBe(ProducerErrorCode.INPUT_INVALID);
    expect(error?.message).toMatch(/truth\.jsonl:2: grade/);
  });
});
