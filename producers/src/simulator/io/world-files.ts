import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ProducerError, ProducerErrorCode } from '../../errors.ts';
import {
  GRADES,
  makeWorld,
  type Grade,
  type Product,
  type Query,
  type World,
  type WorldSource,
} from '../world/types.ts';

/**
 * A world on disk, for evaluation (NDCG against the truth) and for anything that must see the same
 * world as a run. JSON Lines, one record a line, snake_case like the events:
 *  - truth.jsonl:   {query, normalized_query, product_id, grade} for every candidate of every query
 *                   (grade 0 included, so judgments are complete over each candidate set);
 *  - queries.jsonl: {query, normalized_query, weight, candidates}, most popular first;
 *  - catalog.jsonl: {product_id, title, brand, category_path, price_minor, currency, rating,
 *                   review_count, attributes};
 *  - world.json:    what made it (source, seeds, options) and its sizes.
 */
export const worldFiles = {
  truth: 'truth.jsonl',
  queries: 'queries.jsonl',
  catalog: 'catalog.jsonl',
  manifest: 'world.json',
} as const;

export interface WorldManifest {
  readonly source: WorldSource;
  readonly currency: string;
  readonly products: number;
  readonly queries: number;
  readonly judgments: number;
  /** How the world was made (seed, sizes, the judgments file), for a reader to reproduce it. */
  readonly origin: Readonly<Record<string, unknown>>;
}

export async function writeWorld(
  dir: string,
  world: World,
  origin: Readonly<Record<string, unknown>>,
): Promise<WorldManifest> {
  await mkdir(dir, { recursive: true });
  const truth: string[] = [];
  const queries: string[] = [];
  for (const q of world.queries) {
    queries.push(
      JSON.stringify({ query: q.text, normalized_query: q.normalized, weight: q.weight, candidates: q.candidates }),
    );
    for (const id of q.candidates)
      truth.push(
        JSON.stringify({ query: q.text, normalized_query: q.normalized, product_id: id, grade: q.grades.get(id) }),
      );
  }
  const catalog = world.products.map((p) =>
    JSON.stringify({
      product_id: p.id,
      title: p.title,
      brand: p.brand,
      category_path: p.categoryPath,
      price_minor: p.priceMinor,
      currency: world.currency,
      rating: p.rating,
      review_count: p.reviewCount,
      attributes: p.attributes,
    }),
  );
  const manifest: WorldManifest = {
    source: world.source,
    currency: world.currency,
    products: world.products.length,
    queries: world.queries.length,
    judgments: truth.length,
    origin,
  };
  await writeFile(join(dir, worldFiles.truth), lines(truth));
  await writeFile(join(dir, worldFiles.queries), lines(queries));
  await writeFile(join(dir, worldFiles.catalog), lines(catalog));
  await writeFile(join(dir, worldFiles.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

const manifestSchema = z.object({ source: z.enum(['generated', 'judgments']), currency: z.string() });
const catalogRecord = z.object({
  product_id: z.string(),
  title: z.string(),
  brand: z.string().nullable(),
  category_path: z.array(z.string()),
  price_minor: z.number().int(),
  rating: z.number().nullable(),
  review_count: z.number().int(),
  attributes: z.record(z.string(), z.string()),
});
const queryRecord = z.object({
  query: z.string(),
  normalized_query: z.string(),
  weight: z.number().positive(),
  candidates: z.array(z.string()),
});
const truthRecord = z.object({
  normalized_query: z.string(),
  product_id: z.string(),
  grade: z
    .number()
    .int()
    .refine((g) => (GRADES as readonly number[]).includes(g), 'grade 0–3'),
});

/** Reads back a world written by writeWorld. */
export async function readWorld(dir: string): Promise<World> {
  const manifest = manifestSchema.parse(JSON.parse(await read(dir, worldFiles.manifest)));
  const products: Product[] = (await records(dir, worldFiles.catalog, catalogRecord)).map((r) => ({
    id: r.product_id,
    title: r.title,
    brand: r.brand,
    categoryPath: r.category_path,
    priceMinor: r.price_minor,
    rating: r.rating,
    reviewCount: r.review_count,
    attributes: r.attributes,
  }));
  const grades = new Map<string, Map<string, Grade>>();
  for (const r of await records(dir, worldFiles.truth, truthRecord)) {
    let ofQuery = grades.get(r.normalized_query);
    if (!ofQuery) grades.set(r.normalized_query, (ofQuery = new Map<string, Grade>()));
    ofQuery.set(r.product_id, r.grade as Grade);
  }
  const queries: Query[] = (await records(dir, worldFiles.queries, queryRecord)).map((r) => ({
    text: r.query,
    normalized: r.normalized_query,
    weight: r.weight,
    candidates: r.candidates,
    grades: grades.get(r.normalized_query) ?? new Map<string, Grade>(),
  }));
  return makeWorld(manifest.source, manifest.currency, products, queries);
}

function lines(records: readonly string[]): string {
  return records.length === 0 ? '' : `${records.join('\n')}\n`;
}

async function read(dir: string, name: string): Promise<string> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (cause) {
    throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `world file ${join(dir, name)} cannot be read`, { cause });
  }
}

async function records<T>(dir: string, name: string, schema: z.ZodType<T>): Promise<T[]> {
  const text = await read(dir, name);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (cause) {
        throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `${join(dir, name)}:${i + 1}: not JSON`, { cause });
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success)
        throw new ProducerError(
          ProducerErrorCode.INPUT_INVALID,
          `${join(dir, name)}:${i + 1}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
        );
      return parsed.data;
    });
}
