import type { avroTypeOf } from './topics.ts';

type AvroType = ReturnType<typeof avroTypeOf>;

/**
 * Writes the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro binary) with
 * the compiled avsc type into one reusable scratch buffer, then copies it once into a Buffer from
 * Node's pool. The bytes are those of the registry client's encode(), which allocates three
 * buffers per record, two zero-filled and outside the pool: at tens of thousands of events per
 * second that allocation and the garbage collection it causes were a large share of the SDK's CPU.
 * The value must already be valid for `type` (avsc writes invalid values without checking).
 */
export class WireEncoder {
  #scratch = Buffer.allocUnsafe(64 * 1024);

  encode(type: AvroType, schemaId: number, value: unknown): Buffer {
    let end = type.encode(value, this.#scratch, 5);
    if (end < 0) {
      // avsc answers minus the bytes that did not fit: grow to what the record needs, and then some.
      this.#scratch = Buffer.allocUnsafe(Math.max(2 * this.#scratch.length, this.#scratch.length - end));
      end = type.encode(value, this.#scratch, 5);
    }
    this.#scratch[0] = 0;
    this.#scratch.writeInt32BE(schemaId, 1);
    const record = Buffer.allocUnsafe(end);
    this.#scratch.copy(record, 0, 0, end);
    return record;
  }
}
