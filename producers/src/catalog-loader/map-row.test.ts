import { describe, expect, it } from 'vitest';
import { eventIdOf, mapRow, type FieldIssue, type Product, type RowOutcome } from './map-row.ts';
import { parseMapping, presetMapping, type MappingInput } from './mapping.ts';

const context = { loadedAt: Date.UTC(2026, 0, 1), maxRecordBytes: 256 * 1024 };
const generic = presetMapping('default');
const icecat = presetMapping('icecat');

function mapping(input: Partial<MappingInput>) {
  return parseMapping({ product_id: { column: 'id' }, title: { column: 'title' }, ...input }, 'test');
}

function product(outcome: RowOutcome): Product {
  if (!outcome.ok) throw new Error(`rejected: ${JSON.stringify(outcome.errors)}`);
  if (outcome.change.product === null) throw new Error('a deletion');
  return outcome.change.product;
}
function errors(outcome: RowOutcome): readonly FieldIssue[] {
  if (outcome.ok) throw new Error(`loaded: ${JSON.stringify(outcome.change)}`);
  return outcome.errors;
}

/** A real Icecat line (shortened), as JSON.parse gives it. */
const icecatRow = {
  id: '832931',
  name: 'T5600',
  title: 'Intel T5600 processor 1.83 GHz 2 MB L2',
  ean: ['00735858190046', '0735858190046'],
  short_description: 'Intel® Core™2 Duo Processor T5600 <br />(2M Cache, 1.83 GHz, 667 MHz FSB)',
  img_500x500: 'http://images.icecat.biz/img/gallery_mediums/img_832931_medium.jpg',
  date_released: '2007-03-29T00:00:00Z',
  supplier: 'Intel',
  price: 13494,
  attr_t_processor_family: 'Intel Core 2 Duo',
  attr_n_processor_frequency: 1.83,
  attr_n_processor_lithography: 65.0,
  attr_b_box: false,
  attr_t_compatibility: 'Epson TM-300A/B/C/D\\nEpson TM-U210A/B/D',
  attr_t_maximum_scan_area: '216 x 297',
  attr_n_maximum_scan_area: 8.5,
};

describe('mapRow with the Icecat preset', () => {
  it('maps a real row: HTML stripped, list joined, typed attributes, price in cents, date as UTC', () => {
    const outcome = mapRow(icecatRow, icecat, context);
    expect(outcome.ok && outcome.change).toMatchObject({
      occurred_at: context.loadedAt,
      product_id: '832931',
      op: 'UPSERT',
    });
    expect({ ...product(outcome), attributes: { ...product(outcome).attributes } }).toEqual({
      title: 'Intel T5600 processor 1.83 GHz 2 MB L2',
      brand: 'Intel',
      category_path: [],
      price_minor: 13494,
      currency: null,
      rating: null,
      review_count: 0,
      available: true,
      released_at: Date.UTC(2007, 2, 29),
      attributes: {
        model: 'T5600',
        ean: '00735858190046, 0735858190046',
        description: 'Intel® Core™2 Duo Processor T5600 (2M Cache, 1.83 GHz, 667 MHz FSB)',
        image_url: 'http://images.icecat.biz/img/gallery_mediums/img_832931_medium.jpg',
        processor_family: 'Intel Core 2 Duo',
        processor_frequency: '1.83',
        processor_lithography: '65',
        box: 'false',
        compatibility: 'Epson TM-300A/B/C/D Epson TM-U210A/B/D',
        // Both columns survive a name collision: the earlier prefix rule keeps the plain name.
        maximum_scan_area: '216 x 297',
        'maximum_scan_area@number': '8.5',
      },
    });
    expect(outcome.warnings).toEqual([]);
  });

  it('gives the same event id for the same content whatever the column order, and a new one for new content', () => {
    const a = mapRow(icecatRow, icecat, context);
    const reordered = Object.fromEntries(Object.entries(icecatRow).reverse());
    const b = mapRow(reordered, icecat, { ...context, loadedAt: context.loadedAt + 1 });
    const c = mapRow({ ...icecatRow, price: 13495 }, icecat, context);
    if (!a.ok || !b.ok || !c.ok) throw new Error('expected all to load');
    expect(b.change.event_id).toBe(a.change.event_id);
    expect(c.change.event_id).not.toBe(a.change.event_id);
    expect(a.change.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.change.event_id).toBe(eventIdOf('832931', 'UPSERT', a.change.product));
  });

  it('leaves out attribute values that do not fit their type, with a warning naming the attribute', () => {
    const outcome = mapRow({ ...icecatRow, attr_n_weight: 'heavy', attr_b_colour: 'blue' }, icecat, context);
    expect(product(outcome).attributes).not.toHaveProperty('weight');
    expect(outcome.warnings).toEqual([
      { field: 'attributes.weight', reason: 'not a number (omitted)', value: '"heavy"' },
      { field: 'attributes.colour', reason: 'not a boolean (omitted)', value: '"blue"' },
    ]);
  });
});

describe('mapRow with messy values', () => {
  it('rejects a row without a title, naming the field and its column', () => {
    expect(errors(mapRow({ id: 'p1', title: '   ' }, generic, context))).toEqual([
      { field: 'title', reason: 'missing (column title or name)' },
    ]);
    expect(errors(mapRow({ id: 'p1', title: '<img src="a.png">' }, generic, context))).toEqual([
      { field: 'title', reason: 'blank once cleaned', value: '"<img src=\\"a.png\\">"' },
    ]);
    // The generic mapping falls back to "name".
    expect(product(mapRow({ id: 'p1', name: 'Drill' }, generic, context)).title).toBe('Drill');
  });

  it('rejects a row without a product id, and ids that cannot be exact', () => {
    expect(errors(mapRow({ title: 'Drill' }, generic, context))).toEqual([
      { field: 'product_id', reason: 'missing (column product_id or id or sku)' },
    ]);
    expect(errors(mapRow({ id: 2 ** 60, title: 'Drill' }, generic, context))[0]).toMatchObject({
      field: 'product_id',
      reason: 'a number that is not an exact integer; quote ids in the source',
    });
    expect(errors(mapRow({ id: 'a\u0000b', title: 'Drill' }, generic, context))[0]?.reason).toBe(
      'has control characters',
    );
    const ok = mapRow({ id: 42, title: 'Drill' }, generic, context);
    expect(ok.ok && ok.change.product_id).toBe('42');
  });

  it('rejects negative, fractional-minor and non-numeric prices; reads numbers written as text', () => {
    expect(errors(mapRow({ id: 'p', title: 'T', price: '-5.00' }, generic, context))).toEqual([
      { field: 'price_minor', reason: 'negative', value: '"-5.00"' },
    ]);
    expect(errors(mapRow({ id: 'p', title: 'T', price: 'call us' }, generic, context))[0]?.reason).toBe('not a number');
    expect(errors(mapRow({ id: 'p', price: '12.5' }, icecat, context))[0]).toMatchObject({ field: 'title' });
    expect(errors(mapRow({ id: 'p', title: 'T', price: '12.5' }, icecat, context))).toEqual([
      { field: 'price_minor', reason: 'not a whole number of minor units', value: '"12.5"' },
    ]);
    expect(product(mapRow({ id: 'p', title: 'T', price: '1,299.99' }, generic, context)).price_minor).toBe(129999);
    expect(product(mapRow({ id: 'p', title: 'T', price: '0' }, generic, context)).price_minor).toBe(0);
  });

  it('takes a currency written into the price, as merchant feeds do, and refuses a contradiction', () => {
    const p = product(mapRow({ id: 'p', title: 'T', price: '1500 JPY' }, generic, context));
    expect([p.price_minor, p.currency]).toEqual([1500, 'JPY']);
    const q = product(mapRow({ id: 'p', title: 'T', price: '15.00 usd' }, generic, context));
    expect([q.price_minor, q.currency]).toEqual([1500, 'USD']);
    expect(
      errors(mapRow({ id: 'p', title: 'T', price: '15.00 USD', currency: 'EUR' }, generic, context))[0]?.reason,
    ).toBe('currency in the price differs from the currency field');
    expect(errors(mapRow({ id: 'p', title: 'T', currency: 'XYZ' }, generic, context))[0]).toEqual({
      field: 'currency',
      reason: 'not an ISO 4217 currency',
      value: '"XYZ"',
    });
  });

  it('rejects a huge title but cuts a huge attribute value, with a warning', () => {
    const huge = 'x'.repeat(1_000_000);
    expect(errors(mapRow({ id: 'p', title: huge }, generic, context))[0]).toMatchObject({
      field: 'title',
      reason: 'longer than 500 characters',
    });
    const outcome = mapRow({ id: 'p', title: 'T', attr_notes: huge }, generic, context);
    expect(product(outcome).attributes['notes']).toHaveLength(10_000);
    expect(outcome.warnings).toEqual([
      { field: 'attributes.notes', reason: 'longer than 10000 characters (cut)', value: '1000000 characters' },
    ]);
  });

  it('rejects a record too big for Kafka, naming its size', () => {
    const attrs = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`attr_${i}`, 'y'.repeat(9_000)]));
    expect(errors(mapRow({ id: 'p', title: 'T', ...attrs }, generic, context))[0]).toMatchObject({
      field: '(record)',
      reason: 'encoded record larger than 262144 bytes',
    });
  });

  it('cleans control characters and HTML out of text fields', () => {
    const p = product(
      mapRow({ id: 'p', title: 'Drill\u0007\t18V\r\n<b>Pro</b> &amp; more', brand: '\u0000Acme' }, generic, context),
    );
    expect([p.title, p.brand]).toEqual(['Drill 18V Pro & more', 'Acme']);
  });

  it('reads category paths from one column (text, list or list literal) or from level columns', () => {
    expect(
      product(mapRow({ id: 'p', title: 'T', category: 'Tools > Power Tools >> Drills' }, generic, context))
        .category_path,
    ).toEqual(['Tools', 'Power Tools', 'Drills']);
    expect(
      product(mapRow({ id: 'p', title: 'T', category: "['Tools', 'Drills']" }, generic, context)).category_path,
    ).toEqual(['Tools', 'Drills']);
    const levels = mapping({ category_path: { levels: ['cat1', 'cat2', 'cat3'] } });
    expect(
      product(mapRow({ id: 'p', title: 'T', cat1: 'Tools', cat2: '', cat3: 'Drills' }, levels, context)).category_path,
    ).toEqual(['Tools', 'Drills']);
    const deep = 'a>'.repeat(11) + 'z';
    expect(errors(mapRow({ id: 'p', title: 'T', category: deep }, generic, context))[0]?.reason).toBe(
      'deeper than 10 levels',
    );
  });

  it('converts ratings from other scales and refuses ratings off the scale', () => {
    const tenScale = mapping({ rating: { column: 'stars', scale: 10 } });
    expect(product(mapRow({ id: 'p', title: 'T', stars: '9' }, tenScale, context)).rating).toBe(4.5);
    expect(errors(mapRow({ id: 'p', title: 'T', rating: 7 }, generic, context))[0]?.reason).toBe('outside 0–5');
  });

  it('reads availability from booleans, words and stock quantities, defaulting to available', () => {
    const available = (value: unknown) =>
      product(mapRow({ id: 'p', title: 'T', availability: value }, generic, context)).available;
    expect([true, 'In Stock', 'yes', '3', 12].map(available)).toEqual([true, true, true, true, true]);
    expect([false, 'out of stock', 'SOLD OUT', '0', 0].map(available)).toEqual([false, false, false, false, false]);
    expect(product(mapRow({ id: 'p', title: 'T' }, generic, context)).available).toBe(true);
    expect(errors(mapRow({ id: 'p', title: 'T', availability: 'ask' }, generic, context))[0]?.reason).toBe(
      'not a boolean, availability word or quantity',
    );
  });

  it('refuses review counts that are not whole and non-negative', () => {
    expect(product(mapRow({ id: 'p', title: 'T', reviews: '1,204' }, generic, context)).review_count).toBe(1204);
    expect(errors(mapRow({ id: 'p', title: 'T', reviews: '-1' }, generic, context))[0]?.reason).toBe('negative');
    expect(errors(mapRow({ id: 'p', title: 'T', reviews: 2.5 }, generic, context))[0]?.reason).toBe(
      'not a whole number',
    );
  });

  it('refuses dates that are sentinels or not dates, and takes occurred_at from a column when given', () => {
    expect(errors(mapRow({ id: 'p', title: 'T', release_date: '0001-01-01' }, generic, context))[0]).toEqual({
      field: 'released_at',
      reason: 'outside 1900–2099',
      value: '"0001-01-01"',
    });
    expect(errors(mapRow({ id: 'p', title: 'T', release_date: 'soon' }, generic, context))[0]?.reason).toBe(
      'not an ISO 8601 date',
    );
    const outcome = mapRow({ id: 'p', title: 'T', updated_at: '2025-06-01T12:00:00Z' }, generic, context);
    expect(outcome.ok && outcome.change.occurred_at).toBe(Date.UTC(2025, 5, 1, 12));
  });

  it('omits instead of rejecting when the field says so, and says so in a warning', () => {
    const lenient = mapping({ price_minor: { column: 'price', unit: 'major', onInvalid: 'omit' } });
    const outcome = mapRow({ id: 'p', title: 'T', price: 'N/A' }, lenient, context);
    expect(product(outcome).price_minor).toBeNull();
    expect(outcome.warnings).toEqual([{ field: 'price_minor', reason: 'not a number (omitted)', value: '"N/A"' }]);
  });

  it('lists every problem of a rejected row, not just the first', () => {
    const fields = errors(mapRow({ id: 'p', price: '-1', rating: 'great', release_date: 'x' }, generic, context)).map(
      (e) => e.field,
    );
    expect(fields).toEqual(['title', 'price_minor', 'rating', 'released_at']);
  });

  it('maps deletions with only an id, and reads nested columns by dotted name', () => {
    const withDelete = mapping({ delete: { column: 'status', values: ['deleted'] } });
    const outcome = mapRow({ id: 'p9', status: 'DELETED' }, withDelete, context);
    expect(outcome.ok && outcome.change).toMatchObject({ product_id: 'p9', op: 'DELETE', product: null });
    const nested = mapping({ price_minor: { column: 'offer.price', unit: 'major' } });
    expect(product(mapRow({ id: 'p', title: 'T', offer: { price: 3.5 } }, nested, context)).price_minor).toBe(350);
  });

  it('takes values of Parquet types: bigint, Date, Buffer', () => {
    const parquetLike = mapping({
      price_minor: { column: 'price', unit: 'minor' },
      released_at: { column: 'released' },
      brand: { column: 'brand' },
    });
    const p = product(
      mapRow(
        { id: 7n, title: 'T', price: 1299n, released: new Date(Date.UTC(2020, 4, 1)), brand: Buffer.from('Acme') },
        parquetLike,
        context,
      ),
    );
    expect([p.price_minor, p.released_at, p.brand]).toEqual([1299, Date.UTC(2020, 4, 1), 'Acme']);
  });
});
