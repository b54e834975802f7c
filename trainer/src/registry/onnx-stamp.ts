/**
 * Adds one metadata_props entry to a serialized ONNX ModelProto without parsing it. In the protobuf
 * wire format a message's fields may come in any order and a repeated field's elements may be
 * appended anywhere ("Encoding: Repeated elements" and "Field order", protobuf.dev), so appending one
 * more ModelProto.metadata_props (field 14, a StringStringEntryProto {key = 1; value = 2}) to the end
 * of the file gives the same model with one more entry. The registry uses it to record the version in
 * the model itself (MODEL_METADATA.modelVersion), which the exporter cannot know.
 */
const METADATA_PROPS_FIELD = 14;
const KEY_FIELD = 1;
const VALUE_FIELD = 2;
const LENGTH_DELIMITED = 2;

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function lengthDelimited(field: number, payload: Uint8Array | number[]): number[] {
  return [...varint((field << 3) | LENGTH_DELIMITED), ...varint(payload.length), ...payload];
}

/** The bytes of one metadata_props entry, as they are appended. */
export function metadataEntryBytes(key: string, value: string): Uint8Array {
  const encoder = new TextEncoder();
  const entry = [
    ...lengthDelimited(KEY_FIELD, encoder.encode(key)),
    ...lengthDelimited(VALUE_FIELD, encoder.encode(value)),
  ];
  return Uint8Array.from(lengthDelimited(METADATA_PROPS_FIELD, entry));
}

export function withMetadataEntry(model: Uint8Array, key: string, value: string): Uint8Array {
  const suffix = metadataEntryBytes(key, value);
  const out = new Uint8Array(model.length + suffix.length);
  out.set(model, 0);
  out.set(suffix, model.length);
  return out;
}
