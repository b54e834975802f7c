import { avroTypeOf, eventTypes } from './topics.ts';
import { describe, expect, it } from 'vitest';
import { WireEncoder } from './wire-encoder.ts';

const click = {
  event_id: 'e-1',
  occurred_at: 1_733_788_889_378,
  impression_id: null,
  request_id: 'r-1',
  query: 'Cordless Drill',
  normalized_query: 'cordless drill',
  user_id: null,
  session_id: 's-1',
  product_id: 'p-1',
  position: 2,
};

/** The Confluent wire format as the registry client builds it: 0, the schema id, the Avro bytes. */
function reference(schemaId: number, avro: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, avro]);
}

describe('WireEncoder', () => {
  const type = avroTypeOf(eventTypes.click);

  it('writes the same bytes as the registry client, record after record', () => {
    const encoder = new WireEncoder();
    const first = encoder.encode(type, 42, click);
    const second = encoder.encode(type, 7, { ...click, event_id: 'e-2', position: null });
    expect(first).toEqual(reference(42, type.toBuffer(click)));
    expect(second).toEqual(reference(7, type.toBuffer({ ...click, event_id: 'e-2', position: null })));
    // Each record owns its bytes: the scratch buffer being reused does not change the first one.
    expect(type.fromBuffer(first.subarray(5))).toEqual(click);
  });

  it('grows its scratch buffer for a record larger than it', () => {
    const encoder = new WireEncoder();
    const impressionType = avroTypeOf(eventTypes.search_impression);
    const impression = {
      event_id: 'e-3',
      request_id: null,
      occurred_at: 1_733_788_889_378,
      query: 'q'.repeat(2_000),
      normalized_query: 'q'.repeat(2_000),
      user_id: null,
      session_id: 's-1',
      page: 1,
      device: 'OTHER',
      items: Array.from({ length: 1_000 }, (_, i) => ({
        product_id: `p-${'x'.repeat(100)}-${i}`,
        position: i + 1,
        retrieval_score: null,
      })),
    };
    const record = encoder.encode(impressionType, 3, impression);
    expect(record.length).toBeGreaterThan(64 * 1024);
    expect(record).toEqual(reference(3, impressionType.toBuffer(impression)));
    expect(encoder.encode(type, 3, click)).toEqual(reference(3, type.toBuffer(click)));
  });
});
