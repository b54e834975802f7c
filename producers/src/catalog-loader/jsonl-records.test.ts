import { describe, expect, it } from 'vitest';
import { JsonLinesAssembler, MAX_CONTINUATION_LINES, type JsonLine } from './jsonl-records.ts';

function assemble(lines: string[]): JsonLine[] {
  const assembler = new JsonLinesAssembler();
  const out = lines.flatMap((line, i) => assembler.push(line, i + 1));
  return [...out, ...assembler.end()];
}

describe('JsonLinesAssembler', () => {
  it('reads one object per line, skipping blank lines and a byte-order mark', () => {
    expect(assemble(['\uFEFF{"id": "1"}', '', '   ', '{"id": "2"}'])).toEqual([
      { kind: 'row', position: 1, values: { id: '1' } },
      { kind: 'row', position: 4, values: { id: '2' } },
    ]);
  });

  it('rejoins a record whose string holds raw line breaks, as in the Icecat file', () => {
    // Lines 15406–15409 of icecat/products.jsonl.gz, shortened.
    const lines = [
      '{"id": "157922", "short_description": "100–240 V, 50–60 Hz',
      ', 12 V DC',
      ', 2 m", "price": 8195}',
      '{"id": "next"}',
    ];
    expect(assemble(lines)).toEqual([
      {
        kind: 'row',
        position: 1,
        values: { id: '157922', short_description: '100–240 V, 50–60 Hz\n, 12 V DC\n, 2 m', price: 8195 },
      },
      { kind: 'row', position: 4, values: { id: 'next' } },
    ]);
  });

  it('rejoins a pretty-printed object spread over lines', () => {
    expect(assemble(['{', '  "id": "1",', '  "tags": ["a",', '"b"]', '}'])).toEqual([
      { kind: 'row', position: 1, values: { id: '1', tags: ['a', 'b'] } },
    ]);
  });

  it('never swallows a complete object that follows a broken line', () => {
    expect(assemble(['{"id": "1", "title": "unterminated', '{"id": "2"}', '{"id": "3"}'])).toEqual([
      { kind: 'unreadable', position: 1, reason: 'not valid JSON', detail: 'unterminated record over 1 line(s)' },
      { kind: 'row', position: 2, values: { id: '2' } },
      { kind: 'row', position: 3, values: { id: '3' } },
    ]);
  });

  it('reports lines that are not objects or not JSON, with their line numbers, and goes on', () => {
    const out = assemble(['[1, 2]', 'garbage', '"text"', '{"id": "4"}']);
    expect(out.map((r) => [r.kind, r.position, r.kind === 'unreadable' ? r.reason : ''])).toEqual([
      ['unreadable', 1, 'not a JSON object'],
      ['unreadable', 2, 'not valid JSON'],
      ['unreadable', 3, 'not a JSON object'],
      ['row', 4, ''],
    ]);
  });

  it('gives up on a record that stays open too long, and on one open at the end of the input', () => {
    const open = [
      '{"id": "1", "text": "never closed',
      ...Array.from({ length: MAX_CONTINUATION_LINES + 5 }, () => 'more text'),
    ];
    const out = assemble([...open, '{"id": "2"}']);
    expect(out[0]).toMatchObject({ kind: 'unreadable', position: 1 });
    expect(out.at(-1)).toEqual({ kind: 'row', position: open.length + 1, values: { id: '2' } });
    expect(assemble(['{"id": "1",'])).toEqual([
      { kind: 'unreadable', position: 1, reason: 'not valid JSON', detail: 'unterminated record over 1 line(s)' },
    ]);
  });
});
