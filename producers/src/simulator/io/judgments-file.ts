import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { ProducerError, ProducerErrorCode } from '../../errors.ts';
import type { JudgmentRow } from '../world/load-judgments.ts';

const REQUIRED = ['query', 'product_id', 'product_title', 'relevance'] as const;

/** Reads a judgments CSV (gzipped when the name ends in .gz) with columns query, product_id, product_title, relevance. */
export async function readJudgments(path: string): Promise<JudgmentRow[]> {
  try {
    await access(path);
  } catch (cause) {
    throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `judgments file ${path} cannot be read`, { cause });
  }
  const source = createReadStream(path);
  const parser = parse({ columns: true, skip_empty_lines: true, bom: true });
  const rows: JudgmentRow[] = [];
  try {
    (path.endsWith('.gz') ? source.pipe(createGunzip()) : source).pipe(parser);
    source.on('error', (error) => parser.destroy(error));
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      const recordNumber = parser.info.records;
      for (const column of REQUIRED)
        if (record[column] === undefined)
          throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `${path}: no column ${column}`);
      const relevance = Number(record['relevance']);
      if (record['product_id'] === '' || !Number.isFinite(relevance))
        throw new ProducerError(
          ProducerErrorCode.INPUT_INVALID,
          `${path}: record ${recordNumber}: bad product_id or relevance`,
        );
      rows.push({
        query: record['query']!,
        productId: record['product_id']!,
        productTitle: record['product_title']!,
        relevance,
      });
    }
  } catch (cause) {
    if (cause instanceof ProducerError) throw cause;
    throw new ProducerError(ProducerErrorCode.INPUT_INVALID, `${path}: ${(cause as Error).message}`, { cause });
  }
  return rows;
}
