import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { uniqueName, waitFor } from '@searchop/runtime/testing';
import { avroTypeOf, topics, type ProductChange } from '@searchop/schemas';
import parquet from 'parquetjs-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorefrontClient } from '../sdk/storefront-client.ts';
import { loadCatalog, PRODUCER_BATCH_SIZE } from './load.ts';
import { parseMapping, presetMapping, type Mapping } from './mapping.ts';
import { openSource } from './readers.ts';
import type { LoadReport } from './report.ts';
import { ownCatalogTopic, recordCount, testServices, type OwnTopic } from './testing.ts';

const { kafka } = testServices();

/** ../shared/data relative to the repository root. */
const ICECAT = fileURLToPath(new URL('../../../../shared/data/icecat/products.jsonl.gz', import.meta.url));

/** Loads a file the way main.ts does, through a fresh StorefrontClient. */
async function load(topic: OwnTopic, file: string, mapping: Mapping): Promise<LoadReport> {
  const client = await StorefrontClient.create({
    kafka,
    codec: topic.codec,
    topicNames: { [topics.catalog.id]: topic.spec.name },
    maxBatchSize: PRODUCER_BATCH_SIZE,
  });
  try {
    return await loadCatalog({
      source: await openSource(file),
      mapping,
      emit: (change) => client.emitProductChange(change),
      loadedAt: Date.now(),
    });
  } finally {
    await client.close();
  }
}

interface Consumed {
  readonly partition: number;
  readonly key: string;
  readonly raw: Buffer;
  readonly value: ProductChange;
}

/**
 * Reads the whole topic from the beginning, in offset order per partition. Each record must carry
 * the writer schema id registered for the subject; values are decoded with that schema by avsc
 * directly, because EventCodec.decode runs at a few hundred records a second here (see
 * `checkCodecAgrees` for the registry path on a sample).
 */
async function readTopic(topic: OwnTopic, expected: number): Promise<Consumed[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('loader-check') });
  const writerId = topic.codec.writerId(topic.spec);
  const type = avroTypeOf(topic.spec);
  const out: Consumed[] = [];
  const wrongIds: number[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: topic.spec.name, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const value = message.value!;
          if (value.readInt32BE(1) !== writerId) wrongIds.push(value.readInt32BE(1));
          out.push({
            partition: batch.partition,
            key: message.key!.toString(),
            raw: value,
            value: type.fromBuffer(value.subarray(5)) as ProductChange,
          });
        }
      },
    });
    await waitFor(() => out.length >= expected, {
      timeoutMs: 180_000,
      what: `${expected} records on ${topic.spec.name}`,
    });
  } finally {
    await consumer.disconnect();
  }
  expect(wrongIds).toEqual([]);
  return out;
}

/** The registry's decoder gives the same values for a sample of records. */
async function checkCodecAgrees(topic: OwnTopic, records: readonly Consumed[]): Promise<void> {
  const step = Math.max(1, Math.floor(records.length / 50));
  for (let i = 0; i < records.length; i += step) {
    const record = records[i]!;
    expect(await topic.codec.decode(topic.spec, record.raw)).toEqual(record.value);
  }
}

function byProduct(records: readonly Consumed[]): Map<string, ProductChange> {
  return new Map(records.map((r) => [r.value.product_id, r.value]));
}

describe('catalogue loader on the real Icecat file', () => {
  it('loads every row or rejects it with a reason, puts exactly the loaded rows on the topic, and reloads with the same event ids', async () => {
    if (!existsSync(ICECAT))
      throw new Error(
        `${ICECAT} is missing: this test needs the shared sample data (../shared/data/icecat/products.jsonl.gz from the repository root; see shared/data/README.md)`,
      );
    const topic = await ownCatalogTopic();
    const first = await load(topic, ICECAT, presetMapping('icecat'));

    // 19,409 physical lines hold 19,406 products: one product's description has raw line breaks.
    expect(first.rowsRead).toBe(19_406);
    expect(first.loaded + first.rejected).toBe(first.rowsRead);
    expect(first.duplicates + first.unsent).toBe(0);
    expect(first.stopped).toBeUndefined();
    expect(first.loaded).toBeGreaterThan(19_000);
    expect(await recordCount(topic.spec.name)).toBe(first.loaded);

    const second = await load(topic, ICECAT, presetMapping('icecat'));
    expect(second).toMatchObject({ rowsRead: first.rowsRead, loaded: first.loaded, rejected: first.rejected });
    expect(await recordCount(topic.spec.name)).toBe(2 * first.loaded);

    const records = await readTopic(topic, 2 * first.loaded);
    expect(records).toHaveLength(2 * first.loaded);
    expect(records.every((r) => r.key === r.value.product_id)).toBe(true);
    await checkCodecAgrees(topic, records);
    // The same product lands on the same partition in both loads, and each load wrote in file order,
    // so each partition holds the first load's records and then the second's: the ids must match one for one.
    const firstIds: string[] = [];
    const secondIds: string[] = [];
    for (const partition of new Set(records.map((r) => r.partition))) {
      const ids = records.filter((r) => r.partition === partition).map((r) => r.value.event_id);
      firstIds.push(...ids.slice(0, ids.length / 2));
      secondIds.push(...ids.slice(ids.length / 2));
    }
    expect(secondIds).toEqual(firstIds);
    expect(new Set(firstIds).size).toBe(first.loaded);

    const products = byProduct(records);
    expect(products.get('832931')?.product).toMatchObject({
      title: 'Intel T5600 processor 1.83 GHz 2 MB L2',
      brand: 'Intel',
      price_minor: 13494,
      released_at: Date.UTC(2007, 2, 29),
      attributes: expect.objectContaining({
        description: 'Intel® Core™2 Duo Processor T5600 (2M Cache, 1.83 GHz, 667 MHz FSB)',
        processor_frequency: '1.83',
        box: 'false',
      }) as unknown,
    });
    // The record spread over four lines.
    expect(products.get('157922')?.product?.attributes['description']).toBe(
      '100–240 V, 50–60 Hz , 12 V DC , 500 mA , 2 m',
    );
    // Entities and tags in titles.
    expect(products.get('299132')?.product?.title).toBe(
      'Xerox Extended-Capacity Maintenance Kit, Phaser 8550/8560/8560MFP This item will not work with the Phaser 8500.',
    );
  }, 900_000);
});

describe('catalogue loader on generated files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catalog-loader-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loads a gzipped CSV with quoted commas, line breaks and quotes; rejects bad rows naming field and line', async () => {
    const csv = [
      'id,title,brand,category,price,currency,rating,reviews,availability,release_date,attr_colour,attr_voltage',
      'p1,"Cordless Drill, 18V",Acme,Tools > Power Tools > Drills,"1,299.00",EUR,4.5,120,in stock,2021-03-04,red,18',
      'p2,"Multi-line',
      'title",Acme,Tools,5,EUR,,,,,,',
      'p3,,Acme,Tools,5,EUR,,,,,,',
      'p4,Saw,Acme,Tools,-5,EUR,,,,,,',
      'p5,Hammer,Acme,too,few',
      '',
      'p6,"12"" screen",Acme,TV,100,EUR,,,out of stock,,,',
      'p7,Screen 5" wide,Acme,TV,100,EUR,,,,,,',
      'p8,"<b>Bold</b> &amp; co",Acme,TV,100,EUR,,,,,,',
      '',
    ].join('\r\n');
    const file = join(dir, 'products.csv.gz');
    await writeFile(file, gzipSync(csv));
    const topic = await ownCatalogTopic();
    const report = await load(topic, file, presetMapping('default'));

    expect(report).toMatchObject({ format: 'csv, gzip', rowsRead: 8, loaded: 5, rejected: 3, unsent: 0 });
    expect(report.rejections.map((g) => [g.field, g.reason, g.examples.map((e) => e.position)])).toEqual([
      ['(record)', 'wrong number of fields', [7]],
      ['price_minor', 'negative', [6]],
      ['title', 'missing (column title or name)', [5]],
    ]);
    expect(await recordCount(topic.spec.name)).toBe(5);
    const csvRecords = await readTopic(topic, 5);
    await checkCodecAgrees(topic, csvRecords);
    const products = byProduct(csvRecords);
    expect(products.get('p1')?.product).toEqual({
      title: 'Cordless Drill, 18V',
      brand: 'Acme',
      category_path: ['Tools', 'Power Tools', 'Drills'],
      price_minor: 129_900,
      currency: 'EUR',
      rating: 4.5,
      review_count: 120,
      available: true,
      released_at: Date.UTC(2021, 2, 4),
      attributes: { colour: 'red', voltage: '18' },
    });
    const loaded = [...products.values()].sort((a, b) => a.product_id.localeCompare(b.product_id));
    expect(loaded.map((c) => [c.product_id, c.product?.title, c.product?.available])).toEqual([
      ['p1', 'Cordless Drill, 18V', true],
      ['p2', 'Multi-line title', true],
      ['p6', '12" screen', false],
      ['p7', 'Screen 5" wide', true],
      ['p8', 'Bold & co', true],
    ]);
  });

  it('loads Parquet of several row groups with int64, timestamp, boolean, double and repeated columns, plain and gzipped', async () => {
    const schema = new parquet.ParquetSchema({
      sku: { type: 'UTF8' },
      name: { type: 'UTF8', optional: true },
      brand: { type: 'UTF8', optional: true },
      price_cents: { type: 'INT64' },
      stars: { type: 'DOUBLE', optional: true },
      reviews: { type: 'INT32', optional: true },
      in_stock: { type: 'BOOLEAN' },
      released: { type: 'TIMESTAMP_MILLIS', optional: true },
      categories: { type: 'UTF8', repeated: true },
      colour: { type: 'UTF8', optional: true },
    });
    const file = join(dir, 'products.parquet');
    const writer = await parquet.ParquetWriter.openFile(schema, file);
    writer.setRowGroupSize(100);
    const rows = 1_000;
    for (let i = 0; i < rows; i++) {
      await writer.appendRow({
        sku: `pq-${i}`,
        // Every 100th row has no name; every 250th a negative price.
        ...(i % 100 === 7 ? {} : { name: `Product <i>${i}</i>` }),
        brand: i % 2 === 0 ? 'Acme' : 'Globex',
        price_cents: i % 250 === 3 ? -100 : 1_000 + i,
        ...(i % 3 === 0 ? {} : { stars: (i % 50) / 10 }),
        reviews: i,
        in_stock: i % 4 !== 0,
        released: new Date(Date.UTC(2020, 0, 1) + i * 86_400_000),
        categories: ['Home', i % 2 === 0 ? 'Kitchen' : 'Garden'],
        colour: 'blue',
      });
    }
    await writer.close();
    const mapping = parseMapping(
      {
        product_id: { column: 'sku' },
        title: { column: 'name', html: true },
        brand: { column: 'brand' },
        category_path: { column: 'categories' },
        price_minor: { column: 'price_cents', unit: 'minor' },
        currency: { value: 'USD' },
        rating: { column: 'stars' },
        review_count: { column: 'reviews' },
        available: { column: 'in_stock' },
        released_at: { column: 'released' },
        attributes: { columns: { colour: { column: 'colour' } } },
      },
      'test mapping',
    );

    const topic = await ownCatalogTopic();
    const report = await load(topic, file, mapping);
    expect(report).toMatchObject({
      format: 'parquet',
      positionLabel: 'row',
      rowsRead: rows,
      loaded: rows - 14,
      rejected: 14,
    });
    expect(report.rejections.map((g) => [g.field, g.reason, g.rows, g.examples[0]?.position])).toEqual([
      ['title', 'missing (column name)', 10, 8],
      ['price_minor', 'negative', 4, 4],
    ]);
    expect(await recordCount(topic.spec.name)).toBe(report.loaded);
    const parquetRecords = await readTopic(topic, report.loaded);
    await checkCodecAgrees(topic, parquetRecords);
    const products = byProduct(parquetRecords);
    expect(products.get('pq-41')?.product).toEqual({
      title: 'Product 41',
      brand: 'Globex',
      category_path: ['Home', 'Garden'],
      price_minor: 1_041,
      currency: 'USD',
      rating: 4.1,
      review_count: 41,
      available: true,
      released_at: Date.UTC(2020, 0, 1) + 41 * 86_400_000,
      attributes: { colour: 'blue' },
    });
    expect(products.get('pq-0')?.product).toMatchObject({ rating: null, available: false });

    // The same rows gzipped give the same changes (read through a temporary inflated copy).
    const gzipped = join(dir, 'products.parquet.gz');
    await writeFile(gzipped, gzipSync(await readFile(file)));
    const ids: string[] = [];
    const dry = await loadCatalog({
      source: await openSource(gzipped),
      mapping,
      emit: async (change) => (ids.push(change.event_id), 'sent'),
      loadedAt: 0,
    });
    expect(dry).toMatchObject({ format: 'parquet, gzip', rowsRead: rows, loaded: report.loaded });
    expect(ids.sort()).toEqual([...products.values()].map((c) => c.event_id).sort());
  });
});
