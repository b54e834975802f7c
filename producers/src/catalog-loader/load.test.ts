import { isSearchOpError } from '@searchop/runtime';
import type { ProductChange } from '@searchop/schemas';
import { describe, expect, it } from 'vitest';
import { ProducerError, ProducerErrorCode } from '../errors.ts';
import type { EmitOutcome } from '../sdk/storefront-client.ts';
import { loadCatalog } from './load.ts';
import { presetMapping } from './mapping.ts';
import type { Source, SourceRecord } from './readers.ts';
import { formatReport } from './report.ts';

/**
 * loadCatalog's own contract, over in-memory sources and sinks: counting, windowing, stopping.
 * Kafka itself is exercised by load.integration.test.ts.
 */

const mapping = presetMapping('default');

function source(records: SourceRecord[], fail?: { after: number; error: Error }): Source {
  return {
    path: 'memory.csv',
    format: 'csv',
    gzip: false,
    positionLabel: 'line',
    async *records() {
      let n = 0;
      for (const record of records) {
        if (fail && n === fail.after) throw fail.error;
        n++;
        yield record;
      }
    },
  };
}

const header = (...columns: string[]): SourceRecord => ({ kind: 'header', columns });
const row = (position: number, values: Record<string, unknown>): SourceRecord => ({ kind: 'row', position, values });
const collect = () => {
  const sent: ProductChange[] = [];
  return { sent, emit: async (change: ProductChange): Promise<EmitOutcome> => (sent.push(change), 'sent') };
};

describe('loadCatalog', () => {
  it('accounts for every row read as loaded or rejected, with reasons grouped by field', async () => {
    const { sent, emit } = collect();
    const report = await loadCatalog({
      source: source([
        header('id', 'title', 'price', 'attr_weight'),
        row(2, { id: 'p1', title: 'Drill', price: '12.99' }),
        row(3, { id: 'p2', title: '', price: '5' }),
        { kind: 'unreadable', position: 4, reason: 'wrong number of fields', detail: '3 fields, the header has 4' },
        row(5, { id: 'p3', title: 'Saw', price: '-1' }),
        row(6, { id: 'p4', title: 'Hammer', price: '9' }),
        row(7, { id: 'p5', title: ' ', price: 'x' }),
      ]),
      mapping,
      emit,
      loadedAt: 0,
    });
    expect(sent.map((c) => c.product_id)).toEqual(['p1', 'p4']);
    expect(report).toMatchObject({ rowsRead: 6, loaded: 2, rejected: 4, duplicates: 0, unsent: 0 });
    expect(report.rejections).toEqual([
      {
        field: 'title',
        reason: 'missing (column title or name)',
        rows: 2,
        examples: [{ position: 3 }, { position: 7 }],
      },
      {
        field: '(record)',
        reason: 'wrong number of fields',
        rows: 1,
        examples: [{ position: 4, detail: '3 fields, the header has 4' }],
      },
      { field: 'price_minor', reason: 'negative', rows: 1, examples: [{ position: 5, detail: '"-1"' }] },
      // Row 7 has two problems and counts in both groups (once in `rejected`).
      { field: 'price_minor', reason: 'not a number', rows: 1, examples: [{ position: 7, detail: '"x"' }] },
    ]);
    // Optional fields of the mapping the header has no column for are named once.
    expect(report.missingColumns.map((m) => m.field)).toContain('rating');
    const text = formatReport(report);
    expect(text).toContain('rows read   6');
    expect(text).toContain('title: missing (column title or name) — 2 rows: line 3, line 7');
    expect(text).toContain('price_minor: negative — 1 row: line 5 ("-1")');
  });

  it('refuses, before sending anything, a file without a column for a required field', async () => {
    const { sent, emit } = collect();
    const error = await loadCatalog({
      source: source([header('sku_code', 'title'), row(2, { sku_code: 'p1', title: 'Drill' })]),
      mapping,
      emit,
      loadedAt: 0,
    }).catch((e: unknown) => e);
    expect(isSearchOpError(error, ProducerErrorCode.INPUT_INVALID)).toBe(true);
    expect((error as Error).message).toMatch(
      /no column for the required field product_id \(mapping product_id\.column: product_id, id, sku\)/,
    );
    expect(sent).toEqual([]);
  });

  it('keeps at most `window` changes unacknowledged, pausing the read', async () => {
    let outstanding = 0;
    let maxOutstanding = 0;
    const emit = (): Promise<EmitOutcome> => {
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      return new Promise((resolve) =>
        setImmediate(() => {
          outstanding--;
          resolve('sent');
        }),
      );
    };
    const rows = Array.from({ length: 500 }, (_, i) => row(i + 1, { id: `p${i}`, title: `T${i}` }));
    const report = await loadCatalog({ source: source(rows), mapping, emit, loadedAt: 0, window: 16 });
    expect(report.loaded).toBe(500);
    expect(maxOutstanding).toBeGreaterThan(1);
    expect(maxOutstanding).toBeLessThanOrEqual(16);
  });

  it('counts duplicates apart from loaded rows', async () => {
    const seen = new Set<string>();
    const emit = async (c: ProductChange): Promise<EmitOutcome> =>
      seen.has(c.event_id) ? 'duplicate' : (seen.add(c.event_id), 'sent');
    const same = { id: 'p1', title: 'Drill' };
    const report = await loadCatalog({
      source: source([row(1, same), row(2, same), row(3, { ...same, title: 'Drill 2' })]),
      mapping,
      emit,
      loadedAt: 0,
    });
    expect(report).toMatchObject({ rowsRead: 3, loaded: 2, duplicates: 1, rejected: 0 });
  });

  it('stops reading when the sink fails, and counts what was not acknowledged as unsent', async () => {
    let calls = 0;
    const emit = async (): Promise<EmitOutcome> => {
      calls++;
      if (calls > 3)
        throw new ProducerError(ProducerErrorCode.KAFKA_UNAVAILABLE, 'Kafka did not acknowledge 1 event(s)');
      return 'sent';
    };
    const rows = Array.from({ length: 100 }, (_, i) => row(i + 1, { id: `p${i}`, title: 'T' }));
    const report = await loadCatalog({ source: source(rows), mapping, emit, loadedAt: 0, window: 1 });
    expect(report.stopped).toEqual({ code: 'PRD_KAFKA_UNAVAILABLE', message: 'Kafka did not acknowledge 1 event(s)' });
    expect(report.loaded).toBe(3);
    expect(report.rowsRead).toBeLessThan(100);
    expect(report.loaded + report.rejected + report.duplicates + report.unsent).toBe(report.rowsRead);
    expect(formatReport(report)).toContain('Stopped early: PRD_KAFKA_UNAVAILABLE');
  });

  it('treats a sink that throws like one that rejects', async () => {
    const emit = (): Promise<EmitOutcome> => {
      throw new ProducerError(ProducerErrorCode.CLOSED, 'the storefront client is closed');
    };
    const report = await loadCatalog({ source: source([row(1, { id: 'p', title: 'T' })]), mapping, emit, loadedAt: 0 });
    expect(report).toMatchObject({ rowsRead: 1, loaded: 0, unsent: 1, stopped: { code: 'PRD_CLOSED' } });
  });

  it('reports a file that turns unreadable midway, and throws when it is unreadable from the start', async () => {
    const broken = new ProducerError(
      ProducerErrorCode.INPUT_INVALID,
      'cannot read memory.csv after line 2: unexpected end of file',
    );
    const { emit } = collect();
    const rows = [row(1, { id: 'a', title: 'A' }), row(2, { id: 'b', title: 'B' }), row(3, { id: 'c', title: 'C' })];
    const report = await loadCatalog({ source: source(rows, { after: 2, error: broken }), mapping, emit, loadedAt: 0 });
    expect(report).toMatchObject({ rowsRead: 2, loaded: 2, stopped: { code: 'PRD_INPUT_INVALID' } });
    await expect(
      loadCatalog({ source: source(rows, { after: 0, error: broken }), mapping, emit, loadedAt: 0 }),
    ).rejects.toThrow(broken.message);
  });

  it('stops after `limit` rows, and when its signal is aborted', async () => {
    const { emit } = collect();
    const rows = Array.from({ length: 50 }, (_, i) => row(i + 1, { id: `p${i}`, title: 'T' }));
    expect((await loadCatalog({ source: source(rows), mapping, emit, loadedAt: 0, limit: 10 })).rowsRead).toBe(10);
    const abort = new AbortController();
    const report = await loadCatalog({
      source: source(rows),
      mapping,
      emit: async (c) => {
        if (c.product_id === 'p4') abort.abort();
        return 'sent';
      },
      loadedAt: 0,
      signal: abort.signal,
    });
    expect(report.stopped).toEqual({ code: 'PRD_CLOSED', message: 'interrupted' });
    expect(report.rowsRead).toBeLessThan(50);
  });
});
