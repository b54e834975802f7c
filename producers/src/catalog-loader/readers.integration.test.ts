import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import parquet from 'parquetjs-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFormat, INFLATED_PREFIX, openSource, type SourceRecord } from './readers.ts';
import { inputInvalid } from './testing.ts';

/** The readers against real files on disk (no services). */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'catalog-readers-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readAll(path: string, options = {}): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const record of (await openSource(path, options)).records()) out.push(record);
  return out;
}

describe('readers', () => {
  it('tells formats and compression from file names', () => {
    expect(detectFormat('a/products.jsonl.gz')).toEqual({ format: 'jsonl', gzip: true, tsv: false });
    expect(detectFormat('x.NDJSON')).toEqual({ format: 'jsonl', gzip: false, tsv: false });
    expect(detectFormat('x.tsv')).toEqual({ format: 'csv', gzip: false, tsv: true });
    expect(detectFormat('x.parquet.gz')).toEqual({ format: 'parquet', gzip: true, tsv: false });
    expect(detectFormat('x.json').format).toBeUndefined();
  });

  it('reads JSON Lines with CRLF endings and a byte-order mark, numbering physical lines', async () => {
    const path = await file('p.jsonl', '\uFEFF{"id":"1"}\r\n\r\n{"id":"2","d":"a\r\nb"}\r\nnot json\r\n{"id":"3"}');
    expect(await readAll(path)).toEqual([
      { kind: 'row', position: 1, values: { id: '1' } },
      { kind: 'row', position: 3, values: { id: '2', d: 'a\nb' } },
      {
        kind: 'unreadable',
        position: 5,
        reason: 'not valid JSON',
        detail: expect.stringContaining('not json') as unknown,
      },
      { kind: 'row', position: 6, values: { id: '3' } },
    ]);
  });

  it('reads tab-separated files and files with a chosen delimiter', async () => {
    const tsv = await file('p.tsv', 'id\ttitle\np1\tA, B\n');
    expect(await readAll(tsv)).toEqual([
      { kind: 'header', columns: ['id', 'title'] },
      { kind: 'row', position: 2, values: { id: 'p1', title: 'A, B' } },
    ]);
    const semicolons = await file('p.csv', 'id;price\np1;12,50\n');
    expect((await readAll(semicolons, { delimiter: ';' }))[1]).toEqual({
      kind: 'row',
      position: 2,
      values: { id: 'p1', price: '12,50' },
    });
  });

  it('refuses CSV headers with blank or repeated names, naming the column', async () => {
    expect(await inputInvalid(async () => readAll(await file('dup.csv', 'id,title,id\n1,a,2\n')))).toMatch(
      /header names column "id" twice \(columns 1 and 3\)/,
    );
    expect(await inputInvalid(async () => readAll(await file('blank.csv', 'id,,title\n')))).toMatch(
      /header column 2 has no name/,
    );
    expect(await inputInvalid(async () => readAll(await file('empty.csv', '')))).toMatch(/has no header row/);
  });

  it('names the file when it is missing, of an unknown kind, not gzip, or not Parquet', async () => {
    expect(await inputInvalid(async () => openSource(join(dir, 'none.csv')))).toMatch(
      /cannot read .*none\.csv: ENOENT/,
    );
    expect(await inputInvalid(async () => openSource(await file('p.xlsx', 'x')))).toMatch(
      /cannot tell the format of .*p\.xlsx/,
    );
    expect(await inputInvalid(async () => readAll(await file('fake.jsonl.gz', '{"id":"1"}\n')))).toMatch(
      /cannot read .*fake\.jsonl\.gz after line 0: incorrect header check/,
    );
    expect(await inputInvalid(async () => readAll(await file('fake.parquet', 'PAR1 not really')))).toMatch(
      /cannot read .*fake\.parquet as Parquet/,
    );
  });

  it('reports where a truncated gzip file ends', async () => {
    const lines = Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ id: String(i), title: 'x'.repeat(50) }));
    const gz = gzipSync(lines.join('\n'));
    const path = await file('cut.jsonl.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    const out: SourceRecord[] = [];
    const message = await inputInvalid(async () =>
      (async () => {
        for await (const record of (await openSource(path)).records()) out.push(record);
      })(),
    );
    expect(out.length).toBeGreaterThan(0);
    expect(message).toContain(`after line ${out.length}: unexpected end of file`);
  });

  it('removes the inflated copy of a gzipped Parquet file, also when the reader stops early', async () => {
    const schema = new parquet.ParquetSchema({ id: { type: 'UTF8' } });
    const plain = join(dir, 'small.parquet');
    const writer = await parquet.ParquetWriter.openFile(schema, plain);
    for (let i = 0; i < 10; i++) await writer.appendRow({ id: `p${i}` });
    await writer.close();
    const path = await file('small.parquet.gz', gzipSync(await readFile(plain)));
    const inflated = async () => (await readdir(tmpdir())).filter((n) => n.startsWith(INFLATED_PREFIX)).length;
    const before = await inflated();
    for await (const record of (await openSource(path)).records()) if (record.kind === 'row') break;
    expect(await inflated()).toBe(before);
    expect((await readAll(path)).filter((r) => r.kind === 'row')).toHaveLength(10);
  });
});
