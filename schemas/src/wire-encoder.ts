import type { avroTypeOf } from './topics.ts';

type AvroType = ReturnType<typeof avroTypeOf>;

/** Records are written one after another into slabs of this size (larger records get a slab of their own). */
const SLAB_BYTES = 64 * 1024;

/**
 * Writes the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro binary) with
 * the compiled avsc type, straight into a slab shared by consecutive records: each record is a view
 * of its own bytes in the slab, with no copy and no allocation of its own beyond the view. The bytes
 * are those of the registry client's encode(), which allocates three buffers per record, two
 * zero-filled and outside the pool: at tens of thousands of events per second that allocation and the
 * garbage collection it causes were a large share of the SDK's CPU.
 *
 * Validation comes with the writing: avsc's writers check every value as they write it (a string is a
 * string, an int an int within range, a long a safe integer, an enum one of its symbols, a union one of
 * its branches, a record an object with every field that has no default, recursively) and throw for
 * anything else, so encode() throws exactly when `type.isValid(value)` is false — proven field by field
 * for every event schema in wire-encoder.test.ts — and an invalid value never yields bytes. A caller
 * wanting the field paths of the problems runs the codec's validate() on the (rare) value that threw.
 */
export class WireEncoder {
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  /** Where the next record starts in the slab. */
  #next = 0;

  /** The record's wire bytes; throws (avsc's error) if `value` is not valid for `type`. */
  encode(type: AvroType, schemaId: number, value: unknown): Buffer {
    const start = this.write(type, schemaId, value);
    return this.#slab.subarray(start, this.#next);
  }

  /**
   * encode() without making the Buffer: writes the record and answers where it starts in `slab`; it
   * ends at `end`. For a caller that holds many records a while before it needs them as Buffers (the
   * SDK's buffer): a Buffer object per record, kept alive that long, costs the garbage collector more
   * than the record's bytes do. `slab` and `end` are those of the last record until the next write.
   */
  write(type: AvroType, schemaId: number, value: unknown): number {
    let slab = this.#slab;
    let start = this.#next;
    let end = type.encode(value, slab, start + 5);
    if (end < 0) {
      // avsc answers minus the bytes that did not fit: a new slab with room for this record.
      const length = slab.length - end - start;
      slab = this.#slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, length));
      start = 0;
      end = type.encode(value, slab, 5);
    }
    slab[start] = 0;
    slab.writeInt32BE(schemaId, start + 1);
    this.#next = end;
    return start;
  }

  /** The slab the last record was written to. */
  get slab(): Buffer {
    return this.#slab;
  }

  /** Where the last record ends in `slab`. */
  get end(): number {
    return this.#next;
  }
}
