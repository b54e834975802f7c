import { describe, expect, it } from 'vitest';
import { inputInvalid } from './testing.ts';
import { mappedColumns, parseMapping, presetMapping, presets, type PresetName } from './mapping.ts';

function mappingError(json: unknown, base?: PresetName): Promise<string> {
  return inputInvalid(() => parseMapping(json, 'my.json', base));
}

describe('mappings', () => {
  it('has valid built-in presets', () => {
    expect(Object.keys(presets)).toEqual(['default', 'icecat']);
    expect(presetMapping('default').product_id.column).toEqual(['product_id', 'id', 'sku']);
    const icecat = presetMapping('icecat');
    expect(icecat.price_minor).toEqual({ column: ['price'], unit: 'minor', onInvalid: 'reject' });
    expect(icecat.attributes?.prefixes.map((p) => p.type)).toEqual(['text', 'number', 'boolean']);
  });

  it('names every offending key, including unknown ones', async () => {
    const message = await mappingError({
      product_id: { column: 'id' },
      title: { colum: 'title' },
      price_minor: { column: 'price', unit: 'cents' },
      rating: { column: 'r', scale: -1 },
    });
    expect(message).toContain('mapping my.json is invalid');
    expect(message).toMatch(/title: .*"colum"/);
    expect(message).toMatch(/title\.column: /);
    expect(message).toMatch(/price_minor\.unit: .*"major"/);
    expect(message).toMatch(/rating\.scale: /);
  });

  it('requires exactly one way to give a category path and some source for the currency', async () => {
    expect(
      await mappingError({
        product_id: { column: 'id' },
        title: { column: 't' },
        category_path: { column: 'c', levels: ['a', 'b'] },
      }),
    ).toMatch(/category_path: give exactly one of "column" and "levels"/);
    expect(await mappingError({ product_id: { column: 'id' }, title: { column: 't' }, currency: {} })).toMatch(
      /currency: give "column", "value" or both/,
    );
    expect(
      await mappingError({ product_id: { column: 'id' }, title: { column: 't' }, currency: { value: 'euro' } }),
    ).toMatch(/currency\.value: expected a three-letter ISO 4217 code/);
  });

  it('refuses a mapping that is not an object, and one without the required fields', async () => {
    expect(await mappingError([1, 2])).toBe('mapping my.json: expected a JSON object');
    const message = await mappingError({});
    expect(message).toMatch(/product_id: /);
    expect(message).toMatch(/title: /);
  });

  it('lets a file replace top-level keys of a preset', () => {
    const mapping = parseMapping({ currency: { value: 'eur' }, title: { column: 'name' } }, 'my.json', 'icecat');
    expect(mapping.currency).toEqual({ value: 'EUR', onInvalid: 'reject' });
    expect(mapping.title.column).toEqual(['name']);
    expect(mapping.price_minor?.unit).toBe('minor');
  });

  it('lists the columns it reads, required ones first', () => {
    const columns = mappedColumns(presetMapping('icecat'));
    expect(columns.slice(0, 2)).toEqual([
      { field: 'product_id', columns: ['id'], required: true },
      { field: 'title', columns: ['title'], required: true },
    ]);
    expect(columns).toContainEqual({ field: 'attributes.ean', columns: ['ean'], required: false });
  });
});
